#ifndef GH_CORE_MAILTEXT_H
#define GH_CORE_MAILTEXT_H

#include <stddef.h>

#include "core/mail.h"

/* The words of each mail: a subject, a text and an HTML body per kind and
 * language, from templates, with the variables username, link and
 * new_email filled in (HTML-escaped in the HTML body). */

struct mailtext; /* the templates, built-in or replaced from a directory */

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

/* Loads the templates: the built-in ones, each replaced by the file of the
 * same name in dir when dir (MAIL_TEMPLATES_DIR) is given and has it. Every
 * template is checked now (it must render), so a bad file stops the start.
 * NULL with a one-line reason in err. */
struct mailtext *mailtext_load(const char *dir, char *err, size_t errlen);

void mailtext_free(struct mailtext *t);

/* Renders the mail of kind in v->lang. Returns 0, or -1 with a reason in
 * err (out is then empty). */
int mailtext_render(const struct mailtext *t, enum mail_kind kind, const struct mailtext_vars *v,
                    struct mailtext_out *out, char *err, size_t errlen);

void mailtext_out_free(struct mailtext_out *o);

/* The names a file of MAIL_TEMPLATES_DIR may have, for --help and errors. */
extern const char mailtext_names_help[];

#endif
