#ifndef GH_CORE_USERNAME_H
#define GH_CORE_USERNAME_H

#include <stdbool.h>
#include <stddef.h>

/* Usernames: 3–64 characters of A–Z a–z 0–9 . _ - @ +, unique without regard
 * to case. The stored spelling is the registered one; the key used for
 * uniqueness and lookup is its lower-cased form. */

#define USERNAME_MIN 3
#define USERNAME_MAX 64

enum username_rule { USERNAME_OK = 0, USERNAME_TOO_SHORT, USERNAME_TOO_LONG, USERNAME_BAD_CHAR };

/* Checks name (len bytes, may hold NULs or any byte). */
enum username_rule username_check(const char *name, size_t len);

/* The longest name stored: the original FastAPI app took any string, and
 * its databases hold names the rules above refuse (spaces, non-ASCII
 * letters, one or two characters). Those rules apply when a name is chosen
 * (register, users add); a stored name only has to be storable. */
#define USERNAME_STORED_MAX 255

/* True when name (len bytes) could be a stored name: 1 to
 * USERNAME_STORED_MAX bytes of RFC 3629 UTF-8 without control characters
 * (C0, DEL, C1). What a login looks up and an import accepts. */
bool username_storable(const char *name, size_t len);

/* Writes the key of any storable name (len bytes) into key
 * (USERNAME_STORED_MAX + 1 bytes): ASCII letters lower-cased, every other
 * byte as it is, so that "Alice" and "alice" are one account while
 * non-ASCII names match only as spelled. The one key function: register,
 * login and import all use it, so a key never depends on who wrote the row. */
void username_key_any(char *key, const char *name, size_t len);

#endif
