/* util/csv.c: the CSV reader of gatehouse users import. Whatever the text,
 * the records it reads, quoted again with csv_quote and read back, are the
 * same records: the reader unquotes in place without clobbering a field it
 * has already returned, and csv_quote writes what it reads. */
#include "fuzz/fuzz.h"
#include "util/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = fuzz_strndup(data, size);
    /* Room for size + 1 fields: more than any text holds in practice (a
     * field is a byte or is followed by a comma); past it the round trip is
     * skipped. */
    size_t room = size + 1, used = 0, nrec = 0, n;
    struct csv_field *all = malloc(room * sizeof *all);
    size_t *count = malloc(room * sizeof *count);
    struct csv_reader r;
    long line, last = 0;
    enum csv_status st;

    FUZZ_CHECK(all != NULL && count != NULL);
    csv_init(&r, buf, size);
    while ((st = csv_next(&r, all + used, room - used, &n, &line)) == CSV_RECORD) {
        FUZZ_CHECK(n >= 1);
        FUZZ_CHECK(line >= last);
        if (n > room - used || nrec == room)
            goto done;
        last = line;
        for (size_t i = used; i < used + n; i++)
            FUZZ_CHECK(all[i].s >= buf && all[i].s + all[i].len <= buf + size);
        count[nrec++] = n;
        used += n;
    }
    FUZZ_CHECK(st == CSV_END || st == CSV_UNTERMINATED);

    /* Quote every field; each record ends with a line break. */
    size_t cap = 8 * size + 16, w = 0, k = 0;
    char *out = malloc(cap + 1);
    FUZZ_CHECK(out != NULL);
    for (size_t rec = 0; rec < nrec; rec++) {
        for (size_t i = 0; i < count[rec]; i++, k++) {
            if (i > 0)
                out[w++] = ',';
            size_t need = csv_quote(all[k].s, all[k].len, out + w, cap - w);
            FUZZ_CHECK(need <= cap - w);
            w += need;
        }
        out[w++] = '\n';
    }
    out[w] = '\0';

    /* A quoted first field never starts with the byte order mark. */
    FUZZ_CHECK(w < 3 || memcmp(out, "\xef\xbb\xbf", 3) != 0);
    struct csv_reader r2;
    struct csv_field *f = malloc(room * sizeof *f);
    FUZZ_CHECK(f != NULL);
    csv_init(&r2, out, w);
    k = 0;
    for (size_t rec = 0; rec < nrec; rec++) {
        FUZZ_CHECK(csv_next(&r2, f, room, &n, &line) == CSV_RECORD);
        FUZZ_CHECK(n == count[rec]);
        for (size_t i = 0; i < n; i++, k++)
            FUZZ_CHECK(f[i].len == all[k].len && memcmp(f[i].s, all[k].s, f[i].len) == 0);
    }
    FUZZ_CHECK(csv_next(&r2, f, room, &n, &line) == CSV_END);
    free(f);
    free(out);
done:
    free(count);
    free(all);
    free(buf);
    return 0;
}
