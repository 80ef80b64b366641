#ifndef GH_UTIL_LOG_H
#define GH_UTIL_LOG_H

/* One line per event on standard error: an RFC 3339 time, a level and the
 * message. Secrets (passwords, keys, tokens) are never passed here. */

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
