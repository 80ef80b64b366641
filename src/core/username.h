#ifndef GH_CORE_USERNAME_H
#define GH_CORE_USERNAME_H

#include <stddef.h>

/* Usernames: 3–64 characters of A–Z a–z 0–9 . _ - @ +, unique without regard
 * to case. The stored spelling is the registered one; the key used for
 * uniqueness and lookup is its lower-cased form. */

#define USERNAME_MIN 3
#define USERNAME_MAX 64

enum username_rule { USERNAME_OK = 0, USERNAME_TOO_SHORT, USERNAME_TOO_LONG, USERNAME_BAD_CHAR };

/* Checks name (len bytes, may hold NULs or any byte). */
enum username_rule username_check(const char *name, size_t len);

/* Writes the lower-cased key of a valid name into key (USERNAME_MAX + 1). */
void username_key(char *key, const char *name);

#endif
