#include "util/log.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/utf8.h"

#define LOG_LINE_MAX 4096

/* Set once at start-up (log_configure), before any other thread runs. */
static enum log_format log_fmt = LOG_FORMAT_TEXT;
static enum log_level log_min = LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_configure(enum log_format format, enum log_level level)
{
    log_fmt = format;
    log_min = level;
}

int log_format_parse(const char *s)
{
    if (strcmp(s, "text") == 0)
        return LOG_FORMAT_TEXT;
    if (strcmp(s, "json") == 0)
        return LOG_FORMAT_JSON;
    return -1;
}

int log_level_parse(const char *s)
{
    for (int i = 0; i < (int)(sizeof level_names / sizeof level_names[0]); i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

bool log_enabled(enum log_level level)
{
    return level >= log_min;
}

/* The length of the well-formed UTF-8 sequence at s (at most len bytes),
 * or 0 when the bytes there are not one. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
    size_t n = s[0] < 0x80 ? 1 : s[0] < 0xE0 ? 2 : s[0] < 0xF0 ? 3 : 4;

    if (n > len || utf8_count((const char *)s, n) != 1)
        return 0;
    return n;
}

/* The code point of the well-formed sequence s[0..n). */
static unsigned code_point(const unsigned char *s, size_t n)
{
    static const unsigned char lead_mask[5] = {0, 0x7F, 0x1F, 0x0F, 0x07};
    unsigned cp = s[0] & lead_mask[n];

    for (size_t i = 1; i < n; i++)
        cp = (cp << 6) | (s[i] & 0x3F);
    return cp;
}

/* Characters that are well-formed but still break or disguise a line: C1
 * controls (U+0085 NEL ends a line for some readers), the line and
 * paragraph separators, and Unicode's Bidi_Control characters, which can
 * show a line's text in another order than it has (CVE-2021-42574). */
static bool breaks_line(unsigned cp)
{
    return (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 || cp == 0x061C ||
           cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

char *log_escape(const char *s, size_t len, char *out, size_t cap, bool quote)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;

    if (cap == 0)
        return out;
    for (size_t i = 0; i < len;) {
        char esc[12];
        const char *put = esc;
        size_t n;
        size_t seq = p[i] >= 0x20 && p[i] != 0x7F ? utf8_seq(p + i, len - i) : 0;
        unsigned cp = seq > 1 ? code_point(p + i, seq) : 0;
        if (seq > 0 && quote && (p[i] == '"' || p[i] == '\\')) {
            esc[0] = '\\';
            esc[1] = (char)p[i];
            n = 2;
            seq = 1;
        } else if (seq > 1 && breaks_line(cp)) {
            snprintf(esc, sizeof esc, "\\u%04X", cp);
            n = 6;
        } else if (seq > 0) {
            put = (const char *)p + i;
            n = seq;
        } else {
            snprintf(esc, sizeof esc, "\\x%02X", p[i]);
            n = 4;
            seq = 1;
        }
        if (o + n >= cap)
            break;
        memcpy(out + o, put, n);
        o += n;
        i += seq;
    }
    out[o] = '\0';
    return out;
}

/* "2026-01-31T12:34:56.789Z" */
static void now_rfc3339(char *buf, size_t cap)
{
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, cap - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* One write(2) for the whole line, so that lines of threads never mix. */
static void write_line(const char *line, size_t len)
{
    while (len > 0) {
        ssize_t w = write(STDERR_FILENO, line, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        line += w;
        len -= (size_t)w;
    }
}

/* Writes a JSON object as one line and frees it. */
static void write_json(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));

    json_decref(o);
    if (s == NULL)
        return;
    size_t n = strlen(s);
    char *line = realloc(s, n + 2);
    if (line == NULL) {
        free(s);
        return;
    }
    line[n] = '\n';
    write_line(line, n + 1);
    free(line);
}

static json_t *json_head(enum log_level level)
{
    char when[40];
    json_t *o = json_object();

    if (o == NULL)
        return NULL;
    now_rfc3339(when, sizeof when);
    json_object_set_new(o, "time", json_string(when));
    json_object_set_new(o, "level", json_string(level_names[level]));
    return o;
}

/* fmt comes from log_info and its siblings, whose callers the compiler checks
 * (log.h); the attribute says so, so that passing fmt on to vsnprintf is not
 * taken for a format built at run time (-Wformat-nonliteral). */
__attribute__((format(printf, 2, 0))) static void log_line(enum log_level level, const char *fmt,
                                                           va_list ap)
{
    char msg[1024], clean[1024];
    char when[40];

    if (level < log_min)
        return;
    vsnprintf(msg, sizeof msg, fmt, ap);
    log_escape(msg, strlen(msg), clean, sizeof clean, false);
    if (log_fmt == LOG_FORMAT_JSON) {
        json_t *o = json_head(level);
        if (o != NULL) {
            json_object_set_new(o, "msg", json_string(clean));
            write_json(o);
        }
        return;
    }
    char line[LOG_LINE_MAX];
    now_rfc3339(when, sizeof when);
    int n = snprintf(line, sizeof line, "%s %s gatehouse: %s\n", when, level_names[level], clean);
    if (n > 0)
        write_line(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

#define LOG_AT(name, level)                                                                        \
    void name(const char *fmt, ...)                                                                \
    {                                                                                              \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        log_line(level, fmt, ap);                                                                  \
        va_end(ap);                                                                                \
    }

LOG_AT(log_debug, LOG_DEBUG)
LOG_AT(log_info, LOG_INFO)
LOG_AT(log_warn, LOG_WARN)
LOG_AT(log_error, LOG_ERROR)

void log_fatal(const char *who, const char *fmt, ...)
{
    char msg[1024], clean[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_escape(msg, strlen(msg), clean, sizeof clean, false);
    if (log_fmt == LOG_FORMAT_JSON) {
        json_t *o = json_head(LOG_ERROR);
        if (o != NULL) {
            json_object_set_new(o, "msg", json_string(clean));
            json_object_set_new(o, "fatal", json_true());
            write_json(o);
        }
        return;
    }
    /* Text: the plain "who: reason" a terminal user reads, without the
     * time and level of the lines of a running server. */
    char line[LOG_LINE_MAX];
    int n = snprintf(line, sizeof line, "%s: %s\n", who, clean);
    if (n > 0)
        write_line(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* A number as a log shows it: whole numbers without a fraction, others to
 * the microsecond (durations in milliseconds). */
static void format_num(double v, char *buf, size_t cap)
{
    if (v == (double)(long long)v)
        snprintf(buf, cap, "%lld", (long long)v);
    else
        snprintf(buf, cap, "%.3f", v);
}

void log_event(enum log_level level, const char *event, const struct log_field *fields,
               size_t nfields)
{
    char val[1024];

    if (level < log_min)
        return;
    if (log_fmt == LOG_FORMAT_JSON) {
        json_t *o = json_head(level);
        if (o == NULL)
            return;
        json_object_set_new(o, "event", json_string(event));
        for (size_t i = 0; i < nfields; i++) {
            const struct log_field *f = &fields[i];
            if (f->is_num) {
                double v = f->num;
                json_object_set_new(o, f->key,
                                    v == (double)(long long)v ? json_integer((long long)v)
                                                              : json_real(v));
            } else if (f->str != NULL) {
                log_escape(f->str, strlen(f->str), val, sizeof val, false);
                json_object_set_new(o, f->key, json_string(val));
            }
        }
        write_json(o);
        return;
    }
    char line[LOG_LINE_MAX], when[40];
    size_t n = 0;
    now_rfc3339(when, sizeof when);
    n +=
        (size_t)snprintf(line, sizeof line, "%s %s gatehouse: %s", when, level_names[level], event);
    for (size_t i = 0; i < nfields && n < sizeof line; i++) {
        const struct log_field *f = &fields[i];
        if (f->is_num)
            format_num(f->num, val, sizeof val);
        else if (f->str != NULL)
            log_escape(f->str, strlen(f->str), val, sizeof val, true);
        else
            continue;
        n += (size_t)snprintf(line + n, sizeof line - n, f->is_num ? " %s=%s" : " %s=\"%s\"",
                              f->key, val);
    }
    if (n > sizeof line - 2)
        n = sizeof line - 2;
    line[n++] = '\n';
    write_line(line, n);
}
