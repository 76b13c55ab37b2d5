/*
 * verbs.h — the verbs of the `pooltag` command, one file each in src/cli/,
 * dispatched by main.c.  Everything they share is in the library src/lib
 * (cli.h, util.h and the units beside them).
 */
#ifndef PT_VERBS_H
#define PT_VERBS_H

/* Verbs: each returns the process exit status. */
int cmd_mon(int argc, char **argv);
int cmd_used(int argc, char **argv);
int cmd_vm(int argc, char **argv);
int cmd_heap(int argc, char **argv);
int cmd_snap(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_sites(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_trend(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_find(int argc, char **argv);
int cmd_lm(int argc, char **argv);
int cmd_ln(int argc, char **argv);
int cmd_imports(int argc, char **argv);
int cmd_hit(int argc, char **argv);
int cmd_fault(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_special(int argc, char **argv);
int cmd_address(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_leaks(int argc, char **argv);

#endif
