// The recovery gauges on /metrics: backup and restore-test ages computed from facts sent
// through POST /v1/audit, the missing gauges for what was never backed up or tested, and the
// objectives the alert rules compare them with. Ages are taken at scrape time, so each is
// checked against the clock read just before and just after the scrape that returned it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bearer, startTestServer, type TestServer } from './support/server.js';
import { postFacts, recoveryFact } from './support/recovery.js';
import { until } from './support/wait.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

let server: TestServer;
/** When the facts were made: every fact's time is given relative to it. */
const T0 = Date.now();

interface Scrape {
  text: string;
  /** The clock just before the request and just after the answer. */
  beforeMs: number;
  afterMs: number;
}

async function scrape(token = 'demo-admin'): Promise<Scrape> {
  const beforeMs = Date.now();
  const text = await (await fetch(`${server.apiUrl}/metrics`, { headers: bearer(token) })).text();
  return { text, beforeMs, afterMs: Date.now() };
}

/** Every sample of `name`: its labels and value. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  return [...text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm'))].map((m) => ({
    labels: Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!])),
    value: Number(m[2]),
  }));
}

/** The value of the one sample of `name` whose labels include `labels`; undefined if none. */
function value(text: string, name: string, labels: Record<string, string>): number | undefined {
  const found = samples(text, name).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(found.length <= 1, `${name} ${JSON.stringify(labels)}: ${found.length} samples`);
  return found[0]?.value;
}

/** An age gauge is the scrape's clock minus `sinceMs`, in seconds, whenever in the scrape it was read. */
function assertAge(s: Scrape, name: string, labels: Record<string, string>, sinceMs: number): void {
  const age = value(s.text, name, labels);
  assert.ok(age !== undefined, `${name} ${JSON.stringify(labels)} is missing`);
  const lo = (s.beforeMs - sinceMs) / 1000 - 0.001;
  const hi = (s.afterMs - sinceMs) / 1000 + 0.001;
  assert.ok(age! >= lo && age! <= hi, `${name} ${JSON.stringify(labels)}: ${age} not in [${lo}, ${hi}]`);
}

const fact = (action: string, timeMs: number, attributes: Record<string, string>) => recoveryFact(action, timeMs, attributes);

/** A successful backup completed at `timeMs` of a snapshot taken at `snapshotMs`. */
function backup(component: string, timeMs: number, snapshotMs: number, extra: Record<string, string> = {}): Record<string, unknown> {
  return fact('backup.completed', timeMs, {
    component,
    scope: 'tenant',
    snapshot_time: iso(snapshotMs),
    retention_days: '90',
    location_region: 'us-east-1',
    encryption_key_id: 'kms-metrics-test',
    ...extra,
  });
}

function restoreTest(timeMs: number, outcome: 'success' | 'failure'): Record<string, unknown> {
  return { ...fact('restore.tested', timeMs, { component: 'database', scope: 'tenant', duration_seconds: '900' }), outcome };
}

const post = (token: string, events: unknown[]) => postFacts(server.otlpHttpUrl, token, events);

// stark-logistics (segmented, us-east-1; all five components required, RPO 15 min, a restore
// test every 30 days): two database backups, the newer one's snapshot 2h 2m old; an object
// storage backup that failed; a restore test passed 10 days ago and a failed one yesterday.
const STARK_DB_SNAPSHOT = T0 - 2 * HOUR - 2 * MIN;
const STARK_RESTORE = T0 - 10 * DAY;
// A platform backup of the shared tier in us-east-1 (database and config, snapshot 40 minutes
// old) covers acme-dist, not hooli-wholesale (us-west-2) nor stark-logistics (segmented).
// acme-dist backs up a queue of its own, which its objectives do not require.
const PLATFORM_SNAPSHOT = T0 - 40 * MIN;
const ACME_QUEUE_SNAPSHOT = T0 - 3 * HOUR;

test.before(async () => {
  server = await startTestServer({ metrics: { refreshMs: 1000 } });
  await post('demo-ingest-stark-logistics', [
    backup('database', T0 - 5 * HOUR, T0 - 5 * HOUR - 2 * MIN),
    backup('database', T0 - 2 * HOUR, STARK_DB_SNAPSHOT),
    fact('backup.failed', T0 - HOUR, { component: 'object_storage', scope: 'tenant' }),
    restoreTest(STARK_RESTORE, 'success'),
    restoreTest(T0 - DAY, 'failure'),
  ]);
  const platform = { scope: 'platform', tiers: 'shared', regions: 'us-east-1', encryption_key_id: 'kms-platform-use1' };
  await post('demo-admin', [backup('database', T0 - 30 * MIN, PLATFORM_SNAPSHOT, platform), backup('config', T0 - 30 * MIN, PLATFORM_SNAPSHOT, platform)]);
  await post('demo-ingest-acme-dist', [backup('queue', ACME_QUEUE_SNAPSHOT, ACME_QUEUE_SNAPSHOT)]);
  await server.settle();
  // The gauges refresh every second: wait for a snapshot that has read the facts.
  await until('the recovery gauges to show the facts', async () => value((await scrape()).text, 'tenantscope_restore_test_missing', { tenant: 'stark-logistics' }) === 0);
});

test.after(async () => {
  await server.stop();
});

test("a tenant's own backups: the newest snapshot's age per component, and a 1 for each required component never backed up", async () => {
  const s = await scrape();
  assertAge(s, 'tenantscope_backup_age_seconds', { tenant: 'stark-logistics', tier: 'segmented', component: 'database', required: 'true' }, STARK_DB_SNAPSHOT);
  assert.is(value(s.text, 'tenantscope_backup_missing', { tenant: 'stark-logistics', component: 'database' }), 0);
  // A failed backup is no backup: object storage is as missing as the components never tried.
  for (const c of ['object_storage', 'queue', 'config', 'integration_state']) {
    assert.is(value(s.text, 'tenantscope_backup_missing', { tenant: 'stark-logistics', tier: 'segmented', component: c }), 1, c);
    assert.is(value(s.text, 'tenantscope_backup_age_seconds', { tenant: 'stark-logistics', component: c }), undefined, c);
  }
});

test('a platform backup counts for the tenants of its tier and region, and only for them', async () => {
  const s = await scrape();
  for (const c of ['database', 'config']) {
    assertAge(s, 'tenantscope_backup_age_seconds', { tenant: 'acme-dist', tier: 'shared', component: c, required: 'true' }, PLATFORM_SNAPSHOT);
    assert.is(value(s.text, 'tenantscope_backup_missing', { tenant: 'acme-dist', component: c }), 0, c);
  }
  assert.is(value(s.text, 'tenantscope_backup_missing', { tenant: 'acme-dist', component: 'object_storage' }), 1);
  // hooli-wholesale is shared but in us-west-2: everything it requires is missing.
  for (const c of ['database', 'object_storage', 'config']) assert.is(value(s.text, 'tenantscope_backup_missing', { tenant: 'hooli-wholesale', component: c }), 1, c);
});

test("a component backed up beyond the tenant's objectives has an age marked required=\"false\" and no missing gauge", async () => {
  const s = await scrape();
  assertAge(s, 'tenantscope_backup_age_seconds', { tenant: 'acme-dist', component: 'queue', required: 'false' }, ACME_QUEUE_SNAPSHOT);
  assert.is(value(s.text, 'tenantscope_backup_missing', { tenant: 'acme-dist', component: 'queue' }), undefined);
});

test("the restore test age is the last passed tenant-scope test's; a tenant that never passed one shows missing 1", async () => {
  const s = await scrape();
  // Yesterday's failed test does not restart the clock.
  assertAge(s, 'tenantscope_restore_test_age_seconds', { tenant: 'stark-logistics', tier: 'segmented' }, STARK_RESTORE);
  assert.is(value(s.text, 'tenantscope_restore_test_missing', { tenant: 'stark-logistics' }), 0);
  assert.is(value(s.text, 'tenantscope_restore_test_missing', { tenant: 'acme-dist' }), 1);
  assert.is(value(s.text, 'tenantscope_restore_test_age_seconds', { tenant: 'acme-dist' }), undefined);
});

test('the objectives are gauges in seconds per tenant, from the registry', async () => {
  const s = await scrape();
  const registry = server.registry;
  for (const t of registry.tenants()) {
    assert.is(value(s.text, 'tenantscope_recovery_rpo_seconds', { tenant: t.id, tier: t.tier }), t.recovery.rpoMinutes * 60, t.id);
    assert.is(value(s.text, 'tenantscope_restore_test_interval_seconds', { tenant: t.id, tier: t.tier }), t.recovery.restoreTestDays * 86_400, t.id);
  }
  // stark-logistics's contract tightens its tier's RPO to 15 minutes.
  assert.is(value(s.text, 'tenantscope_recovery_rpo_seconds', { tenant: 'stark-logistics' }), 900);
});

test("no tenant's recovery gauges carry another tenant's facts", async () => {
  const s = await scrape();
  const ages = samples(s.text, 'tenantscope_backup_age_seconds').map((x) => `${x.labels.tenant}/${x.labels.component}`).sort();
  assert.equal(ages, ['acme-dist/config', 'acme-dist/database', 'acme-dist/queue', 'stark-logistics/database']);
  assert.equal(samples(s.text, 'tenantscope_restore_test_age_seconds').map((x) => x.labels.tenant), ['stark-logistics']);
  // Every registered tenant has a missing gauge per required component, whatever the others did.
  for (const t of server.registry.tenants()) {
    const components = samples(s.text, 'tenantscope_backup_missing').filter((x) => x.labels.tenant === t.id).map((x) => x.labels.component).sort();
    assert.equal(components, [...t.recovery.components].sort(), t.id);
  }
  // A tenant's own read token sees its own recovery series alone.
  const own = await scrape('demo-read-acme-dist');
  const names = ['tenantscope_backup_age_seconds', 'tenantscope_backup_missing', 'tenantscope_restore_test_missing', 'tenantscope_recovery_rpo_seconds'];
  for (const n of names) {
    const tenants = new Set(samples(own.text, n).map((x) => x.labels.tenant));
    assert.equal([...tenants], ['acme-dist'], n);
  }
});

test.run();
