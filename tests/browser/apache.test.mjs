// Debian's Apache with mod_auth_openidc (libapache2-mod-auth-openidc),
// configured by examples/apache/gatehouse-oidc.conf, protecting a page with
// gatehouse as its OpenID Connect provider; Chromium plays the user:
//   - /private/ sends the browser to gatehouse's sign-in form; after it, the
//     consent page (the client is not first-party); the page then shows the
//     gatehouse user name Apache got (REMOTE_USER) and the email claim;
//   - "Sign out" goes through gatehouse's end_session_endpoint (id_token_hint,
//     post_logout_redirect_uri) and back to the application's home page;
//   - /private/ then asks for the password again (the sign-in is over), but
//     not for consent (remembered per client and scope set).
//
//   GATEHOUSE_BIN=build/gatehouse node --test tests/browser/apache.test.mjs
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { errorLog, freePort, startApache, stopApache } from './apache.mjs';
import { launchChromium, outDir, stopGatehouse } from './harness.mjs';
import { addClient, allowConsent, discoveryReady, fillSignIn, register, startProvider } from './oidc.mjs';

let dir, gh, apache, browser, page, problems;
const seen = []; // every URL the browser asked for

before(async () => {
  mkdirSync(outDir, { recursive: true });
  dir = mkdtempSync(join(tmpdir(), 'gh-apache-'));
  gh = await startProvider(dir);
  const port = await freePort();
  const app = `http://127.0.0.1:${port}`;
  const c = await addClient(gh, 'app', [`${app}/private/callback`],
    ['--id', 'app', '--post-logout-redirect-uri', `${app}/`]);
  assert.equal(c.id, 'app');
  assert.ok(c.secret, 'a confidential client gets a secret');
  await discoveryReady(gh.base);
  await register(gh.base, 'alice', 'alice@example.com');
  apache = await startApache(mkdtempSync(join(tmpdir(), 'gh-apache-www-')), gh.base, c.secret, port);
  browser = await launchChromium();
  const context = await browser.newContext();
  page = await context.newPage();
  problems = [];
  page.on('request', (r) => seen.push(new URL(r.url())));
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  // Every failed answer but the favicon Chromium asks each site for (the
  // test's sites have none); its console message says no more than that.
  page.on('response', (r) => {
    if (r.status() >= 400 && new URL(r.url()).pathname !== '/favicon.ico') {
      problems.push(`${r.status()} from ${r.url()}`);
    }
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
      problems.push(`console error: ${m.text()}`);
    }
  });
});

after(async () => {
  await browser?.close();
  await stopApache(apache?.child);
  await stopGatehouse(gh?.child);
  for (const d of [dir, apache?.dir]) if (d) rmSync(d, { recursive: true, force: true });
});

function explain() {
  return `at ${page.url()}\napache error.log:\n${errorLog(apache.dir)}`;
}

test('the protected page: sign-in form, consent, the page shows the user', async () => {
  await page.goto(`${apache.base}/private/`);
  assert.ok(page.url().startsWith(`${gh.base}/`), `sent to gatehouse: ${explain()}`);
  await fillSignIn(page, 'alice');
  await page.screenshot({ path: join(outDir, 'apache-consent.png') });
  await allowConsent(page);
  await page.waitForSelector('#user').catch(() => assert.fail(`no protected page: ${explain()}`));
  assert.equal(new URL(page.url()).pathname, '/private/');
  assert.equal(await page.textContent('#user'), 'alice');
  assert.equal(await page.textContent('#email'), 'alice@example.com');
  await page.screenshot({ path: join(outDir, 'apache-private.png') });
});

test('sign out through the end-session endpoint, back at the home page', async () => {
  await Promise.all([page.waitForURL(`${apache.base}/`), page.click('#logout')]);
  assert.equal(await page.textContent('#home'), 'public home page');
  const end = seen.find((u) => u.origin === gh.base && u.pathname === '/oidc/logout');
  assert.ok(end, 'the browser went through the end-session endpoint');
  assert.ok(end.searchParams.get('id_token_hint'), 'with the ID token as the hint');
  assert.equal(end.searchParams.get('post_logout_redirect_uri'), `${apache.base}/`);
  // Apache's own session is gone, and so is gatehouse's sign-in: the
  // password is asked again, consent is not (remembered).
  await page.goto(`${apache.base}/private/`);
  assert.ok(page.url().startsWith(`${gh.base}/`), `sent to gatehouse: ${explain()}`);
  await fillSignIn(page, 'alice');
  assert.equal(await page.textContent('#user'), 'alice', explain());
  assert.deepEqual(problems, []);
});
