// The pages of mailed links in a real browser (Debian's Chromium, headless,
// driven by playwright-core), with real mail: gatehouse sends to a loopback
// SMTP sink (tests/api/mailsink.py run as a spool), and the test opens the
// link of each mail as a user would. Checks that
//   - the reset link's page, in English and in Russian (the browser's
//     locale sets Accept-Language), takes a new password, after which
//     Swagger UI's Authorize at /docs signs in with it and not with the old;
//   - the confirmation link's page confirms the address with its button;
//   - no page logs a console error (a CSP violation is one), throws, or
//     asks any host but the service for anything.
// gatehouse runs with its defaults (COOKIE_SECURE on: the CSRF cookie is
// __Host-gatehouse_csrf) and PUBLIC_URL its own address.
// Screenshots go to tests/output/browser/ (or $BROWSER_TEST_OUTPUT).
//
//   GATEHOUSE_BIN=build/gatehouse node --test tests/browser/pages.test.mjs
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';

import {
  launchChromium, outDir, repo, startGatehouse, stopGatehouse, watchedPage as watchedPageOf,
} from './harness.mjs';
import { swaggerAuthorize } from './swagger.mjs';

const HANG = 60000; // ms: hang detection only

let server, sink, spool, base, origin, tmp, browser;

// The SMTP sink: tests/api/mailsink.py spooling into a directory; its first
// line of output is its SMTP_URL.
async function startSink(dir) {
  const child = spawn('/usr/bin/python3', [join(repo, 'tests/api/mailsink.py'), dir],
                      { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise((ok, fail) => {
    lines.once('line', ok);
    child.once('exit', (code) => fail(new Error(`mailsink.py exited with ${code}`)));
  });
  return { child, url };
}

// The link to path in the text part of the newest mail to address, on a line
// of its own, waiting for the count-th such mail.
async function mailedLink(address, path, count = 1) {
  const end = Date.now() + HANG;
  const line = new RegExp(`^(https?://\\S+${path.replace(/\//g, '\\/')}\\?token=[A-Za-z0-9_-]+)\\s*$`, 'm');
  for (;;) {
    const found = readdirSync(spool).filter((f) => /^\d+\.json$/.test(f)).sort()
      .map((f) => JSON.parse(readFileSync(join(spool, f), 'utf8')))
      .filter((m) => m.to.includes(address) && line.test(m.text));
    if (found.length >= count) return found[count - 1].text.match(line)[1];
    assert.ok(Date.now() < end, `no mail with a ${path} link to ${address}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  mkdirSync(outDir, { recursive: true });
  tmp = mkdtempSync(join(tmpdir(), 'gatehouse-pages-'));
  spool = join(tmp, 'mail');
  mkdirSync(spool);
  sink = await startSink(spool);
  ({ child: server, origin, base } = await startGatehouse(join(tmp, 'browser.db'), (url) => ({
    PUBLIC_URL: url,
    SMTP_URL: sink.url, SMTP_STARTTLS: 'off',
    MAIL_FROM: 'gatehouse <noreply@example.test>',
    MAIL_MIN_INTERVAL_SECONDS: '0',
  })));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await stopGatehouse(server);
  // The sink stops when its stdin closes.
  if (sink && sink.child.exitCode === null) {
    const done = new Promise((r) => sink.child.once('exit', r));
    sink.child.stdin.end();
    await done;
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

// A fresh page in locale, its problems recorded (harness.mjs).
function watchedPage(locale) {
  return watchedPageOf(browser, origin, { locale, viewport: { width: 900, height: 700 } });
}

async function register(name, email, password) {
  const r = await fetch(`${base}/register`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: name, password, email }),
  });
  assert.equal(r.status, 200, `registering ${name}: ${await r.text()}`);
}

async function forgot(name) {
  const r = await fetch(`${base}/password/forgot`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: name }),
  });
  assert.equal(r.status, 202);
}

async function tokenStatus(username, password) {
  const r = await fetch(`${base}/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  return r.status;
}

// The page's stylesheet applied: the policy let it load (no inline style).
async function styled(page) {
  return page.evaluate(() => getComputedStyle(document.querySelector('main')).maxWidth);
}

const RESET = {
  en: { locale: 'en-US', heading: 'Choose a new password', button: 'Set the new password',
        done: 'Your password has been changed.' },
  ru: { locale: 'ru-RU', heading: 'Выберите новый пароль', button: 'Сменить пароль',
        done: 'Пароль изменён.' },
};

for (const [lang, t] of Object.entries(RESET)) {
  test(`reset by mail in ${lang}: mail, page, new password, signed in`, { timeout: 120000 }, async () => {
    const name = `reset-${lang}`, email = `reset-${lang}@example.test`;
    const old = 'an old browser passphrase', fresh = `a new ${lang} browser passphrase`;
    await register(name, email, old);
    await forgot(name);
    const link = await mailedLink(email, '/password/reset');
    assert.ok(link.startsWith(`${base}/password/reset?token=`), link);

    const { context, page, problems } = await watchedPage(t.locale);
    const resp = await page.goto(link);
    assert.equal(resp.status(), 200);
    const headers = resp.headers();
    assert.match(headers['content-security-policy'], /frame-ancestors 'none'/);
    assert.equal(headers['content-language'], lang);
    assert.equal(await page.locator('html').getAttribute('lang'), lang);
    await page.getByRole('heading', { name: t.heading }).waitFor();
    assert.equal(await styled(page), '416px', 'the stylesheet (max-width: 26rem) did not apply');
    await page.screenshot({ path: join(outDir, `pages-reset-${lang}.png`) });
    await page.locator('#new_password').fill(fresh);
    await page.locator('#new_password_again').fill(fresh);
    const posted = page.waitForResponse((r) => r.request().method() === 'POST');
    await page.getByRole('button', { name: t.button }).click();
    const answer = await posted;
    assert.equal(answer.status(), 200, await answer.text());
    await page.getByText(t.done).waitFor();
    await page.screenshot({ path: join(outDir, `pages-reset-${lang}-done.png`) });

    // Signed in with the new password, from the documentation page.
    await page.goto(`${base}/docs`);
    await page.locator('.swagger-ui .auth-wrapper button.authorize').waitFor();
    await swaggerAuthorize(page, { username: name, password: fresh });
    assert.equal(await tokenStatus(name, old), 401);
    assert.deepEqual(problems, []);
    await context.close();
  });
}

test('address confirmation by mail in ru: the button confirms', { timeout: 120000 }, async () => {
  const name = 'confirm-ru', email = 'confirm-ru@example.test', password = 'a confirm passphrase';
  await register(name, email, password);
  const link = await mailedLink(email, '/email/confirm');
  const { context, page, problems } = await watchedPage('ru-RU');
  const login = async () => {
    const r = await fetch(`${base}/login`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: name, password }),
    });
    const me = await fetch(`${base}/me`, {
      headers: { Authorization: `Bearer ${(await r.json()).access_token}` },
    });
    return (await me.json()).email_verified;
  };
  assert.equal((await page.goto(link)).status(), 200);
  await page.getByRole('heading', { name: 'Подтвердите адрес электронной почты' }).waitFor();
  assert.equal(await login(), false, 'opening the link changed nothing');
  await page.screenshot({ path: join(outDir, 'pages-confirm-ru.png') });
  await page.getByRole('button', { name: 'Подтвердить адрес' }).click();
  await page.getByText('Адрес подтверждён.').waitFor();
  assert.equal(await login(), true);
  assert.deepEqual(problems, []);
  await context.close();
});
