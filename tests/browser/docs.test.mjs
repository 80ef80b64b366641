// The documentation pages in a real browser: Debian's Chromium, headless,
// driven by playwright-core (pinned in web/package.json; it never downloads a
// browser). Starts build/gatehouse (or $GATEHOUSE_BIN) on a free port with a
// temporary SQLite database and checks that
//   - /docs (Swagger UI) loads, "Authorize" logs a registered user in through
//     the OAuth2 password flow (POST /token), and "Try it out" on GET /me
//     answers 200 with that user;
//   - /redoc (ReDoc) lists every operation of /openapi.json;
//   - no page logs a console error (a CSP violation is one), throws, fails a
//     request, or asks any host but the service for anything.
// Screenshots go to tests/output/browser/ (or $BROWSER_TEST_OUTPUT).
//
//   GATEHOUSE_BIN=build/gatehouse node --test tests/browser/docs.test.mjs
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import {
  launchChromium, outDir, repo, startGatehouse, stopGatehouse, watchedPage as watchedPageOf,
} from './harness.mjs';
import { swaggerAuthorize, swaggerTryMe } from './swagger.mjs';

const spec = JSON.parse(readFileSync(join(repo, 'web/openapi.json'), 'utf8'));

const USER = { username: 'docs-tester', password: 'a long browser passphrase' };

let server, base, origin, tmp, browser;

before(async () => {
  mkdirSync(outDir, { recursive: true });
  tmp = mkdtempSync(join(tmpdir(), 'gatehouse-browser-'));
  ({ child: server, origin, base } = await startGatehouse(join(tmp, 'browser.db')));
  const r = await fetch(`${base}/register`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(USER),
  });
  assert.equal(r.status, 200, 'registering the test user');
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await stopGatehouse(server);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

// A fresh page whose problems are recorded (harness.mjs), error statuses
// among them, and its requests listed.
async function watchedPage() {
  const watched = await watchedPageOf(browser, origin, { viewport: { width: 1280, height: 900 } });
  const requests = [];
  watched.page.on('request', (r) => requests.push(r));
  watched.page.on('response', (r) => {
    if (r.status() >= 400) watched.problems.push(`${r.status()} for ${r.request().method()} ${r.url()}`);
  });
  return { ...watched, requests };
}

test('Swagger UI: Authorize with the password flow, then Try it out on GET /me', async () => {
  const { context, page, problems, requests } = await watchedPage();
  try {
    const resp = await page.goto(`${base}/docs`);
    assert.equal(resp.status(), 200);
    await page.locator('.swagger-ui .info .title').getByText('gatehouse').waitFor();

    // Authorize: the OAuth2PasswordBearer scheme's username and password.
    const tr = await swaggerAuthorize(page, USER, () =>
      page.screenshot({ path: join(outDir, 'docs-authorize.png') }));
    assert.match(tr.request().headers()['content-type'], /^application\/x-www-form-urlencoded/);

    // Try it out on GET /me.
    const { op, mr } = await swaggerTryMe(page);
    assert.match(mr.request().headers().authorization ?? '', /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    const live = op.locator('.live-responses-table');
    await live.locator('.response-col_status').getByText('200', { exact: true }).waitFor();
    await live.locator('.response-col_description').getByText(`"username": "${USER.username}"`).waitFor();
    // The README's picture: the authorized page, GET /me answered.
    await page.setViewportSize({ width: 1280, height: 1200 });
    await page.evaluate(() => {
      const me = document.querySelector('#operations-users-me');
      window.scrollTo(0, me.getBoundingClientRect().top + window.scrollY - 340);
    });
    await page.screenshot({ path: join(outDir, 'docs.png') });
    await page.screenshot({ path: join(outDir, 'docs-full.png'), fullPage: true });

    const hosts = new Set(requests.map((r) => new URL(r.url()).host));
    assert.deepEqual([...hosts], [origin], 'every request went to the service');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

// A second server, with SESSION_COOKIES=1 over plain HTTP, for the test
// below: its sign-in sets the HttpOnly cookies a page cannot see.
async function startCookieServer() {
  const { child, origin: host, base: url } = await startGatehouse(
    join(tmp, 'cookies.db'), () => ({ SESSION_COOKIES: '1', COOKIE_SECURE: '0' }));
  const r = await fetch(`${url}/register`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(USER),
  });
  assert.equal(r.status, 200, 'registering the test user');
  return { child, host, url };
}

async function sessionCookies(context) {
  return (await context.cookies()).map((c) => c.name).filter((n) => n.endsWith('_token')).sort();
}

test('Swagger UI with SESSION_COOKIES=1: no cookie scheme to authorize, and Logout clears the cookies', async () => {
  const srv = await startCookieServer();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  try {
    await context.route('**/*', (route) => {
      if (new URL(route.request().url()).host === srv.host) return route.continue();
      problems.push(`request to another host: ${route.request().url()}`);
      return route.abort('blockedbyclient');
    });
    const page = await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
    await page.goto(`${srv.url}/docs`);
    await page.locator('.swagger-ui .info .title').getByText('gatehouse').waitFor();

    // The Authorize dialog offers the two schemes a page can fill, not the
    // HttpOnly cookie, which nothing typed there could set.
    await page.locator('.swagger-ui .auth-wrapper button.authorize').click();
    const modal = page.locator('.swagger-ui .dialog-ux .modal-ux');
    await modal.locator('.auth-container').filter({ hasText: 'OAuth2PasswordBearer' }).waitFor();
    const names = await modal.locator('.auth-container h4').allInnerTexts();
    assert.ok(names.some((n) => n.includes('HTTPBearer')), names.join(' | '));
    assert.ok(!names.some((n) => n.includes('AccessTokenCookie')), names.join(' | '));
    await modal.locator('.close-modal').click();
    await modal.waitFor({ state: 'detached' });

    // Authorize: POST /token signs in and sets both cookies.
    await swaggerAuthorize(page, USER);
    assert.deepEqual(await sessionCookies(context), ['access_token', 'refresh_token']);

    // Logout in the dialog ends the session at POST /logout, which clears them.
    await page.locator('.swagger-ui .auth-wrapper button.authorize').click();
    const oauth = modal.locator('.auth-container').filter({ hasText: 'OAuth2PasswordBearer' });
    const out = page.waitForResponse((r) => new URL(r.url()).pathname === '/logout');
    await oauth.getByRole('button', { name: 'Remove authorization' }).click();
    assert.equal((await out).status(), 204);
    await modal.locator('.close-modal').click();
    assert.deepEqual(await sessionCookies(context), []);
    // Try it out on GET /me is signed out now.
    const op = page.locator('#operations-users-me');
    await op.locator('.opblock-summary').first().click();
    await op.getByRole('button', { name: 'Try it out' }).click();
    const me = page.waitForResponse((r) => new URL(r.url()).pathname === '/me');
    await op.getByRole('button', { name: 'Execute' }).click();
    assert.equal((await me).status(), 401);

    // Signed in again, then the page reloaded: Swagger UI holds no token,
    // only the cookies do. Try it out on POST /logout, from the service's
    // own origin, is accepted (it was 403) and clears them.
    await swaggerAuthorize(page, USER);
    await page.reload();
    await page.locator('.swagger-ui .info .title').getByText('gatehouse').waitFor();
    const lo = page.locator('#operations-sessions-logout');
    await lo.locator('.opblock-summary').first().click();
    await lo.getByRole('button', { name: 'Try it out' }).click();
    const done = page.waitForResponse((r) => new URL(r.url()).pathname === '/logout');
    await lo.getByRole('button', { name: 'Execute' }).click();
    const lr = await done;
    assert.equal(lr.status(), 204, await lr.text());
    assert.equal(lr.request().headers().authorization, undefined);
    assert.deepEqual(await sessionCookies(context), []);
    // The one error the page logs is the signed-out GET /me's 401 above.
    assert.deepEqual(problems, [
      'console error: Failed to load resource: the server responded with a status of 401 (Unauthorized)',
    ]);
  } finally {
    await context.close();
    await stopGatehouse(srv.child);
  }
});

test('ReDoc lists every operation', async () => {
  const { context, page, problems } = await watchedPage();
  try {
    const resp = await page.goto(`${base}/redoc`);
    assert.equal(resp.status(), 200);
    // Each operation: its section in the middle panel, under its tag, with
    // its summary as the heading, and its entry in the side menu.
    for (const [path, item] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const what = `${method.toUpperCase()} ${path} (${op.summary})`;
        const section = page.locator(`[data-section-id="tag/${op.tags[0]}/operation/${op.operationId}"]`);
        await section.locator('h2').getByText(op.summary, { exact: true }).waitFor({ timeout: 15000 })
          .catch(() => assert.fail(`ReDoc does not show ${what}`));
        await page.locator('.menu-content li label').filter({ hasText: op.summary }).first()
          .waitFor({ state: 'attached', timeout: 5000 })
          .catch(() => assert.fail(`ReDoc's menu does not list ${what}`));
      }
    }
    await page.getByRole('heading', { name: /^gatehouse/ }).first().waitFor();
    await page.screenshot({ path: join(outDir, 'redoc.png') });
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
