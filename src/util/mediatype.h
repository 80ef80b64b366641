#ifndef GH_UTIL_MEDIATYPE_H
#define GH_UTIL_MEDIATYPE_H

#include <stdbool.h>

/* True when the Content-Type value ct names the media type want (compared
 * without regard to case, RFC 9110 §8.3.1). Parameters may follow,
 * well-formed (RFC 9110 §5.6.6: name=token or name="quoted"); a charset
 * parameter must be UTF-8, the only encoding gatehouse reads. NULL is
 * false. */
bool mediatype_is(const char *ct, const char *want);

#endif
