#ifndef GH_CORE_OUTCOME_STORE_H
#define GH_CORE_OUTCOME_STORE_H

#include "core/outcome.h"
#include "store/store.h"

/* For core's own files, which call the store: the layers above see
 * outcomes only, never a store status (core/outcome.h). */

/* The outcome of a store call; not_found says what a missing row means to
 * the caller (an unknown user at login is not a missing user behind a
 * token). */
enum outcome outcome_from_store(enum store_status st, enum outcome not_found);

#endif
