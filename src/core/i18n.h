#ifndef GH_CORE_I18N_H
#define GH_CORE_I18N_H

#include <stddef.h>

#include "util/tmpl.h"

/* The languages of the service's pages and mails: English (the default) and
 * Russian. Each has a catalogue of messages, templates/i18n/<lang>.json, a
 * flat JSON object of key → text, embedded in the binary (core/templates.h)
 * and read with jansson once, on first use. Both catalogues hold the same
 * keys (checked by i18n_init and a unit test). */

#define I18N_DEFAULT "en"

/* The language, "en" or "ru", that an Accept-Language header value (RFC 9110
 * §12.5.4; NULL when the request has none) prefers: of the supported
 * languages, the one with the highest q-value, a language taking the highest
 * q of the ranges that name it or one of its subtags ("ru", "ru-RU"), "*"
 * counting only for a language no range names; equal q-values go to the one
 * named first, "*" to English. q=0 excludes. Malformed elements are skipped;
 * nothing acceptable gives "en". Allocates nothing; the result is a static
 * string. */
const char *i18n_lang(const char *accept_language);

/* Reads and checks both catalogues (JSON objects of strings, same keys).
 * Called by serve before it listens; later lookups read them the same way if
 * it was not. 0, or -1 with a reason in err. */
int i18n_init(char *err, size_t errlen);

/* lang's message key (klen bytes), or NULL (no such key, or lang is neither
 * "en" nor "ru"); *len is set to its length. Valid for the process's life. */
const char *i18n_message(const char *lang, const char *key, size_t klen, size_t *len);

/* A message lookup for the template engine (util/tmpl.h) in lang; NULL or
 * an unsupported lang reads the default. */
struct tmpl_messages i18n_messages(const char *lang);

#endif
