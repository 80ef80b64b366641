#ifndef GH_CORE_ROLES_H
#define GH_CORE_ROLES_H

#include <stdbool.h>
#include <stddef.h>

/* Roles: names of 1 to ROLES_NAME_MAX bytes of a-z 0-9 . _ - (anything
 * else is refused, never folded), at most ROLES_MAX per user or key. A set
 * of roles is kept as text: the names sorted (strcmp) and joined by ',',
 * "" for none (users.roles, api_keys.roles, the claims' roles). */

#define ROLES_NAME_MAX 32
#define ROLES_MAX      16
#define ROLES_TEXT_MAX (ROLES_MAX * (ROLES_NAME_MAX + 1) - 1) /* 527 */

/* True when name (len bytes, any byte) is a role name. */
bool roles_name_valid(const char *name, size_t len);

/* True when text is a set in the stored form: valid names, strictly
 * ascending, at most ROLES_MAX, joined by ','; "" is the empty set. */
bool roles_text_valid(const char *text);

/* The set text (stored form) with name added (add) or removed (!add),
 * into out (ROLES_TEXT_MAX + 1 bytes). False when name is not valid or the
 * set would hold more than ROLES_MAX; adding a name already there or
 * removing one that is not leaves the set as it is. */
bool roles_change(const char *text, const char *name, bool add, char out[ROLES_TEXT_MAX + 1]);

/* True when the set text holds name. */
bool roles_has(const char *text, const char *name);

/* Builds the stored form of n names (any order, duplicates folded into
 * one) into out. False when a name is not valid or there are more than
 * ROLES_MAX distinct names. */
bool roles_from_names(const char *const *names, size_t n, char out[ROLES_TEXT_MAX + 1]);

#endif
