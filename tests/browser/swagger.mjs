// The two steps of Swagger UI that both browser tests take (docs.test.mjs
// against gatehouse, nginx.test.mjs through nginx): Authorize with the
// OAuth2 password flow, then "Try it out" on GET /me. Each returns the
// response it waited for, for the caller's own checks.
import assert from 'node:assert/strict';

// Fills the OAuth2PasswordBearer form with user's name and password and
// applies it (POST /token), until the dialog is closed again, authorized.
// before(oauth), when given, runs once the form is filled (a screenshot).
export async function swaggerAuthorize(page, user, before) {
  await page.locator('.swagger-ui .auth-wrapper button.authorize').click();
  const modal = page.locator('.swagger-ui .dialog-ux .modal-ux');
  await modal.waitFor();
  const oauth = modal.locator('.auth-container').filter({ hasText: 'OAuth2PasswordBearer' });
  await oauth.locator('#oauth_username').fill(user.username);
  await oauth.locator('#oauth_password').fill(user.password);
  if (before) await before(oauth);
  const tokenResponse = page.waitForResponse((r) => new URL(r.url()).pathname === '/token');
  await oauth.getByRole('button', { name: 'Apply given OAuth2 credentials' }).click();
  const tr = await tokenResponse;
  assert.equal(tr.status(), 200, `POST /token answered ${tr.status()}: ${await tr.text()}`);
  // Authorized: the button turns into Logout ("Remove authorization").
  await oauth.getByRole('button', { name: 'Remove authorization' }).waitFor();
  await oauth.locator('button.btn-done').click();
  await modal.waitFor({ state: 'detached' });
  return tr;
}

// Opens GET /me, tries it out, and returns its operation block and the
// answer, which must be 200.
export async function swaggerTryMe(page) {
  const op = page.locator('#operations-users-me');
  await op.locator('.opblock-summary').first().click();
  await op.getByRole('button', { name: 'Try it out' }).click();
  const meResponse = page.waitForResponse((r) => new URL(r.url()).pathname === '/me');
  await op.getByRole('button', { name: 'Execute' }).click();
  const mr = await meResponse;
  assert.equal(mr.status(), 200);
  return { op, mr };
}
