// The whole service on the remote store: tenantscope started with a ClickHouse URL (the
// ClickHouse HTTP test server, chDB behind ClickHouse's HTTP interface) takes real OTLP/HTTP
// traces and audit events of two tenants and serves every tenant report from there, each
// tenant seeing only its own data. With a URL the service opens no chDB itself, which is
// what lets this one process hold the test server's engine and the service together.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startClickHouseTestServer, type ClickHouseTestServer } from '../support/clickhouse-http.js';
import { bearer, startTestServer, type TestServer } from '../support/server.js';
import { jsonTraces, protobufTraces } from '../support/otlp.js';
import { auditEvent } from '../support/audit.js';
import { decodeExportResponse } from '../../src/ingest/otlp/index.js';
import type { SloReport } from '../../src/reports/slo.js';
import type { Violation } from '../../src/policy/types.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extractBundle } from '../../src/lifecycle/tarball.js';
import { restoreTenant } from '../../src/lifecycle/restore.js';
import { tenantFingerprints } from '../../src/lifecycle/tables.js';
import { AuditIngest } from '../../src/ingest/audit/ingest.js';
import { ChainWriter, verifyChain } from '../../src/ingest/audit/chain.js';
import { insertChunk } from '../../src/store/index.js';

const ACME = 'acme-dist';
const HOOLI = 'hooli-wholesale';

let clickhouse: ClickHouseTestServer;
let server: TestServer;

async function send(path: string, token: string, body: Buffer | string, type: string): Promise<Response> {
  return fetch(`${server.otlpHttpUrl}${path}`, { method: 'POST', body, headers: { 'content-type': type, ...bearer(token) } });
}

async function read<T>(path: string, token: string): Promise<{ status: number; body: T; text: string }> {
  const res = await fetch(`${server.apiUrl}${path}`, { headers: bearer(token) });
  const text = await res.text();
  return { status: res.status, body: (text.startsWith('{') ? JSON.parse(text) : undefined) as T, text };
}

test.before(async () => {
  clickhouse = await startClickHouseTestServer();
  server = await startTestServer({ clickhouseUrl: clickhouse.url, policyIntervalMs: 0 });

  const acme = await send('/v1/traces', `demo-ingest-${ACME}`, protobufTraces({ spans: 12, resource: { 'service.name': 'order-api' } }), 'application/x-protobuf');
  assert.is(acme.status, 200);
  const hooli = await send('/v1/traces', `demo-ingest-${HOOLI}`, jsonTraces({ spans: 5, resource: { 'service.name': 'catalog-api' } }), 'application/json');
  assert.is(hooli.status, 200);
  // acme-dist's token sending spans that claim to be hooli-wholesale's.
  const foreign = await send('/v1/traces', `demo-ingest-${ACME}`, jsonTraces({ spans: 3, resource: { 'service.name': 'order-api', 'tenant.id': HOOLI } }), 'application/json');
  assert.is(foreign.status, 200);
  assert.is(decodeExportResponse('traces', Buffer.from(await foreign.arrayBuffer()), 'json').rejected, 3);

  const acmeAudit = await send('/v1/audit', `demo-ingest-${ACME}`, JSON.stringify([auditEvent({ id: 'acme-1' }), auditEvent({ id: 'acme-2', action: 'privilege.grant' })]), 'application/json');
  assert.is(acmeAudit.status, 200);
  const hooliEvent = auditEvent({
    id: 'hooli-1',
    actor: { id: 'u-77', type: 'user', tenant_id: HOOLI },
    target: { type: 'dataset', id: 'catalog-2026', tenant_id: HOOLI },
    attributes: { approval: 'CHG-9' },
  });
  const hooliAudit = await send('/v1/audit', `demo-ingest-${HOOLI}`, JSON.stringify(hooliEvent), 'application/json');
  assert.is(hooliAudit.status, 200);
  await server.policies!.drain();
});

test.after(async () => {
  await server?.stop();
  await clickhouse?.close();
});

test('the service migrates and serves on the remote store and keeps no chDB data of its own', async () => {
  assert.is(server.store.kind, 'remote');
  const health = await read<{ status: string; store: string }>('/healthz', 'demo-admin');
  assert.equal([health.status, health.body.status, health.body.store], [200, 'ok', 'remote']);
  const [applied] = await server.store.query<{ n: string }>('SELECT count() AS n FROM schema_migrations');
  assert.ok(Number(applied!.n) >= 6, `migrations recorded on the server: ${applied!.n}`);
  assert.not.ok(existsSync(join(server.dataDir, 'metadata')), 'no chDB database in the service data directory');
  assert.ok(clickhouse.requests > 0);
});

test('spans of two tenants go in over OTLP/HTTP and each SLO report counts only its own', async () => {
  const acme = await read<SloReport>(`/api/v1/tenants/${ACME}/slo`, `demo-read-${ACME}`);
  assert.is(acme.status, 200);
  assert.equal(acme.body.services.map((s) => [s.service, s.requests]), [['order-api', 12]]);
  assert.is(acme.body.status, 'ok');
  const hooli = await read<SloReport>(`/api/v1/tenants/${HOOLI}/slo`, `demo-read-${HOOLI}`);
  assert.is(hooli.status, 200);
  assert.equal(hooli.body.services.map((s) => [s.service, s.requests]), [['catalog-api', 5]], 'the 3 spans claiming hooli-wholesale are not hers');
});

test("usage counts each tenant's own spans, and spans claiming another tenant are recorded against their sender", async () => {
  const acme = await read<{ spans: { count: number } }>(`/api/v1/tenants/${ACME}/usage`, `demo-read-${ACME}`);
  assert.is(acme.body.spans.count, 12);
  const hooli = await read<{ spans: { count: number } }>(`/api/v1/tenants/${HOOLI}/usage`, `demo-read-${HOOLI}`);
  assert.is(hooli.body.spans.count, 5);
  const acmeViolations = await read<{ violations: Violation[] }>(`/api/v1/tenants/${ACME}/violations`, `demo-read-${ACME}`);
  assert.ok(
    acmeViolations.body.violations.some((v) => v.policy === 'isolation' && v.rule === 'foreign_tenant_write'),
    acmeViolations.text,
  );
  const hooliViolations = await read<{ violations: Violation[] }>(`/api/v1/tenants/${HOOLI}/violations`, `demo-read-${HOOLI}`);
  assert.not.ok(hooliViolations.body.violations.some((v) => v.rule === 'foreign_tenant_write'), hooliViolations.text);
});

test("audit events of two tenants form one chain each, and each verifies with only its own events", async () => {
  // Each chain holds the tenant's posted events and the API reads of its data (recorded too).
  const own = async (tenant: string) => {
    const rows = await server.store.query<{ posted: string; reads: string }>(
      "SELECT countIf(action != 'tenantscope.api.read') AS posted, countIf(action = 'tenantscope.api.read') AS reads FROM audit_events WHERE tenant_id = {t:String}",
      { t: tenant },
    );
    return { posted: Number(rows[0]!.posted), all: Number(rows[0]!.posted) + Number(rows[0]!.reads) };
  };
  const acme = await read<{ status: string; events: number }>(`/api/v1/tenants/${ACME}/audit/verify`, `demo-read-${ACME}`);
  const acmeRows = await own(ACME);
  assert.equal([acme.status, acme.body.status, acmeRows.posted], [200, 'ok', 2]);
  assert.is(acme.body.events, acmeRows.all - 1, 'every event but the read now being answered, which is chained before it leaves');
  const hooli = await read<{ status: string; events: number }>(`/api/v1/tenants/${HOOLI}/audit/verify`, `demo-read-${HOOLI}`);
  const hooliRows = await own(HOOLI);
  assert.equal([hooli.status, hooli.body.status, hooliRows.posted], [200, 'ok', 1]);
  assert.is(hooli.body.events, hooliRows.all - 1);
});

for (const report of ['slo', 'usage', 'noisy-neighbors', 'cost', 'violations', 'audit/verify']) {
  test(`the ${report} report answers each tenant's read token and refuses the other tenant's`, async () => {
    for (const [tenant, other] of [[ACME, HOOLI], [HOOLI, ACME]]) {
      const own = await read(`/api/v1/tenants/${tenant}/${report}`, `demo-read-${tenant}`);
      assert.is(own.status, 200, `${tenant}: ${own.text}`);
      const foreign = await read(`/api/v1/tenants/${tenant}/${report}`, `demo-read-${other}`);
      assert.is(foreign.status, 403, `${other} reading ${tenant}`);
      assert.not.ok(foreign.text.includes(tenant), 'a refusal does not echo the tenant');
    }
  });
}

test('on the remote store a tenant is exported, erased and restored as on the embedded one, and the other tenant never moves', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'tenantscope-remote-bundle-')), 'acme');
  try {
    const before = await tenantFingerprints(server.store, [ACME, HOOLI]);
    const res = await fetch(`${server.apiUrl}/api/v1/tenants/${ACME}/export`, { headers: bearer('demo-admin') });
    assert.is(res.status, 200);
    await extractBundle(res.body!, dir);
    const erased = await fetch(`${server.apiUrl}/api/v1/tenants/${ACME}/erase?confirm=${ACME}`, { method: 'POST', headers: bearer('demo-admin') });
    assert.is(erased.status, 200, await erased.clone().text());
    const gone = await tenantFingerprints(server.store, [ACME, HOOLI]);
    assert.ok(Object.values(gone[ACME]!).every((f) => f.startsWith('0:')));
    assert.equal(gone[HOOLI], before[HOOLI]);
    const key = ((await (await fetch(`${server.apiUrl}/api/v1/evidence/public-key`)).json()) as { public_key: string }).public_key;
    // A restore tool of its own (another chain segment than the server's), through the same remote store.
    const audit = new AuditIngest(server.registry, new ChainWriter(server.store, 'restore-tool'), (_t, rows) => insertChunk(server.store, rows).then(() => undefined));
    const report = await restoreTenant(server.store, dir, { registry: server.registry, trustedKey: key, actor: 'test', audit: (t, e) => audit.record(t, [e], 'test') });
    assert.is(report.outcome, 'success', JSON.stringify(report.tables));
    assert.ok(report.others_unchanged);
    const after = await tenantFingerprints(server.store, [ACME, HOOLI]);
    assert.equal(after[HOOLI], before[HOOLI]);
    assert.is(after[ACME]!.spans, before[ACME]!.spans);
    assert.is((await verifyChain(server.store, ACME)).status, 'ok');
  } finally {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
});

test.run();
