#ifndef GH_CORE_MAILTEXT_H
#define GH_CORE_MAILTEXT_H

#include <stddef.h>

#include "core/mail.h"

/* The words of each mail: a subject, a text and an HTML body per kind and
 * language, from the templates under templates/mail/ (NAME.subject.txt,
 * NAME.txt, NAME.html for NAME reset, confirm, address-taken,
 * address-changed) and the catalogue messages of the language, with the
 * variables username, link, new_email, lang and minutes (how long the link
 * works) filled in, HTML-escaped in the HTML body. */

struct mailtext; /* the templates, built-in or replaced from a directory */

/* The longest link a mail carries: PUBLIC_URL, the path and the token. */
#define MAILTEXT_LINK_MAX 2048

struct mailtext_vars {
    const char *username;
    const char *link;      /* "" when the kind has none */
    const char *new_email; /* "" when the kind has none */
    const char *lang;      /* "en" or "ru" */
};

/* The rendered words; each malloc'd. */
struct mailtext_out {
    char *subject, *text, *html;
};

/* Loads the templates: the built-in ones, each replaced, when dir
 * (MAIL_TEMPLATES_DIR) is given, by dir/LANG/NAME for that language or else
 * dir/NAME for both. A file of dir that is no template's is refused, and
 * every template is rendered now with sample values (a reset or
 * confirmation text must hold the link on a line of its own), so a bad file
 * stops the start rather than a mail; the check renders the longest values
 * a mail can carry, so that no later render passes a limit. public_url is
 * the base of the links (without a trailing '/'); reset_minutes and
 * confirm_minutes are how long those links work. NULL with a one-line reason in err. */
struct mailtext *mailtext_load(const char *dir, const char *public_url, long reset_minutes,
                               long confirm_minutes, char *err, size_t errlen);

void mailtext_free(struct mailtext *t);

/* Renders the mail of kind in v->lang. Returns 0, or -1 with a reason in
 * err (out is then empty). */
int mailtext_render(const struct mailtext *t, enum mail_kind kind, const struct mailtext_vars *v,
                    struct mailtext_out *out, char *err, size_t errlen);

void mailtext_out_free(struct mailtext_out *o);

/* The names a file of MAIL_TEMPLATES_DIR may have, for --help and errors. */
extern const char mailtext_names_help[];

#endif
