// The usage API: what each token may read, what the figures mean, and how bad queries fail.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, bearer, type TestServer } from './support/server.js';
import { protobufTraces } from './support/otlp.js';

let server: TestServer;
const TENANTS = ['acme-dist', 'hooli-wholesale', 'initech-retail', 'stark-logistics', 'umbrella-pharma', 'globex-3pl', 'nakatomi-trading'];

test.before(async () => {
  server = await startTestServer();
  // Every tenant sends a different number of spans, so a leak would show as a wrong count.
  for (const [i, tenant] of TENANTS.entries()) {
    const res = await fetch(`${server.otlpHttpUrl}/v1/traces`, {
      method: 'POST',
      body: protobufTraces({ spans: i + 1 }),
      headers: { 'content-type': 'application/x-protobuf', ...bearer(`demo-ingest-${tenant}`) },
    });
    assert.is(res.status, 200);
  }
});
test.after(async () => {
  await server.stop();
});

function usage(tenant: string, token: string | undefined, query = '') {
  return fetch(`${server.apiUrl}/api/v1/tenants/${tenant}/usage${query}`, { headers: token ? bearer(token) : {} });
}

for (const [i, tenant] of TENANTS.entries()) {
  test(`the read token of ${tenant} sees exactly its own ${i + 1} span(s)`, async () => {
    const res = await usage(tenant, `demo-read-${tenant}`);
    assert.is(res.status, 200);
    const body = (await res.json()) as { tenant: string; spans: { count: number; bytes: number }; logs: { count: number }; metric_points: { count: number } };
    assert.is(body.tenant, tenant);
    assert.is(body.spans.count, i + 1);
    assert.ok(body.spans.bytes > 0);
    assert.is(body.logs.count, 0);
    assert.is(body.metric_points.count, 0);
  });

  test(`no other tenant's read or ingest token can read ${tenant} usage`, async () => {
    for (const other of TENANTS.filter((t) => t !== tenant)) {
      for (const token of [`demo-read-${other}`, `demo-ingest-${other}`]) {
        const res = await usage(tenant, token);
        assert.is(res.status, 403, `${token} -> ${tenant}`);
        const text = await res.text();
        assert.not.ok(text.includes(tenant), 'a refusal does not echo the tenant');
      }
    }
  });
}

test('the admin token reads every tenant and gets 404 for a tenant that does not exist', async () => {
  for (const tenant of TENANTS) assert.is((await usage(tenant, 'demo-admin')).status, 200);
  const res = await usage('no-such-tenant', 'demo-admin');
  assert.is(res.status, 404);
  assert.is(((await res.json()) as { error: { code: string } }).error.code, 'TS_ERR_TENANT_NOT_FOUND');
});

test('a scoped token gets the same 403 for a missing tenant as for an existing one', async () => {
  const missing = await usage('no-such-tenant', 'demo-read-acme-dist');
  const existing = await usage('globex-3pl', 'demo-read-acme-dist');
  assert.is(missing.status, 403);
  assert.is(existing.status, 403);
  assert.equal(await missing.json(), await existing.json());
});

test('usage without a token is 401 and with an unknown token is 401', async () => {
  assert.is((await usage('acme-dist', undefined)).status, 401);
  assert.is((await usage('acme-dist', 'guess')).status, 401);
});

test('from and to bound the window, in RFC 3339 or epoch milliseconds', async () => {
  const future = await usage('acme-dist', 'demo-read-acme-dist', '?from=2999-01-01T00:00:00Z');
  assert.is(future.status, 200);
  assert.is(((await future.json()) as { spans: { count: number } }).spans.count, 0);
  const past = await usage('acme-dist', 'demo-read-acme-dist', `?from=0&to=${Date.now() + 60_000}`);
  assert.is(((await past.json()) as { spans: { count: number } }).spans.count, 1);
});

test('a malformed or inverted window is a 400 naming the parameter', async () => {
  const bad = await usage('acme-dist', 'demo-read-acme-dist', '?from=yesterday');
  assert.is(bad.status, 400);
  const body = (await bad.json()) as { error: { code: string; message: string } };
  assert.is(body.error.code, 'TS_ERR_BAD_QUERY');
  assert.match(body.error.message, /from/);
  const inverted = await usage('acme-dist', 'demo-read-acme-dist', '?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z');
  assert.is(inverted.status, 400);
});

test('the health check answers without a token', async () => {
  const res = await fetch(`${server.apiUrl}/healthz`);
  assert.is(res.status, 200);
  assert.equal(await res.json(), { status: 'ok', store: 'chdb', tenants: 7 });
});

test.run();
