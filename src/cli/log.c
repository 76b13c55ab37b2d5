/* log.c — `pooltag log` (issue 4): placeholder until the verb lands. */
#include "cli.h"

int cmd_log(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_err("log", "not built yet");
    return PT_EXIT_USAGE;
}
