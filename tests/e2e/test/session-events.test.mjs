// Two tabs on one account, in Chromium: each logged in on its own (two sessions, two
// browser profiles, SESSION-mode cookies), each subscribed to `sessionEvents` with the
// `graphql-ws` client from a page on another origin of the same site. Tab B revokes tab
// A's session; tab A is told within a second, then its socket closes with 4401.
// Screenshot: out/session-events.png.

import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { launchBrowser } from '../harness/browser.mjs';
import { startPageServer } from '../harness/page-server.mjs';
import { E2E_ROOT, OUT_DIR } from '../harness/paths.mjs';
import { startServer } from '../harness/server.mjs';
import { newUser } from '../harness/users.mjs';

const GRAPHQL_WS = join(E2E_ROOT, 'node_modules', 'graphql-ws', 'umd', 'graphql-ws.min.js');
const TOLD_WITHIN_MS = 1000;

await mkdir(OUT_DIR, { recursive: true });
const pages = await startPageServer();
const server = await startServer({
  name: 'session-events',
  settings: { LATCHKEY_CORS_ORIGINS: pages.sameSiteOrigin },
});
const browser = await launchBrowser();

after(async () => {
  await browser.close();
  await Promise.all([server.stop(), pages.stop()]);
});

async function register(user) {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: 'mutation($input: RegisterInput!) { register(input: $input) { id } }',
      variables: { input: user },
    }),
  });
  const body = await response.json();
  assert.ok(body.data?.register?.id, JSON.stringify(body));
}

/** A tab in its own profile (so its own cookies, its own session), logged in and subscribed. */
async function openTab(user, problems) {
  const context = await browser.newContext({ viewport: { width: 900, height: 560 } });
  const page = await context.newPage();
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  await page.goto(`${pages.sameSiteOrigin}/session-events.html?api=${encodeURIComponent(server.url)}`);
  await page.addScriptTag({ path: GRAPHQL_WS });
  await page.waitForFunction(() => window.sessionEventsDemo !== undefined && window.graphqlWs !== undefined);
  const session = await page.evaluate((u) => window.sessionEventsDemo.login(u), user);
  await page.evaluate(() => window.sessionEventsDemo.subscribe());
  return { context, page, session };
}

test('tab B revokes tab A: tab A is told within a second, then its socket closes with 4401', async () => {
  const user = newUser('tabs');
  await register(user);
  const problems = [];
  const tabA = await openTab(user, problems);
  const tabB = await openTab(user, problems);
  assert.notEqual(tabA.session, tabB.session, 'two logins, two sessions');

  const { revoked, sentAt } = await tabB.page.evaluate(
    (id) => window.sessionEventsDemo.revoke(id),
    tabA.session,
  );
  assert.equal(revoked, true);

  await tabA.page.waitForFunction(() => window.sessionEventsDemo.seen.closed !== null, null, { timeout: 5000 });
  const seenByA = await tabA.page.evaluate(() => window.sessionEventsDemo.seen);
  const told = seenByA.events.find((e) => e.kind === 'SESSION_REVOKED' && e.sessionId === tabA.session);
  assert.ok(told, `tab A was told: ${JSON.stringify(seenByA)}`);
  assert.equal(told.current, true);
  assert.equal(told.reason, 'REVOKED');
  assert.equal(seenByA.closed.code, 4401);
  assert.equal(seenByA.closed.reason, 'session ended: REVOKED');

  const tookMs = told.at - sentAt;
  console.log(`tab A was told of its revoke ${tookMs} ms after tab B sent it (socket closed after ${seenByA.closed.at - sentAt} ms)`);
  assert.ok(tookMs < TOLD_WITHIN_MS, `took ${tookMs} ms`);

  // Tab B heard it too (another of its account's sessions), and its own socket stays open.
  await tabB.page.waitForFunction(() => window.sessionEventsDemo.seen.events.length > 0, null, { timeout: 5000 });
  const seenByB = await tabB.page.evaluate(() => window.sessionEventsDemo.seen);
  assert.equal(seenByB.events[0].sessionId, tabA.session);
  assert.equal(seenByB.events[0].current, false);
  assert.equal(seenByB.closed, null);

  await tabA.page.screenshot({ path: join(OUT_DIR, 'session-events.png') });
  assert.deepEqual(problems, []);
  await Promise.all([tabA.context.close(), tabB.context.close()]);
});
