#include "core/templates.h"

#include <string.h>

#include "core/i18n.h"

const struct templates_file *templates_find(const char *name)
{
    for (size_t i = 0; i < templates_nfiles; i++)
        if (strcmp(templates_files[i].name, name) == 0)
            return &templates_files[i];
    return NULL;
}

enum tmpl_status templates_render(const char *name, const char *lang, const struct tmpl_var *vars,
                                  size_t nvars, struct tmpl_result *res)
{
    const struct templates_file *f = templates_find(name);
    struct tmpl_messages msgs = i18n_messages(lang);

    if (f == NULL) {
        res->out = NULL;
        res->len = 0;
        res->where = 0;
        return TMPL_NOT_FOUND;
    }
    return tmpl_render(f->data, f->len, tmpl_mode_of(name), vars, nvars, &msgs, 0, res);
}
