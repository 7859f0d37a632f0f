// Where things are, relative to this package.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** tests/e2e */
export const E2E_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The repository: the workspace, `schema.graphql` and `README.md`. */
export const REPO_ROOT = join(E2E_ROOT, '..', '..');
/** CI artifacts (screenshots, server logs); git-ignored. */
export const OUT_DIR = join(E2E_ROOT, 'out');
export const SCHEMA_FILE = join(REPO_ROOT, 'schema.graphql');
