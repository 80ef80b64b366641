/* The mailer from the settings (commands.h: cli_mailer_open). */
#include <strings.h>

#include "cli/commands.h"
#include "cli/config.h"
#include "core/mail.h"
#include "util/log.h"
#include "util/smtp.h"

struct mailer *cli_mailer_open(const struct config *cfg, const char *who, bool *failed)
{
    char err[512], shown[SMTP_URL_MAX + 1];
    struct mail_config mc = {
        .smtp_url = cfg->smtp_url,
        .starttls = cfg->smtp_starttls,
        .ca_file = cfg->smtp_ca_file,
        .from = cfg->mail_from,
        .public_url = cfg->public_url,
        .templates_dir = cfg->mail_templates_dir,
        .retry_max_s = cfg->mail_retry_max_seconds,
        .reset_minutes = cfg->reset_token_expire_minutes,
        .confirm_minutes = cfg->email_token_expire_minutes,
    };

    *failed = false;
    if (cfg->smtp_url == NULL)
        return NULL;
    struct mailer *m = mail_create(&mc, err, sizeof err);
    if (m == NULL) {
        log_fatal(who, "%s", err);
        *failed = true;
        return NULL;
    }
    smtp_url_redact(cfg->smtp_url, shown, sizeof shown);
    log_info("mail on: %s%s, from %s", shown,
             cfg->smtp_starttls || strncasecmp(cfg->smtp_url, "smtps:", 6) == 0 ? ""
                                                                                : " (no STARTTLS)",
             cfg->mail_from);
    return m;
}
