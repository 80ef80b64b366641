/* core/emails.c: the address check (emails_check) and the key an address
 * is unique by (emails_key). Input: the address, any bytes. What it accepts
 * holds one '@', fits every length limit, holds only printable ASCII with
 * no space, and its key is the same address lower-cased, which is valid
 * too and its own key. */
#include "core/emails.h"
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *a = (const char *)data;
    enum emails_check c = emails_check(a, size);
    char key[EMAILS_MAX + 1], again[EMAILS_MAX + 1];

    FUZZ_CHECK(c >= EMAILS_OK && c <= EMAILS_BAD_DOMAIN);
    if (c != EMAILS_OK)
        return 0;
    FUZZ_CHECK(size >= 5 && size <= EMAILS_MAX);
    const char *at = memchr(a, '@', size);
    FUZZ_CHECK(at != NULL && memchr(at + 1, '@', size - (size_t)(at - a) - 1) == NULL);
    FUZZ_CHECK((size_t)(at - a) <= EMAILS_LOCAL_MAX);
    FUZZ_CHECK(memchr(at + 1, '.', size - (size_t)(at - a) - 1) != NULL);
    for (size_t i = 0; i < size; i++)
        FUZZ_CHECK(data[i] > 0x20 && data[i] < 0x7f);
    emails_key(key, a, size);
    FUZZ_CHECK(strlen(key) == size);
    for (size_t i = 0; i < size; i++)
        FUZZ_CHECK(key[i] == (a[i] >= 'A' && a[i] <= 'Z' ? a[i] + 32 : a[i]));
    FUZZ_CHECK(emails_check(key, size) == EMAILS_OK);
    emails_key(again, key, size);
    FUZZ_CHECK(strcmp(again, key) == 0);
    return 0;
}
