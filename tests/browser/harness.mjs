// What the browser tests against gatehouse itself share (docs.test.mjs,
// pages.test.mjs): the repository's paths, Debian's Chromium driven by
// playwright-core (pinned in web/package.json; it never downloads a browser),
// and build/gatehouse (or $GATEHOUSE_BIN) started on a free loopback port
// with a temporary SQLite database.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const bin = process.env.GATEHOUSE_BIN ?? join(repo, 'build/gatehouse');
export const outDir = process.env.BROWSER_TEST_OUTPUT ?? join(repo, 'tests/output/browser');

const { chromium } = createRequire(join(repo, 'web/package.json'))('playwright-core');

// The flags this machine's Chromium needs: no sandbox as root, no GPU, and
// none of the background traffic to Google that a closed network refuses.
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export function launchChromium() {
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
}

export function freePort() {
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

// Starts gatehouse on a free port with its SQLite database at db and the
// settings extra(base) returns over the tests' own; resolves to
// { child, origin, base } once /healthz answers 200. A gatehouse that does
// not get there is stopped before the error is thrown.
export async function startGatehouse(db, extra = () => ({})) {
  const port = await freePort();
  const origin = `127.0.0.1:${port}`;
  const base = `http://${origin}`;
  const child = spawn(bin, [], {
    env: {
      ...process.env,
      HOST: '127.0.0.1', PORT: String(port),
      DATABASE_URL: `sqlite:///${db}`,
      SECRET_KEY: 'browser-test-secret-key-0123456789abcdef',
      BCRYPT_ROUNDS: '4',
      ...extra(base),
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    await waitHealthy(base, child);
  } catch (e) {
    await stopGatehouse(child);
    throw e;
  }
  return { child, origin, base };
}

// SIGTERM to a gatehouse still running, and its exit awaited.
export async function stopGatehouse(child) {
  if (!child || child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

// A fresh context of browser (a new, empty profile; options as newContext
// takes them) and its page, whose every problem is recorded in problems:
// console errors (CSP violations among them), uncaught exceptions, failed
// requests, and any request for a host but origin, which is stopped before
// it leaves.
export async function watchedPage(browser, origin, options) {
  const context = await browser.newContext(options);
  const problems = [];
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
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  return { context, page, problems };
}
