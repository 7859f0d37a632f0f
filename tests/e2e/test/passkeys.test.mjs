// Passkeys in Chromium, with its virtual authenticator (CDP `WebAuthn`: CTAP2, internal
// transport, resident keys, user verification). A frontend page on http://localhost:<port>
// (pages/passkeys.*, which uses the snippet of docs/api.md) logs in with a password in
// SESSION mode, registers a passkey, logs out, then signs in with the passkey and no
// username, and `me` answers through the cookie alone. Then the failure paths a person
// would see on that page: an authenticator that cannot verify its user (the browser
// refuses), and a passkey the account deleted that the browser still offers (Latchkey
// refuses).
// Screenshots: out/passkeys.png (signed in with the passkey), out/passkeys-unverified.png
// (the browser refused), out/passkeys-refused.png (Latchkey refused).

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { launchBrowser } from '../harness/browser.mjs';
import { startPageServer } from '../harness/page-server.mjs';
import { E2E_ROOT, OUT_DIR, REPO_ROOT } from '../harness/paths.mjs';
import { startServer } from '../harness/server.mjs';
import { newUser } from '../harness/users.mjs';

const ACCESS_COOKIE = '__Host-latchkey_access';
const REFRESH_COOKIE = '__Host-latchkey_refresh';
const VIEWPORT = { width: 1000, height: 900 };

const pages = await startPageServer();
// The page is http://localhost:<port2> and calls the API as http://localhost:<port1>:
// another origin of the same site, so the default cookies (SameSite=Lax, Secure, which
// Chromium stores for localhost over http) travel with `credentials: 'include'`. The
// relying party is `localhost`, with the page's origin the one allowed.
const pageOrigin = pages.crossSiteOrigin;
const server = await startServer({
  name: 'passkeys',
  settings: {
    LATCHKEY_CORS_ORIGINS: pageOrigin,
    LATCHKEY_WEBAUTHN_RP_ID: 'localhost',
    LATCHKEY_WEBAUTHN_ORIGINS: pageOrigin,
    LATCHKEY_WEBAUTHN_RP_NAME: 'Latchkey e2e',
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

/**
 * Runs one action of the page (`act` clicks or submits) and returns what `#outcome` then
 * says, once the answers the page received are read (`reading`).
 */
async function pageAction(page, act, reading = []) {
  const before = Number((await page.getAttribute('#outcome', 'data-count')) ?? 0);
  await act();
  await page.waitForFunction(
    (count) => Number(document.getElementById('outcome').dataset.count ?? 0) > count,
    before,
    { timeout: 30_000 },
  );
  await Promise.all(reading);
  return page.textContent('#outcome');
}

describe('passkeys in Chromium with a virtual authenticator', () => {
  const user = newUser('passkey');
  let context;
  let page;
  let cdp;
  let authenticatorId;
  const problems = [];
  /** The page's GraphQL calls: the first field asked for, the variables, the answer. */
  const answers = [];
  const reading = [];

  const credentials = async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
  const apiCookies = async () => context.cookies(`http://localhost:${server.port}`);

  before(async () => {
    const registered = await graphql('mutation($input: RegisterInput!) { register(input: $input) { id } }', {
      input: user,
    });
    assert.ok(registered.data?.register?.id, JSON.stringify(registered));

    context = await browser.newContext({ viewport: VIEWPORT });
    page = await context.newPage();
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('response', (response) => {
      if (response.url() !== api || response.request().method() !== 'POST') return;
      const { query, variables } = JSON.parse(response.request().postData());
      const answer = { field: query.match(/\{\s*(\w+)/)[1], variables, body: null };
      answers.push(answer);
      reading.push(response.json().then((body) => { answer.body = body; }, () => {}));
    });
    cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    }));
    await page.addInitScript((url) => {
      window.LATCHKEY_API = url;
    }, api);
    await page.goto(`${pageOrigin}/passkeys.html`);
    assert.equal(await page.textContent('#who'), 'Not signed in.');
  });
  after(() => context.close());

  test('a password login in SESSION mode, then a passkey registered from the page', async () => {
    await page.fill('#username', user.username);
    await page.fill('#password', user.password);
    const login = await pageAction(page, () => page.click('#password-login button[type=submit]'), reading);
    assert.equal(login, `Signed in as ${user.username} with the password.`);
    assert.equal(answers.find((a) => a.field === 'login').body.data.login.accessToken, null, 'no token in the body');
    const names = (await apiCookies()).map((c) => c.name);
    assert.ok(names.includes(ACCESS_COOKIE) && names.includes(REFRESH_COOKIE), names.join(', '));

    const added = await pageAction(page, () => page.click('#add-passkey'), reading);
    assert.equal(added, `Passkey “This browser” added to ${user.username}.`);
    // The recent-authentication rule: the session logged in moments ago, so the page's
    // `startPasskeyRegistration` carries no password and is not `REAUTH_REQUIRED`.
    const { sessions } = answers.find((a) => a.field === 'sessions').body.data;
    const current = sessions.find((s) => s.current);
    assert.ok(Date.now() - Date.parse(current.authenticatedAt) < 60_000, current.authenticatedAt);
    const start = answers.find((a) => a.field === 'startPasskeyRegistration').body;
    assert.equal(start.errors, undefined, JSON.stringify(start));
    assert.equal(start.data.startPasskeyRegistration.rp.id, 'localhost');
    assert.equal(start.data.startPasskeyRegistration.authenticatorSelection.residentKey, 'preferred');
    assert.equal(start.data.startPasskeyRegistration.authenticatorSelection.userVerification, 'required');

    const held = await credentials();
    assert.equal(held.length, 1, 'one credential in the authenticator');
    assert.equal(held[0].isResidentCredential, true, 'a discoverable credential');
    assert.equal(held[0].rpId, 'localhost');
    const { passkeys } = await page.evaluate(() => gql('query { passkeys { name userVerified } }'));
    assert.deepEqual(passkeys, [{ name: 'This browser', userVerified: true }]);
  });

  test('logged out, then signed in with the passkey and no username, in SESSION mode; `me` answers', async (t) => {
    const signCountBefore = (await credentials())[0].signCount;
    const out = await pageAction(page, () => page.click('#logout'), reading);
    assert.equal(out, 'Signed out.');
    assert.equal(await page.textContent('#who'), 'Not signed in.');
    assert.ok(!(await apiCookies()).some((c) => c.name === ACCESS_COOKIE), 'the access cookie is gone');

    const signedIn = await pageAction(page, () => page.click('#passkey-login'), reading);
    await page.screenshot({ path: join(OUT_DIR, 'passkeys.png'), fullPage: true });
    assert.equal(signedIn, `Signed in as ${user.username} with a passkey.`);
    assert.equal(await page.textContent('#who'), `Signed in as ${user.username} (${user.email})`);

    // No username went to the server: the discoverable credential named the account.
    const started = answers.findLast((a) => a.field === 'startPasskeyLogin');
    assert.deepEqual(started.variables, {});
    const start = started.body.data.startPasskeyLogin;
    assert.deepEqual(start.allowCredentials ?? [], [], 'no credentials listed');
    assert.equal(start.userVerification, 'required');
    const finish = answers.findLast((a) => a.field === 'finishPasskeyLogin').body;
    assert.equal(finish.data.finishPasskeyLogin.user.username, user.username, JSON.stringify(finish));
    const access = (await apiCookies()).find((c) => c.name === ACCESS_COOKIE);
    assert.ok(access?.httpOnly, 'the access token is in an httpOnly cookie');
    const me = answers.findLast((a) => a.field === 'me').body;
    assert.equal(me.data.me.username, user.username);

    const held = await credentials();
    assert.equal(held.length, 1, 'still one resident credential');
    assert.ok(held[0].signCount > signCountBefore, `sign count moved: ${signCountBefore} -> ${held[0].signCount}`);
    t.diagnostic(`the authenticator's sign count: ${signCountBefore} after registration, ${held[0].signCount} after the login`);
    assert.deepEqual(problems, []);
  });

  test('an authenticator that cannot verify its user gives no passkey: the browser refuses, nothing reaches Latchkey', async () => {
    await pageAction(page, () => page.click('#logout'), reading);
    const finishesBefore = answers.filter((a) => a.field === 'finishPasskeyLogin').length;
    // The options ask for user verification (`required`), so Chromium does not sign
    // without it: the page gets NotAllowedError and sends no assertion.
    await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: false });
    try {
      const refused = await pageAction(page, () => page.click('#passkey-login'), reading);
      await page.screenshot({ path: join(OUT_DIR, 'passkeys-unverified.png'), fullPage: true });
      assert.match(refused, /^No passkey was used: .*NotAllowedError/, refused);
    } finally {
      await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: true });
    }
    assert.equal(answers.filter((a) => a.field === 'finishPasskeyLogin').length, finishesBefore);
    assert.equal(await page.textContent('#who'), 'Not signed in.');
  });

  test('a passkey deleted from the account, still offered by the browser, is refused: UNAUTHENTICATED', async () => {
    // The user logs in with the password and deletes the passkey (`passkeys`, then
    // `deletePasskey`, allowed by the fresh login); the authenticator keeps its
    // credential and offers it at the next login.
    await page.fill('#password', user.password);
    await pageAction(page, () => page.click('#password-login button[type=submit]'), reading);
    assert.equal(await pageAction(page, () => page.click('#delete-passkeys'), reading), '1 passkey(s) deleted.');
    assert.deepEqual(answers.findLast((a) => a.field === 'deletePasskey').body, { data: { deletePasskey: true } });
    await pageAction(page, () => page.click('#logout'), reading);

    const signCountBefore = (await credentials())[0].signCount;
    const refused = await pageAction(page, () => page.click('#passkey-login'), reading);
    await page.screenshot({ path: join(OUT_DIR, 'passkeys-refused.png'), fullPage: true });
    assert.equal(refused, 'Latchkey refused: UNAUTHENTICATED (passkey not accepted)');
    assert.ok((await credentials())[0].signCount > signCountBefore, 'the browser did sign');
    const finish = answers.findLast((a) => a.field === 'finishPasskeyLogin').body;
    assert.equal(finish.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED', JSON.stringify(finish));
    assert.equal(await page.textContent('#who'), 'Not signed in.');
    assert.ok(!(await apiCookies()).some((c) => c.name === ACCESS_COOKIE), 'no session cookie');
    assert.deepEqual(problems, []);
  });

});

test('the page runs the browser snippet of docs/api.md, with the API URL as the only change', async () => {
  const docs = await readFile(join(REPO_ROOT, 'docs', 'api.md'), 'utf8');
  const snippet = docs.match(/A browser snippet to copy[\s\S]*?```js\n([\s\S]*?)```/)?.[1];
  assert.ok(snippet, 'docs/api.md has the snippet');
  const script = await readFile(join(E2E_ROOT, 'pages', 'passkeys.js'), 'utf8');
  const inPage = script.match(/\/\/ --- The snippet of docs\/api\.md -+\n([\s\S]*?)\/\/ --- end of the snippet/)?.[1];
  assert.ok(inPage, 'pages/passkeys.js marks the snippet');
  assert.equal(inPage, snippet.replace("'https://auth.example.com/graphql'", 'window.LATCHKEY_API'));
  assert.ok(snippet.split('\n').length <= 35, `about 30 lines: ${snippet.split('\n').length}`);
});
