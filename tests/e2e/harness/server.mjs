// Starts the release `latchkey` binary the way an operator would: `latchkey serve` on
// 127.0.0.1 port 0 (the kernel picks a free port; the server logs the one it got), a fresh
// SQLite file in a temporary directory (also the working directory, so no stray
// `latchkey.toml` is read), settings from `LATCHKEY_*` variables only.

import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { OUT_DIR, REPO_ROOT } from './paths.mjs';

const START_TIMEOUT_MS = 60_000;

/** The binary under test: `LATCHKEY_BIN`, else the workspace's release build. */
export const LATCHKEY_BIN = process.env.LATCHKEY_BIN ?? join(REPO_ROOT, 'target', 'release', 'latchkey');

/**
 * Starts a server. `settings` are extra environment variables (`LATCHKEY_CORS_ORIGINS`, ...);
 * `name` names its log file, `out/<name>-server.log`.
 * Resolves to `{ url, origin, port, stop() }` once it listens.
 */
export async function startServer({ name, settings = {} }) {
  const dir = await mkdtemp(join(tmpdir(), `latchkey-e2e-${name}-`));
  await mkdir(OUT_DIR, { recursive: true });
  const log = createWriteStream(join(OUT_DIR, `${name}-server.log`));

  // The parent's environment, minus any Latchkey setting that could leak into the test.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('LATCHKEY_') && key !== 'DATABASE_URL'),
  );
  Object.assign(env, {
    LATCHKEY_BIND: '127.0.0.1:0',
    DATABASE_URL: `sqlite://${join(dir, 'latchkey.db')}?mode=rwc`,
    LATCHKEY_LOG_FORMAT: 'json',
    RUST_LOG: 'info',
    ...settings,
  });

  const child = spawn(LATCHKEY_BIN, ['serve'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log, { end: false });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: no "latchkey listening" line within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${name}: cannot start ${LATCHKEY_BIN} (build it with cargo build --release): ${error.message}`));
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${name}: the server exited (${code ?? signal}) before listening; see out/${name}-server.log`));
    });
    createInterface({ input: child.stderr }).on('line', (line) => {
      log.write(`${line}\n`);
      try {
        const { fields } = JSON.parse(line);
        if (fields?.message === 'latchkey listening' && Number.isInteger(fields.port)) {
          clearTimeout(timer);
          resolve(fields.port);
        }
      } catch {
        // Not a JSON log line (a panic message, say): it is in the log file.
      }
    });
  });

  const origin = `http://127.0.0.1:${port}`;
  return {
    port,
    origin,
    url: `${origin}/graphql`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      log.end();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
