// The example in docs/clients.md: the generated, typed operations through
// LatchkeyClient. Compiled by `tsc` and run against a live server by test/client.test.mjs.

import { LatchkeyClient, LatchkeyError } from './client.js';

export async function example(url: string, username: string, password: string): Promise<string[]> {
  const said: string[] = [];
  const client = new LatchkeyClient(url);

  const login = await client.login({ username, password }); // mode: JSON by default
  said.push(`logged in as ${login.user.username} (${login.user.role}) until ${login.expiresAt}`);

  const me = await client.me(); // Authorization: Bearer <accessToken>
  said.push(`me: ${me.username} <${me.email ?? 'no email'}>`);

  const renewed = await client.refresh(); // rotates the refresh token
  said.push(`refreshed: a new token valid ${renewed.expires / 1000} s`);

  await client.logout();
  try {
    await client.me();
  } catch (error) {
    if (error instanceof LatchkeyError && error.code === 'UNAUTHENTICATED') {
      said.push('logged out: me is UNAUTHENTICATED');
    } else {
      throw error;
    }
  }
  return said;
}
