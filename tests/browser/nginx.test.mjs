// examples/nginx/gatehouse.conf in a real browser (Debian's Chromium,
// headless, driven by playwright-core): tests/deploy/nginx_stack.py starts
// Debian's nginx with that file in front of gatehouse (SESSION_COOKIES=1,
// COOKIE_SECURE=0 on loopback) and an application that echoes the headers it
// gets. Checks that
//   - /docs through nginx: Swagger UI's Authorize (the OAuth2 password flow,
//     POST /token) and then "Try it out" on GET /me answer 200;
//   - an application page without a token sends the browser to /signin, whose
//     form logs in (POST /login sets the access_token cookie) and returns to
//     the page, which the application then serves with X-Auth-Username.
//
//   GATEHOUSE_BIN=build/gatehouse node --test tests/browser/nginx.test.mjs
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { swaggerAuthorize, swaggerTryMe } from './swagger.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { chromium } = createRequire(join(repo, 'web/package.json'))('playwright-core');
const outDir = process.env.BROWSER_TEST_OUTPUT ?? join(repo, 'tests/output/browser');

const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

let stack, urls, browser;

function startStack() {
  return new Promise((ok, fail) => {
    stack = spawn('/usr/bin/python3', [join(repo, 'tests/deploy/nginx_stack.py')], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    stack.once('exit', (code) => fail(new Error(`nginx_stack.py exited with ${code}`)));
    createInterface({ input: stack.stdout }).once('line', (line) => ok(JSON.parse(line)));
  });
}

async function register(username, password) {
  const r = await fetch(`${urls.base}/register`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  assert.equal(r.status, 200, `registering ${username} through nginx`);
  return r.json();
}

before(async () => {
  mkdirSync(outDir, { recursive: true });
  urls = await startStack();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  if (stack && stack.exitCode === null) {
    const done = new Promise((r) => stack.once('exit', r));
    stack.stdin.end();
    assert.equal(await done, 0, 'nginx_stack.py: gatehouse did not stop cleanly');
  }
});

// A page whose console errors, uncaught exceptions and failed requests are recorded.
async function watchedPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  return { context, page, problems };
}

test('Swagger UI through nginx: Authorize with the password flow, then GET /me', async () => {
  const user = { username: 'nginx-docs', password: 'a long browser passphrase' };
  await register(user.username, user.password);
  const { context, page, problems } = await watchedPage();
  try {
    const resp = await page.goto(`${urls.base}/docs`);
    assert.equal(resp.status(), 200);
    await page.locator('.swagger-ui .info .title').getByText('gatehouse').waitFor();

    await swaggerAuthorize(page, user);
    const { op, mr } = await swaggerTryMe(page);
    assert.equal(new URL(mr.url()).origin, urls.base, 'GET /me went through nginx');
    await op.locator('.live-responses-table .response-col_description')
      .getByText(`"username": "${user.username}"`).waitFor();
    await page.screenshot({ path: join(outDir, 'nginx-docs.png') });
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('an application page sends the browser to /signin and back, signed in', async () => {
  const user = { username: 'nginx-signin', password: 'another long passphrase' };
  const { id } = await register(user.username, user.password);
  const { context, page, problems } = await watchedPage();
  try {
    await page.goto(`${urls.base}/app/welcome?tab=1`);
    assert.equal(page.url(), `${urls.base}/signin?next=/app/welcome?tab=1`);
    await page.locator('#username').fill(user.username);
    await page.locator('#password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${urls.base}/app/welcome?tab=1`);
    const seen = JSON.parse(await page.locator('body').textContent());
    const headers = Object.fromEntries(seen.headers.map(([k, v]) => [k.toLowerCase(), v]));
    assert.equal(headers['x-auth-username'], user.username);
    assert.equal(headers['x-auth-user-id'], String(id));
    const cookies = await context.cookies(urls.base);
    assert.ok(cookies.some((c) => c.name === 'access_token' && c.httpOnly), 'the access_token cookie, HttpOnly');
    await page.screenshot({ path: join(outDir, 'nginx-signin.png') });

    // A wrong password stays on the page and says why.
    await context.clearCookies();
    await page.goto(`${urls.base}/app/welcome`);
    await page.locator('#username').fill(user.username);
    await page.locator('#password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#error').getByText('Incorrect username or password').waitFor();
    assert.match(page.url(), /\/signin\?next=\/app\/welcome$/);
    // The failed login's 401 is the one console error Chromium reports.
    assert.deepEqual(problems.filter((p) => !/status of 401/.test(p)), []);
  } finally {
    await context.close();
  }
});
