// Schema hygiene and the codegen contract:
// - graphql-schema-linter passes on schema.graphql with the rules in .graphql-schema-linterrc;
// - every root field of schema.graphql is used by an operation document, so the generated
//   client covers the whole API;
// - a breaking change to the schema makes `codegen` or `tsc` fail (checked on a copy).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';

import { Kind, parse } from 'graphql';

import { E2E_ROOT, OUT_DIR, SCHEMA_FILE } from '../harness/paths.mjs';

const run = promisify(execFile);
const bin = (name) => join(E2E_ROOT, 'node_modules', '.bin', name);
const OPERATIONS = join(E2E_ROOT, 'operations');
const schema = await readFile(SCHEMA_FILE, 'utf8');

/** Runs a command; resolves to { ok, output } instead of throwing on a non-zero exit. */
async function attempt(command, args, cwd) {
  try {
    const { stdout, stderr } = await run(command, args, { cwd, maxBuffer: 16 * 1024 * 1024 });
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    return { ok: false, output: `${error.stdout ?? ''}${error.stderr ?? ''}${error.message}` };
  }
}

test('graphql-schema-linter passes on schema.graphql', async () => {
  const lint = await attempt(bin('graphql-schema-linter'), [SCHEMA_FILE], E2E_ROOT);
  assert.ok(lint.ok, lint.output);
});

test('every query, mutation and subscription of schema.graphql has an operation document', async () => {
  const roots = {};
  for (const definition of parse(schema).definitions) {
    if (definition.kind === Kind.OBJECT_TYPE_DEFINITION && ['Query', 'Mutation', 'Subscription'].includes(definition.name.value)) {
      roots[definition.name.value] = definition.fields.map((field) => field.name.value);
    }
  }
  assert.ok(roots.Query?.length && roots.Mutation?.length, 'schema.graphql has Query and Mutation');

  const used = { Query: new Set(), Mutation: new Set(), Subscription: new Set() };
  const ROOTS = { query: 'Query', mutation: 'Mutation', subscription: 'Subscription' };
  for (const file of (await readdir(OPERATIONS)).filter((f) => f.endsWith('.graphql'))) {
    for (const definition of parse(await readFile(join(OPERATIONS, file), 'utf8')).definitions) {
      if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
      const root = ROOTS[definition.operation];
      for (const selection of definition.selectionSet.selections) {
        if (selection.kind === Kind.FIELD) used[root].add(selection.name.value);
      }
    }
  }
  for (const [root, fields] of Object.entries(roots)) {
    const missing = fields.filter((field) => !used[root].has(field));
    assert.deepEqual(missing, [], `${root} fields with no document in operations/: write one`);
  }
});

// Each case edits a copy of schema.graphql, then runs the same codegen and tsc as CI on a
// copy of the client. `breaks` says which step must fail.
const BREAKING_CHANGES = [
  {
    name: 'a field renamed (Query.me)',
    edit: (sdl) => sdl.replace(/^(\s+)me: User!$/m, '$1viewer: User!'),
    breaks: 'codegen',
  },
  {
    name: 'a new required argument (login)',
    edit: (sdl) => sdl.replace(/^(\s+)input: LoginInput!$/m, '$1input: LoginInput!,\n$1captcha: String!'),
    breaks: 'codegen',
  },
  {
    name: "a field's type changed (AuthPayload.expires: Int! to String!)",
    edit: (sdl) => sdl.replace(/^(\s+)expires: Int!$/m, '$1expires: String!'),
    breaks: 'tsc',
  },
];

const scratch = join(OUT_DIR, 'breaking-changes');
after(() => rm(scratch, { recursive: true, force: true }));

for (const [index, change] of BREAKING_CHANGES.entries()) {
  test(`a breaking schema change fails ${change.breaks}: ${change.name}`, async () => {
    const edited = change.edit(schema);
    assert.notEqual(edited, schema, 'the edit no longer applies to schema.graphql: update this case');

    const dir = join(scratch, String(index));
    await rm(dir, { recursive: true, force: true });
    await mkdir(join(dir, 'src'), { recursive: true });
    await writeFile(join(dir, 'schema.graphql'), edited);
    const config = (await readFile(join(E2E_ROOT, 'codegen.yml'), 'utf8'))
      .replace(/^schema: .*$/m, 'schema: schema.graphql')
      .replace(/^documents: .*$/m, `documents: ${join(OPERATIONS, '*.graphql')}`);
    await writeFile(join(dir, 'codegen.yml'), config);
    for (const file of ['client.ts', 'example.ts']) {
      await cp(join(E2E_ROOT, 'src', file), join(dir, 'src', file));
    }
    await cp(join(E2E_ROOT, 'tsconfig.json'), join(dir, 'tsconfig.json'));

    const codegen = await attempt(bin('graphql-codegen'), ['--config', 'codegen.yml'], dir);
    if (change.breaks === 'codegen') {
      assert.ok(!codegen.ok, `codegen accepted the broken schema:\n${codegen.output}`);
      return;
    }
    assert.ok(codegen.ok, `codegen failed, but only tsc should:\n${codegen.output}`);
    const tsc = await attempt(bin('tsc'), ['--noEmit', '-p', dir], dir);
    assert.ok(!tsc.ok, `tsc accepted the client against the broken schema:\n${tsc.output}`);
  });
}
