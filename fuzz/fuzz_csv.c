/* util/csv.c: the CSV reader of gatehouse users import. Whatever the text,
 * the records it reads, quoted again with csv_quote and read back, are the
 * same records: the reader unquotes in place without clobbering a field it
 * has already returned, and csv_quote writes what it reads. */
#include "fuzz/fuzz.h"
#include "util/csv.h"

#define MAX_FIELDS 64

struct rec {
    size_t n;
    struct csv_field f[MAX_FIELDS];
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = fuzz_strndup(data, size);
    struct rec *recs = calloc(size + 1, sizeof *recs);
    struct csv_reader r;
    size_t nrec = 0, n;
    long line, last = 0;
    enum csv_status st;

    FUZZ_CHECK(recs != NULL);
    csv_init(&r, buf, size);
    while ((st = csv_next(&r, recs[nrec].f, MAX_FIELDS, &n, &line)) == CSV_RECORD) {
        FUZZ_CHECK(nrec < size + 1); /* every record consumes at least a byte */
        FUZZ_CHECK(n >= 1);
        FUZZ_CHECK(line >= last);
        last = line;
        for (size_t i = 0; i < n && i < MAX_FIELDS; i++)
            FUZZ_CHECK(recs[nrec].f[i].s >= buf &&
                       recs[nrec].f[i].s + recs[nrec].f[i].len <= buf + size);
        recs[nrec].n = n;
        if (n <= MAX_FIELDS)
            nrec++;
    }
    FUZZ_CHECK(st == CSV_END || st == CSV_UNTERMINATED);

    /* Quote every field; each record ends with a line break. */
    size_t cap = 8 * size + 16, w = 0;
    char *out = malloc(cap + 1);
    FUZZ_CHECK(out != NULL);
    for (size_t k = 0; k < nrec; k++) {
        for (size_t i = 0; i < recs[k].n; i++) {
            if (i > 0)
                out[w++] = ',';
            size_t need = csv_quote(recs[k].f[i].s, recs[k].f[i].len, out + w, cap - w);
            FUZZ_CHECK(need <= cap - w);
            w += need;
        }
        out[w++] = '\n';
    }
    out[w] = '\0';

    struct csv_reader r2;
    struct csv_field f[MAX_FIELDS];
    csv_init(&r2, out, w);
    if (w >= 3 && memcmp(out, "\xef\xbb\xbf", 3) == 0)
        FUZZ_CHECK(0); /* a quoted first field never starts with the BOM */
    for (size_t k = 0; k < nrec; k++) {
        FUZZ_CHECK(csv_next(&r2, f, MAX_FIELDS, &n, &line) == CSV_RECORD);
        FUZZ_CHECK(n == recs[k].n);
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(f[i].len == recs[k].f[i].len &&
                       memcmp(f[i].s, recs[k].f[i].s, f[i].len) == 0);
    }
    FUZZ_CHECK(csv_next(&r2, f, MAX_FIELDS, &n, &line) == CSV_END);
    free(out);
    free(recs);
    free(buf);
    return 0;
}
