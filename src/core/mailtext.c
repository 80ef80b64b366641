/* The words of each mail (mailtext.h). Interim: built-in English and
 * Russian sentences, until the template engine lands. */
#include "core/mailtext.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mailtext {
    int unused;
};

const char mailtext_names_help[] = "";

struct words {
    const char *subject, *intro, *outro;
};

/* [kind][lang: 0 en, 1 ru] */
static const struct words builtin[4][2] = {
    [MAIL_RESET] = {{"Reset your password", "Someone asked to reset the password of the account",
                     "If it was not you, ignore this mail: the password stays as it is."},
                    {"Сброс пароля", "Кто-то попросил сбросить пароль учётной записи",
                     "Если это были не вы, не обращайте внимания на это письмо: пароль не "
                     "изменится."}},
    [MAIL_CONFIRM] = {{"Confirm your email address",
                       "Confirm that this address belongs to the account",
                       "If you did not ask for it, ignore this mail."},
                      {"Подтвердите адрес электронной почты",
                       "Подтвердите, что этот адрес принадлежит учётной записи",
                       "Если вы этого не просили, не обращайте внимания на это письмо."}},
    [MAIL_ADDRESS_TAKEN] = {{"Your email address was given again",
                             "Someone tried to give this address, which belongs to the account",
                             "to another account. Nothing has changed."},
                            {"Ваш адрес указали ещё раз",
                             "Кто-то попытался указать этот адрес, принадлежащий учётной записи",
                             "для другой учётной записи. Ничего не изменилось."}},
    [MAIL_ADDRESS_CHANGED] = {{"Your email address is being changed",
                               "A change of address was asked for the account",
                               "If it was not you, change your password now."},
                              {"Адрес электронной почты меняется",
                               "Для учётной записи попросили сменить адрес",
                               "Если это были не вы, смените пароль."}},
};

struct mailtext *mailtext_load(const char *dir, char *err, size_t errlen)
{
    (void)dir;
    struct mailtext *t = calloc(1, sizeof *t);
    if (t == NULL)
        snprintf(err, errlen, "out of memory");
    return t;
}

void mailtext_free(struct mailtext *t)
{
    free(t);
}

static char *html_escape(const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p != '\0'; p++)
        n += *p == '&' ? 5 : *p == '<' || *p == '>' ? 4 : *p == '"' ? 6 : 1;
    char *o = malloc(n + 1), *w = o;
    if (o == NULL)
        return NULL;
    for (const char *p = s; *p != '\0'; p++) {
        const char *r = *p == '&'   ? "&amp;"
                        : *p == '<' ? "&lt;"
                        : *p == '>' ? "&gt;"
                        : *p == '"' ? "&quot;"
                                    : NULL;
        if (r != NULL) {
            memcpy(w, r, strlen(r));
            w += strlen(r);
        } else
            *w++ = *p;
    }
    *w = '\0';
    return o;
}

int mailtext_render(const struct mailtext *t, enum mail_kind kind, const struct mailtext_vars *v,
                    struct mailtext_out *out, char *err, size_t errlen)
{
    const struct words *w = &builtin[kind][strcmp(v->lang, "ru") == 0 ? 1 : 0];
    char *user = html_escape(v->username), *newe = html_escape(v->new_email);
    size_t cap = 4096 + 2 * strlen(v->link) + 8 * strlen(v->username) + 8 * strlen(v->new_email);

    (void)t;
    memset(out, 0, sizeof *out);
    out->subject = strdup(w->subject);
    out->text = malloc(cap);
    out->html = malloc(cap);
    if (user == NULL || newe == NULL || out->subject == NULL || out->text == NULL ||
        out->html == NULL) {
        free(user);
        free(newe);
        mailtext_out_free(out);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(out->text, cap, "%s %s%s%s.\n\n%s%s%s\n", w->intro, v->username,
             v->new_email[0] != '\0' ? ": " : "", v->new_email, v->link,
             v->link[0] != '\0' ? "\n\n" : "", w->outro);
    snprintf(out->html, cap,
             "<!DOCTYPE html>\n<html lang=\"%s\"><body>\n<p>%s %s%s%s.</p>\n"
             "%s%s%s<p>%s</p>\n</body></html>\n",
             v->lang, w->intro, user, newe[0] != '\0' ? ": " : "", newe,
             v->link[0] != '\0' ? "<p><a href=\"" : "", v->link,
             v->link[0] != '\0' ? "\">link</a></p>\n" : "", w->outro);
    free(user);
    free(newe);
    return 0;
}

void mailtext_out_free(struct mailtext_out *o)
{
    free(o->subject);
    free(o->text);
    free(o->html);
    memset(o, 0, sizeof *o);
}
