/* util/csv: RFC 4180 records read in place, and the quoting that reads back
 * as the same field. */
#include <string.h>

#include "test.h"
#include "util/csv.h"

/* Reads text (copied into buf, which has room) to the end; the fields of every record
 * joined as "a|b;" per record into out. Returns the last status. */
static enum csv_status read_all(const char *text, char *buf, char *out, size_t outcap)
{
    size_t len = strlen(text), n, w = 0;
    struct csv_reader r;
    struct csv_field f[4];
    enum csv_status st;
    long line;

    memcpy(buf, text, len + 1);
    csv_init(&r, buf, len);
    out[0] = '\0';
    while ((st = csv_next(&r, f, 4, &n, &line)) == CSV_RECORD) {
        for (size_t i = 0; i < n && i < 4; i++) {
            if (i > 0 && w + 1 < outcap)
                out[w++] = '|';
            for (size_t k = 0; k < f[i].len && w + 1 < outcap; k++)
                out[w++] = f[i].s[k];
        }
        if (w + 1 < outcap)
            out[w++] = ';';
        out[w] = '\0';
    }
    return st;
}

TEST(csv_records)
{
    char buf[128], out[128];

    CHECK(read_all("a,b\nc,d", buf, out, sizeof out) == CSV_END);
    CHECK_EQ_STR(out, "a|b;c|d;");
    /* CRLF ends a record; a lone CR is data; an empty line is a record of one
     * empty field; a trailing line break adds no record. */
    CHECK(read_all("a,b\r\nc\rd,\n\ne\n", buf, out, sizeof out) == CSV_END);
    CHECK_EQ_STR(out, "a|b;c\rd|;;e;");
    CHECK(read_all("", buf, out, sizeof out) == CSV_END);
    CHECK_EQ_STR(out, "");
}

TEST(csv_quoted)
{
    char buf[128], out[128];

    CHECK(read_all("\"a,b\",\"say \"\"hi\"\"\"\n\"x\ny\",z", buf, out, sizeof out) == CSV_END);
    CHECK_EQ_STR(out, "a,b|say \"hi\";x\ny|z;");
    /* A quote inside a bare field is data. */
    CHECK(read_all("ab\"c,d", buf, out, sizeof out) == CSV_END);
    CHECK_EQ_STR(out, "ab\"c|d;");
    CHECK(read_all("a\n\"never ends\n", buf, out, sizeof out) == CSV_UNTERMINATED);
    CHECK_EQ_STR(out, "a;");
}

TEST(csv_lines_and_bom)
{
    char buf[] = "\xef\xbb\xbfh1,h2\n\"multi\nline\",x\nlast,y\n";
    struct csv_reader r;
    struct csv_field f[2];
    size_t n;
    long line;

    csv_init(&r, buf, strlen(buf));
    REQUIRE(csv_next(&r, f, 2, &n, &line) == CSV_RECORD);
    CHECK_EQ_INT(line, 1);
    CHECK(f[0].len == 2 && memcmp(f[0].s, "h1", 2) == 0);
    REQUIRE(csv_next(&r, f, 2, &n, &line) == CSV_RECORD);
    CHECK_EQ_INT(line, 2);
    REQUIRE(csv_next(&r, f, 2, &n, &line) == CSV_RECORD);
    CHECK_EQ_INT(line, 4); /* the quoted line break counts */
    CHECK(csv_next(&r, f, 2, &n, &line) == CSV_END);
}

TEST(csv_more_fields_than_room)
{
    char buf[] = "a,b,c,d,e\n";
    struct csv_reader r;
    struct csv_field f[2];
    size_t n;
    long line;

    csv_init(&r, buf, strlen(buf));
    REQUIRE(csv_next(&r, f, 2, &n, &line) == CSV_RECORD);
    CHECK_EQ_INT(n, 5);
    CHECK(f[1].len == 1 && f[1].s[0] == 'b');
}

TEST(csv_quote_round_trip)
{
    static const char field[] = "a\"b,\r\n\"\0z";
    char out[64], back[64];
    size_t need = csv_quote(field, sizeof field - 1, out, sizeof out);
    struct csv_reader r;
    struct csv_field f[1];
    size_t n;
    long line;

    CHECK_EQ_INT(need, sizeof field - 1 + 2 + 2); /* two quotes doubled, two around */
    CHECK(csv_quote(field, sizeof field - 1, out, need - 1) == need); /* too small: told */
    memcpy(back, out, need);
    back[need] = '\0';
    csv_init(&r, back, need);
    REQUIRE(csv_next(&r, f, 1, &n, &line) == CSV_RECORD);
    CHECK_EQ_INT(n, 1);
    CHECK(f[0].len == sizeof field - 1 && memcmp(f[0].s, field, f[0].len) == 0);
}
