// The generated, typed client (src/client.ts over src/generated/graphql.ts, compiled to
// build/ by `npm run build`) against a live release server: every operation of
// operations/*.graphql runs at least once.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { startServer } from '../harness/server.mjs';
import { totp } from '../harness/totp.mjs';
import { newUser } from '../harness/users.mjs';
import { LatchkeyClient, LatchkeyError } from '../build/client.js';
import { example } from '../build/example.js';

const server = await startServer({ name: 'client' });
after(() => server.stop());

/** Runs `promise` and returns the LatchkeyError it fails with. */
async function failure(promise) {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof LatchkeyError, `not a LatchkeyError: ${error}`);
    return error;
  }
  assert.fail('expected a GraphQL error');
}

const user = newUser();
const client = new LatchkeyClient(server.url);
let registered;

test('authPolicy is public and matches the server defaults', async () => {
  const policy = await new LatchkeyClient(server.url).authPolicy();
  assert.equal(policy.signupEnabled, true);
  assert.equal(policy.accessTokenTtlSeconds, 900);
  assert.deepEqual([...policy.modes].sort(), ['COOKIE', 'JSON', 'SESSION']);
  assert.equal(policy.apiKeysRequired, false);
});

test('register returns the new user', async () => {
  registered = await client.register({ ...user, firstname: 'Ada', lastname: 'Lovelace' });
  assert.equal(registered.username, user.username);
  assert.equal(registered.email, user.email);
  assert.equal(registered.role, 'USER');
  assert.equal(registered.totpEnabled, false);
});

test('a wrong password is a typed UNAUTHENTICATED error', async () => {
  const error = await failure(new LatchkeyClient(server.url).login({ username: user.username, password: 'wrong password' }));
  assert.equal(error.code, 'UNAUTHENTICATED');
  assert.equal(error.status, 401);
});

test('login (JSON mode) returns both tokens, and me reads the bearer token', async () => {
  const login = await client.login({ username: user.username, password: user.password });
  assert.equal(login.tokenType, 'Bearer');
  assert.match(login.accessToken ?? '', /^[\w-]+\.[\w-]+\.[\w-]+$/);
  assert.ok(login.refreshToken);
  assert.equal(login.credentials.identityId, registered.id);
  assert.equal(login.credentials.token, login.accessToken);
  assert.equal(login.expires, 900_000);

  const me = await client.me();
  assert.equal(me.id, registered.id);
  assert.equal((await client.user(user.username.toUpperCase()))?.id, registered.id);
});

test('sessions lists the current one; revokeSession ends another', async () => {
  const other = new LatchkeyClient(server.url);
  await other.login({ email: user.email, password: user.password });
  const sessions = await client.sessions();
  assert.equal(sessions.length, 2);
  const mine = sessions.filter((s) => s.current);
  assert.equal(mine.length, 1);
  const theirs = sessions.find((s) => !s.current);

  assert.equal(await client.revokeSession(theirs.id), true);
  assert.equal((await failure(other.me())).code, 'UNAUTHENTICATED');
  assert.equal((await client.sessions()).length, 1);
});

test('auth headers: add one, use it as a bearer token, list it, delete it', async () => {
  const expiresAt = new Date(Date.now() + 24 * 3600 * 1000);
  const made = await client.addAuthHeader('e2e script', expiresAt);
  assert.match(made.token, /^lk_/);
  assert.ok(made.token.startsWith(made.authHeader.prefix));

  const script = new LatchkeyClient(server.url);
  script.accessToken = made.token;
  assert.equal((await script.me()).id, registered.id);

  const listed = await client.authHeaders();
  assert.deepEqual(listed.map((h) => h.name), ['e2e script']);
  assert.equal(listed[0].expiresAt, made.authHeader.expiresAt);

  const second = await client.addAuthHeader('e2e other');
  assert.equal(await client.deleteAuthHeader({ token: made.token }), true);
  assert.equal(await client.deleteAuthHeader({ id: second.authHeader.id }), true);
  assert.equal((await failure(script.me())).code, 'UNAUTHENTICATED');
  assert.deepEqual(await client.authHeaders(), []);
});

test('reauthenticate answers the current session, authenticated now', async () => {
  const before = (await client.sessions()).find((s) => s.current);
  const session = await client.reauthenticate(user.password);
  assert.equal(session.id, before.id);
  assert.equal(session.current, true);
  assert.ok(new Date(session.authenticatedAt) >= new Date(before.authenticatedAt));
  assert.equal((await failure(client.reauthenticate(`${user.password}-wrong`))).code, 'UNAUTHENTICATED');
});

test('refresh rotates both tokens; the new access token works', async () => {
  const before = { access: client.accessToken, refresh: client.refreshToken };
  const renewed = await client.refresh();
  assert.notEqual(renewed.accessToken, before.access);
  assert.notEqual(renewed.refreshToken, before.refresh);
  assert.equal((await client.me()).id, registered.id);
});

test('changePassword: the old password stops working, the new one logs in', async () => {
  const newPassword = `${user.password}-changed`;
  assert.equal(await client.changePassword({ currentPassword: user.password, newPassword }), true);
  const error = await failure(new LatchkeyClient(server.url).login({ username: user.username, password: user.password }));
  assert.equal(error.code, 'UNAUTHENTICATED');
  await new LatchkeyClient(server.url).login({ username: user.username, password: newPassword });
  user.password = newPassword;
});

test('TOTP: enroll, confirm, login needs a code, disable', async () => {
  const enrollment = await client.enrollTotp();
  assert.match(enrollment.otpauthUrl, /^otpauth:\/\/totp\//);
  const recoveryCodes = await client.confirmTotp(totp(enrollment.secret));
  assert.equal(recoveryCodes.length, 10);
  assert.equal((await client.me()).totpEnabled, true);

  const withoutCode = await failure(new LatchkeyClient(server.url).login({ username: user.username, password: user.password }));
  assert.equal(withoutCode.code, 'OTP_REQUIRED');
  // A recovery code stands in for a code (the app's current one was just used to confirm).
  const second = new LatchkeyClient(server.url);
  await second.login({ username: user.username, password: user.password, otp: recoveryCodes[0] });
  assert.equal((await second.me()).id, registered.id);

  assert.equal(await client.disableTotp(user.password, recoveryCodes[1]), true);
  assert.equal((await client.me()).totpEnabled, false);
});

test('logout ends the session: its access and refresh tokens are refused', async () => {
  const { accessToken, refreshToken } = client;
  assert.equal(await client.logout(), true);

  const stale = new LatchkeyClient(server.url);
  stale.accessToken = accessToken;
  assert.equal((await failure(stale.me())).code, 'UNAUTHENTICATED');
  stale.accessToken = null;
  stale.refreshToken = refreshToken;
  assert.equal((await failure(stale.refresh())).code, 'UNAUTHENTICATED');
});

test("the README's example runs as written", async () => {
  const someone = newUser('readme');
  await new LatchkeyClient(server.url).register(someone);
  const said = await example(server.url, someone.username, someone.password);
  assert.equal(said.length, 4, said.join('\n'));
  assert.match(said[0], new RegExp(`^logged in as ${someone.username} \\(USER\\)`));
  assert.equal(said[3], 'logged out: me is UNAUTHENTICATED');
});
