// Debian's Chromium driven by playwright-core (no browser download): headless, with the
// flags that keep it off the network it cannot reach here anyway.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const OPTIONS = {
  executablePath: CHROMIUM,
  headless: true,
  args: [
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};

/** A browser whose contexts are fresh, private profiles: third-party cookies blocked. */
export function launchBrowser() {
  return chromium.launch(OPTIONS);
}

/**
 * A browser context on a profile whose settings allow third-party cookies (Chromium's
 * "Allow third-party cookies"), as some users' browsers do. `close()` removes the profile.
 */
export async function launchAllowingThirdPartyCookies(contextOptions = {}) {
  const profile = await mkdtemp(join(tmpdir(), 'latchkey-e2e-profile-'));
  await mkdir(join(profile, 'Default'));
  await writeFile(
    join(profile, 'Default', 'Preferences'),
    JSON.stringify({ profile: { cookie_controls_mode: 0, block_third_party_cookies: false } }),
  );
  const context = await chromium.launchPersistentContext(profile, { ...OPTIONS, ...contextOptions });
  const close = context.close.bind(context);
  context.close = async () => {
    await close();
    await rm(profile, { recursive: true, force: true });
  };
  return context;
}
