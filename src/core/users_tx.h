#ifndef GH_CORE_USERS_TX_H
#define GH_CORE_USERS_TX_H

#include "core/sessions.h"
#include "core/users.h"
#include "store/store.h"

/* The parts of core/users.h that take a store transaction, for core's own
 * files (core/emails.c). */

/* A password reset by mail (core/emails): sets next as user id's password
 * under the rules of a new password (OUTCOME_INVALID, errors under
 * "new_password") and revokes every session of the user, in one
 * transaction that also runs also(tx, also_arg) first (the use of the
 * token); a failure of also, or a user that is gone, is
 * OUTCOME_TOKEN_INVALID and changes nothing. */
enum outcome users_set_password_with(const struct users_deps *d, const struct sessions_deps *sd,
                                     int64_t id, const char *next, size_t nlen,
                                     enum store_status (*also)(store_tx *tx, void *arg),
                                     void *also_arg, struct outcome_detail *detail);

#endif
