#include "util/timefmt.h"

#include <time.h>

char *timefmt_rfc3339(char *buf, size_t cap, int64_t t)
{
    struct tm tm;
    time_t tt = (time_t)t;

    gmtime_r(&tt, &tm);
    if (strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0 && cap > 0)
        buf[0] = '\0';
    return buf;
}

int64_t timefmt_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

int64_t timefmt_monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
