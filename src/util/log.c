#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

/* fmt comes from log_info and its siblings, whose callers the compiler checks
 * (log.h); the attribute says so, so that passing fmt on to vsnprintf is not
 * taken for a format built at run time (-Wformat-nonliteral). */
__attribute__((format(printf, 2, 0))) static void log_line(const char *level, const char *fmt,
                                                           va_list ap)
{
    char msg[1024];
    char when[32];
    struct tm tm;
    time_t now = time(NULL);

    vsnprintf(msg, sizeof msg, fmt, ap);
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    /* One fprintf call per line keeps lines from different threads whole. */
    fprintf(stderr, "%s %s gatehouse: %s\n", when, level, msg);
}

void log_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line("info", fmt, ap);
    va_end(ap);
}

void log_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line("warn", fmt, ap);
    va_end(ap);
}

void log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line("error", fmt, ap);
    va_end(ap);
}
