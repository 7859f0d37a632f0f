// The GraphQL-over-HTTP audit of the `graphql-http` package (`auditServer`) against
// `POST /graphql` of a release server. Every MUST passes. Every SHOULD passes, or is listed
// in `audit-skips.json` with its reason, and named in docs/clients.md too.
// MAYs are reported, and skipped when the server chose not to.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { auditServer } from 'graphql-http';

import { E2E_ROOT, REPO_ROOT } from '../harness/paths.mjs';
import { startServer } from '../harness/server.mjs';

const skips = JSON.parse(readFileSync(join(E2E_ROOT, 'audit-skips.json'), 'utf8'));
const clientsDoc = readFileSync(join(REPO_ROOT, 'docs', 'clients.md'), 'utf8');

const server = await startServer({ name: 'audit' });
after(() => server.stop());

const results = await auditServer({ url: server.url });
const level = (result) => result.name.split(' ')[0];

/** Why an audit failed: its reason and what the server answered. */
async function explain(result) {
  let body = '';
  try {
    body = await result.response.clone().text();
  } catch {
    // The body was read already.
  }
  return `${result.id} ${result.name}: ${result.reason}\n  HTTP ${result.response?.status} ${body.slice(0, 300)}`;
}

test('the audit ran every level of requirement', () => {
  for (const required of ['MUST', 'SHOULD', 'MAY']) {
    assert.ok(results.some((r) => level(r) === required), `no ${required} audit ran`);
  }
});

for (const result of results) {
  test(`${result.id} ${result.name}`, async (t) => {
    const passed = result.status === 'ok';
    switch (level(result)) {
      case 'MUST':
        assert.ok(passed, await explain(result));
        break;
      case 'SHOULD':
        if (result.id in skips) {
          // A documented exception must still be one, or docs/clients.md would say something false.
          assert.ok(!passed, `${result.id} passes now: remove it from audit-skips.json and docs/clients.md`);
          t.skip(`documented exception: ${skips[result.id]}`);
        } else {
          assert.ok(passed, `${await explain(result)}\n(fix it, or list it in audit-skips.json and docs/clients.md with the reason)`);
        }
        break;
      default:
        if (!passed) t.skip(`optional, not done: ${result.reason}`);
    }
  });
}

test('every documented exception is a SHOULD of this audit and is named in the README', () => {
  for (const id of Object.keys(skips)) {
    const result = results.find((r) => r.id === id);
    assert.ok(result, `${id} is not an audit of this graphql-http version`);
    assert.equal(level(result), 'SHOULD', `${id} is a ${level(result)}: only SHOULDs may be skipped`);
    assert.ok(clientsDoc.includes(id), `docs/clients.md does not explain the skipped audit ${id}`);
  }
});

test('audit summary', (t) => {
  const summary = {};
  for (const result of results) {
    const counts = (summary[level(result)] ??= { passed: 0, skipped: 0 });
    counts[result.status === 'ok' ? 'passed' : 'skipped'] += 1;
  }
  const line = Object.entries(summary)
    .map(([name, { passed, skipped }]) => `${name} ${passed} passed, ${skipped} skipped`)
    .join('; ');
  t.diagnostic(`graphql-http audit: ${line}`);
});
