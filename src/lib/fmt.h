/*
 * fmt.h — number formatting shared by the verbs (fmt.c).  Each writes into
 * buf (size bytes, always NUL-terminated).
 */
#ifndef PT_FMT_H
#define PT_FMT_H
#include <stddef.h>
#include <stdint.h>

void fmt_bytes(double b, char *buf, size_t size);  /* "2.50 MiB", "-12 B"    */
void fmt_rate(double bph, char *buf, size_t size); /* "+2.50 MiB/h", "0 B/h" */
void fmt_hours(double h, char *buf, size_t size);  /* "3.2 d", "no maximum"  */
void fmt_time(int64_t ns, char *buf, size_t size); /* local "YYYY-MM-DD HH:MM:SS" */
/* A duration in seconds: "0.2 s", "6.25 s", "45 s", "12 min", "3.1 h",
 * "2.0 d"; "-" when not finite or negative. */
void fmt_secs(double s, char *buf, size_t size);

#endif
