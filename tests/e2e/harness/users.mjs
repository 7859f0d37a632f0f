// Random, valid test users.

import { randomUUID } from 'node:crypto';

export function newUser(prefix = 'e2e') {
  const id = randomUUID().replaceAll('-', '');
  const username = `${prefix}_${id.slice(0, 10)}`;
  return { username, email: `${username}@example.com`, password: `Pw-${randomUUID()}` };
}
