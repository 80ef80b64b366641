#ifndef GH_UTIL_LOG_H
#define GH_UTIL_LOG_H

#include <stdbool.h>
#include <stddef.h>

/* One line per event on standard error, written with a single write(2) so
 * that lines of different threads never interleave. Two formats: text (an
 * RFC 3339 time, a level and the message) and JSON (one object per line).
 * Secrets (passwords, keys, tokens, hashes) are never passed here; strings a
 * client sent go in as fields, which are escaped (log_escape), never as part
 * of a format. */

enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the format and the lowest level written (defaults: text, info).
 * Call before any thread logs. */
void log_configure(enum log_format format, enum log_level level);

/* Parses "text"/"json" and "debug"/"info"/"warn"/"error"; -1 when unknown. */
int log_format_parse(const char *s);
int log_level_parse(const char *s);

/* True when lines of this level are written. */
bool log_enabled(enum log_level level);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The reason a command stops, whatever LOG_LEVEL says: in JSON an object
 * with "level" "error", the message and "fatal": true; in text the line
 * "who: message" (who is e.g. "gatehouse" or "gatehouse users import"),
 * as a command line user reads it. Every error that ends a command before
 * or after it serves goes here, so that with LOG_FORMAT=json every line on
 * standard error is JSON. */
void log_fatal(const char *who, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A named value of a structured line: a string (NULL: left out) or a
 * number. */
struct log_field {
    const char *key;
    const char *str;
    double num;
    bool is_num;
};

#define LOG_STR(k, v) ((struct log_field){(k), (v), 0, false})
#define LOG_NUM(k, v) ((struct log_field){(k), NULL, (double)(v), true})

/* Writes one structured line: in JSON an object with "time", "level", the
 * "event" name and the fields; in text "event key=value ...". String values
 * are escaped (log_escape) in both formats. */
void log_event(enum log_level level, const char *event, const struct log_field *fields,
               size_t nfields);

/* Copies the len bytes at s into out (cap bytes, always NUL-terminated)
 * so that they can never break a log line or a listing (gatehouse users
 * list): control bytes, DEL and bytes that are not well-formed UTF-8 become
 * \xNN; C1 controls (U+0080..U+009F, NEL among them), U+2028, U+2029 and
 * the bidirectional controls (U+061C, U+200E, U+200F, U+202A..U+202E,
 * U+2066..U+2069) become \uNNNN; with quote also '"' and '\\' are escaped
 * (\" and \\), for a text line that quotes the value. Cuts at cap, never
 * inside an escape: 4 * len + 1 bytes always hold the whole. Returns out. */
char *log_escape(const char *s, size_t len, char *out, size_t cap, bool quote);

#endif
