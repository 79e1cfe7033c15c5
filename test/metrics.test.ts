// The Prometheus metrics as a scrape sees them: hot-path counters per tenant, the SLI counters
// the burn-rate rules divide, the cardinality guard that folds tenants past the limit into
// tenant="other", and the per-caller filtering of the exposition.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadRegistry, type Registry } from '../src/config/index.js';
import type { ResourceGroup, SpanRecord } from '../src/ingest/otlp/types.js';
import type { StoredSlice } from '../src/ingest/pipeline.js';
import { emptySpan } from '../src/ingest/otlp/flatten.js';
import { spanRows } from '../src/ingest/rows.js';
import { onlyTenants } from '../src/http/metrics.js';
import { TenantscopeMetrics } from '../src/telemetry/metrics.js';

const registry: Registry = loadRegistry(new URL('../../fixtures/tenants.yaml', import.meta.url));

/** A server span lasting `ms`, with status `status` (0 unset, 2 error). */
function span(ms: number, status = 0, kind = 2): SpanRecord {
  const start = 1_700_000_000_000_000_000n;
  return {
    ...emptySpan({ name: 'test', version: '', attributes: {}, droppedAttributesCount: 0, schemaUrl: '' }),
    traceId: '0'.repeat(31) + '1',
    spanId: '0'.repeat(15) + '1',
    name: 'GET /orders',
    kind,
    startTimeUnixNano: String(start),
    endTimeUnixNano: String(start + BigInt(ms) * 1_000_000n),
    statusCode: status,
  };
}

/** A tenant's stored spans as ingest reports them: SLI events counted while the columns are written. */
function slice(tenantId: string, spans: SpanRecord[]): StoredSlice {
  const group: ResourceGroup<SpanRecord> = { resource: { attributes: { 'tenant.id': tenantId }, droppedAttributesCount: 0, schemaUrl: '' }, items: spans };
  const slowNs = Math.round(registry.tenant(tenantId)!.slo.latencyThresholdMs * 1e6);
  const rows = spanRows({ tenantId, retentionDays: 30, batchId: 'metrics-test', slowNs }, [group]);
  return { tenantId, records: rows.rows, bytes: spans.length * 100, ...(rows.sli ? { sli: rows.sli } : {}) };
}

/** The value of the one sample of `name` whose labels include all of `labels`. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && want.every((w) => l.includes(w)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('stored spans are counted per tenant, with their bytes and the SLI events the burn-rate rules divide', async () => {
  const m = new TenantscopeMetrics(registry);
  const threshold = registry.tenant('acme-dist')!.slo.latencyThresholdMs;
  // 4 server spans: one error, one slower than the threshold; one client span that is no SLI event.
  m.stored('traces', [slice('acme-dist', [span(10), span(10, 2), span(threshold + 50), span(10), span(5000, 2, 3)])], [], {});
  const text = await m.text();
  const acme = { tenant: 'acme-dist', tier: 'shared' };
  assert.is(sample(text, 'tenantscope_ingested_spans_total', acme), 5);
  assert.is(sample(text, 'tenantscope_ingested_bytes_total', { ...acme, signal: 'traces' }), 500);
  assert.is(sample(text, 'tenantscope_sli_events_total', { ...acme, sli: 'availability' }), 4);
  assert.is(sample(text, 'tenantscope_sli_bad_events_total', { ...acme, sli: 'availability' }), 1);
  assert.is(sample(text, 'tenantscope_sli_bad_events_total', { ...acme, sli: 'latency' }), 1);
  assert.is(sample(text, 'tenantscope_slo_objective_ratio', { ...acme, sli: 'availability' }), registry.tenant('acme-dist')!.slo.availability);
  // The recovery objectives in the unit of the recovery gauges' ages.
  assert.is(sample(text, 'tenantscope_recovery_rpo_seconds', acme), registry.tenant('acme-dist')!.recovery.rpoMinutes * 60);
  assert.is(sample(text, 'tenantscope_restore_test_interval_seconds', acme), registry.tenant('acme-dist')!.recovery.restoreTestDays * 86_400);
  await m.close();
});

test('each tenant exposes its minimum-traffic guard and an info series with its home region, which the incident rules join on', async () => {
  const m = new TenantscopeMetrics(registry);
  const text = await m.text();
  for (const t of registry.tenants()) {
    const own = { tenant: t.id, tier: t.tier };
    assert.is(sample(text, 'tenantscope_slo_min_events', own), t.slo.minEvents, t.id);
    assert.is(sample(text, 'tenantscope_tenant_info', { ...own, region: t.region }), 1, t.id);
  }
  // One info series per tenant: a second region for a tenant would make the rules' join ambiguous.
  assert.is(text.split('\n').filter((l) => l.startsWith('tenantscope_tenant_info{')).length, registry.tenants().length);
  await m.close();
});

test('a span that cannot be stored (a time after 2262) is no SLI event: the counters agree with what the SLO report reads', async () => {
  const m = new TenantscopeMetrics(registry);
  const late = { ...span(10, 2), endTimeUnixNano: '9300000000000000000' };
  m.stored('traces', [slice('acme-dist', [span(10), late])], [], {});
  const text = await m.text();
  const acme = { tenant: 'acme-dist', tier: 'shared' };
  assert.is(sample(text, 'tenantscope_sli_events_total', { ...acme, sli: 'availability' }), 1);
  assert.is(sample(text, 'tenantscope_sli_bad_events_total', { ...acme, sli: 'availability' }), 0);
  await m.close();
});

test("every registered tenant's SLI counters exist at zero before its first span, so rate() has a baseline", async () => {
  const m = new TenantscopeMetrics(registry);
  const text = await m.text();
  for (const t of registry.tenants()) {
    for (const sli of ['availability', 'latency']) {
      assert.is(sample(text, 'tenantscope_sli_events_total', { tenant: t.id, sli }), 0, `${t.id} ${sli}`);
      assert.is(sample(text, 'tenantscope_sli_bad_events_total', { tenant: t.id, sli }), 0, `${t.id} ${sli}`);
    }
  }
  await m.close();
});

test('past the tenant label limit, tenants are folded into tenant="other" and the folding is counted', async () => {
  const m = new TenantscopeMetrics(registry, { maxTenantLabels: 2 });
  const [first, second, ...rest] = registry.tenants().map((t) => t.id);
  m.stored('traces', [slice(first!, [span(1)]), slice(rest[0]!, [span(1), span(1)]), slice(rest[1]!, [span(1), span(1), span(1)])], [], {});
  m.refused(rest[2]!, 'logs', 'rate_limited', 7);
  const text = await m.text();
  assert.is(sample(text, 'tenantscope_ingested_spans_total', { tenant: first! }), 1);
  assert.is(sample(text, 'tenantscope_ingested_spans_total', { tenant: 'other', tier: 'other' }), 5);
  assert.is(sample(text, 'tenantscope_refused_requests_total', { tenant: 'other', reason: 'rate_limited' }), 1);
  assert.is(sample(text, 'tenantscope_rejected_records_total', { tenant: 'other', reason: 'rate_limited' }), 7);
  assert.is(sample(text, 'tenantscope_metric_tenants', { state: 'labelled' }), 2);
  assert.is(sample(text, 'tenantscope_metric_tenants', { state: 'folded' }), registry.tenants().length - 2);
  assert.ok(text.includes(`tenant="${second}"`), 'the second tenant keeps its label');
  for (const t of rest) assert.not.ok(text.includes(`tenant="${t}"`), `${t} has no series of its own`);
  // A folded tenant has no objective of its own: "other" mixes tenants with different SLOs.
  assert.is(sample(text, 'tenantscope_slo_objective_ratio', { tenant: 'other' }), undefined);
  assert.is(sample(text, 'tenantscope_recovery_rpo_seconds', { tenant: 'other' }), undefined);
  assert.is(sample(text, 'tenantscope_restore_test_interval_seconds', { tenant: 'other' }), undefined);
  assert.is(sample(text, 'tenantscope_slo_min_events', { tenant: 'other' }), undefined);
  assert.is(sample(text, 'tenantscope_tenant_info', { tenant: 'other' }), undefined);
  await m.close();
});

test('records no tenant can be charged for are counted as tenant="unattributed"', async () => {
  const m = new TenantscopeMetrics(registry);
  m.stored('logs', [{ tenantId: '', records: 3, bytes: 30 }], [], {});
  assert.is(sample(await m.text(), 'tenantscope_ingested_log_records_total', { tenant: 'unattributed', tier: 'none' }), 3);
  await m.close();
});

test("a read token's exposition holds its own tenant's series only, with the headers of those families alone", async () => {
  const m = new TenantscopeMetrics(registry);
  m.stored('traces', [slice('acme-dist', [span(1)]), slice('globex-3pl', [span(1), span(1)])], [], {});
  m.auditStored('globex-3pl', 2, 200, { email: 1 });
  m.request('http', 'traces', 'json', 200, 3);
  const principal = registry.authenticate('demo-read-acme-dist')!;
  const text = onlyTenants(await m.text(), registry, principal);
  assert.ok(text.includes('tenant="acme-dist"'));
  assert.not.ok(text.includes('globex-3pl'), 'no series of another tenant');
  assert.not.ok(text.includes('tenantscope_ingest_request_duration_seconds'), 'self metrics carry no tenant and stay with the admin');
  assert.not.ok(text.includes('# HELP tenantscope_audit_events_total'), 'no header for a family with no sample left');
  for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) assert.ok(line.includes('tenant="acme-dist"'), line);
  await m.close();
});

test.run();
