#include "util/tmpl.h"

#include <stdlib.h>
#include <string.h>

/* One render's state: the output buffer, what the tags may name, and the
 * first error (the rest of the render stops at it). */
struct render {
    enum tmpl_mode mode;
    const struct tmpl_var *vars;
    size_t nvars;
    const struct tmpl_messages *msgs;
    size_t max;
    char *buf;
    size_t len, cap;
    enum tmpl_status status;
    const char *where;   /* the error's position in the top-level text */
    const char *msg_tag; /* inside a message: its {{@key}} tag, which errors point at */
};

/* A parsed tag: its sigil ('\0' for a variable, '@', '#', '^', '/') and name. */
struct tag {
    char sigil;
    const char *name;
    size_t nlen;
    const char *end; /* just past the closing "}}" */
};

static bool fail(struct render *st, enum tmpl_status s, const char *at)
{
    if (st->status == TMPL_OK) {
        st->status = s;
        st->where = st->msg_tag != NULL ? st->msg_tag : at;
    }
    return false;
}

static bool put(struct render *st, const char *s, size_t n)
{
    if (n > st->max - st->len)
        return fail(st, TMPL_TOO_LARGE, NULL);
    if (st->len + n + 1 > st->cap) {
        size_t cap = st->cap > 0 ? st->cap : 1024;
        while (cap < st->len + n + 1)
            cap *= 2;
        if (cap > st->max + 1)
            cap = st->max + 1;
        char *b = realloc(st->buf, cap);
        if (b == NULL)
            return fail(st, TMPL_NOMEM, NULL);
        st->buf = b;
        st->cap = cap;
    }
    memcpy(st->buf + st->len, s, n);
    st->len += n;
    return true;
}

/* Writes s[0..n) escaped for the mode: in HTML the five characters that
 * can end text or an attribute value become character references. */
static bool put_text(struct render *st, const char *s, size_t n, bool raw)
{
    if (st->mode != TMPL_HTML || raw)
        return put(st, s, n);
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        const char *ref = NULL;
        switch (s[i]) {
        case '&': ref = "&amp;"; break;
        case '<': ref = "&lt;"; break;
        case '>': ref = "&gt;"; break;
        case '"': ref = "&quot;"; break;
        case '\'': ref = "&#39;"; break;
        default: continue;
        }
        if (!put(st, s + from, i - from) || !put(st, ref, strlen(ref)))
            return false;
        from = i + 1;
    }
    return put(st, s + from, n - from);
}

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

/* Parses the tag that starts at p ("{{"), up to end. */
static bool parse_tag(struct render *st, const char *p, const char *end, struct tag *t)
{
    const char *q = p + 2;

    t->sigil = '\0';
    if (q < end && (*q == '@' || *q == '#' || *q == '^' || *q == '/'))
        t->sigil = *q++;
    t->name = q;
    while (q < end && name_char(*q))
        q++;
    t->nlen = (size_t)(q - t->name);
    if (t->nlen == 0 || t->nlen > TMPL_MAX_NAME || end - q < 2 || q[0] != '}' || q[1] != '}')
        return fail(st, TMPL_SYNTAX, p);
    t->end = q + 2;
    return true;
}

static const struct tmpl_var *find_var(const struct render *st, const char *name, size_t n)
{
    for (size_t i = 0; i < st->nvars; i++)
        if (strlen(st->vars[i].name) == n && memcmp(st->vars[i].name, name, n) == 0)
            return &st->vars[i];
    return NULL;
}

static const char *find_message(const struct render *st, const char *key, size_t n, size_t *len)
{
    if (st->msgs == NULL || st->msgs->get == NULL)
        return NULL;
    return st->msgs->get(st->msgs->ctx, key, n, len);
}

static bool render_span(struct render *st, const char *p, const char *end, int depth, bool emit,
                        const struct tag *open, const char **after);

/* {{@key}}: the message, rendered as a template of its own that may hold
 * variables only. */
static bool render_message(struct render *st, const char *tagpos, const struct tag *t, int depth,
                           bool emit)
{
    size_t mlen = 0;
    const char *m = find_message(st, t->name, t->nlen, &mlen);

    if (m == NULL)
        return fail(st, TMPL_UNKNOWN_MESSAGE, tagpos);
    if (!emit)
        return true;
    if (depth + 1 > TMPL_MAX_DEPTH)
        return fail(st, TMPL_TOO_DEEP, tagpos);
    st->msg_tag = tagpos;
    bool ok = render_span(st, m, m + mlen, depth + 1, true, NULL, NULL);
    st->msg_tag = NULL;
    return ok;
}

/* {{name}} */
static bool render_var(struct render *st, const char *tagpos, const struct tag *t, bool emit)
{
    const struct tmpl_var *v = find_var(st, t->name, t->nlen);

    if (v == NULL)
        return fail(st, TMPL_UNKNOWN_VAR, tagpos);
    if (!emit || v->value == NULL)
        return true;
    return put_text(st, v->value, strlen(v->value), v->raw);
}

/* {{#name}} or {{^name}}: the span up to its {{/name}}, emitted or not. */
static bool render_section(struct render *st, const char *tagpos, const struct tag *t, int depth,
                           bool emit, const char *end, const char **after)
{
    const struct tmpl_var *v = find_var(st, t->name, t->nlen);

    if (v == NULL)
        return fail(st, TMPL_UNKNOWN_VAR, tagpos);
    if (depth + 1 > TMPL_MAX_DEPTH)
        return fail(st, TMPL_TOO_DEEP, tagpos);
    bool set = v->value != NULL && v->value[0] != '\0';
    bool show = t->sigil == '#' ? set : !set;
    return render_span(st, t->end, end, depth + 1, emit && show, t, after);
}

/* Renders p..end (or up to the {{/name}} that closes open, then *after is
 * just past it). A message may hold variables only: no sections, and no
 * messages (a catalogue cannot loop on itself). */
static bool render_span(struct render *st, const char *p, const char *end, int depth, bool emit,
                        const struct tag *open, const char **after)
{
    bool in_message = st->msg_tag != NULL;

    while (p < end) {
        const char *tagpos = NULL;
        for (const char *q = p; q + 1 < end; q++)
            if (q[0] == '{' && q[1] == '{') {
                tagpos = q;
                break;
            }
        const char *stop = tagpos != NULL ? tagpos : end;
        /* The template's own text is markup; a message's is text. */
        if (emit && !put_text(st, p, (size_t)(stop - p), !in_message))
            return false;
        if (tagpos == NULL)
            break;
        struct tag t;
        if (!parse_tag(st, tagpos, end, &t))
            return false;
        if (in_message && t.sigil != '\0')
            return fail(st, TMPL_SYNTAX, tagpos);
        bool ok = true;
        switch (t.sigil) {
        case '\0':
            ok = render_var(st, tagpos, &t, emit);
            p = t.end;
            break;
        case '@':
            ok = render_message(st, tagpos, &t, depth, emit);
            p = t.end;
            break;
        case '#':
        case '^': ok = render_section(st, tagpos, &t, depth, emit, end, &p); break;
        default: /* '/' */
            if (open == NULL || open->nlen != t.nlen || memcmp(open->name, t.name, t.nlen) != 0)
                return fail(st, TMPL_SYNTAX, tagpos);
            *after = t.end;
            return true;
        }
        if (!ok)
            return false;
    }
    if (open != NULL)
        return fail(st, TMPL_SYNTAX, open->name - 3); /* never closed */
    return true;
}

enum tmpl_status tmpl_render(const char *text, size_t len, enum tmpl_mode mode,
                             const struct tmpl_var *vars, size_t nvars,
                             const struct tmpl_messages *msgs, size_t max_output,
                             struct tmpl_result *res)
{
    struct render st = {
        .mode = mode,
        .vars = vars,
        .nvars = nvars,
        .msgs = msgs,
        .max = max_output > 0 ? max_output : TMPL_MAX_OUTPUT,
    };

    res->out = NULL;
    res->len = 0;
    res->where = 0;
    if (render_span(&st, text, text + len, 0, true, NULL, NULL) && put(&st, "", 0)) {
        st.buf[st.len] = '\0';
        res->out = st.buf;
        res->len = st.len;
        return TMPL_OK;
    }
    free(st.buf);
    res->where = st.where != NULL ? (size_t)(st.where - text) : len;
    return st.status;
}

enum tmpl_mode tmpl_mode_of(const char *name)
{
    size_t n = strlen(name);

    return n >= 5 && strcmp(name + n - 5, ".html") == 0 ? TMPL_HTML : TMPL_TEXT;
}

const char *tmpl_status_text(enum tmpl_status s)
{
    switch (s) {
    case TMPL_OK: return "ok";
    case TMPL_SYNTAX: return "malformed tag or section";
    case TMPL_UNKNOWN_VAR: return "unknown variable";
    case TMPL_UNKNOWN_MESSAGE: return "unknown message";
    case TMPL_TOO_DEEP: return "nested too deeply";
    case TMPL_TOO_LARGE: return "output too large";
    case TMPL_NOMEM: return "out of memory";
    case TMPL_NOT_FOUND: return "no such template";
    }
    return "unknown status";
}
