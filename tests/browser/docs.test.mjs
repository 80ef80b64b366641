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
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { swaggerAuthorize, swaggerTryMe } from './swagger.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { chromium } = createRequire(join(repo, 'web/package.json'))('playwright-core');
const bin = process.env.GATEHOUSE_BIN ?? join(repo, 'build/gatehouse');
const outDir = process.env.BROWSER_TEST_OUTPUT ?? join(repo, 'tests/output/browser');
const spec = JSON.parse(readFileSync(join(repo, 'web/openapi.json'), 'utf8'));

// The flags this machine's Chromium needs: no sandbox as root, no GPU, and
// none of the background traffic to Google that a closed network refuses.
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

const USER = { username: 'docs-tester', password: 'a long browser passphrase' };

let server, base, origin, tmp, browser;

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    }).on('error', fail);
  });
}

async function waitHealthy(url, child, ms = 10000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`gatehouse exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/healthz`)).status === 200) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('gatehouse did not become healthy');
}

before(async () => {
  mkdirSync(outDir, { recursive: true });
  tmp = mkdtempSync(join(tmpdir(), 'gatehouse-browser-'));
  const port = await freePort();
  origin = `127.0.0.1:${port}`;
  base = `http://${origin}`;
  server = spawn(bin, [], {
    env: {
      ...process.env,
      HOST: '127.0.0.1', PORT: String(port),
      DATABASE_URL: `sqlite:///${join(tmp, 'browser.db')}`,
      SECRET_KEY: 'browser-test-secret-key-0123456789abcdef',
      BCRYPT_ROUNDS: '4',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await waitHealthy(base, server);
  const r = await fetch(`${base}/register`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(USER),
  });
  assert.equal(r.status, 200, 'registering the test user');
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    const done = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await done;
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

// A fresh context (a new, empty profile) whose every problem is recorded:
// console errors, uncaught exceptions, failed requests, error statuses, and
// any request for another origin, which is also stopped before it leaves.
async function watchedPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  const requests = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'http:' && url.host === origin) return route.continue();
    problems.push(`request to another host: ${route.request().url()}`);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  page.on('request', (r) => requests.push(r));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`${r.status()} for ${r.request().method()} ${r.url()}`);
  });
  return { context, page, problems, requests };
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
