#ifndef GH_CORE_PWLIST_H
#define GH_CORE_PWLIST_H

#include <stdbool.h>
#include <stddef.h>

/* The shipped list of common passwords (data/common-passwords.txt, embedded
 * in the binary): lower-cased, sorted bytewise, one per line. */

/* True when pw (len bytes) is on the list, compared without regard to ASCII
 * case. Thread-safe; the index is built on first use. */
bool pwlist_contains(const char *pw, size_t len);

/* The number of entries on the list. */
size_t pwlist_size(void);

#endif
