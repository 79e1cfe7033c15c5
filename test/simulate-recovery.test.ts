// The simulator's backup and restore evidence against a real tenantscope: an ordinary
// scenario meets every tenant's recovery objectives (the report finds nothing), and
// recovery-drift departs from them in exactly the four ways its scenario lists, with the
// stale database window of globex-3pl measured to the minute.
// Each run is a simulated day ending at midnight UTC on its own past day. The drift run ends a
// week before the steady one, so neither run's facts fall in the other's report: the steady
// run's restore tests (3 days before its end) are still after the drift run's end.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadRegistry } from '../src/config/index.js';
import { simulate, type SimulationSummary } from '../src/simulate/index.js';
import { bearer, DEMO_CONFIG, startTestServer, type TestServer } from './support/server.js';

const MIN = 60_000;
const DAY = 1440 * MIN;
const TODAY = Math.floor(Date.now() / DAY) * DAY;
const DRIFT_END = TODAY - 10 * DAY;
const STEADY_END = TODAY - 3 * DAY;
const TENANTS = ['acme-dist', 'hooli-wholesale', 'initech-retail', 'stark-logistics', 'umbrella-pharma', 'globex-3pl', 'nakatomi-trading'];
const registry = loadRegistry(DEMO_CONFIG);
const iso = (ms: number) => new Date(ms).toISOString();

let server: TestServer;
const runs = new Map<string, SimulationSummary>();

test.before(async () => {
  server = await startTestServer({ policyIntervalMs: 0 });
});
test.after(async () => {
  await server.stop();
});

/** A simulated day of `scenario` ending at `endMs` (once; later tests reuse the summary). */
async function run(scenario: 'steady' | 'recovery-drift', endMs: number): Promise<SimulationSummary> {
  const cached = runs.get(scenario);
  if (cached) return cached;
  const s = await simulate({ scenario, endpoint: server.otlpHttpUrl, seed: 11, durationSec: 2, periodMs: DAY, endMs, rate: 0.05 });
  for (const [signal, c] of Object.entries(s.exports)) assert.is(c.failedRequests, 0, `${scenario}: no ${signal} export failed: ${c.errors.join('; ')}`);
  await server.settle();
  runs.set(scenario, s);
  return s;
}

async function api(path: string, s: SimulationSummary): Promise<Record<string, any>> {
  const sep = path.includes('?') ? '&' : '?';
  const res = await fetch(`${server.apiUrl}${path}${sep}from=${iso(s.startMs)}&to=${iso(s.endMs)}`, { headers: bearer('demo-admin') });
  const body = (await res.json()) as Record<string, any>;
  assert.is(res.status, 200, JSON.stringify(body).slice(0, 500));
  return body;
}

const findingsOf = (report: Record<string, any>) => (report.findings as { rule: string; subject: string }[]).map((f) => `${report.tenant}:${f.rule}:${f.subject}`);

test('in steady every tenant meets its recovery objectives over the simulated day', async () => {
  const s = await run('steady', STEADY_END);
  for (const tenant of TENANTS) {
    const r = await api(`/api/v1/tenants/${tenant}/recovery`, s);
    assert.equal(r.findings, [], `${tenant}: no findings`);
    assert.is(r.status, 'met', tenant);
    assert.is(r.rpo_attainment, 1, `${tenant}: RPO attained throughout`);
    for (const c of r.components) assert.equal([c.component, c.rpo_attainment, c.stale_windows], [c.component, 1, []], `${tenant}`);
    assert.ok(r.last_restore_test.within_rto, `${tenant}: restore test within the RTO`);
  }
  const globex = await api('/api/v1/tenants/globex-3pl/recovery', s);
  assert.equal(globex.failover_tests.map((f: any) => [f.location_region, f.outcome]), [['us-east-1', 'success']], 'a failover test to its other allowed region');
});

test('in recovery-drift the platform view finds exactly the four drifts, and nothing else', async () => {
  const s = await run('recovery-drift', DRIFT_END);
  const view = await api('/api/v1/recovery', s);
  assert.equal(view.tenants.map((t: any) => t.tenant).sort(), [...TENANTS].sort());
  assert.equal(view.tenants.flatMap(findingsOf).sort(), [
    'globex-3pl:backup_older_than_rpo:database',
    'stark-logistics:restore_test_overdue:restore_test',
    'umbrella-pharma:backup_region_not_allowed:object_storage@us-east-1',
    'umbrella-pharma:component_never_backed_up:integration_state',
  ]);
  const stark = view.tenants.find((t: any) => t.tenant === 'stark-logistics');
  assert.is(stark.last_restore_test.age_days, 45);
  assert.equal(s.recovery.drift.map((d) => `${d.tenant}:${d.kind}`).sort(), [
    'globex-3pl:backup_gap',
    'stark-logistics:restore_test_age',
    'umbrella-pharma:backup_region',
    'umbrella-pharma:skipped_component',
  ]);
});

test("recovery-drift's stale database window of globex-3pl is measured to the minute", async () => {
  const s = await run('recovery-drift', DRIFT_END);
  const S = s.startMs;
  // globex-3pl (dedicated, RPO 15): backups every 15 / 3 = 5 minutes from S - 5, each snapshot
  // 2 minutes before completion, so a backup completed at c covers [c, c + 13). The gap is
  // 0.25 to 0.5 of the 1440-minute day, minutes [360, 720): the last backup before it completes
  // at S+355 (snapshot S+353) and covers until S+368; the next completes at S+720. Stale:
  // [S+368, S+720) = 352 minutes, the newest snapshot then 720 - 353 = 367 minutes old.
  // Covered: 1440 - 352 = 1088 minutes; attainment 1088 / 1440 = 0.75555... = 0.7556.
  const globex = await api('/api/v1/tenants/globex-3pl/recovery', s);
  const db = globex.components.find((c: any) => c.component === 'database');
  assert.equal(db.stale_windows, [{ from: iso(S + 368 * MIN), to: iso(S + 720 * MIN), minutes: 352, max_age_minutes: 367 }]);
  assert.is(db.period_minutes, 1440);
  assert.is(db.stale_minutes, 352);
  assert.is(db.covered_minutes, 1088);
  assert.is(db.rpo_attainment, 0.7556);
  // The database is the only required component with a gap, so the tenant's figure is its.
  assert.is(globex.rpo_attainment, 0.7556);
  for (const c of globex.components.filter((x: any) => x.component !== 'database')) assert.is(c.rpo_attainment, 1, c.component);
  const gap = s.recovery.drift.find((d) => d.kind === 'backup_gap')!;
  assert.equal([gap.fromMs, gap.toMs], [S + 360 * MIN, S + 720 * MIN], 'the summary names the window');

  // A required component never backed up is stale for the whole day; the misplaced
  // object_storage backups still cover their component.
  const umbrella = await api('/api/v1/tenants/umbrella-pharma/recovery', s);
  assert.is(umbrella.rpo_attainment, 0);
  const missing = umbrella.components.find((c: any) => c.component === 'integration_state');
  assert.equal([missing.latest, missing.stale_minutes, missing.rpo_attainment], [null, 1440, 0]);
  assert.is(umbrella.components.find((c: any) => c.component === 'object_storage').rpo_attainment, 1);
  for (const tenant of ['acme-dist', 'hooli-wholesale', 'initech-retail', 'stark-logistics']) {
    assert.is((await api(`/api/v1/tenants/${tenant}/recovery`, s)).rpo_attainment, 1, tenant);
  }
});

interface BackupRow {
  tenant_id: string;
  component: string;
  regions: string[];
  n: string;
  keys: string[];
  retention: number[];
  locations: string[];
  sources: string[];
  tiers: string[];
}

test("each tier's facts fit it: own key, retention and home region for segmented and dedicated; platform backups per shared region", async () => {
  const s = await run('steady', STEADY_END);
  const backups = await server.store.query<BackupRow>(
    `SELECT tenant_id, component, regions, toString(count()) AS n, groupUniqArray(encryption_key_id) AS keys,
            groupUniqArray(backup_retention_days) AS retention, groupUniqArray(location_region) AS locations,
            groupUniqArray(source) AS sources, tiers
       FROM recovery_events
      WHERE kind = 'backup.completed' AND time >= fromUnixTimestamp64Milli({from:Int64}) - INTERVAL 1 HOUR AND time < fromUnixTimestamp64Milli({to:Int64})
      GROUP BY tenant_id, component, regions, tiers ORDER BY tenant_id, component`,
    { from: s.startMs, to: s.endMs },
  );
  const sent = (sender: string) => s.recovery.facts.find((f) => f.sender === sender && f.kind === 'backup.completed')?.facts ?? 0;
  for (const id of ['stark-logistics', 'umbrella-pharma', 'globex-3pl']) {
    const t = registry.tenant(id)!;
    const own = backups.filter((b) => b.tenant_id === id);
    assert.equal(own.map((b) => b.component), [...t.recovery.components].sort(), `${id}: every required component`);
    // One backup a cadence (RPO / 3) over the day, plus the one before it starts.
    const perComponent = 1440 / Math.floor(t.recovery.rpoMinutes / 3) + 1;
    for (const b of own) {
      assert.equal([b.keys, b.retention, b.locations, b.sources], [[t.encryptionKeyId], [t.recovery.backupRetentionDays], [t.region], ['log']], `${id} ${b.component}`);
      assert.is(Number(b.n), perComponent, `${id} ${b.component}: backups`);
    }
    assert.is(sent(id), perComponent * own.length, `${id}: the summary counts what was stored`);
  }
  const platform = backups.filter((b) => b.tenant_id === '_platform');
  const sharedRegions = [...new Set(registry.tenants().filter((t) => t.tier === 'shared').map((t) => t.region))].sort();
  assert.equal([...new Set(platform.map((b) => b.regions.join(',')))].sort(), sharedRegions, 'one set per home region of shared tenants');
  for (const b of platform) {
    const region = b.regions[0]!;
    assert.equal([b.keys, b.retention, b.locations, b.sources, b.tiers], [[`kms-platform-${region}`], [30], [region], ['audit'], ['shared']], `${region} ${b.component}`);
    assert.is(Number(b.n), 1440 / 20 + 1, `${region} ${b.component}: every 60 / 3 minutes`);
  }
  assert.equal(platform.filter((b) => b.regions[0] === 'us-east-1').map((b) => b.component), ['config', 'database', 'object_storage']);
  assert.is(s.exports.audit.items, platform.reduce((a, b) => a + Number(b.n), 0));

  const tests = await server.store.query<{ tenant_id: string; kind: string; t: string; scope: string; outcome: string; duration_seconds: number; location_region: string }>(
    `SELECT tenant_id, kind, toString(toUnixTimestamp64Milli(time)) AS t, scope, outcome, duration_seconds, location_region
       FROM recovery_events WHERE kind IN ('restore.tested', 'failover.tested') AND time >= fromUnixTimestamp64Milli({from:Int64}) AND time < fromUnixTimestamp64Milli({to:Int64})
      ORDER BY tenant_id, kind`,
    { from: s.endMs - 5 * DAY, to: s.endMs },
  );
  for (const id of TENANTS) {
    const t = registry.tenant(id)!;
    const restore = tests.filter((x) => x.tenant_id === id && x.kind === 'restore.tested');
    assert.is(restore.length, 1, `${id}: one restore test`);
    assert.is(Number(restore[0]!.t), s.endMs - 3 * DAY, `${id}: 3 days before the end`);
    assert.equal([restore[0]!.scope, restore[0]!.outcome], ['tenant', 'success']);
    assert.ok(restore[0]!.duration_seconds <= 0.5 * t.recovery.rtoMinutes * 60, `${id}: ${restore[0]!.duration_seconds} s, at most half the RTO`);
    const failover = tests.filter((x) => x.tenant_id === id && x.kind === 'failover.tested');
    assert.is(failover.length, t.recovery.drRegionRequired ? 1 : 0, `${id}: failover tests`);
  }
});

test.run();
