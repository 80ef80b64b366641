/* util/log: escaping of what clients send, before it reaches a log line. */
#include <string.h>

#include "test.h"
#include "util/log.h"

static const char *esc(const char *s, size_t len, bool quote)
{
    static char out[256];
    return log_escape(s, len, out, sizeof out, quote);
}

TEST(log_escape_controls)
{
    /* A line feed or carriage return would start a forged line. */
    CHECK_EQ_STR(esc("/a\nb", 4, false), "/a\\x0Ab");
    CHECK_EQ_STR(esc("/a\r\n2026-01-01 info x", 21, false), "/a\\x0D\\x0A2026-01-01 info x");
    CHECK_EQ_STR(esc("\t\x1b[31m\x7f", 7, false), "\\x09\\x1B[31m\\x7F");
    CHECK_EQ_STR(esc("a\0b", 3, false), "a\\x00b");
}

TEST(log_escape_quotes)
{
    CHECK_EQ_STR(esc("a\"b\\c", 5, false), "a\"b\\c");
    CHECK_EQ_STR(esc("a\"b\\c", 5, true), "a\\\"b\\\\c");
}

TEST(log_escape_utf8)
{
    /* Well-formed UTF-8 passes; anything else is shown byte by byte. */
    CHECK_EQ_STR(esc("caf\xc3\xa9", 5, true), "caf\xc3\xa9");
    CHECK_EQ_STR(esc("\xff\xfe", 2, true), "\\xFF\\xFE");
    CHECK_EQ_STR(esc("\xc3", 1, true), "\\xC3");                   /* cut short */
    CHECK_EQ_STR(esc("\xc0\xaf", 2, true), "\\xC0\\xAF");          /* overlong */
    CHECK_EQ_STR(esc("\xed\xa0\x80", 3, true), "\\xED\\xA0\\x80"); /* a surrogate */
}

TEST(log_escape_unicode_controls)
{
    /* Well-formed, yet they end a line for some readers (NEL, LS, PS) or
     * reorder its text on screen (bidi controls): \uNNNN, in either mode. */
    CHECK_EQ_STR(esc("a\xc2\x85"
                     "b",
                     4, false),
                 "a\\u0085b");
    CHECK_EQ_STR(esc("a\xc2\x80\xc2\x9f", 5, true), "a\\u0080\\u009F");
    CHECK_EQ_STR(esc("\xe2\x80\xa8\xe2\x80\xa9", 6, true), "\\u2028\\u2029");
    CHECK_EQ_STR(esc("\xe2\x80\xaa\xe2\x80\xae", 6, false), "\\u202A\\u202E");
    CHECK_EQ_STR(esc("\xe2\x81\xa6\xe2\x81\xa9", 6, false), "\\u2066\\u2069");
    CHECK_EQ_STR(esc("\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c", 8, false), "\\u200E\\u200F\\u061C");
    /* Their neighbours pass. */
    CHECK_EQ_STR(esc("\xc2\xa0\xe2\x80\xa7\xe2\x80\xaf\xe2\x81\xaa", 11, false),
                 "\xc2\xa0\xe2\x80\xa7\xe2\x80\xaf\xe2\x81\xaa");
}

TEST(log_escape_truncates_whole)
{
    char out[8];

    /* Room for 7 bytes: "ab" and one escape, never half of the next. */
    CHECK_EQ_STR(log_escape("ab\n\n", 4, out, sizeof out, false), "ab\\x0A");
    CHECK_EQ_STR(log_escape("abcdefghij", 10, out, sizeof out, false), "abcdefg");
}

TEST(log_parse_settings)
{
    CHECK_EQ_INT(log_format_parse("text"), LOG_FORMAT_TEXT);
    CHECK_EQ_INT(log_format_parse("json"), LOG_FORMAT_JSON);
    CHECK_EQ_INT(log_format_parse("JSON"), -1);
    CHECK_EQ_INT(log_level_parse("debug"), LOG_DEBUG);
    CHECK_EQ_INT(log_level_parse("warn"), LOG_WARN);
    CHECK_EQ_INT(log_level_parse("error"), LOG_ERROR);
    CHECK_EQ_INT(log_level_parse("warning"), -1);
}
