// A real browser (Debian's Chromium under playwright-core) against release servers:
// - GraphiQL, served by Latchkey itself, loads the schema (the docs explorer lists `login`,
//   out/graphiql-docs.png), logs in and runs `me` from the playground, and is screenshotted
//   (out/graphiql.png);
// - a page on a second origin logs in with `mode: SESSION` through
//   `fetch(..., { credentials: 'include' })`, reads `me` through the cookie alone,
//   refreshes, logs out and sees `me` fail: once from the same site (another port of the
//   API's host: the deployment README recommends), once from another site with the
//   cross-site cookie settings, and the controls that show why those settings are needed.

import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { launchAllowingThirdPartyCookies, launchBrowser } from '../harness/browser.mjs';
import { startPageServer } from '../harness/page-server.mjs';
import { OUT_DIR } from '../harness/paths.mjs';
import { startServer } from '../harness/server.mjs';
import { newUser } from '../harness/users.mjs';

// `cookie_secure = true` (the default) names the cookies with the `__Host-` prefix.
const ACCESS_COOKIE = '__Host-latchkey_access';
const REFRESH_COOKIE = '__Host-latchkey_refresh';
// Set by every successful login, in every mode; `logout` leaves it (docs/security.md#known-devices).
const DEVICE_COOKIE = '__Host-latchkey_device';
const VIEWPORT = { width: 1280, height: 800 };

await mkdir(OUT_DIR, { recursive: true });
const pages = await startPageServer();
// Same-site frontends need only their origin in `cors_origins`; the default cookies
// (SameSite=Lax, Secure) travel on same-site requests. The cross-site page origin is
// listed too, for the control that shows Lax cookies failing across sites.
const defaultCookies = await startServer({
  name: 'browser-default-cookies',
  settings: { LATCHKEY_CORS_ORIGINS: `${pages.sameSiteOrigin},${pages.crossSiteOrigin}` },
});
// The cross-site recipe: the page's origin in `cors_origins`, and cookies a cross-site
// request may carry: SameSite=None, which browsers (and Latchkey) accept only with Secure.
const crossSiteCookies = await startServer({
  name: 'browser-cross-site',
  settings: {
    LATCHKEY_CORS_ORIGINS: pages.crossSiteOrigin,
    LATCHKEY_COOKIE_SAME_SITE: 'none',
    LATCHKEY_COOKIE_SECURE: 'true',
  },
});
const browser = await launchBrowser();

after(async () => {
  await browser.close();
  await Promise.all([defaultCookies.stop(), crossSiteCookies.stop(), pages.stop()]);
});

/** Registers a fresh user over plain HTTP (setup, not under test here). */
async function registeredUser(server) {
  const user = newUser('browser');
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
  return user;
}

/** A page in `context` that records every request, console error, page error and CSP violation. */
async function watchedPage(context) {
  const page = await context.newPage();
  const seen = { requests: [], problems: [] };
  page.on('request', (request) => seen.requests.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') seen.problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => seen.problems.push(`page error: ${error.message}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  return { page, seen };
}

describe('GraphiQL, served by Latchkey', () => {
  let user;
  let context;
  let page;
  let seen;
  before(async () => {
    user = await registeredUser(defaultCookies);
    context = await browser.newContext({ viewport: VIEWPORT });
    ({ page, seen } = await watchedPage(context));
  });
  after(() => context.close());

  /** Replaces the playground's query with `text`, runs it, and returns the result pane's text. */
  async function run(text, expected) {
    await page.locator('.graphiql-query-editor .CodeMirror').click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(text);
    // GraphiQL reads the operation name from the editor after a short debounce; running
    // before that would send the previous query's name.
    await page.waitForTimeout(500);
    await page.locator('button.graphiql-execute-button').click();
    const result = page.locator('.graphiql-response');
    try {
      await page.waitForFunction(
        (needle) => document.querySelector('.graphiql-response')?.textContent?.includes(needle),
        expected,
        { timeout: 15_000 },
      );
    } catch (error) {
      await page.screenshot({ path: join(OUT_DIR, 'graphiql-failure.png') });
      const shown = await result.innerText().catch(() => '(no result pane)');
      throw new Error(`GraphiQL never showed ${expected}; it shows:\n${shown}\n${error.message}`);
    }
    return result.innerText();
  }

  test('the playground loads from the server alone, with no CSP violation', async () => {
    const response = await page.goto(defaultCookies.url);
    assert.equal(response.status(), 200);
    await page.locator('.graphiql-query-editor .CodeMirror').waitFor({ timeout: 15_000 });
    assert.match(response.headers()['content-security-policy'], /script-src 'self'/);
    assert.equal(await page.title(), 'Latchkey GraphiQL');

    const elsewhere = seen.requests.filter((url) => !url.startsWith(`${defaultCookies.origin}/`));
    assert.deepEqual(elsewhere, [], 'every request goes to the Latchkey server');
    assert.ok(seen.requests.some((url) => url.includes('/graphiql/graphiql.min.js?v=')));
    assert.deepEqual(seen.problems, []);
  });

  test('the schema loads: no error in the response pane, and the docs explorer lists `login`', async () => {
    // GraphiQL introspects on first load; a refused introspection query shows its error in
    // the response pane and leaves the docs explorer empty.
    await page.locator('button[aria-label="Show Documentation Explorer"]').click();
    const explorer = page.locator('.graphiql-doc-explorer');
    await explorer
      .locator('a.graphiql-doc-explorer-type-name', { hasText: /^Mutation$/ })
      .click({ timeout: 15_000 });
    await explorer
      .locator('.graphiql-doc-explorer-field-name', { hasText: /^login$/ })
      .waitFor({ timeout: 15_000 });
    const response = await page.locator('.graphiql-response').innerText();
    assert.doesNotMatch(response, /error/i, response);
    await page.screenshot({ path: join(OUT_DIR, 'graphiql-docs.png') });
    // Closed again, so the next test finds the editor where it was.
    await page.locator('button[aria-label="Hide Documentation Explorer"]').click();
    assert.deepEqual(seen.problems, []);
  });

  test('a SESSION login from the playground, then `me` through the cookie', async () => {
    const login = await run(
      [
        'mutation Login {',
        `  login(input: {username: "${user.username}", password: "${user.password}", mode: SESSION}) {`,
        '    accessToken',
        '    expiresAt',
        '    user { username }',
        '  }',
        '}',
      ].join('\n'),
      '"expiresAt"',
    );
    assert.match(login, /"accessToken": null/);
    const cookies = await context.cookies(defaultCookies.origin);
    assert.deepEqual(cookies.map((c) => c.name).sort(), [ACCESS_COOKIE, DEVICE_COOKIE, REFRESH_COOKIE]);

    const me = await run('query Me {\n  me {\n    id\n    username\n    role\n  }\n}', `"${user.username}"`);
    assert.match(me, /"role": "USER"/);
    assert.doesNotMatch(me, /"errors"/);

    await page.screenshot({ path: join(OUT_DIR, 'graphiql.png') });
    assert.deepEqual(seen.problems, []);
  });
});

/** Calls one step of pages/cross-origin.js in the page: it fetches with credentials: 'include'. */
const step = (page, name, arg) => page.evaluate(([n, a]) => window.latchkeyDemo[n](a), [name, arg]);
const cookieOf = async (context, server, name) => (await context.cookies(server.origin)).find((c) => c.name === name);

async function openDemo(context, pageOrigin, server) {
  const { page, seen } = await watchedPage(context);
  await page.goto(`${pageOrigin}/cross-origin.html?api=${encodeURIComponent(server.url)}`);
  await page.waitForFunction(() => window.latchkeyDemo !== undefined);
  assert.equal(await page.evaluate(() => window.location.origin), pageOrigin);
  return { page, seen };
}

/**
 * The whole SESSION flow from a page at `pageOrigin` against `server`: login, me, refresh,
 * me, logout, me. `fetchSite` is what the browser must report in `Sec-Fetch-Site`;
 * `sameSite` the attribute the cookies must carry.
 */
async function sessionFlow({ context, pageOrigin, server, fetchSite, sameSite, screenshot }) {
  const user = await registeredUser(server);
  const { page, seen } = await openDemo(context, pageOrigin, server);

  // Login: the body carries no token; the cookies are stored for the API's host.
  const apiRequest = page.waitForRequest((request) => request.url() === server.url);
  const login = await step(page, 'login', user);
  assert.equal(login.body.errors, undefined, JSON.stringify(login.body));
  assert.equal(login.body.data.login.accessToken, null);
  assert.equal(login.body.data.login.refreshToken, null);
  assert.equal((await (await apiRequest).allHeaders())['sec-fetch-site'], fetchSite);
  for (const name of [ACCESS_COOKIE, REFRESH_COOKIE, DEVICE_COOKIE]) {
    const cookie = await cookieOf(context, server, name);
    assert.ok(cookie, `${name} was not stored`);
    assert.equal(cookie.domain, '127.0.0.1');
    assert.equal(cookie.path, '/');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.secure, true);
    assert.equal(cookie.sameSite, sameSite);
  }
  assert.equal(await step(page, 'documentCookie'), '', 'the page can read no cookie');

  // me: no Authorization header and no token in the page: the cookie alone.
  const me = await step(page, 'me');
  assert.equal(me.body.data?.me?.username, user.username, JSON.stringify(me.body));

  // refresh: the refresh cookie authorises it, and is rotated in place.
  const refreshBefore = (await cookieOf(context, server, REFRESH_COOKIE)).value;
  const refresh = await step(page, 'refresh');
  assert.equal(refresh.body.errors, undefined, JSON.stringify(refresh.body));
  assert.equal(refresh.body.data.refresh.accessToken, null);
  assert.notEqual((await cookieOf(context, server, REFRESH_COOKIE)).value, refreshBefore);
  assert.equal((await step(page, 'me')).body.data?.me?.username, user.username);

  // logout: the session ends and both token cookies are expired (the device cookie, which
  // names the browser and carries no credential, stays); me fails.
  const logout = await step(page, 'logout');
  assert.equal(logout.body.data?.logout, true, JSON.stringify(logout.body));
  assert.deepEqual((await context.cookies(server.origin)).map((c) => c.name), [DEVICE_COOKIE]);
  const afterLogout = await step(page, 'me');
  assert.equal(afterLogout.body.data, null);
  assert.equal(afterLogout.body.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');

  await page.screenshot({ path: join(OUT_DIR, screenshot) });
  assert.deepEqual(seen.problems, []);
}

describe('a page on another origin, in SESSION mode', () => {
  test('same site (another port): the default cookies and cors_origins suffice', async () => {
    const context = await browser.newContext({ viewport: VIEWPORT });
    try {
      await sessionFlow({
        context,
        pageOrigin: pages.sameSiteOrigin,
        server: defaultCookies,
        fetchSite: 'same-site',
        sameSite: 'Lax',
        screenshot: 'same-site.png',
      });
    } finally {
      await context.close();
    }
  });

  test('another site: SameSite=None; Secure, where the browser allows third-party cookies', async () => {
    const context = await launchAllowingThirdPartyCookies({ viewport: VIEWPORT });
    try {
      await sessionFlow({
        context,
        pageOrigin: pages.crossSiteOrigin,
        server: crossSiteCookies,
        fetchSite: 'cross-site',
        sameSite: 'None',
        screenshot: 'cross-site.png',
      });
    } finally {
      await context.close();
    }
  });

  test('control: across sites, SameSite=Lax cookies are refused, and me fails', async () => {
    const context = await launchAllowingThirdPartyCookies();
    try {
      const user = await registeredUser(defaultCookies);
      const { page } = await openDemo(context, pages.crossSiteOrigin, defaultCookies);
      // CORS lets the page read the answer, and the login itself succeeds...
      const login = await step(page, 'login', user);
      assert.equal(login.body.data?.login?.user?.username, user.username, JSON.stringify(login.body));
      // ...but a cross-site response may not set a SameSite=Lax cookie.
      assert.deepEqual(await context.cookies(defaultCookies.origin), []);
      assert.equal((await step(page, 'me')).body.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    } finally {
      await context.close();
    }
  });

  test('control: a browser that blocks third-party cookies refuses even SameSite=None', async () => {
    // A fresh private profile: Chromium blocks third-party cookies there (the cookies are
    // refused with the reason "UserPreferences"), as Safari does by default.
    const context = await browser.newContext();
    try {
      const user = await registeredUser(crossSiteCookies);
      const { page } = await openDemo(context, pages.crossSiteOrigin, crossSiteCookies);
      const login = await step(page, 'login', user);
      assert.equal(login.body.data?.login?.user?.username, user.username, JSON.stringify(login.body));
      assert.deepEqual(await context.cookies(crossSiteCookies.origin), []);
      assert.equal((await step(page, 'me')).body.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    } finally {
      await context.close();
    }
  });
});
