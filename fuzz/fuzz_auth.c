/* api/auth.c: the bearer token out of the Authorization header, else the
 * access_token cookie (libmicrohttpd splits the Cookie header itself; its
 * parser is not callable without a connection), and the ALLOWED_ORIGINS
 * match of the Origin header. Input: a mode byte, then the Authorization
 * value, a NUL, the cookie value. */
#include <strings.h>

#include "api/api_internal.h"
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned mode = data[0];
    char *text = fuzz_strndup(data + 1, size - 1);
    size_t alen = strlen(text);
    const char *cookie = alen < size - 1 ? text + alen + 1 : "";
    const char *auth = (mode & 1) ? NULL : text;
    enum api_auth kind = (mode & 2) ? API_AUTH_BEARER_OR_COOKIE : API_AUTH_BEARER;
    size_t len = 0;
    bool from_cookie = true;
    const char *tok = api_find_token(auth, cookie, kind, &len, &from_cookie);

    if (tok != NULL) {
        FUZZ_CHECK(len > 0);
        if (from_cookie) {
            /* Only when the route takes the cookie and no header was sent. */
            FUZZ_CHECK(auth == NULL && kind == API_AUTH_BEARER_OR_COOKIE);
            FUZZ_CHECK(tok == cookie && len == strlen(cookie));
        } else {
            FUZZ_CHECK(auth != NULL && strncasecmp(auth, "Bearer ", 7) == 0);
            FUZZ_CHECK(tok >= auth + 7 && tok + len <= auth + alen);
            FUZZ_CHECK(tok[0] != ' ' && tok[len - 1] != ' ');
        }
    } else if (auth != NULL) {
        FUZZ_CHECK(!from_cookie);
    }

    /* The same two strings as an Origin header and an ALLOWED_ORIGINS list:
     * a match is one whole entry of the list, byte for byte. */
    struct api_ctx app = {.cookies = {.enabled = true, .origins = cookie}};
    struct api_request req = {.app = &app, .origin = text, .method = "POST"};
    if (api_origin_allowed(&req)) {
        FUZZ_CHECK(alen > 0 && strchr(text, ',') == NULL && strchr(text, ' ') == NULL);
        const char *hit = strstr(cookie, text);
        FUZZ_CHECK(hit != NULL);
    }
    FUZZ_CHECK(api_changes_state(&req));
    free(text);
    return 0;
}
