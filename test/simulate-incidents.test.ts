// The incident scenarios with known truth, against a real tenantscope: each scenario runs over
// three simulated hours and GET /api/v1/incidents over the same hours must find who it hit,
// with which scope, when (to the minute, give or take one), and what it cost under the contract.
//
// The runs end at 17:00 UTC, when the US tenants are in their working morning and the European
// ones in their afternoon, four days apart in November 2026: the burn windows look back three
// days, so no run's failures reach into another's report. `incident` runs first, so its
// calendar month holds nothing of umbrella-pharma but that run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRegistry } from '../src/config/index.js';
import { loadWorkload, simulate, type ScenarioName, type SimulationSummary } from '../src/simulate/index.js';
import { DEFAULT_WORKLOAD } from '../src/simulate/scenarios.js';
import { bearer, DEMO_CONFIG, startTestServer, type TestServer } from './support/server.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const PERIOD = 3 * HOUR;
const FIRST_END = Date.parse('2026-11-02T17:00:00Z');
/** Each scenario's run: the day (after the first) it ends on. */
const DAYS: Partial<Record<ScenarioName, number>> = { incident: 0, 'regional-outage': 4, 'platform-outage': 8, 'eod-burst': 12, 'low-traffic': 16 };
const registry = loadRegistry(DEMO_CONFIG);
const iso = (ms: number) => new Date(ms).toISOString();

let server: TestServer;
const runs = new Map<ScenarioName, SimulationSummary>();

test.before(async () => {
  server = await startTestServer({ policyIntervalMs: 0 });
});
test.after(async () => {
  await server.stop();
});

/**
 * Three simulated hours of `scenario` (once; later tests reuse the summary). At twice the
 * workload's rates an affected tenant's order-api sends 4 to 10 requests a minute, so the 1h/5m
 * pair's long window holds several hundred events, well over the minimum-traffic guard (100).
 */
async function run(scenario: ScenarioName): Promise<SimulationSummary> {
  const cached = runs.get(scenario);
  if (cached) return cached;
  const s = await simulate({ scenario, endpoint: server.otlpHttpUrl, seed: 5, durationSec: 3, periodMs: PERIOD, endMs: FIRST_END + DAYS[scenario]! * DAY, rate: 2 });
  for (const [signal, c] of Object.entries(s.exports)) assert.is(c.failedRequests, 0, `${scenario}: no ${signal} export failed: ${c.errors.join('; ')}`);
  await server.settle();
  runs.set(scenario, s);
  return s;
}

async function incidents(s: SimulationSummary): Promise<Record<string, any>> {
  const res = await fetch(`${server.apiUrl}/api/v1/incidents?from=${iso(s.startMs)}&to=${iso(s.endMs)}`, { headers: bearer('demo-admin') });
  const body = (await res.json()) as Record<string, any>;
  assert.is(res.status, 200, JSON.stringify(body).slice(0, 500));
  return body;
}

/** Minutes between an instant of the API and one in milliseconds. */
const minutesApart = (a: string, b: number) => Math.abs(Date.parse(a) - b) / MIN;

/** A window [from, to) of the API is the expected one, give or take a minute at each end. */
function assertWindow(got: { from: string; to: string }, want: { fromMs: number; toMs: number }, what: string): void {
  assert.ok(minutesApart(got.from, want.fromMs) <= 1, `${what}: starts ${got.from}, expected ${iso(want.fromMs)} ± 1 min`);
  assert.ok(minutesApart(got.to, want.toMs) <= 1, `${what}: ends ${got.to}, expected ${iso(want.toMs)} ± 1 min`);
}

/** The scenario's failure window of a tenant, as the simulator placed it in the period. */
function failureWindow(s: SimulationSummary, tenant: string): { fromMs: number; toMs: number; errors: number } {
  const w = s.windows.find((x) => x.kind === 'failure' && x.tenant === tenant);
  assert.ok(w, `${s.scenario}: a failure window for ${tenant}`);
  return w!;
}

/** The problems the checker finds in the demo workload with the regional outage's failure replaced by `failure`. */
function workloadProblems(failure: string): string {
  const text = readFileSync(DEFAULT_WORKLOAD, 'utf8');
  const line = text.split('\n').find((l) => l.includes('region: eu-central-1, service: order-api'))!;
  const dir = mkdtempSync(join(tmpdir(), 'tenantscope-workload-'));
  try {
    const file = join(dir, 'scenarios.yaml');
    writeFileSync(file, text.replace(line, `      - ${failure}`));
    loadWorkload(file);
    return '';
  } catch (e) {
    return (e as Error).message;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the workload checker reads failure selectors and minute windows, and refuses what the model could not run', () => {
  const w = loadWorkload();
  assert.equal(w.scenarios['regional-outage'].failures.map((f) => [f.region, f.service, f.from, f.minutes, f.to]), [['eu-central-1', 'order-api', 0.5, 20, undefined]]);
  assert.equal(w.scenarios['platform-outage'].failures.map((f) => [f.tenant, f.region, f.service, f.minutes]), [[undefined, undefined, undefined, 30]]);
  assert.equal(w.scenarios['low-traffic'].traffic, [{ tenant: 'initech-retail', rpm: 0.2 }]);
  assert.is(workloadProblems('{ region: eu-central-1, service: order-api, error_rate: 0.5, from: 0.5, minutes: 20 }'), '');
  assert.match(workloadProblems('{ tenant: acme-dist, region: eu-central-1, error_rate: 0.5, from: 0.5, to: 0.6 }'), /select by tenant or by region, not both/);
  assert.match(workloadProblems('{ region: eu-central-1, service: payments, error_rate: 0.5, from: 0.5, to: 0.6 }'), /service: "payments" is not one of order-api/);
  assert.match(workloadProblems('{ region: eu-central-1, error_rate: 0.5, from: 0.5, to: 0.6, minutes: 20 }'), /either to or minutes, not both/);
  assert.match(workloadProblems('{ region: eu-central-1, error_rate: 0.5, from: 0.5, minutes: 2.5 }'), /minutes: expected whole minutes/);
  assert.match(workloadProblems('{ region: "EU Central", error_rate: 0.5, from: 0.5, to: 0.6 }'), /expected a region name/);
});

test('a failure that selects no simulated tenant is refused before anything is sent', async () => {
  const text = readFileSync(DEFAULT_WORKLOAD, 'utf8').replace('region: eu-central-1, service: order-api', 'region: ap-south-1, service: order-api');
  const dir = mkdtempSync(join(tmpdir(), 'tenantscope-workload-'));
  try {
    writeFileSync(join(dir, 'scenarios.yaml'), text);
    await simulate({ scenario: 'regional-outage', endpoint: 'http://127.0.0.1:9', workloadPath: join(dir, 'scenarios.yaml'), durationSec: 0, periodMs: HOUR, endMs: FIRST_END });
    assert.unreachable('the run should have been refused');
  } catch (e) {
    assert.match((e as Error).message, /selects no simulated tenant \(region ap-south-1\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const tenantsWithTraffic = (s: SimulationSummary) => s.tenants.filter((t) => t.requests > 0).map((t) => t.tenant).sort();
const ids = (incident: Record<string, any>) => (incident.tenants as { tenant: string }[]).map((t) => t.tenant);

test('incident: one incident of scope tenant, umbrella-pharma alone, over the failure window 0.5-0.6 of the period', async () => {
  const s = await run('incident');
  const { incidents: found } = await incidents(s);
  assert.is(found.length, 1, JSON.stringify(found.map(ids)));
  const [inc] = found;
  assert.is(inc.scope, 'tenant');
  assert.equal(ids(inc), ['umbrella-pharma']);
  // 0.5 and 0.6 of 180 minutes: minutes 90 to 108, 15:30 to 15:48.
  const want = { fromMs: s.startMs + 90 * MIN, toMs: s.startMs + 108 * MIN };
  assert.equal(failureWindow(s, 'umbrella-pharma').fromMs, want.fromMs);
  assertWindow(inc, want, 'the incident');
  assertWindow(inc.tenants[0].impact, want, 'umbrella-pharma');
});

test("incident: umbrella-pharma's month availability and SLA credit, worked by hand from the simulator's counts", async () => {
  const s = await run('incident');
  const sent = s.tenants.find((t) => t.tenant === 'umbrella-pharma')!;
  // Seed 5 at rate 2: umbrella-pharma sent 1,717 server requests, 49 of them failed (all in
  // the failure window; the background rate 0.00002 failed none). The run is the tenant's
  // only traffic in November 2026, so the month so far is the run:
  //   availability = 1 - 49 / 1717 = 0.971462 (to six places)
  // The segmented SLA (0.999) credits 10% below 0.999, 25% below 0.995, 50% below 0.99:
  // 0.971462 is below 0.99, so 50% of the contract fee of 18,000 USD: 9,000.00. Without the
  // incident's 49 failures the month is at 1.0, no credit, so the incident's exposure is all of it.
  assert.equal([sent.requests, sent.errors], [1717, 49]);
  assert.is(failureWindow(s, 'umbrella-pharma').errors, 49);
  const { incidents: found } = await incidents(s);
  const u = found[0].tenants[0];
  assert.is(u.failures, 49);
  assert.equal(u.sla, {
    month: '2026-11',
    availability_objective: 0.999,
    month_availability: 0.971462,
    month_availability_without_incident: 1,
    credit_percent: 50,
    credit_percent_without_incident: 0,
    monthly_fee: 18000,
    currency: 'USD',
    credit: 9000,
    exposure: 9000,
  });
});

test('regional-outage: scope regional, exactly the eu-central-1 tenants, over the 20 minutes from 0.5 of the period', async () => {
  const s = await run('regional-outage');
  const euCentral = registry.tenants().filter((t) => t.region === 'eu-central-1').map((t) => t.id).sort();
  assert.equal(euCentral, ['nakatomi-trading', 'umbrella-pharma'], 'two tenants live in eu-central-1');
  const { incidents: found } = await incidents(s);
  assert.is(found.length, 1, JSON.stringify(found.map(ids)));
  const [inc] = found;
  assert.is(inc.scope, 'regional', inc.reason);
  assert.equal(ids(inc), euCentral);
  assert.equal(inc.regions, ['eu-central-1']);
  assert.equal([...new Set(inc.episodes.map((e: any) => e.service))], ['order-api']);
  // Minute 90 of 180 for 20 minutes: 15:30 to 15:50.
  const want = { fromMs: s.startMs + 90 * MIN, toMs: s.startMs + 110 * MIN };
  assertWindow(inc, want, 'the incident');
  for (const t of inc.tenants) assertWindow(t.impact, want, t.tenant);
});

test("regional-outage: nakatomi-trading's credit counts the month so far, both of its November runs", async () => {
  // The incident run, four days earlier in the month, must be in the store first.
  const earlier = await run('incident');
  const s = await run('regional-outage');
  const now = s.tenants.find((t) => t.tenant === 'nakatomi-trading')!;
  const before = earlier.tenants.find((t) => t.tenant === 'nakatomi-trading')!;
  // Its draws do not depend on other tenants' failures, so both runs sent 2,838 requests; only
  // the outage failed any (82, all on order-api in the window). November so far:
  //   availability = 1 - 82 / (2838 + 2838) = 1 - 82 / 5676 = 0.985553
  // The shared SLA (0.995) credits 10% below 0.995, 25% below 0.99, 50% below 0.95: 25% of the
  // shared tier's fee of 2,500 USD = 625.00, all of it the outage's (1.0 without it).
  assert.equal([before.requests, before.errors, now.requests, now.errors], [2838, 0, 2838, 82]);
  const { incidents: found } = await incidents(s);
  const n = found[0].tenants.find((t: any) => t.tenant === 'nakatomi-trading');
  assert.is(n.failures, 82);
  assert.equal([n.sla.month_availability, n.sla.credit_percent, n.sla.monthly_fee, n.sla.credit, n.sla.exposure], [0.985553, 25, 2500, 625, 625]);
});

test('platform-outage: scope platform, every tenant with traffic, over the 30 minutes from 0.5 of the period', async () => {
  const s = await run('platform-outage');
  const { active_tenants, incidents: found } = await incidents(s);
  assert.is(active_tenants, s.tenants.length);
  assert.is(found.length, 1, JSON.stringify(found.map(ids)));
  const [inc] = found;
  assert.is(inc.scope, 'platform', inc.reason);
  assert.equal(ids(inc), tenantsWithTraffic(s));
  assert.is(ids(inc).length, 7);
  // Minute 90 of 180 for 30 minutes: 15:30 to 16:00.
  const want = { fromMs: s.startMs + 90 * MIN, toMs: s.startMs + 120 * MIN };
  assertWindow(inc, want, 'the incident');
  for (const t of inc.tenants) assertWindow(t.impact, want, t.tenant);
});

test('eod-burst: scope noisy_neighbour, offender globex-3pl, over its burst 0.7083-0.7917 of the period', async () => {
  const s = await run('eod-burst');
  const { incidents: found } = await incidents(s);
  assert.is(found.length, 1, JSON.stringify(found.map(ids)));
  const [inc] = found;
  assert.is(inc.scope, 'noisy_neighbour', inc.reason);
  assert.is(inc.noisy_neighbour.offender, 'globex-3pl');
  // The burst slows order-api for everyone; the tenants whose latency objective it breaks are
  // the offender itself (200 ms) and the segmented tenants (300 and 400 ms), not the shared ones (500 ms).
  assert.equal(ids(inc), ['globex-3pl', 'stark-logistics', 'umbrella-pharma']);
  assert.ok(inc.episodes.every((e: any) => e.sli === 'latency' && e.service === 'order-api'), JSON.stringify(inc.episodes));
  // 0.7083 and 0.7917 of 180 minutes: minutes 127 to 143, 16:07 to 16:23.
  const burst = s.windows.find((w) => w.kind === 'burst')!;
  const want = { fromMs: s.startMs + 127 * MIN, toMs: s.startMs + 143 * MIN };
  assert.equal([burst.fromMs, burst.toMs], [want.fromMs, want.toMs]);
  assertWindow(inc, want, 'the incident');
  assertWindow(inc.noisy_neighbour.windows[0], want, 'the offender window');
  for (const t of inc.tenants) assertWindow(t.impact, want, t.tenant);
});

test('low-traffic: initech-retail fails half its trickle of requests for a while, and no incident follows', async () => {
  const s = await run('low-traffic');
  const initech = s.tenants.find((t) => t.tenant === 'initech-retail')!;
  const window = failureWindow(s, 'initech-retail');
  assert.ok(window.errors >= 2, `a few failed requests (${window.errors})`);
  assert.ok(initech.requests < 100, `the whole run sent fewer than min_events (100): ${initech.requests}`);
  const { incidents: found } = await incidents(s);
  assert.equal(found.map(ids), []);
  // The SLO report at the end of the failures says why: the pairs burn, the guard holds them.
  const res = await fetch(`${server.apiUrl}/api/v1/tenants/initech-retail/slo?to=${iso(window.toMs)}`, { headers: bearer('demo-admin') });
  const slo = (await res.json()) as { services: { availability: { alerts: { firing: boolean; guarded: boolean }[] } }[] };
  const alerts = slo.services.flatMap((x) => x.availability.alerts);
  assert.ok(alerts.some((a) => a.guarded), 'some alert pair would fire but for the guard');
  assert.ok(alerts.every((a) => !a.firing), 'none fires');
});

test.run();
