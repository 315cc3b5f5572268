import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { packagePath } from '../../package.js';

// The web console: static files served as they are (no build step), outside /v1. The page holds no secret: it asks
// for an admin key and calls /v1 with it, like any other client. The policy below allows nothing but this origin,
// so no inline script or style, no framing, no form posts and no third-party request can run in the page.

export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

/** The console's files, copied to dist/src/console by the build. */
const ASSETS_DIR = packagePath('dist', 'src', 'console');

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return assets;
  }
  for (const name of names) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(dir, name));
    assets.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` });
  }
  return assets;
}

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONSOLE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('cross-origin-opener-policy', 'same-origin');
}

export function consoleRoutes(app: FastifyInstance, dir: string = ASSETS_DIR): void {
  const assets = loadAssets(dir);

  function send(req: FastifyRequest, reply: FastifyReply, name: string) {
    const asset = assets.get(name);
    if (!asset) return reply.callNotFound();
    // Revalidated on every load (a cheap 304), so an upgraded server never runs a stale script against a new API.
    securityHeaders(reply).header('cache-control', 'no-cache').header('etag', asset.etag);
    if (req.headers['if-none-match'] === asset.etag) return reply.status(304).send();
    return reply.type(asset.type).send(asset.body);
  }

  const page = { schema: { hide: true } };
  app.get('/', page, async (_req, reply) => reply.redirect('/console/', 302));
  // ignoreTrailingSlash makes /console and /console/ one route; the page's relative URLs need the slash.
  app.get('/console/', page, async (req, reply) =>
    req.url.split('?')[0]!.endsWith('/') ? send(req, reply, 'index.html') : reply.redirect('/console/', 302),
  );
  app.get<{ Params: { file: string } }>('/console/:file', page, async (req, reply) => send(req, reply, req.params.file));
}
