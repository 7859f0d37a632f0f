// The "second origin": a static server for pages/ on another port of the loopback
// interface. The API runs at http://127.0.0.1:<port1>; addressing this server as
// http://127.0.0.1:<port2> makes the page cross-origin but same-site (a site is scheme +
// registrable domain; the port does not count), and as http://localhost:<port2>
// cross-origin and cross-site.

import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join } from 'node:path';

import { E2E_ROOT } from './paths.mjs';

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };

export async function startPageServer() {
  const root = join(E2E_ROOT, 'pages');
  const server = createServer(async (request, response) => {
    const path = new URL(request.url, 'http://localhost').pathname;
    const type = TYPES[extname(path)];
    if (!/^\/[\w.-]+$/.test(path) || type === undefined) {
      response.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(join(root, path));
      response.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  // Both loopback addresses: the browser may try `localhost` as ::1 or as 127.0.0.1.
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '::', ipv6Only: false }, resolve);
  });
  const { port } = server.address();
  return {
    /** Same site as the API (http://127.0.0.1:<port1>), another origin. */
    sameSiteOrigin: `http://127.0.0.1:${port}`,
    /** Another site than the API. */
    crossSiteOrigin: `http://localhost:${port}`,
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}
