/* trend.c — `pooltag trend` (issue 4): placeholder until the verb lands. */
#include "cli.h"

int cmd_trend(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_err("trend", "not built yet");
    return PT_EXIT_USAGE;
}
