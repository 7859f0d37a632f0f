// Passkeys in Chromium, with its virtual authenticator (CDP `WebAuthn`: internal
// transport, resident keys, user verification): a frontend page on its own origin logs in
// with a password, registers a passkey, logs out, then signs in with the passkey and no
// username in SESSION mode, and `me` answers with the cookie alone.
// Screenshot: out/passkeys.png.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { launchBrowser } from '../harness/browser.mjs';
import { startPageServer } from '../harness/page-server.mjs';
import { OUT_DIR } from '../harness/paths.mjs';
import { startServer } from '../harness/server.mjs';
import { newUser } from '../harness/users.mjs';

const pages = await startPageServer();
// The page is http://localhost:<port2>; the API is called as http://localhost:<port1>:
// another origin of the same site, so the SESSION cookies travel with `credentials:
// 'include'` under SameSite=Lax. WebAuthn's RP id is `localhost` (the defaults).
const server = await startServer({
  name: 'passkeys',
  settings: {
    LATCHKEY_CORS_ORIGINS: pages.crossSiteOrigin,
    LATCHKEY_COOKIE_SECURE: 'false',
  },
});
const api = `http://localhost:${server.port}/graphql`;
const browser = await launchBrowser();

after(async () => {
  await browser.close();
  await Promise.all([server.stop(), pages.stop()]);
});

async function graphql(query, variables) {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return response.json();
}

test('a passkey registered in the browser signs in with no username, in SESSION mode', async () => {
  const user = newUser('passkey');
  const registered = await graphql('mutation($input: RegisterInput!) { register(input: $input) { id } }', {
    input: user,
  });
  assert.ok(registered.data?.register?.id, JSON.stringify(registered));

  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  await page.addInitScript((url) => {
    window.LATCHKEY_API = url;
  }, api);
  await page.goto(`${pages.crossSiteOrigin}/passkeys.html`);

  await page.fill('#username', user.username);
  await page.fill('#password', user.password);
  await page.click('#password-login button[type=submit]');
  await page.waitForFunction(() => document.getElementById('outcome').textContent !== '');
  assert.equal(await page.textContent('#outcome'), 'registered');
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1);
  assert.equal(credentials[0].isResidentCredential, true, 'a discoverable credential');

  await page.evaluate(() => { document.getElementById('outcome').textContent = ''; });
  await page.click('#logout');
  await page.waitForFunction(() => document.getElementById('outcome').textContent !== '');
  assert.equal(await page.textContent('#outcome'), 'logged out');
  const cookiesAfterLogout = await context.cookies(`http://localhost:${server.port}`);
  assert.ok(!cookiesAfterLogout.some((c) => c.name === 'latchkey_access'), 'logged out');

  await page.evaluate(() => { document.getElementById('outcome').textContent = ''; });
  await page.click('#passkey-login');
  await page.waitForFunction(() => document.getElementById('outcome').textContent !== '');
  await page.screenshot({ path: join(OUT_DIR, 'passkeys.png'), fullPage: true });
  assert.equal(await page.textContent('#outcome'), `Signed in as ${user.username}`);
  const steps = await page.textContent('#steps');
  assert.match(steps, /access token in the body: none/, 'SESSION mode keeps the token out of the body');
  const cookies = await context.cookies(`http://localhost:${server.port}`);
  const access = cookies.find((c) => c.name === 'latchkey_access');
  assert.ok(access?.httpOnly, 'the access token is in an httpOnly cookie');
  await context.close();
});
