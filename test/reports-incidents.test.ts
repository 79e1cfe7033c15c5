// Incidents from stored server spans: burn episodes (with the minimum-traffic guard) grouped
// into incidents, classified by scope, with each affected tenant's impact and SLA credit
// worked out by hand here. The scope rules are tested one by one on the classifier.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRegistry, type TenantRecord } from '../src/config/index.js';
import type { ChdbStore } from '../src/store/index.js';
import { openTestStore } from './support/topology.js';
import { classify, incidentsReport } from '../src/reports/incidents.js';
import { DEMO_CONFIG } from './support/server.js';
import { serverTraffic } from './support/traffic.js';

const registry = loadRegistry(DEMO_CONFIG);
const dir = mkdtempSync(join(tmpdir(), 'tenantscope-incidents-'));
let store: ChdbStore;

const T = Date.parse('2026-11-20T12:00:00Z');
const MIN = 60_000;

const traffic = (tenant: string, service: string, fromMs: number, toMs: number, perMinute: number, errors = 0) => serverTraffic(store, tenant, service, fromMs, toMs, perMinute, errors);

test.before(async () => {
  store = await openTestStore(dir);
  // umbrella-pharma (segmented; its SLO availability 0.9995, min_events 100; SLA of the tier,
  // 0.999; contract fee 18,000 USD):
  // order-api, 60 requests a minute over [T-180m, T); half of them fail over [T-120m, T-100m).
  await traffic('umbrella-pharma', 'order-api', T - 180 * MIN, T - 120 * MIN, 60);
  await traffic('umbrella-pharma', 'order-api', T - 120 * MIN, T - 100 * MIN, 60, 30);
  await traffic('umbrella-pharma', 'order-api', T - 100 * MIN, T, 60);
  // acme-dist and stark-logistics: steady and healthy.
  await traffic('acme-dist', 'order-api', T - 180 * MIN, T, 40);
  await traffic('stark-logistics', 'edi-gateway', T - 180 * MIN, T, 20);
  // hooli-wholesale: three requests, one failing, at T-90m: a burn of 67x (availability 0.995)
  // that the minimum-traffic guard (100 events in the long window) keeps from paging.
  await traffic('hooli-wholesale', 'billing-svc', T - 90 * MIN, T - 89 * MIN, 3, 1);
});

test.after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test("one tenant's failures are one incident of scope tenant, its impact window their 20 minutes", async () => {
  const r = await incidentsReport(store, registry, { fromMs: T - 3 * 60 * MIN, toMs: T });
  assert.is(r.active_tenants, 4);
  assert.is(r.incidents.length, 1, JSON.stringify(r.incidents.map((i) => i.tenants.map((t) => t.tenant))));
  const inc = r.incidents[0]!;
  assert.is(inc.scope, 'tenant');
  assert.equal(inc.tenants.map((t) => t.tenant), ['umbrella-pharma']);
  assert.equal(inc.services, ['order-api']);
  assert.equal(inc.regions, ['eu-central-1']);
  assert.is(inc.severity, 'page');
  assert.is(inc.from, new Date(T - 120 * MIN).toISOString());
  assert.is(inc.to, new Date(T - 100 * MIN).toISOString());
  // The 1h/5m pair fires at the end of the first failing minute: 30 of the 5m window's 300
  // requests failed (burn 0.1 / 0.0005 = 200x), and its 1h window holds 3,600 requests.
  const first = inc.episodes.find((e) => e.sli === 'availability')!;
  assert.is(first.from, new Date(T - 119 * MIN).toISOString());
  assert.ok(first.pairs.includes('1h/5m'));
});

test('the impact: requests, failures, error budget consumed and the SLA credit, to the cent', async () => {
  const r = await incidentsReport(store, registry, { fromMs: T - 3 * 60 * MIN, toMs: T });
  const u = r.incidents[0]!.tenants[0]!;
  assert.equal(u.impact, { from: new Date(T - 120 * MIN).toISOString(), to: new Date(T - 100 * MIN).toISOString(), minutes: 20 });
  assert.is(u.requests, 1200);
  assert.is(u.failures, 600);
  // Error budget: the 28-day window up to the impact's end holds 80 minutes x 60 = 4,800
  // requests; 0.05% of them may fail (2.4); 600 failed: 250 budgets.
  assert.is(u.error_budget_consumed, 250);
  // November so far (to T): 180 x 60 = 10,800 requests, 600 failed: 94.4444% < 99% -> the
  // 50% credit of the segmented tier, on umbrella-pharma's contract fee of 18,000.
  assert.is(u.sla.month, '2026-11');
  assert.is(u.sla.month_availability, 0.944444);
  assert.is(u.sla.month_availability_without_incident, 1);
  assert.is(u.sla.credit_percent, 50);
  assert.is(u.sla.monthly_fee, 18000);
  assert.is(u.sla.currency, 'USD');
  assert.is(u.sla.credit, 9000);
  assert.is(u.sla.exposure, 9000);
  assert.ok(u.trace_ids.length > 0 && u.trace_ids.length <= 5);
});

test('a tenant with three requests and one error opens no episode and no incident', async () => {
  const r = await incidentsReport(store, registry, { fromMs: T - 3 * 60 * MIN, toMs: T });
  assert.not.ok(r.incidents.some((i) => i.tenants.some((t) => t.tenant === 'hooli-wholesale')));
});

test('a period before the failures has no incident', async () => {
  const quiet = await incidentsReport(store, registry, { fromMs: T - 175 * MIN, toMs: T - 121 * MIN });
  assert.is(quiet.incidents.length, 0);
});

// The scope rules, one by one, on tenants of the demo registry.
const t = (id: string): TenantRecord => registry.tenant(id)!;
const all = registry.tenants();

test('scope tenant: one tenant affected', () => {
  assert.is(classify([t('umbrella-pharma')], all).scope, 'tenant');
});

test('scope noisy_neighbour: every affected tenant is a victim of the offender named in the same window', () => {
  const noisy = { offender: 'globex-3pl', resource: 'db:pg-shared', victims: ['acme-dist', 'initech-retail'] };
  assert.is(classify([t('acme-dist'), t('initech-retail')], all, noisy).scope, 'noisy_neighbour');
  // A tenant the analysis does not name as a victim makes it something else.
  assert.is.not(classify([t('acme-dist'), t('umbrella-pharma')], all, noisy).scope, 'noisy_neighbour');
});

test('scope platform: at least half the tenants with traffic, in two regions or more', () => {
  const half = [t('acme-dist'), t('hooli-wholesale'), t('umbrella-pharma')];
  assert.is(classify(half, all).scope, 'platform');
  assert.is(classify(all, all).scope, 'platform');
});

test('scope regional: every tenant with traffic in one region, more than one of them, and none elsewhere', () => {
  const usWest = all.filter((x) => x.region === 'us-west-2');
  assert.is(usWest.length, 2);
  assert.is(classify(usWest, all).scope, 'regional');
  // One of the region's two tenants is not regional.
  assert.is(classify([usWest[0]!], all).scope, 'tenant');
});

test('scope tier: every tenant of one tier with traffic and no others, in more than one region', () => {
  const segmented = all.filter((x) => x.tier === 'segmented');
  assert.is(segmented.length, 2);
  assert.is(classify(segmented, all).scope, 'tier');
  // Two of the three shared tenants, in two regions, are not their tier (nor half the platform).
  const twoShared = [t('acme-dist'), t('hooli-wholesale')];
  assert.is.not(classify(twoShared, all).scope, 'tier');
});

test.run();
