// Passkeys from the service's own pages in a real browser (Debian's
// Chromium, headless, driven by playwright-core) with Chromium's virtual
// authenticator (DevTools protocol WebAuthn: ctap2, internal transport,
// resident keys, user verification). WebAuthn needs a secure context:
// gatehouse runs with PUBLIC_URL http://localhost:PORT (localhost is one),
// which is also its relying party and the origin the ceremonies must show,
// and the pages are opened at that address. One user, registered through
// the API, then:
//   - signs in on /signin with the password and reaches /account;
//   - adds a passkey with the account page's button (the authenticator then
//     holds one resident credential, and the page lists one passkey);
//   - signs out, and signs in again with the sign-in page's passkey button,
//     without a username;
//   - signs out, signs in with the password, which now leads to the
//     second-factor page (a passkey turns the second factor on), and passes
//     it with that page's passkey button.
// Each step must land on the page it names; no page may log a console error
// (a CSP violation is one), throw, or ask any host but the service.
//
//   GATEHOUSE_BIN=build/gatehouse node --test tests/browser/passkeys.test.mjs
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { launchChromium, outDir, startGatehouse, stopGatehouse, watchedPage } from './harness.mjs';

const HANG = 60000; // ms: hang detection only

let server, tmp, browser, local;

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'gatehouse-passkeys-'));
  mkdirSync(outDir, { recursive: true });
  server = await startGatehouse(join(tmp, 'gatehouse.db'), (base) => ({
    PUBLIC_URL: base.replace('//127.0.0.1:', '//localhost:'),
    SESSION_COOKIES: '1',
    COOKIE_SECURE: '0', // plain HTTP: the CSRF cookie without __Host-
  }));
  local = server.base.replace('//127.0.0.1:', '//localhost:');
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await stopGatehouse(server?.child);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function signOut(page) {
  await Promise.all([
    page.waitForURL(`${local}/signout`, { timeout: HANG }),
    page.getByRole('button', { name: 'Sign out' }).click(),
  ]);
  await page.getByText('You have signed out.').waitFor({ timeout: HANG });
}

async function passwordSignIn(page, user) {
  await page.goto(`${local}/signin`);
  await page.fill('#username', user.username);
  await page.fill('#password', user.password);
  await page.locator('form[action="signin"] button[type="submit"]').click();
}

async function onAccountPage(page, user) {
  await page.waitForURL(`${local}/account`, { timeout: HANG });
  assert.equal(await page.locator('#account-user').textContent(), user.username);
}

test('a passkey added on the account page signs in without a username and as the second factor', async () => {
  const user = { username: 'passkey-user', password: 'a long passphrase for passkeys' };
  const reg = await fetch(`${server.base}/register`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(user),
  });
  assert.equal(reg.status, 200, await reg.text());

  const { context, page, problems } = await watchedPage(browser, new URL(local).host);
  try {
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2', transport: 'internal', hasResidentKey: true,
        hasUserVerification: true, isUserVerified: true,
      },
    });

    // The password, through the form.
    await passwordSignIn(page, user);
    await onAccountPage(page, user);
    assert.equal(await page.locator('#passkey-list li').count(), 0);

    // A passkey from the account page's button.
    const add = page.locator('#passkey-register button');
    await add.waitFor({ state: 'visible', timeout: HANG });
    await Promise.all([page.waitForEvent('load', { timeout: HANG }), add.click()]);
    await onAccountPage(page, user);
    await page.locator('#passkey-list li').first().waitFor({ timeout: HANG });
    assert.equal(await page.locator('#passkey-list li').count(), 1);
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1);
    assert.equal(credentials[0].isResidentCredential, true);
    assert.equal(credentials[0].rpId, 'localhost');
    await page.screenshot({ path: join(outDir, 'passkeys-account.png') });
    await signOut(page);

    // Username-less: the sign-in page's passkey button alone.
    await page.goto(`${local}/signin`);
    const button = page.locator('#passkey-signin button');
    await button.waitFor({ state: 'visible', timeout: HANG });
    await button.click();
    await onAccountPage(page, user);
    await signOut(page);

    // The password, then the passkey as the second factor.
    await passwordSignIn(page, user);
    await page.waitForURL(`${local}/signin`, { timeout: HANG });
    const second = page.locator('#passkey-mfa button');
    await second.waitFor({ state: 'visible', timeout: HANG });
    // The step's token and options reach the script in data- attributes.
    assert.match(await page.locator('#passkey-mfa').getAttribute('data-mfa-token'), /^[A-Za-z0-9_-]{43}$/);
    assert.ok(JSON.parse(await page.locator('#passkey-mfa').getAttribute('data-options')).challenge);
    await page.screenshot({ path: join(outDir, 'passkeys-second-factor.png') });
    await second.click();
    await onAccountPage(page, user);

    // Three uses of one credential: its counter moved on each.
    const after3 = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
    assert.equal(after3.length, 1);
    assert.ok(after3[0].signCount >= 3, `signCount ${after3[0].signCount}`);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
