/*
 * util.c — shared pieces of the pooltag command (cli.h, util.h): errors,
 * the tag database, tag patterns, JSON strings, reading a source.
 *
 * The tag database
 * ----------------
 * data/pooltag.txt, one entry per line, as in the Windows Debugging Tools'
 * file of the same name:
 *
 *     Tag - binary - description
 *
 * "//" starts a comment line; blank lines are ignored.  The tag field is the
 * text before the first " - ": one to four characters, padded with spaces
 * ("Se" is "Se  "), \xNN escapes allowed, case-sensitive.  A line with a
 * single " - " has a description and no binary.  Lines that do not parse are
 * skipped.  When a tag appears twice, the first entry wins.
 *
 * Search order: $POOLTAG_DB, $XDG_CONFIG_HOME/pooltag/pooltag.txt,
 * ~/.config/pooltag/pooltag.txt, PREFIX/share/pooltag/pooltag.txt where
 * PREFIX is the parent of this executable's directory (a relocated install),
 * PT_DATADIR (the configured install), and the source tree's
 * data/pooltag.txt (an uninstalled build).
 *
 * The file is read once, on the first lookup, into one buffer; entries point
 * into it and are kept sorted by tag for binary search.  A file that is not
 * a regular file (never opened: a FIFO would block), that holds binary data
 * or no entry at all is skipped like a missing one; when $POOLTAG_DB is
 * such a file, one line on stderr says so and which file is used instead.
 */
#include "util.h"
#include "emit.h"
#include "procfs.h"
#include "ptglob.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef PT_DATADIR
#define PT_DATADIR "/usr/local/share/pooltag"
#endif
#ifndef PT_DATADIR_REL
#define PT_DATADIR_REL "share/pooltag"   /* from the install prefix */
#endif

#define DB_MAX_BYTES (64u << 20)

void cli_err(const char *verb, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "pooltag%s%s: ", verb ? " " : "", verb ? verb : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_opt_error(const char *verb, char **argv, int c)
{
    const char *word = optind > 0 ? argv[optind - 1] : "?";
    int is_long = strncmp(word, "--", 2) == 0;
    if (c == ':')
        cli_err(verb, "option '%s' needs a value (see pooltag %s --help)",
                is_long || !optopt ? word : (char[]){'-', (char)optopt, 0},
                verb);
    else if (!is_long && optopt && optopt != '?')
        cli_err(verb, "unknown option '-%c' (see pooltag %s --help)", optopt,
                verb);
    else
        cli_err(verb, "unknown option '%s' (see pooltag %s --help)", word,
                verb);
}

int cli_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_duration(const char *s, uint64_t *ns)
{
    long double v = 0, scale = 1, unit;
    long exp10 = 0;
    int neg = 0;
    const char *p = s;
    if (!s || *p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++)
        if (v < 1e30L)
            v = v * 10 + (*p - '0');
        else
            exp10++;          /* digits past any useful value: scale only */
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return -1;
        for (; *p >= '0' && *p <= '9'; p++)
            if (scale > 1e-30L)
                v += (*p - '0') * (scale /= 10);
    }
    if (*p == 'e' || *p == 'E') {
        long e = 0;
        p++;
        if (*p == '+' || *p == '-')
            neg = *p++ == '-';
        if (*p < '0' || *p > '9')
            return -1;
        for (; *p >= '0' && *p <= '9'; p++)
            if (e < 100000)
                e = e * 10 + (*p - '0');
        exp10 += neg ? -e : e;
    }
    if (!*p || strcmp(p, "s") == 0)
        unit = 1e9L;
    else if (strcmp(p, "ms") == 0)
        unit = 1e6L;
    else if (strcmp(p, "m") == 0 || strcmp(p, "min") == 0)
        unit = 60e9L;
    else if (strcmp(p, "h") == 0)
        unit = 3600e9L;
    else
        return -1;
    v *= unit;
    for (; exp10 > 0 && v <= (long double)CLI_DURATION_MAX_NS; exp10--)
        v *= 10;
    for (; exp10 < 0 && v > 0; exp10++)
        v /= 10;
    if (v > (long double)CLI_DURATION_MAX_NS)
        return -1;
    *ns = (uint64_t)(v + 0.5L);
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Tag database                                                           */

typedef struct dbrow {
    ptdb_entry e;
    size_t line;      /* file order, to keep the first of duplicate tags */
} dbrow;

static struct {
    int loaded;
    char *path;
    char *text;
    dbrow *rows;
    size_t n;
} db;

/* Read the database file whole.  NULL (reason in why) when it is not a
 * regular file or cannot be read: never blocks on a FIFO (ptr_open_input). */
static char *read_file(const char *path, size_t *len, char *why,
                       size_t whylen)
{
    char err[512];
    int fd = ptr_open_input(path, NULL, err, sizeof err);
    size_t plen = strlen(path);
    if (fd < 0) {
        /* err is "PATH: REASON": keep the reason. */
        const char *r = strncmp(err, path, plen) == 0 && err[plen] == ':'
                            ? err + plen + 2 : err;
        snprintf(why, whylen, "%s", r);
        return NULL;
    }
    FILE *f = fdopen(fd, "r");
    char *buf = NULL;
    size_t n = 0, cap = 0;
    if (!f) {
        snprintf(why, whylen, "%s", strerror(errno));
        close(fd);
        return NULL;
    }
    for (;;) {
        if (n + 4096 + 1 > cap) {
            if (cap >= DB_MAX_BYTES)
                break;
            cap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, cap);
            if (!nb)
                break;
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    if (ferror(f)) {
        snprintf(why, whylen, "%s", strerror(errno ? errno : EIO));
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    if (!buf)
        snprintf(why, whylen, "out of memory");
    else
        buf[n] = 0;
    *len = n;
    return buf;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = 0;
    return s;
}

static int by_tag(const void *a, const void *b)
{
    const dbrow *x = a, *y = b;
    if (x->e.tag != y->e.tag)
        return x->e.tag < y->e.tag ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static void db_parse(char *text)
{
    size_t cap = 0, lineno = 0;
    for (char *line = text; line && *line; lineno++) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        char *s = line;
        line = next;
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s || *s == '\r' || (s[0] == '/' && s[1] == '/'))
            continue;
        char *sep = strstr(s, " - ");
        if (!sep)
            continue;
        *sep = 0;
        uint32_t tag;
        char *tagtext = s;
        size_t tl = strlen(tagtext);
        while (tl && (tagtext[tl - 1] == ' ' || tagtext[tl - 1] == '\t'))
            tagtext[--tl] = 0;
        if (pt_tag_parse(tagtext, &tag) < 0)
            continue;
        char *rest = sep + 3, *binary = "", *desc;
        char *sep2 = strstr(rest, " - ");
        if (sep2) {
            *sep2 = 0;
            binary = trim(rest);
            desc = trim(sep2 + 3);
        } else {
            desc = trim(rest);
        }
        if (db.n == cap) {
            cap = cap ? cap * 2 : 256;
            dbrow *nr = realloc(db.rows, cap * sizeof *nr);
            if (!nr)
                break;
            db.rows = nr;
        }
        db.rows[db.n++] = (dbrow){{tag, binary, desc}, lineno};
    }
    if (db.n)
        qsort(db.rows, db.n, sizeof *db.rows, by_tag);
}

/* Load PATH if it is a tag database.  0 (reason in why) if it is not: not
 * readable, not a regular file, or with no entry at all. */
static int db_try_why(const char *path, char *why, size_t whylen)
{
    size_t len;
    if (!path || !*path) {
        snprintf(why, whylen, "empty file name");
        return 0;
    }
    char *text = read_file(path, &len, why, whylen);
    if (!text)
        return 0;
    if (memchr(text, 0, len)) {
        snprintf(why, whylen, "binary data, not a tag database "
                 "(lines 'Tag - binary - description')");
        free(text);
        return 0;
    }
    db.text = text;
    db_parse(text);
    if (db.n == 0) {
        snprintf(why, whylen, "%s", len ? "no 'Tag - binary - description' "
                 "line: not a tag database" : "empty file");
        free(db.text);
        db.text = NULL;
        return 0;
    }
    db.path = strdup(path);
    return 1;
}

static int db_try(const char *path)
{
    char why[512];
    return db_try_why(path, why, sizeof why);
}

static void db_search(void);

/* $POOLTAG_DB first; when it names no usable database, say so once on
 * stderr and use the next one of the search order. */
static void db_load(void)
{
    char why[512];
    const char *env = getenv("POOLTAG_DB");
    if (db.loaded)
        return;
    db.loaded = 1;
    if (env && db_try_why(env, why, sizeof why))
        return;
    db_search();
    if (env)
        fprintf(stderr, "pooltag: POOLTAG_DB=%s: %s; using %s\n", env, why,
                db.path ? db.path : "no tag database");
}

static void db_search(void)
{
    char buf[4096];
    const char *env;
    if ((env = getenv("XDG_CONFIG_HOME")) && *env) {
        snprintf(buf, sizeof buf, "%s/pooltag/pooltag.txt", env);
        if (db_try(buf))
            return;
    }
    if ((env = getenv("HOME")) && *env) {
        snprintf(buf, sizeof buf, "%s/.config/pooltag/pooltag.txt", env);
        if (db_try(buf))
            return;
    }
    /* The installed copy, relative to this executable first (an install
     * under another prefix, e.g. cmake --install --prefix), then where
     * the build was configured to install it. */
    if (ptp_read_exe(0, buf, sizeof buf) > 0) {
        char *slash = strrchr(buf, '/');        /* PREFIX/bin/pooltag */
        if (slash) {
            *slash = 0;
            slash = strrchr(buf, '/');
            if (slash) {
                *slash = 0;
                size_t used = strlen(buf);
                snprintf(buf + used, sizeof buf - used,
                         "/" PT_DATADIR_REL "/pooltag.txt");
                if (db_try(buf))
                    return;
            }
        }
    }
    if (db_try(PT_DATADIR "/pooltag.txt"))
        return;
#ifdef PT_SRCDIR
    db_try(PT_SRCDIR "/data/pooltag.txt");
#endif
}

/* Tags the preload derived from module names are described by the module
 * table of the reading in use (cli_use_modules), when pooltag.txt does not
 * know them. */
static struct {
    size_t n;
    ptdb_entry *e;
    char *text;
} mods;

void cli_use_modules(const ptr_view *v)
{
    free(mods.e);
    free(mods.text);
    mods.n = 0;
    mods.e = calloc(v->nmodules ? v->nmodules : 1, sizeof *mods.e);
    mods.text = calloc(v->nmodules ? v->nmodules : 1, 2 * PT_MOD_PATH_MAX + 64);
    if (!mods.e || !mods.text)
        return;
    for (size_t i = 0; i < v->nmodules; i++) {
        const pt_seg_module *m = &v->modules[i];
        char *bin = mods.text + i * (2 * PT_MOD_PATH_MAX + 64);
        char *desc = bin + PT_MOD_PATH_MAX;
        const char *base = strrchr(m->path, '/');
        snprintf(bin, PT_MOD_PATH_MAX, "%s", base ? base + 1 : m->path);
        snprintf(desc, PT_MOD_PATH_MAX + 64, "%s tag of module %s%s",
                 (m->flags & PT_MOD_RULE) ? "rules-file" : "automatic", m->path,
                 (m->flags & PT_MOD_UNLOADED) ? " (unloaded)" : "");
        mods.e[mods.n].tag = m->tag;
        mods.e[mods.n].binary = bin;
        mods.e[mods.n].description = desc;
        mods.n++;
    }
}

static const ptdb_entry *module_entry(uint32_t tag)
{
    for (size_t i = mods.n; i-- > 0;)
        if (mods.e[i].tag == tag)
            return &mods.e[i];
    return NULL;
}

const ptdb_entry *ptdb_lookup(uint32_t tag)
{
    db_load();
    size_t lo = 0, hi = db.n;
    while (lo < hi) {   /* first entry with e.tag >= tag */
        size_t mid = lo + (hi - lo) / 2;
        if (db.rows[mid].e.tag < tag)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < db.n && db.rows[lo].e.tag == tag)
        return &db.rows[lo].e;
    return module_entry(tag);
}

const char *ptdb_path(void)
{
    db_load();
    return db.path;
}

/* ---------------------------------------------------------------------- */
/* Tags and patterns                                                      */

static int tag_matches(uint32_t tag, const char *pat)
{
    if (strpbrk(pat, "*?"))
        return pt_tag_glob(pat, tag);
    uint32_t t;
    return pt_tag_parse(pat, &t) == 0 && t == tag;
}

int cli_tag_selected(uint32_t tag, char *const *incl, char *const *excl)
{
    if (incl && incl[0]) {
        int in = 0;
        for (char *const *p = incl; *p && !in; p++)
            in = tag_matches(tag, *p);
        if (!in)
            return 0;
    }
    if (excl)
        for (char *const *p = excl; *p; p++)
            if (tag_matches(tag, *p))
                return 0;
    return 1;
}

const char *cli_tag(uint32_t tag, char buf[PT_TAG_TEXT_MAX])
{
    return pt_tag_text(tag, buf);
}

/* ---------------------------------------------------------------------- */
/* JSON                                                                   */

size_t cli_utf8_len(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t k;
    uint32_t cp;
    if (n == 0)
        return 0;
    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xe0) == 0xc0)
        k = 2, cp = s[0] & 0x1f;
    else if ((s[0] & 0xf0) == 0xe0)
        k = 3, cp = s[0] & 0x0f;
    else if ((s[0] & 0xf8) == 0xf0)
        k = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (k > n)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) ||
        (k == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return k;
}

const char *cli_text(const char *str, char *buf, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    size_t o = 0;
    if (!size)
        return buf;
    while (*s) {
        int n = (int)cli_utf8_len((const char *)s, SIZE_MAX);
        char esc[4];
        const char *out = (const char *)s;
        size_t len = (size_t)n;
        /* C1 controls (U+0080..U+009F, e.g. the one-byte CSI) are valid
         * UTF-8 that terminals may act on: escaped byte by byte too. */
        if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0)
            n = 0;
        if (*s < 0x20 || *s == 0x7f || n == 0) {
            esc[0] = '\\', esc[1] = 'x', esc[2] = hex[*s >> 4];
            esc[3] = hex[*s & 15];
            out = esc, len = 4, n = 1;
        } else if (*s == '\\') {
            out = "\\\\", len = 2;
        }
        if (o + len >= size)
            break;
        memcpy(buf + o, out, len);
        o += len;
        s += n;
    }
    buf[o] = 0;
    return buf;
}

const char *cli_esc(const char *s)
{
    static char ring[CLI_ESC_SLOTS][CLI_ESC_MAX];
    static unsigned next;
    char *buf = ring[next++ % CLI_ESC_SLOTS];
    return cli_text(s, buf, CLI_ESC_MAX);
}

/* ---------------------------------------------------------------------- */
/* Sources                                                                */

int cli_read_trace(const char *verb, const char *spec, ptr_view *v, ptr_source **src,
                   ptr_trace *t)
{
    char err[512];
    if (cli_read(verb, spec, v, src) != PT_EXIT_OK)
        return PT_EXIT_USAGE;
    if (ptr_trace_open(*src, t, err, sizeof err) < 0) {
        cli_err(verb, "%s: %s", spec, err);
        return PT_EXIT_USAGE;
    }
    return PT_EXIT_OK;
}

int cli_change_outcome(const char *verb, const ptr_control_result *res, const char *applied_fmt,
                       ...)
{
    if (!res->applied) {
        printf("not applied yet: the process applies it at its next allocation "
               "or free (it may be idle)\n");
        return PT_EXIT_OK;
    }
    if (applied_fmt) {
        va_list ap;
        va_start(ap, applied_fmt);
        vprintf(applied_fmt, ap);
        va_end(ap);
        printf("\n");
    } else {
        printf("applied\n");
    }
    if (res->after.bad_settings) {
        cli_err(verb, "the process refused %" PRIu32 " setting%s as out of range "
                "(the previous values stay)", res->after.bad_settings,
                res->after.bad_settings == 1 ? "" : "s");
        return PT_EXIT_USAGE;
    }
    return PT_EXIT_OK;
}

int cli_read(const char *verb, const char *spec, ptr_view *v,
             ptr_source **out)
{
    char err[512];
    ptr_source *s;
    if (out)
        *out = NULL;
    if (ptr_open(spec, &s, err, sizeof err) < 0) {
        cli_err(verb, "%s", err);
        return PT_EXIT_USAGE;
    }
    if (ptr_read(s, v, err, sizeof err) < 0) {
        cli_err(verb, "%s", err);
        ptr_close(s);
        return PT_EXIT_USAGE;
    }
    cli_use_modules(v);
    if (out)
        *out = s;
    else
        ptr_close(s);
    return PT_EXIT_OK;
}

static void fmt_time(uint64_t ns, char *buf, size_t size)
{
    time_t t = (time_t)(ns / 1000000000u);
    struct tm tm;
    if (!ns || !localtime_r(&t, &tm) ||
        !strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(buf, size, "unknown time");
}

void cli_describe(FILE *f, const ptr_view *v, const char *spec)
{
    char when[64];
    fmt_time(v->taken_ns, when, sizeof when);
    if (v->kind == PTR_LIVE)
        fprintf(f, "process %" PRIu32 " (%s), live reading at %s", v->pid,
                cli_esc(v->comm), when);
    else if (v->kind == PTR_CORE)
        fprintf(f, "core %s of process %" PRIu32 " (%s), written %s", cli_esc(spec),
                v->pid, cli_esc(v->comm), when);
    else if (v->taken_ns)
        fprintf(f, "snapshot %s of process %" PRIu32 " (%s), taken %s",
                cli_esc(spec), v->pid, cli_esc(v->comm), when);
    else
        /* A raw copy of live memory carries no checksum (the runtime could
         * not keep one up to date): say that damage would go unseen. */
        fprintf(f, "segment image %s of process %" PRIu32 " (%s), bare: "
                "no checksum, damage is not detected", cli_esc(spec), v->pid,
                cli_esc(v->comm));
}

/* The site table is full when its entries are all in use (the runtime
 * keeps some for the tags' "other sites" entries, so distinct sites stop
 * being recorded before that). */
static int sites_full(const ptr_view *v)
{
    return v->max_sites && v->sites_used >= v->max_sites;
}

/* Distinct sites are no longer recorded: the runtime keeps min(max_tags,
 * max_sites / 2) entries for tags' other-sites entries (src/runtime/init.c). */
static int sites_closed(const ptr_view *v)
{
    if (!v->max_sites)
        return 0;
    uint32_t keep = v->max_tags < v->max_sites / 2 ? v->max_tags : v->max_sites / 2;
    uint32_t others = v->tags_used;
    return v->sites_used >= v->max_sites - (keep > others ? keep - others : 0);
}

const char *cli_overflow_desc(const ptr_view *v)
{
    int tags = v->max_tags && v->tags_used >= v->max_tags;
    if (tags && sites_full(v))
        return "overflow entry: allocations of tags that found the tag table and the "
               "site table full (raise PT_MAX_TAGS and PT_MAX_SITES)";
    if (sites_full(v))
        return "overflow entry: allocations of tags that found the site table full "
               "(raise PT_MAX_SITES)";
    return "overflow entry: allocations of tags that found the tag table full (raise "
           "PT_MAX_TAGS)";
}

void cli_full_tables_note(FILE *f, const ptr_view *v)
{
    if (sites_closed(v))
        fprintf(f,
                "\n   The call-site table is full (PT_MAX_SITES=%" PRIu32 "): sites first "
                "seen since are counted as their tag's other sites; raise PT_MAX_SITES to "
                "tell them apart.\n",
                v->max_sites);
    if (v->modules_dropped)
        fprintf(f,
                "\n   The module table is full (PT_MAX_MODULES=%" PRIu32 "): %" PRIu32
                " module%s loaded since %s tagged but not recorded (no path, no "
                "unload flag); raise PT_MAX_MODULES.\n",
                v->max_modules, v->modules_dropped, v->modules_dropped == 1 ? "" : "s",
                v->modules_dropped == 1 ? "is" : "are");
}

void cli_emit_full_tables(struct emitter *e, const ptr_view *v)
{
    emit_kv_bool(e, "site_table_full", sites_closed(v));
    emit_kv_u64(e, "modules_not_recorded", v->modules_dropped);
}

/* ---------------------------------------------------------------------- */
/* Output files (util.h)                                                  */

int cli_out_check(const char *path, const char *const *inputs, char *err,
                  size_t errlen)
{
    struct stat st, in;
    if (!path || !*path) {
        snprintf(err, errlen, "empty output file name");
        return -1;
    }
    if (stat(path, &st) < 0) {
        int e = errno;
        if (e == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen,
                 "%s is %s, not a regular file: left alone; give a file name",
                 path, ptr_file_kind(st.st_mode));
        return -1;
    }
    for (size_t i = 0; inputs && inputs[i]; i++)
        if (stat(inputs[i], &in) == 0 && in.st_dev == st.st_dev &&
            in.st_ino == st.st_ino) {
            snprintf(err, errlen,
                     "%s is the same file as the input %s: left alone; give "
                     "another output file",
                     path, inputs[i]);
            return -1;
        }
    if (access(path, W_OK) < 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 1;
}

void cli_out_discard(cli_out *o)
{
    if (o->f)
        fclose(o->f);
    if (o->tmp)
        unlink(o->tmp);
    free(o->tmp);
    free(o->path);
    memset(o, 0, sizeof *o);
}

static int out_fail(cli_out *o, char *err, size_t errlen, const char *fmt,
                    const char *what, int e)
{
    snprintf(err, errlen, fmt, what, strerror(e));
    cli_out_discard(o);
    return -1;
}

int cli_out_open(cli_out *o, const char *path, const char *const *inputs,
                 unsigned mode, char *err, size_t errlen)
{
    struct stat st;
    memset(o, 0, sizeof *o);
    int exists = cli_out_check(path, inputs, err, errlen);
    if (exists < 0)
        return -1;
    /* Replace the file itself, not a symbolic link that names it. */
    o->path = exists ? realpath(path, NULL) : strdup(path);
    if (!o->path)
        return out_fail(o, err, errlen, "cannot write %s: %s", path, errno);
    size_t n = strlen(o->path);
    if (!(o->tmp = malloc(n + 16)))
        return out_fail(o, err, errlen, "cannot write %s: %s", path, errno);
    snprintf(o->tmp, n + 16, "%s.tmpXXXXXX", o->path);
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        int e = errno;
        char *dir = strdup(o->path);
        struct stat ds;
        free(o->tmp);
        o->tmp = NULL;
        if (dir && e == ENOENT && stat(dirname(dir), &ds) == 0 &&
            S_ISDIR(ds.st_mode)) {
            /* /proc, /sys: the directory is there, files cannot be made. */
            snprintf(err, errlen,
                     "cannot write %s: the file system of %s does not allow "
                     "new files (it is not a place for output files)",
                     path, dirname(o->path));
            free(dir);
            cli_out_discard(o);
            return -1;
        }
        free(dir);
        return out_fail(o, err, errlen, "cannot create %s: %s", path, e);
    }
    if (exists && stat(o->path, &st) == 0) {
        if (geteuid() == 0 && fchown(fd, st.st_uid, st.st_gid) < 0)
            st.st_mode &= 0777;   /* no set-id bits for another owner */
        fchmod(fd, st.st_mode & 07777);
    } else {
        mode_t um = umask(0);
        umask(um);
        fchmod(fd, (mode_t)mode & 0777 & ~um);
    }
    if (!(o->f = fdopen(fd, "w"))) {
        int e = errno;
        close(fd);
        return out_fail(o, err, errlen, "cannot write %s: %s", path, e);
    }
    return 0;
}

int cli_out_commit(cli_out *o, char *err, size_t errlen)
{
    struct stat st;
    char *path = o->path;
    FILE *f = o->f;
    int e = 0;
    o->f = NULL;
    errno = 0;
    if (fflush(f) != 0 || ferror(f))
        e = errno ? errno : EIO;
    else if (fsync(fileno(f)) < 0)
        e = errno;
    if (fclose(f) != 0 && !e)
        e = errno ? errno : EIO;
    if (e)
        return out_fail(o, err, errlen, "cannot write %s: %s", path, e);
    /* Made a FIFO or a directory while we wrote?  Still not replaced. */
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        snprintf(err, errlen,
                 "%s is %s, not a regular file: left alone; give a file name",
                 path, ptr_file_kind(st.st_mode));
        cli_out_discard(o);
        return -1;
    }
    if (rename(o->tmp, path) < 0)
        return out_fail(o, err, errlen, "cannot write %s: %s", path, errno);
    free(o->tmp);
    o->tmp = NULL;
    cli_out_discard(o);
    return 0;
}
