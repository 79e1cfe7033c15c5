// Moving a tenant from the shared instance to a dedicated one: export it from the shared
// instance, restore it into a second instance (its own data directory), erase it from the
// shared one. For the period before the move the dedicated instance must tell the tenant's
// story as the shared one did: SLOs, usage, findings, and the usage behind its cost. Its
// noisy-neighbour and cost figures differ by design: there are no neighbours and no shared
// platform cost to split on a dedicated instance.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../src/server.js';
import { DEMO_CONFIG, bearer } from '../support/server.js';
import { protobufTraces } from '../support/otlp.js';
import { auditEvent } from '../support/audit.js';
import { extractBundle } from '../../src/lifecycle/tarball.js';
import { restoreTenant } from '../../src/lifecycle/restore.js';
import { tenantFingerprints } from '../../src/lifecycle/tables.js';
import { AuditIngest } from '../../src/ingest/audit/ingest.js';
import { ChainWriter } from '../../src/ingest/audit/chain.js';
import { insertChunk } from '../../src/store/index.js';
import type { CostReport } from '../../src/reports/cost.js';

const MOVED = 'acme-dist';
const STAYING = ['hooli-wholesale', 'initech-retail'];
const sharedDir = mkdtempSync(join(tmpdir(), 'tenantscope-shared-'));
const dedicatedDir = mkdtempSync(join(tmpdir(), 'tenantscope-dedicated-'));
const bundleDir = join(mkdtempSync(join(tmpdir(), 'tenantscope-move-')), 'bundle');

const start = (dataDir: string) =>
  startServer({ configPath: DEMO_CONFIG, dataDir, host: '127.0.0.1', otlpHttpPort: 0, otlpGrpcPort: 0, apiPort: 0, writer: { lingerMs: 5 }, policyIntervalMs: 0 });

async function get<T>(s: RunningServer, path: string): Promise<T> {
  const res = await fetch(`${s.apiUrl}${path}`, { headers: bearer('demo-admin') });
  assert.is(res.status, 200, `${path}: ${res.status}`);
  return (await res.json()) as T;
}

/** What the dedicated instance must give back equal, for the period. */
async function story(s: RunningServer, q: string) {
  const slo = await get<Record<string, unknown>>(s, `/api/v1/tenants/${MOVED}/slo?${q}`);
  delete slo.generated_at;
  const usage = await get<unknown>(s, `/api/v1/tenants/${MOVED}/usage?${q}`);
  const violations = await get<unknown>(s, `/api/v1/tenants/${MOVED}/violations?status=all`);
  const cost = await get<CostReport>(s, `/api/v1/tenants/${MOVED}/cost?${q}`);
  const u = cost.tenants[0]!.usage;
  return { slo, usage, violations, costUsage: { cpu_seconds: u.cpu_seconds, requests: u.requests, gb_ingested: u.gb_ingested }, costTotal: cost.total };
}

let q = '';
let shared: Awaited<ReturnType<typeof story>>;
let sharedKey = '';
let othersBefore: Record<string, Record<string, string>> = {};

test.after(() => {
  for (const d of [sharedDir, dedicatedDir, join(bundleDir, '..')]) rmSync(d, { recursive: true, force: true });
});

test('the shared instance serves the tenant among its neighbours and exports it', async () => {
  const s = await start(sharedDir);
  try {
    const fromMs = Date.now() - 60_000;
    for (const [tenant, spans] of [[MOVED, 20], [STAYING[0]!, 30], [STAYING[1]!, 10]] as const) {
      const res = await fetch(`${s.otlpHttpUrl}/v1/traces`, { method: 'POST', body: protobufTraces({ spans, durationMs: 40, attributes: { 'db.client.connection.pool.name': 'shared-pg' } }), headers: { 'content-type': 'application/x-protobuf', ...bearer(`demo-ingest-${tenant}`) } });
      assert.is(res.status, 200);
    }
    // A cross-tenant audit event: a finding of the isolation policy for the moved tenant.
    const audit = await fetch(`${s.otlpHttpUrl}/v1/audit`, { method: 'POST', body: JSON.stringify(auditEvent({ target: { type: 'dataset', id: 'x', tenant_id: 'hooli-wholesale' } })), headers: { 'content-type': 'application/json', ...bearer(`demo-ingest-${MOVED}`) } });
    assert.is(audit.status, 200);
    await s.policies?.drain();
    await s.settle();
    q = new URLSearchParams({ from: new Date(fromMs).toISOString(), to: new Date(Date.now() + 1).toISOString() }).toString();
    shared = await story(s, q);
    // A story worth comparing: spans counted, a finding recorded, compute measured.
    assert.is((shared.usage as { spans: { count: number } }).spans.count, 20);
    assert.ok((shared.violations as { violations: unknown[] }).violations.length > 0, JSON.stringify(shared.violations));
    assert.ok(shared.costUsage.requests > 0 && shared.costUsage.cpu_seconds > 0, JSON.stringify(shared.costUsage));
    sharedKey = (await get<{ public_key: string }>(s, '/api/v1/evidence/public-key')).public_key;
    const res = await fetch(`${s.apiUrl}/api/v1/tenants/${MOVED}/export`, { headers: bearer('demo-admin') });
    assert.is(res.status, 200);
    await extractBundle(res.body!, bundleDir);
    othersBefore = await tenantFingerprints(s.store, STAYING);
  } finally {
    await s.close();
  }
});

test('restored into a dedicated instance, the tenant has the same SLOs, usage, findings and cost usage for the period before the move', async () => {
  const d = await start(dedicatedDir);
  try {
    const audit = new AuditIngest(d.registry, new ChainWriter(d.store, 'move-tool'), (_t, rows) => insertChunk(d.store, rows).then(() => undefined));
    const report = await restoreTenant(d.store, bundleDir, { registry: d.registry, trustedKey: sharedKey, actor: 'operator', audit: (t, e) => audit.record(t, [e], 'operator') });
    assert.is(report.outcome, 'success', JSON.stringify(report.tables));
    const dedicated = await story(d, q);
    assert.equal(dedicated.slo, shared.slo);
    assert.equal(dedicated.usage, shared.usage);
    assert.equal(dedicated.violations, shared.violations);
    assert.equal(dedicated.costUsage, shared.costUsage);
    // By design: the shared instance split its fixed platform cost among the tenants; alone, the tenant bears all of it.
    assert.is.not(dedicated.costTotal, shared.costTotal);
    const noisy = await get<{ offenders: unknown[] }>(d, `/api/v1/tenants/${MOVED}/noisy-neighbors?${q}`);
    assert.is(noisy.offenders.length, 0, 'no neighbours on a dedicated instance');
  } finally {
    await d.close();
  }
});

test('erased from the shared instance, the tenant is gone there and its neighbours are untouched', async () => {
  const s = await start(sharedDir);
  try {
    const res = await fetch(`${s.apiUrl}/api/v1/tenants/${MOVED}/erase?confirm=${MOVED}`, { method: 'POST', headers: bearer('demo-admin') });
    assert.is(res.status, 200, await res.clone().text());
    const left = await tenantFingerprints(s.store, [MOVED, ...STAYING]);
    assert.ok(Object.values(left[MOVED]!).every((f) => f.startsWith('0:')));
    for (const t of STAYING) assert.equal(left[t], othersBefore[t], `${t} unchanged`);
  } finally {
    await s.close();
  }
});

test.run();
