/*
 * fmt.c — numbers as a person reads them, for every verb's tables and the
 * HTML report: byte counts in binary units, rates per hour, durations in
 * hours, wall-clock times.  Declared in fmt.h.
 */
#include "fmt.h"

#include <math.h>
#include <stdio.h>
#include <time.h>

void fmt_bytes(double b, char *buf, size_t size)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double a = fabs(b);
    int u = 0;
    while (a >= 1024 && u < 5) {
        a /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, size, "%.0f B", b);
    else
        snprintf(buf, size, "%s%.*f %s", b < 0 ? "-" : "", a < 10 ? 2 : a < 100 ? 1 : 0,
                 a, unit[u]);
}

void fmt_rate(double bph, char *buf, size_t size)
{
    char b[32];
    if (!isfinite(bph)) {
        snprintf(buf, size, "-");
        return;
    }
    if (fabs(bph) < 0.5) {
        snprintf(buf, size, "0 B/h");
        return;
    }
    fmt_bytes(fabs(bph), b, sizeof b);
    snprintf(buf, size, "%s%s/h", bph > 0 ? "+" : "-", b);
}

void fmt_hours(double h, char *buf, size_t size)
{
    if (isnan(h))
        snprintf(buf, size, "no maximum");
    else if (isinf(h))
        snprintf(buf, size, "never");
    else if (h <= 0)
        snprintf(buf, size, "reached");
    else if (h < 1)
        snprintf(buf, size, "%.0f min", ceil(h * 60));
    else if (h < 48)
        snprintf(buf, size, "%.1f h", h);
    else if (h < 24 * 365 * 10)
        snprintf(buf, size, "%.1f d", h / 24);
    else
        snprintf(buf, size, "> 10 years");
}

void fmt_time(int64_t ns, char *buf, size_t size)
{
    time_t s = (time_t)(ns / 1000000000);
    struct tm tm;
    if (ns <= 0 || !localtime_r(&s, &tm) ||
        strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        snprintf(buf, size, "?");
}

void fmt_secs(double s, char *buf, size_t size)
{
    if (!isfinite(s) || s < 0)
        snprintf(buf, size, "-");
    else if (s < 10)
        snprintf(buf, size, "%.3g s", s);
    else if (s < 120)
        snprintf(buf, size, "%.0f s", s);
    else if (s < 7200)
        snprintf(buf, size, "%.0f min", s / 60);
    else if (s < 172800)
        snprintf(buf, size, "%.1f h", s / 3600);
    else
        snprintf(buf, size, "%.1f d", s / 86400);
}
