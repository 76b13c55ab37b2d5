/* serve.c — `pooltag serve` (issue 4): placeholder until the verb lands. */
#include "cli.h"

int cmd_serve(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_err("serve", "not built yet");
    return PT_EXIT_USAGE;
}
