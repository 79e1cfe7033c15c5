// The recovery report against hand-worked timelines: facts sent through POST /v1/audit (the
// tenant's own token, or an admin token for platform-scope facts), the report read through
// the API, every figure checked against arithmetic done here by hand.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, bearer, type TestServer } from './support/server.js';
import { postFacts, recoveryFact } from './support/recovery.js';
import { cliResult } from './support/cli.js';

let server: TestServer;
test.before(async () => {
  server = await startTestServer();
  await loadTimelines();
});
test.after(async () => {
  await server.stop();
});

const MIN = 60_000;
const FROM = Date.parse('2026-12-01T00:00:00Z');
const TO = Date.parse('2026-12-01T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

const fact = recoveryFact;

function backupAt(timeMs: number, component: string, extra: Record<string, string> = {}): Record<string, unknown> {
  return fact('backup.completed', timeMs, {
    component,
    scope: 'tenant',
    snapshot_time: iso(timeMs - 2 * MIN),
    retention_days: '35',
    location_region: 'us-east-1',
    encryption_key_id: 'kms-stark-logistics-1',
    ...extra,
  });
}

const post = (token: string, events: unknown[]) => postFacts(server.otlpHttpUrl, token, events);

// stark-logistics (segmented; contract RPO 15 min, RTO 120, restore test every 30 days):
// every component but integration_state backed up every 10 minutes from 23:50 the day before,
// each snapshot 2 minutes before completion, so a backup covers [c, c + 13 min). The database
// skips 03:00-04:50: the 02:50 backup covers until 03:03, the next comes at 05:00, a stale
// window of 117 minutes whose newest snapshot (02:48) is 132 minutes old at its end.
// A queue backup fails at 06:05 and the 06:10 one succeeds (5 minutes: within the RPO).
//
// acme-dist (shared, us-east-1; RPO 60) rides on platform backups of its tier and region,
// hourly with the snapshot taken as each completes (so exactly one RPO apart, never stale),
// plus its own restore drill 30.5 days before the period's end; hooli-wholesale
// (shared, us-west-2) is not in those backups' regions.
async function loadTimelines(): Promise<void> {
  const stark: unknown[] = [];
  for (let t = FROM - 10 * MIN; t < TO; t += 10 * MIN) {
    const hhmm = new Date(t).toISOString().slice(11, 16);
    for (const c of ['database', 'object_storage', 'queue', 'config']) {
      if (c === 'database' && hhmm >= '03:00' && hhmm <= '04:50') continue;
      stark.push(backupAt(t, c));
    }
  }
  stark.push(fact('backup.failed', FROM + 6 * 60 * MIN + 5 * MIN, { component: 'queue', scope: 'tenant' }));
  stark.push(fact('restore.tested', Date.parse('2026-11-20T00:00:00Z'), { component: 'database', scope: 'tenant', duration_seconds: '1800', verified_records: '120000' }));
  await post('demo-ingest-stark-logistics', stark);

  const platform: unknown[] = [];
  for (let t = FROM - 60 * MIN; t < TO; t += 60 * MIN) {
    for (const c of ['database', 'object_storage', 'config']) {
      platform.push(backupAt(t, c, { scope: 'platform', tiers: 'shared', regions: 'us-east-1,us-east-2', encryption_key_id: 'kms-platform-use1', retention_days: '30', snapshot_time: iso(t) }));
    }
  }
  await post('demo-admin', platform);
  await post('demo-ingest-acme-dist', [fact('restore.tested', TO - 30.5 * 1440 * MIN, { component: 'database', scope: 'tenant', duration_seconds: '3600' })]);
}

async function report(tenant: string, token = 'demo-admin'): Promise<{ status: number; body: Record<string, any> }> {
  const res = await fetch(`${server.apiUrl}/api/v1/tenants/${tenant}/recovery?from=${iso(FROM)}&to=${iso(TO)}`, { headers: bearer(token) });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

const rules = (r: Record<string, any>) => (r.findings as { rule: string; subject: string }[]).map((f) => `${f.rule}:${f.subject}`).sort();

test('a stale database window is measured to the minute and is the one RPO finding', async () => {
  const { status, body } = await report('stark-logistics');
  assert.is(status, 200, JSON.stringify(body));
  assert.is(body.objectives.rpo_minutes, 15);
  const db = body.components.find((c: any) => c.component === 'database');
  assert.is(db.period_minutes, 720);
  assert.is(db.stale_minutes, 117);
  assert.is(db.covered_minutes, 603);
  assert.is(db.rpo_attainment, 0.8375);
  assert.equal(db.stale_windows, [{ from: '2026-12-01T03:03:00.000Z', to: '2026-12-01T05:00:00.000Z', minutes: 117, max_age_minutes: 132 }]);
  assert.is(db.latest.snapshot, '2026-12-01T11:48:00.000Z');
  assert.is(db.latest.age_minutes, 12);
  assert.ok(db.within_rpo);
  for (const c of ['object_storage', 'queue', 'config']) {
    const x = body.components.find((y: any) => y.component === c);
    assert.is(x.rpo_attainment, 1, c);
    assert.equal(x.stale_windows, [], c);
  }
  assert.equal(rules(body), ['backup_older_than_rpo:database', 'component_never_backed_up:integration_state']);
  assert.is(body.status, 'not_met');
});

test('a component never backed up counts as stale for the whole period, so overall attainment is zero', async () => {
  const { body } = await report('stark-logistics');
  const is = body.components.find((c: any) => c.component === 'integration_state');
  assert.is(is.latest, null);
  assert.is(is.rpo_attainment, 0);
  assert.is(is.stale_minutes, 720);
  assert.is(body.rpo_attainment, 0);
});

test('a failed backup followed by a success within the RPO is listed and is no finding', async () => {
  const { body } = await report('stark-logistics');
  const q = body.components.find((c: any) => c.component === 'queue');
  assert.is(q.failed_backups, 1);
  assert.not.ok(rules(body).some((r) => r.startsWith('backup_failure_unrecovered')));
});

test('the restore test is shown with its age, RTO check and due date', async () => {
  const { body } = await report('stark-logistics');
  assert.is(body.restore_tests.length, 0, 'no test inside the period');
  assert.is(body.last_restore_test.time, '2026-11-20T00:00:00.000Z');
  assert.is(body.last_restore_test.age_days, 11.5);
  assert.ok(body.last_restore_test.within_rto, '1800 s within a 120-minute RTO');
  assert.is(body.last_restore_test.due_by, '2026-12-20T00:00:00.000Z');
  assert.is(body.last_restore_test.verified_records, 120000);
});

test('platform-scope backups count for every tenant of their tier and regions, and for no other', async () => {
  const acme = (await report('acme-dist')).body;
  assert.is(acme.status, 'met', JSON.stringify(acme.findings));
  assert.is(acme.rpo_attainment, 1);
  for (const c of acme.components) assert.is(c.latest.scope, 'platform', c.component);
  const db = acme.components.find((c: any) => c.component === 'database');
  assert.is(db.backups, 12);
  assert.is(db.latest.age_minutes, 60);
  assert.ok(db.within_rpo, 'exactly the RPO old is within it');
  const hooli = (await report('hooli-wholesale')).body;
  assert.equal(rules(hooli), [
    'component_never_backed_up:config',
    'component_never_backed_up:database',
    'component_never_backed_up:object_storage',
    'restore_test_overdue:restore_test',
  ]);
  assert.is(hooli.rpo_attainment, 0);
});

test("a tenant's read token reads its own recovery report and no other tenant's", async () => {
  assert.is((await report('stark-logistics', 'demo-read-stark-logistics')).status, 200);
  const other = await report('acme-dist', 'demo-read-stark-logistics');
  assert.is(other.status, 403);
  assert.not.match(JSON.stringify(other.body), /kms-platform|platform/);
});

test('the platform view lists every tenant with its findings, for admins only', async () => {
  const res = await fetch(`${server.apiUrl}/api/v1/recovery?from=${iso(FROM)}&to=${iso(TO)}`, { headers: bearer('demo-admin') });
  const body = (await res.json()) as { tenants: Record<string, any>[] };
  assert.is(res.status, 200);
  assert.is(body.tenants.length, 7);
  const stark = body.tenants.find((t) => t.tenant === 'stark-logistics')!;
  assert.equal(rules(stark), ['backup_older_than_rpo:database', 'component_never_backed_up:integration_state']);
  const denied = await fetch(`${server.apiUrl}/api/v1/recovery`, { headers: bearer('demo-read-stark-logistics') });
  assert.is(denied.status, 403);
});

test('a period that ends before it starts is a 400 naming the parameter', async () => {
  const res = await fetch(`${server.apiUrl}/api/v1/tenants/acme-dist/recovery?from=${iso(TO)}&to=${iso(FROM)}`, { headers: bearer('demo-admin') });
  assert.is(res.status, 400);
  assert.match(await res.text(), /from/);
});

// ---- the CLI: tenantscope report recovery ----

const cli = (args: string[], token = 'demo-admin') => cliResult(['report', 'recovery', ...args, '--from', iso(FROM), '--to', iso(TO), '--api', server.apiUrl, '--token', token]);

test('report recovery --tenant prints a line per component, then the tests and findings', async () => {
  const r = await cli(['--tenant', 'stark-logistics'], 'demo-read-stark-logistics');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Recovery of stark-logistics \(segmented\) from 2026-12-01T00:00:00.000Z to 2026-12-01T12:00:00.000Z: RPO 15 min, RTO 120 min, restore test every 30 days$/m);
  assert.match(r.stdout, /^RPO attainment of the required components: 0.00%$/m);
  assert.match(r.stdout, /^COMPONENT\s+REQUIRED\s+LATEST SNAPSHOT\s+AGE MIN\s+RPO\s+ATTAINMENT\s+STALE MIN$/m);
  assert.match(r.stdout, /^database\s+yes\s+2026-12-01 11:48 \(tenant\)\s+12\s+met\s+83.75%\s+117$/m);
  assert.match(r.stdout, /^integration_state\s+yes\s+-\s+-\s+never\s+0.00%\s+720$/m);
  assert.match(r.stdout, /^no restore or failover test in the period$/m);
  assert.match(r.stdout, /^last restore test 2026-11-20 00:00 \(fact-\d+\), next due by 2026-12-20 00:00$/m);
  assert.match(r.stdout, /^high\s+backup_older_than_rpo\s+database\s+stark-logistics: database had no restorable backup/m);
  assert.match(r.stdout, /^high\s+component_never_backed_up\s+integration_state\s+/m);
  assert.match(r.stdout, /\nstatus: not_met\n$/);
});

test('report recovery --json is the API report; --csv has a row per tenant and component', async () => {
  const j = await cli(['--tenant', 'stark-logistics', '--json']);
  assert.is(j.code, 0, j.stderr);
  const { generated_at: _a, ...fromCli } = JSON.parse(j.stdout) as Record<string, any>;
  const { generated_at: _b, ...fromApi } = (await report('stark-logistics')).body;
  assert.equal(fromCli, fromApi);
  const c = await cli(['--tenant', 'stark-logistics', '--csv']);
  assert.is(c.code, 0, c.stderr);
  const lines = c.stdout.trimEnd().split('\n');
  assert.is(lines[0], 'tenant,component,required,latest_snapshot,age_minutes,within_rpo,rpo_minutes,rpo_attainment,stale_minutes,stale_windows,backups,failed_backups');
  assert.ok(lines.includes('stark-logistics,database,true,2026-12-01T11:48:00.000Z,12,true,15,0.8375,117,1,60,0'), lines.join('\n'));
  assert.ok(lines.includes('stark-logistics,integration_state,true,,,false,15,0,720,0,0,0'), lines.join('\n'));
  assert.is(lines.length, 6);
});

test('report recovery without --tenant is the platform summary, for admins only', async () => {
  const r = await cli([]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^TENANT\s+TIER\s+RPO MIN\s+RTO MIN\s+ATTAINMENT\s+OVER RPO\s+LAST RESTORE TEST\s+FINDINGS\s+STATUS$/m);
  assert.match(r.stdout, /^stark-logistics\s+segmented\s+15\s+120\s+0.00%\s+integration_state\s+2026-11-20 00:00\s+2\s+not_met$/m);
  assert.match(r.stdout, /^acme-dist\s+shared\s+60\s+240\s+100.00%\s+-\s+\S+ \S+\s+0\s+met$/m);
  const denied = await cli([], 'demo-read-stark-logistics');
  assert.is(denied.code, 2);
  assert.match(denied.stderr, /TS_ERR_FORBIDDEN|TS_ERR_TOKEN_KIND/);
  assert.not.match(denied.stdout + denied.stderr, /acme-dist|hooli|globex|umbrella/);
});

test('report recovery reads a local store with the shipped policies', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tenantscope-recovery-cli-'));
  try {
    const r = await cliResult(['report', 'recovery', '--tenant', 'acme-dist', '--data-dir', dataDir, '--json'], { TENANTSCOPE_LOG_LEVEL: 'warn' });
    assert.is(r.code, 0, r.stderr);
    const body = JSON.parse(r.stdout) as Record<string, any>;
    assert.is(body.tenant, 'acme-dist');
    // Nothing stored: every required component never backed up, and no restore test.
    assert.equal(rules(body), ['component_never_backed_up:config', 'component_never_backed_up:database', 'component_never_backed_up:object_storage', 'restore_test_overdue:restore_test']);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test.run();
