#ifndef GH_CORE_TEMPLATES_H
#define GH_CORE_TEMPLATES_H

#include <stddef.h>

#include "util/tmpl.h"

/* The templates the binary carries: every file under templates/ in the
 * source tree (pages/, mail/, i18n/), embedded at build time by
 * scripts/embed-templates.mjs (build/gen/templates.c and .S), as the
 * documentation is. A file is named by its path under templates/, e.g.
 * "pages/reset.html" or "i18n/ru.json". */

struct templates_file {
    const char *name; /* e.g. "pages/reset.html" */
    const char *data; /* the bytes, followed by a NUL that len does not count */
    size_t len;
};

extern const struct templates_file templates_files[];
extern const size_t templates_nfiles;

/* The embedded file of that name, or NULL. */
const struct templates_file *templates_find(const char *name);

/* Renders the embedded template name in lang ("en" or "ru": its {{@key}}
 * messages come from that catalogue, core/i18n.h), escaped for its kind
 * (tmpl_mode_of: HTML for ".html"), with vars; TMPL_NOT_FOUND when no
 * template has that name. The caller frees res->out. */
enum tmpl_status templates_render(const char *name, const char *lang, const struct tmpl_var *vars,
                                  size_t nvars, struct tmpl_result *res);

#endif
