// The web UI: a few static files (HTML, CSS, browser ES modules) served on the API port under
// /ui. They hold no tenant data; the page signs in with a token and reads everything from the
// API with it, so the files are public and every tenant boundary stays in the API's one hook.
// Files come from a fixed allow-list read once at start, so no request path ever reaches the
// file system and traversal has nothing to walk.
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { fromRoot } from '../paths.js';
import { tsError } from '../errors.js';

/** Where the UI files live: outside src, so the compiled server (dist/src) finds them too. */
export const UI_DIR = fromRoot('ui');

/** The files served under /ui/ and their content types; anything else is a 404. */
export const UI_FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'api.js': 'text/javascript; charset=utf-8',
  'dom.js': 'text/javascript; charset=utf-8',
  'tenant.js': 'text/javascript; charset=utf-8',
  'incidents.js': 'text/javascript; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

/**
 * Only this origin's own files and API; no inline script or style, no plugins, no framing.
 * Data reaches the page as text nodes, and this keeps anything that slipped through inert.
 */
export const UI_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Register GET /ui and GET /ui/* (public: files only, no tenant data). */
export function registerUiRoutes(app: FastifyInstance): void {
  const files = new Map(Object.entries(UI_FILES).map(([name, type]) => [name, { type, body: readFileSync(`${UI_DIR}/${name}`) }]));
  const send = (reply: FastifyReply, name: string): FastifyReply => {
    const file = files.get(name);
    if (!file) throw tsError('TS_ERR_NOT_FOUND', ['GET', `/ui/${name.slice(0, 200)}`]);
    return reply
      .type(file.type)
      .header('content-security-policy', UI_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('x-frame-options', 'DENY')
      // Small files that change with releases: revalidate rather than serve a stale page.
      .header('cache-control', 'no-cache')
      .send(file.body);
  };
  const access = { config: { access: { scope: 'public' } } } as const;
  app.get('/ui', access, async (_req, reply) => send(reply, 'index.html'));
  app.get<{ Params: { '*': string } }>('/ui/*', access, async (req, reply) => send(reply, req.params['*'] || 'index.html'));
}
