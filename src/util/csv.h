#ifndef GH_UTIL_CSV_H
#define GH_UTIL_CSV_H

#include <stddef.h>

/* Comma-separated values as RFC 4180 writes them: records end at a line
 * break (CRLF or LF), fields are separated by commas, and a field in double
 * quotes may hold commas, line breaks and "" for one quote. The reader works
 * in place over a caller's buffer: a quoted field is unquoted where it
 * stands, so every field it returns points into that buffer. What follows a
 * closing quote other than a comma or a line break starts the next record
 * (the import command has always read it so). */

struct csv_reader {
    char *buf; /* the text; NUL-terminated at buf[len] */
    size_t len;
    size_t pos; /* where the next record starts */
    long line;  /* the line (from 1) at pos */
};

struct csv_field {
    char *s; /* inside the reader's buffer; not NUL-terminated */
    size_t len;
};

enum csv_status {
    CSV_RECORD = 0,   /* a record was read */
    CSV_END,          /* no record left */
    CSV_UNTERMINATED, /* a quoted field runs to the end of the text */
};

/* Starts reading buf[0..len), which must have a NUL at buf[len] and stays
 * the caller's. A UTF-8 byte order mark at the start (spreadsheets write
 * one) is skipped. */
void csv_init(struct csv_reader *r, char *buf, size_t len);

/* Reads the next record: its first max fields into fields, its field count
 * (which may exceed max) into *n and the line it starts on into *line. An
 * empty line is a record of one empty field. After CSV_UNTERMINATED the
 * reader is done; *line is that of the record that failed. */
enum csv_status csv_next(struct csv_reader *r, struct csv_field *fields, size_t max, size_t *n,
                         long *line);

/* Writes the field s[0..len) in double quotes, each quote doubled, into
 * out, which has room for cap bytes, and returns the length that takes. When
 * that exceeds cap nothing is written. No NUL is added. What csv_next reads
 * back as the same field, whatever bytes it holds. */
size_t csv_quote(const char *s, size_t len, char *out, size_t cap);

#endif
