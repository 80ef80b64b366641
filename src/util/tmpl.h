#ifndef GH_UTIL_TMPL_H
#define GH_UTIL_TMPL_H

#include <stdbool.h>
#include <stddef.h>

/* A small template engine for the service's pages and mails. Pure: it reads
 * the template text, the variables and a message lookup it is given, and
 * writes into a buffer of its own; no I/O, no globals.
 *
 * Syntax (every tag is "{{" ... "}}", no spaces inside):
 *   {{name}}          the variable name, escaped for the template's mode
 *   {{@key}}          the catalogue message key, itself rendered as a
 *                     template (it may hold {{name}}, never sections)
 *   {{#name}}...{{/name}}  the enclosed part, when name is set and not empty
 *   {{^name}}...{{/name}}  the enclosed part, when name is unset or empty
 * Names and keys are [A-Za-z0-9_.-], 1 to TMPL_MAX_NAME bytes. Anything else
 * between braces, an unclosed tag or section, an unknown variable (a
 * {{name}}) or message is an error: a template is part of the program, and a
 * typo in one must fail its test, not show an empty hole. A lone "{" or "}"
 * is text.
 *
 * In TMPL_HTML, variables and messages are HTML-escaped (& < > " '), so a
 * value can never open a tag or leave an attribute; a variable marked raw
 * (a page body rendered by this engine, put into its layout) goes in as it
 * is. In TMPL_TEXT nothing is escaped. */

#define TMPL_MAX_NAME   64
#define TMPL_MAX_DEPTH  8            /* sections within sections, messages within messages */
#define TMPL_MAX_OUTPUT (256 * 1024) /* default output limit, bytes */

enum tmpl_mode { TMPL_TEXT, TMPL_HTML };

enum tmpl_status {
    TMPL_OK = 0,
    TMPL_SYNTAX,          /* a malformed tag, or an unclosed/unopened section */
    TMPL_UNKNOWN_VAR,     /* {{name}} of a variable not given */
    TMPL_UNKNOWN_MESSAGE, /* {{@key}} the catalogue does not hold */
    TMPL_TOO_DEEP,        /* past TMPL_MAX_DEPTH */
    TMPL_TOO_LARGE,       /* the output would pass its limit */
    TMPL_NOMEM,
    TMPL_NOT_FOUND, /* no template of that name (a lookup's, never tmpl_render's) */
};

struct tmpl_var {
    const char *name;
    const char *value; /* NUL-terminated; NULL counts as unset */
    bool raw;          /* TMPL_HTML: insert without escaping (trusted markup only) */
};

/* The message of key (klen bytes), or NULL when there is none; *len is set
 * to its length. ctx is tmpl_messages.ctx. */
typedef const char *(*tmpl_message_fn)(void *ctx, const char *key, size_t klen, size_t *len);

struct tmpl_messages {
    tmpl_message_fn get; /* NULL: no messages (every {{@key}} is unknown) */
    void *ctx;
};

/* What a render produced: out (malloc'd, NUL-terminated, len bytes) on
 * TMPL_OK, else NULL. On an error, where is the byte offset in the template
 * text (or, inside a message, of the {{@key}} tag that holds the error). */
struct tmpl_result {
    char *out;
    size_t len;
    size_t where;
};

/* Renders text[0..len) with vars[0..nvars) and msgs in mode. max_output is
 * the output limit in bytes (0: TMPL_MAX_OUTPUT). The caller frees res->out. */
enum tmpl_status tmpl_render(const char *text, size_t len, enum tmpl_mode mode,
                             const struct tmpl_var *vars, size_t nvars,
                             const struct tmpl_messages *msgs, size_t max_output,
                             struct tmpl_result *res);

/* TMPL_HTML for a name ending in ".html", else TMPL_TEXT. */
enum tmpl_mode tmpl_mode_of(const char *name);

/* A short English description of a status, for logs and test output. */
const char *tmpl_status_text(enum tmpl_status s);

#endif
