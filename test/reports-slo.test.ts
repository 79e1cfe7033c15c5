// SLO report known answers: spans placed at exact times with exact outcomes, and every SLI,
// budget and burn rate computed by hand below, checked to the digit.
// runs-on: single, cluster
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRegistry } from '../src/config/index.js';
import type { ChdbStore } from '../src/store/index.js';
import { openTestStore } from './support/topology.js';
import { sloReport } from '../src/reports/slo.js';
import { DEMO_CONFIG } from './support/server.js';

const registry = loadRegistry(DEMO_CONFIG);
const acme = registry.tenant('acme-dist')!; // availability 0.999 (override), latency 500 ms at 0.95, 28 days
const dir = mkdtempSync(join(tmpdir(), 'tenantscope-slo-'));
let store: ChdbStore;

const T = Date.parse('2026-11-20T12:00:00Z');
const MIN = 60_000;

/** Insert `n` spans of `service` starting at `atMs`; the first `errors` fail, the first `slow` take 600 ms. */
async function spans(tenant: string, service: string, atMs: number, n: number, opts: { errors?: number; slow?: number; kind?: number } = {}): Promise<void> {
  await store.exec(
    `INSERT INTO spans (tenant_id, service_name, start_time, end_time, duration_ns, kind, status_code, trace_id, span_id, retention_days)
     SELECT {tenant:String}, {service:String}, fromUnixTimestamp64Milli({at:Int64}), fromUnixTimestamp64Milli({at:Int64}),
            if(number < {slow:UInt64}, 600000000, 100000000), {kind:UInt8}, if(number < {errors:UInt64}, 2, 0),
            lower(hex(randomString(16))), lower(hex(randomString(8))), 30
     FROM numbers({n:UInt64})`,
    { tenant, service, at: atMs, n, errors: opts.errors ?? 0, slow: opts.slow ?? 0, kind: opts.kind ?? 2 },
  );
}

test.before(async () => {
  store = await openTestStore(dir);
  // order-api, acme-dist:
  //   [T-5m, T)    100 requests, 10 errors, 60 slower than 500 ms
  //   T-50m        900 requests, 5 errors
  //   T-2 days    9000 requests, no errors
  await spans('acme-dist', 'order-api', T - 4 * MIN, 100, { errors: 10, slow: 60 });
  await spans('acme-dist', 'order-api', T - 50 * MIN, 900, { errors: 5 });
  await spans('acme-dist', 'order-api', T - 2 * 24 * 60 * MIN, 9000);
  // Client spans never count, failing or not.
  await spans('acme-dist', 'order-api', T - 3 * MIN, 500, { errors: 500, kind: 3 });
  // billing-svc: 200 requests yesterday, 1 error.
  await spans('acme-dist', 'billing-svc', T - 20 * 60 * MIN, 200, { errors: 1 });
  // Another tenant's failures are not acme-dist's, and neither is anything after `to`.
  await spans('hooli-wholesale', 'order-api', T - 4 * MIN, 50, { errors: 50 });
  await spans('acme-dist', 'order-api', T + MIN, 70, { errors: 70 });
});

test('availability SLI, error budget and burn rates of order-api, computed by hand', async () => {
  const r = await sloReport(store, acme, { toMs: T });
  assert.is(r.from, '2026-10-23T12:00:00.000Z'); // 28 days before `to`
  assert.equal(r.objective, { availability: 0.999, latency_target: 0.95, latency_threshold_ms: 500, window_days: 28, min_events: 100 });
  const svc = r.services.find((s) => s.service === 'order-api')!;
  assert.is(svc.requests, 10_000);
  const a = svc.availability;
  // 15 errors in 10,000: SLI 0.9985; allowed 0.001 × 10,000 = 10 errors, so 150% of the budget spent.
  assert.is(a.sli, 0.9985);
  assert.is(a.good, 9985);
  assert.is(a.error_budget_remaining, -0.5);
  // Burn = error rate / 0.001: 5m and 30m hold 10/100; 1h–1d hold 15/1000; 3d holds 15/10,000.
  assert.equal(a.burn_rates, { '5m': 100, '30m': 100, '1h': 15, '2h': 15, '6h': 15, '1d': 15, '3d': 1.5 });
  // 1h/5m: 15 and 100 > 14.4 (page); 6h/30m: 15 and 100 > 6 (page); 1d/2h > 3; 3d/6h: 1.5 and 15 > 1.
  assert.equal(a.alerts.map((x) => x.firing), [true, true, true, true]);
  assert.is(a.status, 'page');
});

test('latency SLI of order-api: slow requests over the threshold, against a 0.95 target', async () => {
  const r = await sloReport(store, acme, { toMs: T });
  const l = r.services.find((s) => s.service === 'order-api')!.latency;
  // 60 slow in 10,000: SLI 0.994; allowed 0.05 × 10,000 = 500, 60 spent: 0.88 left.
  assert.is(l.sli, 0.994);
  assert.is(l.error_budget_remaining, 0.88);
  // 5m/30m: 60/100 / 0.05 = 12; 1h–1d: 60/1000 / 0.05 = 1.2; 3d: 60/10,000 / 0.05 = 0.12.
  assert.equal(l.burn_rates, { '5m': 12, '30m': 12, '1h': 1.2, '2h': 1.2, '6h': 1.2, '1d': 1.2, '3d': 0.12 });
  // 1h/5m: 1.2 < 14.4; 6h/30m: 1.2 < 6; 1d/2h: 1.2 < 3; 3d/6h: 0.12 < 1. Nothing fires.
  assert.equal(l.alerts.map((x) => x.firing), [false, false, false, false]);
  assert.is(l.status, 'ok');
});

test('a service burning slowly opens a ticket, not a page', async () => {
  const r = await sloReport(store, acme, { toMs: T });
  const b = r.services.find((s) => s.service === 'billing-svc')!;
  // 1 error in 200 twenty hours ago: burn 0.005/0.001 = 5 over 1d and 3d; 0 in the short windows.
  assert.is(b.availability.sli, 0.995);
  assert.is(b.availability.error_budget_remaining, -4);
  assert.equal(b.availability.burn_rates, { '5m': 0, '30m': 0, '1h': 0, '2h': 0, '6h': 0, '1d': 5, '3d': 5 });
  assert.is(b.availability.status, 'ok'); // each slow pair needs its short window burning too
  assert.is(r.status, 'page'); // the tenant's worst service
});

test('a window of one hour counts only that hour, while the burn windows keep their own spans', async () => {
  const r = await sloReport(store, acme, { fromMs: T - 60 * MIN, toMs: T });
  const a = r.services.find((s) => s.service === 'order-api')!.availability;
  assert.is(a.total, 1000);
  assert.is(a.sli, 0.985);
  assert.is(a.burn_rates['3d'], 1.5);
  // billing-svc has no request in the hour but burns over 1d: kept, with zero requests.
  const b = r.services.find((s) => s.service === 'billing-svc')!;
  assert.is(b.requests, 0);
  assert.is(b.availability.sli, null);
  assert.is(b.availability.burn_rates['1d'], 5);
});

test('a tenant with three requests and one error does not page: the long window holds fewer than min_events', async () => {
  // stark-logistics (min_events 100): 3 requests in the last 5 minutes, 1 failed. Burn rate over
  // 1h and 5m: (1/3) / 0.001 = 333x, far above 14.4; the 1h window holds 3 < 100 events.
  await spans('stark-logistics', 'edi-gateway', T - 2 * MIN, 3, { errors: 1 });
  const r = await sloReport(store, registry.tenant('stark-logistics')!, { toMs: T });
  const a = r.services.find((x) => x.service === 'edi-gateway')!.availability;
  assert.ok(a.burn_rates['1h'] > 300 && a.burn_rates['5m'] > 300);
  const page = a.alerts.find((x) => x.long === '1h')!;
  assert.equal([page.firing, page.guarded], [false, true]);
  assert.is(a.status, 'ok');
  assert.is(r.status, 'ok');
  // 97 more good requests make the long window hold 100: the pair fires ((1/100) / 0.001 = 10x is below 14.4, so 6 more errors).
  await spans('stark-logistics', 'edi-gateway', T - 30 * MIN, 97, { errors: 6 });
  const r2 = await sloReport(store, registry.tenant('stark-logistics')!, { toMs: T });
  const a2 = r2.services.find((x) => x.service === 'edi-gateway')!.availability;
  assert.is(a2.total, 100);
  const page2 = a2.alerts.find((x) => x.long === '1h')!;
  assert.equal([page2.firing, page2.guarded], [true, false]);
  assert.is(a2.status, 'page');
});

test('a tenant without server spans has an empty report with status ok', async () => {
  const r = await sloReport(store, registry.tenant('initech-retail')!, { toMs: T });
  assert.equal(r.services, []);
  assert.is(r.status, 'ok');
});

test('the tenant override of the objective is applied (hooli-wholesale uses its tier: 0.995)', async () => {
  const r = await sloReport(store, registry.tenant('hooli-wholesale')!, { toMs: T });
  const a = r.services[0]!.availability;
  assert.is(a.objective, 0.995);
  // 50 of 50 failed: burn 1 / 0.005 = 200.
  assert.is(a.burn_rates['5m'], 200);
  assert.is(a.error_budget_remaining, -199);
});

test.after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test.run();
