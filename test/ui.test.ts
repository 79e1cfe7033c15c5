// The web UI's files as the server hands them out, without a browser: public, identical for
// every caller, free of tenant data, under a strict Content-Security-Policy, and only the
// allow-listed files, whatever a request path tries.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'node:http';
import { loadRegistry } from '../src/config/index.js';
import { UI_FILES } from '../src/http/ui.js';
import { bearer, DEMO_CONFIG, startTestServer, type TestServer } from './support/server.js';

let server: TestServer;

test.before(async () => {
  server = await startTestServer({ policies: 'off' });
});
test.after(async () => {
  await server.stop();
});

/** A GET with the path sent exactly as written (fetch would normalise `..` away first). */
function rawGet(path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const url = new URL(server.apiUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const PAGES = ['/ui', '/ui/', ...Object.keys(UI_FILES).map((f) => `/ui/${f}`)];

test('every UI file is served without a token, with its content type, and names no tenant', async () => {
  const registry = loadRegistry(DEMO_CONFIG);
  const names = registry.tenants().flatMap((t) => [t.id, t.name, ...t.identifiers]);
  for (const path of PAGES) {
    const res = await fetch(`${server.apiUrl}${path}`);
    assert.is(res.status, 200, path);
    const file = path === '/ui' || path === '/ui/' ? 'index.html' : path.slice('/ui/'.length);
    assert.is(res.headers.get('content-type'), UI_FILES[file], path);
    const body = (await res.text()).toLowerCase();
    for (const name of names) assert.not.ok(body.includes(name.toLowerCase()), `${path} mentions ${name}`);
  }
});

test('the UI page is the same file for anonymous and admin callers: data comes only from the API', async () => {
  const anonymous = await (await fetch(`${server.apiUrl}/ui`)).text();
  const admin = await (await fetch(`${server.apiUrl}/ui`, { headers: bearer('demo-admin') })).text();
  assert.is(admin, anonymous);
  // The page loads its script and style from the allow-list, so the browser finds them.
  for (const [, ref] of anonymous.matchAll(/(?:src|href)="(\/ui\/[^"]+)"/g)) assert.ok(PAGES.includes(ref!), `${ref} is served`);
});

test('the UI answers with a Content-Security-Policy of self only, with no inline script and no other origin', async () => {
  for (const path of PAGES) {
    const res = await fetch(`${server.apiUrl}${path}`);
    const csp = res.headers.get('content-security-policy') ?? '';
    const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name!, values]));
    assert.equal(directives.get('default-src'), ["'self'"], `${path}: ${csp}`);
    assert.equal(directives.get('script-src'), ["'self'"], `${path}: ${csp}`);
    assert.equal(directives.get('object-src'), ["'none'"], `${path}: ${csp}`);
    assert.equal(directives.get('frame-ancestors'), ["'none'"], `${path}: ${csp}`);
    assert.not.match(csp, /unsafe-inline|unsafe-eval|https?:|\*/, `${path}: ${csp}`);
    assert.is(res.headers.get('x-content-type-options'), 'nosniff', path);
  }
  // The page itself carries no inline script for that policy to have to allow.
  const html = await (await fetch(`${server.apiUrl}/ui`)).text();
  for (const [tag] of html.matchAll(/<script\b[^>]*>/g)) assert.match(tag, /\ssrc="\/ui\//, tag);
  assert.not.match(html, /\son[a-z]+\s*=|style="/i);
});

test('paths that climb out of /ui, plain or encoded, get 404 or 400 and never a file from the repository', async () => {
  const attempts = [
    '/ui/../package.json',
    '/ui/..%2fpackage.json',
    '/ui/..%2Fpackage.json',
    '/ui/%2e%2e/package.json',
    '/ui/%2e%2e%2fpackage.json',
    '/ui/%2E%2E%2Fpackage.json',
    '/ui/%252e%252e%252fpackage.json',
    '/ui/..%5cpackage.json',
    '/ui/....//package.json',
    '/ui/..;/package.json',
    '/ui/%c0%ae%c0%ae/package.json',
    '/ui/../src/http/ui.ts',
    '/ui/..%2f..%2f..%2fetc%2fpasswd',
    '/ui//etc/passwd',
    '/ui/%2fetc%2fpasswd',
    '/ui/app.js%00.html',
    '/ui/./app.js',
    '/ui/%2e/app.js',
  ];
  for (const path of attempts) {
    const res = await rawGet(path);
    assert.ok(res.status === 404 || res.status === 400, `${path}: ${res.status}`);
    assert.not.match(res.body, /devDependencies|root:x:0:0|registerUiRoutes/, path);
    // Fastify itself refuses undecodable URLs (400) before any route sees them.
    if (res.status === 404) assert.match(res.body, /"code":"TS_ERR_NOT_FOUND"/, `${path}: the API's error shape`);
  }
});

test('files outside the allow-list get 404', async () => {
  for (const path of ['/ui/nope.js', '/ui/index.htm', '/ui/app.js.map', '/ui/ui.ts', '/ui/APP.JS', '/ui/constructor', '/ui/__proto__', '/ui/app.js/']) {
    const res = await rawGet(path);
    assert.is(res.status, 404, path);
    assert.match(res.body, /TS_ERR_NOT_FOUND/, path);
  }
});

test.run();
