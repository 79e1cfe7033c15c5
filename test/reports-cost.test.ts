// Cost report known answers: a price card with round prices, usage placed on exact days, and
// every amount, platform share and cent worked out by hand below.
// runs-on: single, cluster
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { loadRegistry, type Registry } from '../src/config/index.js';
import type { ChdbStore } from '../src/store/index.js';
import { openTestStore } from './support/topology.js';
import { costCsv, costReport, COST_COMPONENTS, type CostReport } from '../src/reports/cost.js';
import { DEMO_CONFIG } from './support/server.js';
import { rollUpStoredSpans } from './support/rollup.js';

const dir = mkdtempSync(join(tmpdir(), 'tenantscope-cost-'));
let store: ChdbStore;
let registry: Registry;

const NOV1 = Date.parse('2026-11-01T00:00:00Z');
const DAY = 86_400_000;
const WINDOW = { fromMs: NOV1, toMs: NOV1 + 2 * DAY };

/** `n` server spans of `ms` each for `tenant` at `atMs` (and as many client spans, never charged). */
async function spans(tenant: string, atMs: number, n: number, ms: number): Promise<void> {
  const batch = `${tenant}-${atMs}-${n}-${ms}`;
  await store.exec(
    `INSERT INTO spans (tenant_id, service_name, start_time, end_time, duration_ns, kind, trace_id, span_id, retention_days, batch_id)
     SELECT {tenant:String}, 'order-api', fromUnixTimestamp64Milli({at:Int64}), fromUnixTimestamp64Milli({at:Int64}), {ns:UInt64},
            if(number % 2 = 0, 2, 3), hex(number), hex(number), 30, {batch:String}
       FROM numbers({n:UInt64})`,
    { tenant, at: atMs, n: 2 * n, ns: ms * 1e6, batch },
  );
  await rollUpStoredSpans(store, batch);
}

/** A usage row: `bytes` accepted at `atMs` whose records are kept `keptDays` (0: the tenant's current span retention). */
async function usage(tenant: string, atMs: number, bytes: number, keptDays: number, outcome: 'accepted' | 'rejected' = 'accepted'): Promise<void> {
  // The usage row itself lives for ten years, so the fixture outlives its dates.
  const row = { tenant_id: tenant, time: atMs, signal: 'spans', outcome, reason: outcome === 'accepted' ? '' : 'schema', claimed_tenant: tenant, records: 1, bytes, encoding: 'protobuf', token_name: 'fixture', detail: '', retention_days: 3650, kept_days: keptDays, batch_id: `${tenant}-${atMs}` };
  await store.insertJsonEachRow('ingest_usage', Buffer.from(JSON.stringify(row)), 1);
}

test.before(async () => {
  // Prices: $0.001 a CPU-second, $3 a GB-month, $1 a GB ingested, $10 a million requests, $10 a day.
  const doc = parse(readFileSync(DEMO_CONFIG, 'utf8')) as { settings: Record<string, unknown> };
  doc.settings.price_card = { currency: 'EUR', cpu_second: 0.001, gb_month_stored: 3, gb_ingested: 1, per_million_requests: 10, platform_per_day: 10 };
  const file = join(dir, 'tenants.yaml');
  writeFileSync(file, stringify(doc));
  registry = loadRegistry(file);
  store = await openTestStore(join(dir, 'data'));
  // Nov 1: acme-dist 1000 requests of 100 ms, globex-3pl 3000.
  await spans('acme-dist', NOV1 + 3_600_000, 1000, 100);
  await spans('globex-3pl', NOV1 + 7_200_000, 3000, 100);
  // acme-dist: 0.5 GB at Nov 1 00:00, kept 30 days. globex-3pl: 1 GB at Nov 2 12:00.
  await usage('acme-dist', NOV1, 5e8, 30);
  await usage('globex-3pl', NOV1 + DAY + DAY / 2, 1e9, 30);
  // stark-logistics: 2 GB received Oct 20, kept 14 days (to Nov 3 00:00): stored, not ingested, in the window.
  await usage('stark-logistics', Date.parse('2026-10-20T00:00:00Z'), 2e9, 14);
  // Expired before the window, refused, or after it: never charged.
  await usage('stark-logistics', Date.parse('2026-10-01T00:00:00Z'), 9e9, 7);
  await usage('hooli-wholesale', NOV1 + 1000, 7e9, 30, 'rejected');
  await spans('hooli-wholesale', NOV1 + 2 * DAY, 5000, 100);
  // Dec 25: initech-retail 1 GB from before kept_days was recorded (0: its current retention,
  // days, applies); hooli-wholesale 3 GB at 12:00 kept one day, so until Dec 26 12:00.
  await usage('initech-retail', Date.parse('2026-12-25T00:00:00Z'), 1e9, 0);
  await usage('hooli-wholesale', Date.parse('2026-12-25T12:00:00Z'), 3e9, 1);
  // December: umbrella-pharma works on Dec 10 only.
  await spans('umbrella-pharma', Date.parse('2026-12-10T08:00:00Z'), 1000, 100);
});

test.after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const cents = (x: number) => Math.round(x * 100);

// By hand (dollars). Metered:
//   Nov 1: acme  compute 100 s x 0.001 = 0.10, requests 0.01, ingest 0.50, storage 0.5 GB x 1/30 month x 3 = 0.05 -> 0.66
//          globex compute 0.30, requests 0.03 -> 0.33;  stark storage 2 GB x 1/30 x 3 = 0.20
//   Nov 2: acme storage 0.05; globex ingest 1.00 + storage 1 GB x 0.5/30 x 3 = 0.05 -> 1.05; stark 0.20
// Platform $10 a day by that day's metered cost:
//   Nov 1 (1.19): acme 5.5462, globex 2.7731, stark 1.6807;  Nov 2 (1.30): acme 0.3846, globex 8.0769, stark 1.5385
// Total 1.19 + 1.30 + 20 = 22.49. Cents: the platform cells round down to 1997 + 249 metered =
// 2246; the 3 cents left go to the largest remainders: stark Nov 2 (.846), globex Nov 2 (.692),
// acme Nov 1 (.622).
test('each tenant\'s cost by component and day, the platform shared by usage, to the cent', async () => {
  const r = await costReport(store, registry, WINDOW);
  assert.is(r.currency, 'EUR');
  assert.is(r.total, 22.49);
  const by = Object.fromEntries(r.tenants.map((t) => [t.tenant, t]));
  assert.equal(by['acme-dist']!.by_component, { compute: 0.1, requests: 0.01, ingest: 0.5, storage: 0.1, platform: 5.93 });
  assert.is(by['acme-dist']!.total, 6.64);
  assert.equal(by['acme-dist']!.by_day.map((d) => [d.day, d.total, d.by_component.platform]), [['2026-11-01', 6.21, 5.55], ['2026-11-02', 0.43, 0.38]]);
  assert.equal(by['globex-3pl']!.by_component, { compute: 0.3, requests: 0.03, ingest: 1, storage: 0.05, platform: 10.85 });
  assert.is(by['globex-3pl']!.total, 12.23);
  assert.equal(by['stark-logistics']!.by_component, { compute: 0, requests: 0, ingest: 0, storage: 0.4, platform: 3.22 });
  assert.is(by['stark-logistics']!.total, 3.62);
  for (const t of ['hooli-wholesale', 'initech-retail', 'umbrella-pharma', 'nakatomi-trading']) assert.is(by[t]!.total, 0, t);
  assert.equal(by['acme-dist']!.usage, { cpu_seconds: 100, requests: 1000, gb_ingested: 0.5, gb_months_stored: 0.033333333 });
  assert.is(by['globex-3pl']!.tier, registry.tenant('globex-3pl')!.tier);
});

test('tenant totals, days and components all add up to the platform total', async () => {
  const r = await costReport(store, registry, WINDOW);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + cents(b), 0);
  assert.is(sum(r.tenants.map((t) => t.total)), cents(r.total));
  assert.is(sum(Object.values(r.by_component)), cents(r.total));
  assert.is(sum(Object.values(r.by_tier!)), cents(r.total));
  assert.equal(r.by_component, { compute: 0.4, requests: 0.04, ingest: 1.5, storage: 0.55, platform: 20 });
  for (const t of r.tenants) {
    assert.is(sum(t.by_day.map((d) => d.total)), cents(t.total), t.tenant);
    assert.is(sum(Object.values(t.by_component)), cents(t.total), t.tenant);
    for (const d of t.by_day) assert.is(sum(COST_COMPONENTS.map((c) => d.by_component[c])), cents(d.total), `${t.tenant} ${d.day}`);
  }
});

test('an idle day is shared by the window\'s usage, and a window nobody used is shared evenly', async () => {
  // Dec 10: umbrella-pharma alone (0.11 metered) takes the $10; Dec 11 nobody works: its $10
  // goes by the window's usage, so to umbrella-pharma too.
  const r = await costReport(store, registry, { fromMs: Date.parse('2026-12-10T00:00:00Z'), toMs: Date.parse('2026-12-12T00:00:00Z') });
  assert.is(r.total, 20.11);
  assert.is(r.tenants.find((t) => t.tenant === 'umbrella-pharma')!.total, 20.11);
  // Dec 20: no usage at all: $10 over seven tenants is 142.857... cents each; 142 each makes
  // 994 cents, and the 6 left go one each to six tenants: six get 1.43 and one 1.42.
  const idle = await costReport(store, registry, { fromMs: Date.parse('2026-12-20T00:00:00Z'), toMs: Date.parse('2026-12-21T00:00:00Z') });
  assert.is(idle.total, 10);
  assert.equal(idle.tenants.map((t) => t.total).sort(), [1.42, 1.43, 1.43, 1.43, 1.43, 1.43, 1.43]);
});

test('storage is charged while the data is kept: a day\'s share of a GB-month, and nothing after it expires', async () => {
  const r = await costReport(store, registry, { fromMs: Date.parse('2026-12-25T00:00:00Z'), toMs: Date.parse('2026-12-28T00:00:00Z') });
  const t = Object.fromEntries(r.tenants.map((x) => [x.tenant, x]));
  // initech-retail: 1 GB for 3 days = 0.1 GB-month x 3 = 0.30; ingest 1.00.
  assert.ok(registry.tenant('initech-retail')!.retentionDays.spans >= 3);
  assert.is(t['initech-retail']!.by_component.storage, 0.3);
  // hooli-wholesale: 3 GB for 12 h on Dec 25 and 12 h on Dec 26 = 0.1 GB-month x 3 = 0.15 + 0.15; nothing Dec 27.
  assert.equal(t['hooli-wholesale']!.by_day.map((d) => d.by_component.storage), [0.15, 0.15, 0]);
  assert.is(t['hooli-wholesale']!.usage.gb_months_stored, 0.1);
});

test('a part of a day pays that part of the platform cost', async () => {
  // Dec 20 06:00 to 18:00: half of the $10.
  const r = await costReport(store, registry, { fromMs: Date.parse('2026-12-20T06:00:00Z'), toMs: Date.parse('2026-12-20T18:00:00Z') });
  assert.is(r.total, 5);
  assert.is(r.by_component.platform, 5);
});

test('a tenant\'s view holds its own costs only, without the platform\'s fixed cost', async () => {
  const r: CostReport = await costReport(store, registry, { ...WINDOW, tenant: 'acme-dist' });
  assert.equal(r.tenants.map((t) => t.tenant), ['acme-dist']);
  assert.is(r.total, 6.64);
  assert.is(r.by_tier, undefined);
  assert.is(r.price_card.platform_per_day, undefined);
  assert.not.match(JSON.stringify(r), /globex|stark|22\.49/);
});

test('CSV: one row per tenant and day whose totals add up to the report total', async () => {
  const r = await costReport(store, registry, WINDOW);
  const lines = costCsv(r).trim().split('\n');
  assert.is(lines[0], 'tenant,tier,day,compute,requests,ingest,storage,platform,total');
  // Every tenant of the registry (seven) on each of the window's two days, used or not.
  assert.is(lines.length, 1 + 7 * 2);
  assert.ok(lines.includes(`acme-dist,${registry.tenant('acme-dist')!.tier},2026-11-01,0.10,0.01,0.50,0.05,5.55,6.21`));
  const total = lines.slice(1).reduce((a, l) => a + cents(Number(l.split(',').at(-1))), 0);
  assert.is(total, cents(r.total));
});

test.run();
