// The report routes and commands as callers use them: real spans in through OTLP/HTTP, the
// SLO report out through the API and `tenantscope report slo`, each scoped by the caller's token.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bearer, startTestServer, type TestServer } from './support/server.js';
import { protobufTraces } from './support/otlp.js';
import { cliResult } from './support/cli.js';
import type { SloReport } from '../src/reports/slo.js';

let server: TestServer;

test.before(async () => {
  server = await startTestServer({ policies: 'off' });
  const res = await fetch(`${server.otlpHttpUrl}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf', ...bearer('demo-ingest-acme-dist') },
    body: protobufTraces({ spans: 40, resource: { 'tenant.id': 'acme-dist', 'service.name': 'order-api' } }),
  });
  assert.is(res.status, 200);
});

test('a read token gets its own tenant\'s SLO report, counted from the spans it sent', async () => {
  const res = await fetch(`${server.apiUrl}/api/v1/tenants/acme-dist/slo`, { headers: bearer('demo-read-acme-dist') });
  assert.is(res.status, 200);
  const r = (await res.json()) as SloReport;
  assert.is(r.tenant, 'acme-dist');
  const svc = r.services.find((s) => s.service === 'order-api')!;
  assert.is(svc.requests, 40);
  assert.is(svc.availability.sli, 1);
  assert.is(svc.availability.error_budget_remaining, 1);
  assert.is(r.status, 'ok');
});

test('the auditor of acme-dist reads it; a token of another tenant gets 403 and nothing of it', async () => {
  const auditor = await fetch(`${server.apiUrl}/api/v1/tenants/acme-dist/slo`, { headers: bearer('demo-auditor') });
  assert.is(auditor.status, 200);
  for (const token of ['demo-read-globex-3pl', 'demo-ingest-acme-dist']) {
    const res = await fetch(`${server.apiUrl}/api/v1/tenants/acme-dist/slo`, { headers: bearer(token) });
    assert.is(res.status, 403, token);
    assert.not.match(await res.text(), /order-api/);
  }
  const unknown = await fetch(`${server.apiUrl}/api/v1/tenants/no-such-tenant/slo`, { headers: bearer('demo-read-globex-3pl') });
  assert.is(unknown.status, 403);
});

test('a window with from after to is a 400 naming the parameter', async () => {
  const res = await fetch(`${server.apiUrl}/api/v1/tenants/acme-dist/slo?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z`, { headers: bearer('demo-admin') });
  assert.is(res.status, 400);
  assert.match(await res.text(), /from/);
});

test('report slo --api prints the table with the caller\'s scope', async () => {
  const r = await cliResult(['report', 'slo', '--tenant', 'acme-dist', '--api', server.apiUrl, '--token', 'demo-read-acme-dist']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /order-api\s+availability\s+40\s+100\.000%/);
  assert.match(r.stdout, /status: ok/);
  const other = await cliResult(['report', 'slo', '--tenant', 'acme-dist', '--api', server.apiUrl, '--token', 'demo-read-hooli-wholesale']);
  assert.is(other.code, 2);
  assert.match(other.stderr, /TS_ERR_FORBIDDEN/);
});

test.after(async () => {
  await server.stop();
});

test.run();
