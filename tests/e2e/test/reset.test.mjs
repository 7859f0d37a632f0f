// The password-reset flow as a user lives it, in Chromium: a release server with no
// `smtp_url` writes its mail as `.eml` files (the laptop default); the test reads the
// reset mail from the file, opens its link on the frontend's page (a second origin), types
// a new password and submits; the old password stops working and the new one logs in.
// Screenshot: out/reset-password.png.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { launchBrowser } from '../harness/browser.mjs';
import { startPageServer } from '../harness/page-server.mjs';
import { OUT_DIR } from '../harness/paths.mjs';
import { startServer } from '../harness/server.mjs';
import { newUser } from '../harness/users.mjs';

const pages = await startPageServer();
const mailDir = await mkdtemp(join(tmpdir(), 'latchkey-e2e-mail-'));
const server = await startServer({
  name: 'reset-password',
  settings: {
    LATCHKEY_CORS_ORIGINS: pages.sameSiteOrigin,
    LATCHKEY_PUBLIC_URL: pages.sameSiteOrigin,
    LATCHKEY_RESET_PASSWORD_PATH: '/reset-password.html',
    LATCHKEY_MAIL_DIR: mailDir,
    LATCHKEY_MAIL_POLL_INTERVAL: '100ms',
  },
});
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

/** A quoted-printable body as text (soft line breaks joined, `=XX` decoded). */
function decodeQuotedPrintable(text) {
  const joined = text.replace(/=\r?\n/g, '');
  const bytes = [];
  for (let i = 0; i < joined.length; i += 1) {
    if (joined[i] === '=' && /^[0-9A-F]{2}$/i.test(joined.slice(i + 1, i + 3))) {
      bytes.push(parseInt(joined.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(joined[i]));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The reset link in the `.eml` files of the mail directory, once it is there. */
async function resetLinkFromMail() {
  for (let i = 0; i < 200; i += 1) {
    for (const file of (await readdir(mailDir)).filter((f) => f.endsWith('.eml'))) {
      const raw = decodeQuotedPrintable(await readFile(join(mailDir, file), 'utf8'));
      if (!raw.includes('Reset your')) continue;
      const match = raw.match(/(http:\/\/[^\s"<>]+\/reset-password\.html#token=[\w-]{43})/);
      assert.ok(match, `a reset link in ${file}`);
      return match[1];
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no reset mail appeared in ${mailDir}`);
}

test('a user resets a forgotten password from the received mail through the frontend page', async () => {
  const user = newUser('reset');
  const registered = await graphql(
    'mutation($input: RegisterInput!) { register(input: $input) { id } }',
    { input: user },
  );
  assert.ok(registered.data?.register?.id, JSON.stringify(registered));
  const requested = await graphql('mutation($email: String!) { requestPasswordReset(email: $email) }', {
    email: user.email,
  });
  assert.deepEqual(requested, { data: { requestPasswordReset: true } });

  const link = await resetLinkFromMail();
  assert.ok(link.startsWith(`${pages.sameSiteOrigin}/reset-password.html#token=`), link);

  const context = await browser.newContext();
  const page = await context.newPage();
  const requests = [];
  page.on('request', (request) => requests.push(request.url()));
  await page.addInitScript((api) => {
    window.LATCHKEY_API = api;
  }, server.url);
  await page.goto(link);
  const newPassword = 'From-the-browser-42';
  await page.fill('#password', newPassword);
  await page.click('button[type=submit]');
  await page.waitForFunction(() => document.getElementById('outcome').textContent !== '');
  const outcome = await page.textContent('#outcome');
  await page.screenshot({ path: join(OUT_DIR, 'reset-password.png') });
  await context.close();
  assert.equal(outcome, 'Your password was changed. Log in with the new one.');
  const token = link.split('#token=')[1];
  assert.ok(
    requests.every((url) => !url.includes(token)),
    `the token never left the page in a URL: ${requests.join(', ')}`,
  );

  const login = 'mutation($input: LoginInput!) { login(input: $input) { user { username } } }';
  const old = await graphql(login, { input: { username: user.username, password: user.password } });
  assert.equal(old.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
  const fresh = await graphql(login, { input: { username: user.username, password: newPassword } });
  assert.equal(fresh.data?.login?.user?.username, user.username);
});
