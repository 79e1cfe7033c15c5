// Evidence reports on a store filled with known rows: the figures (controls, policy results,
// redactions, access review, retention, the daily error budget) checked against answers worked
// out by hand, the recoverability section against backup timelines worked out the same way, and
// the incidents section against an outage of two tenants at once;
// then the signature: what it covers, and that every kind of change to a signed
// document is refused with the reason that says what changed; then the signing key's life.
// runs-on: single, cluster
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import canonicalize from 'canonicalize';
import { loadRegistry } from '../src/config/index.js';
import { insertChunk, type ChdbStore } from '../src/store/index.js';
import { auditRows, ChainWriter } from '../src/ingest/audit/chain.js';
import type { AuditEvent, ChainedAuditEvent } from '../src/ingest/audit/types.js';
import { violationRows, resolutionRows, listViolations } from '../src/policy/violations.js';
import { sloReport } from '../src/reports/slo.js';
import { evidenceReport, type EvidenceReport } from '../src/reports/evidence.js';
import { EVIDENCE_KEY_FILE, evidenceJson, evidenceKeyId, loadEvidenceSigner, verifyEvidence, type EvidenceSigner, type SignedEvidence } from '../src/reports/evidence-sign.js';
import { embeddedEvidence, renderEvidenceHtml } from '../src/reports/evidence-html.js';
import { verifyEvidenceFile } from '../src/reports/evidence-file.js';
import { isTenantscopeError } from '../src/errors.js';
import { openTestStore } from './support/topology.js';
import { DEMO_CONFIG } from './support/server.js';
import { rollUpStoredSpans } from './support/rollup.js';
import { PLATFORM_CHAIN } from '../src/ingest/audit/chain.js';
import { standaloneRecoveryJudge } from '../src/policy/recovery-judge.js';
import { ANOTHER_TENANT } from '../src/reports/foreign-names.js';
import { incidentsReport, tenantIncidents } from '../src/reports/incidents.js';
import { reportingSetUp } from './support/hooks.js';

const registry = loadRegistry(DEMO_CONFIG);
const judge = standaloneRecoveryJudge(registry);
const dir = mkdtempSync(join(tmpdir(), 'tenantscope-evidence-'));
const keyDir = mkdtempSync(join(tmpdir(), 'tenantscope-evidence-key-'));
let store: ChdbStore;
let signer: EvidenceSigner;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// A two-day period that ended before today, so rows stamped "now" on arrival fall outside it.
const DAY0 = Math.floor(Date.now() / DAY) * DAY - 3 * DAY;
const PERIOD = { fromMs: DAY0, toMs: DAY0 + 2 * DAY };
const HOSTILE_SERVICE = '</script><img src=x onerror=alert(1)>';

let batches = 0;

async function spans(tenant: string, service: string, atMs: number, n: number, errors: number, ingestedMs?: number): Promise<void> {
  const batch = `evidence-${++batches}`;
  await store.exec(
    `INSERT INTO spans (tenant_id, service_name, start_time, end_time, duration_ns, kind, status_code, trace_id, span_id, retention_days, ingested_at, batch_id)
     SELECT {tenant:String}, {service:String}, fromUnixTimestamp64Milli({at:Int64}), fromUnixTimestamp64Milli({at:Int64}),
            100000000, 2, if(number < {errors:UInt64}, 2, 0), lower(hex(randomString(16))), lower(hex(randomString(8))), 3650,
            fromUnixTimestamp64Milli({ingested:Int64}), {batch:String}
     FROM numbers({n:UInt64})`,
    { tenant, service, at: atMs, n, errors, ingested: ingestedMs ?? Date.now(), batch },
  );
  await rollUpStoredSpans(store, batch);
}

const MINUTE = 60_000;

/** `perMinute` server spans each minute of [fromMs, toMs), the first `errors` of each minute failing. */
async function traffic(tenant: string, service: string, fromMs: number, toMs: number, perMinute: number, errors = 0): Promise<void> {
  const batch = `evidence-${++batches}`;
  await store.exec(
    `INSERT INTO spans (tenant_id, service_name, start_time, end_time, duration_ns, kind, status_code, trace_id, span_id, retention_days, ingested_at, batch_id)
     SELECT {tenant:String}, {service:String}, fromUnixTimestamp64Milli({from:Int64} + intDiv(number, {per:UInt64}) * 60000 + (number % {per:UInt64}) * 100) AS s, s,
            100000000, 2, if(number % {per:UInt64} < {errors:UInt64}, 2, 0), lower(hex(randomString(16))), lower(hex(randomString(8))), 3650, now64(3), {batch:String}
       FROM numbers({n:UInt64})`,
    { tenant, service, from: fromMs, per: perMinute, errors, n: ((toMs - fromMs) / MINUTE) * perMinute, batch },
  );
  await rollUpStoredSpans(store, batch);
}

/**
 * An outage on day 0: acme-dist and globex-3pl both fail half of their billing-api requests
 * (50 a minute) from 03:00 to 03:15, after an hour without errors and followed by 45 minutes
 * without. Each tenant's impact is those 15 minutes: 750 requests, 375 failures. Its episodes
 * (the slowest pair's short window is 6 hours) end before acme-dist's order-api errors at 12:00.
 */
const OUTAGE = DAY0 + 3 * HOUR;
async function loadOutage(): Promise<void> {
  for (const tenant of ['acme-dist', 'globex-3pl']) {
    await traffic(tenant, 'billing-api', OUTAGE - HOUR, OUTAGE, 50);
    await traffic(tenant, 'billing-api', OUTAGE, OUTAGE + 15 * MINUTE, 50, 25);
    await traffic(tenant, 'billing-api', OUTAGE + 15 * MINUTE, OUTAGE + HOUR, 50);
  }
}

/** An API read of acme-dist as the access work records it. */
function apiRead(actor: string, kind: string, route: string, outcome: string, atMs: number, n: number): AuditEvent {
  return {
    tenantId: 'acme-dist',
    eventId: `read-${n}`,
    timeNs: `${BigInt(atMs) * 1_000_000n}`,
    actorId: actor,
    actorType: 'user',
    actorTenantId: '',
    action: 'tenantscope.api.read',
    targetType: 'api_route',
    targetId: route,
    targetTenantId: 'acme-dist',
    outcome,
    region: '',
    sourceIp: '',
    ticket: '',
    attributes: { 'token.kind': kind, 'http.method': 'GET', 'http.status_code': outcome === 'denied' ? '403' : '200' },
    flags: [],
  };
}

/** A backup or recovery fact as a chained audit event (the recovery view reads it from audit_events). */
function recoveryFact(tenantId: string, eventId: string, action: string, atMs: number, attributes: Record<string, string>): AuditEvent {
  return {
    tenantId,
    eventId,
    timeNs: `${BigInt(atMs) * 1_000_000n}`,
    actorId: 'backup-operator',
    actorType: 'service',
    actorTenantId: '',
    action,
    targetType: 'backup',
    targetId: attributes.component ?? '',
    targetTenantId: tenantId === PLATFORM_CHAIN ? '' : tenantId,
    outcome: action === 'backup.failed' ? 'failure' : 'success',
    region: '',
    sourceIp: '',
    ticket: '',
    attributes,
    flags: [],
  };
}

/** Hourly backups of a component over the period (and the hour before it), skipping some hours. */
function hourlyBackups(tenantId: string, component: string, skip: number[], extra: Record<string, string>): AuditEvent[] {
  const out: AuditEvent[] = [];
  for (let h = -1; h < 48; h++) {
    if (skip.includes(h)) continue;
    const at = DAY0 + h * HOUR;
    out.push(recoveryFact(tenantId, `${tenantId}-${component}-${h}`, 'backup.completed', at, { component, scope: 'tenant', snapshot_time: new Date(at).toISOString(), retention_days: '35', location_region: 'us-east-1', ...extra }));
  }
  return out;
}

/**
 * acme-dist (shared: RPO 60 min, RTO 240, restore test every 90 days; requires database,
 * object_storage, config). Backups each hour with the snapshot taken as it completes cover
 * [h, h + 1h), so consecutive hours leave no gap. The database skips 10:00-12:00 of day 0: the
 * 09:00 backup covers until 10:00, the next comes at 13:00, a 180-minute stale window whose
 * newest snapshot is 240 minutes old at its end. object_storage skips hours 30 and 31 (120
 * minutes, snapshot 180 minutes old), and its backup failed at 30:05 with the next success 115
 * minutes later, past the RPO. config rides on hourly platform backups of the shared tier in
 * us-east-1. Together the required components were covered 2880 - 300 of 2880 minutes.
 * A restore test took 18000 s (over the 240-minute RTO); a failover test 1800 s (within it).
 * A queue backup names another tenant's key; globex-3pl has facts of its own, and the
 * platform has backups for another tier: none of them may show in acme-dist's evidence.
 */
async function loadRecoveryFacts(chain: ChainWriter): Promise<void> {
  const persist = async (chained: ChainedAuditEvent[]) => {
    await insertChunk(store, auditRows(chained, 400, 'test'));
  };
  await chain.append('acme-dist', [
    ...hourlyBackups('acme-dist', 'database', [10, 11, 12], {}),
    ...hourlyBackups('acme-dist', 'object_storage', [30, 31], {}),
    recoveryFact('acme-dist', 'acme-dist-os-failed', 'backup.failed', DAY0 + 30 * HOUR + 5 * 60_000, { component: 'object_storage', scope: 'tenant' }),
    recoveryFact('acme-dist', 'acme-dist-restore', 'restore.tested', DAY0 + 20 * HOUR, { component: 'database', scope: 'tenant', duration_seconds: '18000', verified_records: '5000', location_region: 'us-east-1' }),
    recoveryFact('acme-dist', 'acme-dist-failover', 'failover.tested', DAY0 + 21 * HOUR, { component: 'database', scope: 'tenant', duration_seconds: '1800', location_region: 'us-west-2' }),
    recoveryFact('acme-dist', 'acme-dist-queue', 'backup.completed', DAY0 + 40 * HOUR, { component: 'queue', scope: 'tenant', snapshot_time: new Date(DAY0 + 40 * HOUR).toISOString(), retention_days: '35', location_region: 'us-east-1', encryption_key_id: 'kms-globex-3pl-1' }),
  ], persist);
  await chain.append(PLATFORM_CHAIN, [
    ...hourlyBackups(PLATFORM_CHAIN, 'config', [], { scope: 'platform', tiers: 'shared', regions: 'us-east-1', encryption_key_id: 'kms-platform-use1' }),
    recoveryFact(PLATFORM_CHAIN, 'platform-dedicated-db', 'backup.completed', DAY0 + 5 * HOUR, { component: 'database', scope: 'platform', tiers: 'dedicated', snapshot_time: new Date(DAY0 + 5 * HOUR).toISOString(), retention_days: '90', location_region: 'eu-central-1' }),
  ], persist);
  await chain.append('globex-3pl', [
    recoveryFact('globex-3pl', 'globex-3pl-db', 'backup.completed', DAY0 + 6 * HOUR, { component: 'database', scope: 'tenant', snapshot_time: new Date(DAY0 + 6 * HOUR).toISOString(), retention_days: '35', location_region: 'us-east-1', encryption_key_id: 'kms-globex-3pl-1' }),
  ], persist);
}

const finding = (rule: string, subject: string, severity: 'high' | 'medium') => ({ policy: 'isolation', rule, severity, tenant: 'acme-dist', subject, message: `${rule} on ${subject}`, evidence: {} });

let acme: EvidenceReport;
let acmeDoc: SignedEvidence;
let acmeText: string;

test.before(reportingSetUp('evidence', setUp));

async function setUp(): Promise<void> {
  store = await openTestStore(dir);
  signer = loadEvidenceSigner({ dataDir: keyDir });
  // order-api: day 0, 1000 requests with 1 error; day 1, 1000 requests with 3 errors.
  await spans('acme-dist', 'order-api', DAY0 + 12 * HOUR, 1000, 1);
  await spans('acme-dist', 'order-api', DAY0 + DAY + 12 * HOUR, 1000, 3);
  await spans('acme-dist', HOSTILE_SERVICE, DAY0 + 13 * HOUR, 10, 0);
  // Received 40 days ago and kept (row TTL 3650 days) past acme-dist's 30-day span retention.
  await spans('acme-dist', 'order-api', DAY0 - 40 * DAY, 5, 0, Date.now() - 40 * DAY);

  const minute = (ms: number) => Math.floor(ms / 1000);
  const redactions = [
    { tenant_id: 'acme-dist', minute: minute(DAY0 + HOUR), data_class: 'spans', field: 'attributes.order.customer_code', class: 'tenant_identifier', count: 7, retention_days: 30 },
    { tenant_id: 'acme-dist', minute: minute(DAY0 + DAY), data_class: 'logs', field: 'body', class: 'email', count: 3, retention_days: 30 },
    { tenant_id: 'acme-dist', minute: minute(DAY0 - DAY), data_class: 'spans', field: 'attributes.x', class: 'email', count: 100, retention_days: 30 },
  ];
  await store.insertJsonEachRow('redactions', Buffer.from(redactions.map((r) => JSON.stringify(r)).join('\n')), redactions.length);

  const chain = new ChainWriter(store, 'node-evidence-test');
  const events = [
    apiRead('acme-dist read', 'read', '/api/v1/tenants/:id/slo', 'success', DAY0 + 10 * HOUR, 1),
    apiRead('acme-dist read', 'read', '/api/v1/tenants/:id/slo', 'success', DAY0 + 11 * HOUR, 2),
    apiRead('acme-dist read', 'read', '/api/v1/tenants/:id/slo', 'success', DAY0 + DAY + 9 * HOUR, 3),
    apiRead('globex-3pl read', 'read', '/api/v1/tenants/:id/cost', 'denied', DAY0 + DAY + 10 * HOUR, 4),
    apiRead('acme-dist read', 'read', '/api/v1/tenants/:id/slo', 'success', DAY0 - HOUR, 5),
    { ...apiRead('u-1842', 'read', 'orders', 'success', DAY0 + HOUR, 6), action: 'data.export', targetType: 'dataset' },
  ];
  await chain.append('acme-dist', events, async (chained) => {
    await insertChunk(store, auditRows(chained, 400, 'test'));
  });
  await loadRecoveryFacts(chain);
  await loadOutage();

  // A residency finding still open, and an export finding resolved on day 1.
  const open = { finding: finding('residency', 'evt-eu', 'high'), source: 'stream' as const, atMs: DAY0 + 10 * HOUR, retentionDays: 400 };
  const closed = { finding: finding('export_without_approval', 'evt-x', 'medium'), source: 'scheduled' as const, atMs: DAY0 + 2 * HOUR, retentionDays: 400 };
  await insertChunk(store, violationRows([open, closed]));
  const stored = await listViolations(store, { tenant: 'acme-dist', status: 'all' });
  const toResolve = stored.filter((v) => v.rule === 'export_without_approval');
  await insertChunk(store, resolutionRows(toResolve, DAY0 + DAY + 5 * HOUR, () => 400));

  acme = await evidenceReport(store, registry, 'acme-dist', PERIOD, {
    requestedBy: { name: 'acme-dist read', kind: 'read' },
    anonymise: true,
    runtime: { redaction: true, quotas: true, policies: true },
    signingKeyId: signer.keyId,
    recoveryJudge: judge,
  });
  acmeDoc = signer.sign(acme);
  acmeText = evidenceJson(acmeDoc);
}

test.after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(keyDir, { recursive: true, force: true });
});

// ---- the figures ----

test('the daily error budget runs from the start of the period and ends where the period\'s SLO report does', async () => {
  // acme-dist allows 0.1% errors: day 0 spends 1 of 1 allowed (0 left); by day 1, 4 of 2 (-1 left).
  const orderApi = acme.series.error_budget.map((d) => d.services.find((s) => s.service === 'order-api')!);
  assert.equal(acme.series.error_budget.map((d) => d.day), [new Date(DAY0).toISOString().slice(0, 10), new Date(DAY0 + DAY).toISOString().slice(0, 10)]);
  assert.equal(orderApi.map((s) => s.availability_budget_remaining), [0, -1]);
  assert.equal(orderApi.map((s) => s.requests), [1000, 1000]);
  assert.equal(orderApi.map((s) => s.availability_sli), [0.999, 0.997]);
  const period = await sloReport(store, registry.tenant('acme-dist')!, PERIOD);
  assert.equal(acme.slo, period);
  assert.is(period.services.find((s) => s.service === 'order-api')!.availability.error_budget_remaining, orderApi[1]!.availability_budget_remaining);
});

test('redactions are counted per class inside the period only', () => {
  assert.equal(acme.redactions, { total: 10, by_class: { email: 3, tenant_identifier: 7 }, by_data_class: { logs: { email: 3 }, spans: { tenant_identifier: 7 } } });
});

test('the access review counts each actor\'s API reads per route and outcome in the period, and hides other tenants\' token names', async () => {
  assert.equal(acme.access_review.rows, [
    { actor: 'acme-dist read', token_kind: 'read', route: '/api/v1/tenants/:id/slo', outcome: 'success', count: 3, first: new Date(DAY0 + 10 * HOUR).toISOString(), last: new Date(DAY0 + DAY + 9 * HOUR).toISOString() },
    { actor: 'other-token-1', token_kind: 'read', route: '/api/v1/tenants/:id/cost', outcome: 'denied', count: 1, first: new Date(DAY0 + DAY + 10 * HOUR).toISOString(), last: new Date(DAY0 + DAY + 10 * HOUR).toISOString() },
  ]);
  assert.equal({ ...acme.access_review, rows: [] }, { reads: 4, denied: 1, failed: 0, actors: 2, anonymised_actors: 1, rows: [] });
  assert.not.ok(JSON.stringify(acme).includes('globex-3pl read'));
  const operator = await evidenceReport(store, registry, 'acme-dist', PERIOD, { requestedBy: { name: 'operator', kind: 'operator' }, anonymise: false, recoveryJudge: judge });
  assert.equal(operator.access_review.rows.map((r) => r.actor), ['acme-dist read', 'globex-3pl read']);
});

test('policy results count the period\'s violations by policy and severity, and per day', () => {
  const p = acme.policy;
  assert.equal([p.open, p.resolved], [1, 1]);
  assert.equal(p.by_policy, { isolation: { open: 1, resolved: 1 } });
  assert.equal(p.by_severity, { high: { open: 1, resolved: 0 }, medium: { open: 0, resolved: 1 } });
  assert.equal(p.violations.map((v) => `${v.rule}:${v.status}`).sort(), ['export_without_approval:resolved', 'residency:open']);
  assert.equal(acme.series.violations.map(({ opened, resolved, active }) => [opened, resolved, active]), [[2, 0, 2], [0, 1, 2]]);
});

test('retention flags rows kept past the tenant\'s retention, and a legal hold instead of that for a held tenant', async () => {
  const spansRow = acme.retention.find((r) => r.data_class === 'spans')!;
  assert.is(spansRow.status, 'not_enforced');
  assert.equal([spansRow.configured_days, spansRow.effective_days, spansRow.tier_min_days, spansRow.tier_max_days], [30, 30, 7, 90]);
  assert.ok(spansRow.oldest_age_days! >= 40 && spansRow.oldest_age_days! < 41, String(spansRow.oldest_age_days));
  const logs = acme.retention.find((r) => r.data_class === 'logs')!;
  assert.equal([logs.status, logs.rows, logs.oldest_stored], ['ok', 0, null]);
  const umbrella = await evidenceReport(store, registry, 'umbrella-pharma', PERIOD, { requestedBy: { name: 'x', kind: 'admin' }, anonymise: false, recoveryJudge: judge });
  assert.equal(umbrella.retention.map((r) => r.status), ['legal_hold', 'legal_hold', 'legal_hold', 'legal_hold']);
});

test('controls are decided from data: the chain, redaction, residency findings, and PII classes tenantscope cannot detect', async () => {
  const status = (r: EvidenceReport) => Object.fromEntries(r.controls.map((c) => [c.control, c.status]));
  const a = status(acme);
  assert.equal(acme.controls.filter((c) => c.required).map((c) => c.control), ['ingest_quota', 'cross_tenant_redaction', 'audit_chain']);
  assert.equal([a.ingest_quota, a.cross_tenant_redaction, a.audit_chain, a.access_review, a.signed_evidence], ['pass', 'pass', 'pass', 'pass', 'pass']);
  // acme-dist has no key of its own, and a residency finding in the period.
  assert.equal([a.per_tenant_key, a.eu_residency], ['fail', 'fail']);
  const umbrella = await evidenceReport(store, registry, 'umbrella-pharma', PERIOD, { requestedBy: { name: 'x', kind: 'admin' }, anonymise: false, recoveryJudge: judge, runtime: { redaction: true } });
  const u = status(umbrella);
  assert.equal([u.eu_residency, u.per_tenant_key, u.pii_redaction], ['pass', 'pass', 'partial']);
  assert.equal(umbrella.controls.find((c) => c.control === 'pii_redaction')!.evidence.not_detected, ['person_name', 'national_id', 'date_of_birth']);
  // Redaction switched off on the server fails both redaction controls.
  const off = status(await evidenceReport(store, registry, 'acme-dist', PERIOD, { requestedBy: { name: 'x', kind: 'admin' }, anonymise: false, recoveryJudge: judge, runtime: { redaction: false } }));
  assert.equal([off.cross_tenant_redaction, off.pii_redaction], ['fail', 'fail']);
});

test('recoverability: per component the latest backup, its age and the stale windows, with the overall RPO attainment', () => {
  const x = acme.recoverability;
  assert.equal(x.objectives, { rpo_minutes: 60, rto_minutes: 240, restore_test_days: 90, backup_retention_days: 30, components: ['database', 'object_storage', 'config'], dr_region_required: false });
  assert.equal(x.components.map((c) => [c.component, c.required, c.backups, c.failed_backups, c.stale_minutes, c.rpo_attainment]), [
    ['database', true, 45, 0, 180, 0.9375],
    ['object_storage', true, 46, 1, 120, 0.9583],
    ['config', true, 48, 0, 0, 1],
    ['queue', false, 1, 0, 2820, 0.0208],
  ]);
  const [db, os, config] = x.components;
  const at = (h: number, m = 0) => new Date(DAY0 + h * HOUR + m * 60_000).toISOString();
  assert.equal(db!.stale_windows, [{ from: at(10), to: at(13), minutes: 180, max_age_minutes: 240 }]);
  assert.equal(os!.stale_windows, [{ from: at(30), to: at(32), minutes: 120, max_age_minutes: 180 }]);
  assert.equal(os!.failures, [{ time: at(30, 5), event_id: 'acme-dist-os-failed', scope: 'tenant', next_success_minutes: 115 }]);
  assert.equal([db!.latest!.snapshot, db!.latest!.age_minutes, db!.within_rpo], [at(47), 60, true]);
  assert.equal([config!.latest!.scope, config!.latest!.event_id], ['platform', `${PLATFORM_CHAIN}-config-47`]);
  // The two required gaps do not overlap: 2880 - 180 - 120 of 2880 minutes.
  assert.is(x.rpo_attainment, 0.8958);
});

test('recoverability: restore and failover tests checked against the RTO, the findings of recovery.rego, and where the evidence is', () => {
  const x = acme.recoverability;
  assert.equal(x.restore_tests.map((t) => [t.event_id, t.duration_seconds, t.within_rto, t.verified_records]), [['acme-dist-restore', 18000, false, 5000]]);
  assert.equal(x.failover_tests.map((t) => [t.event_id, t.location_region, t.within_rto]), [['acme-dist-failover', 'us-west-2', true]]);
  assert.is(x.last_restore_test!.due_by, new Date(DAY0 + 20 * HOUR + 90 * DAY).toISOString());
  assert.equal(x.findings.map((f) => `${f.rule}:${f.subject}`), ['backup_failure_unrecovered:object_storage', 'backup_older_than_rpo:database', 'backup_older_than_rpo:object_storage', 'restore_test_over_rto:restore_test']);
  assert.is(x.status, 'not_met');
  assert.equal(x.sources.map((e) => [e.event_id, e.kind, e.stored_as]), [
    ['acme-dist-restore', 'restore.tested', 'tenant_audit_chain'],
    ['acme-dist-failover', 'failover.tested', 'tenant_audit_chain'],
    ['acme-dist-os-failed', 'backup.failed', 'tenant_audit_chain'],
    ['acme-dist-queue', 'backup.completed', 'tenant_audit_chain'],
    [`${PLATFORM_CHAIN}-config-47`, 'backup.completed', 'platform_audit_chain'],
    ['acme-dist-database-47', 'backup.completed', 'tenant_audit_chain'],
    ['acme-dist-object_storage-47', 'backup.completed', 'tenant_audit_chain'],
  ]);
});

test('recoverability never names another tenant: not their facts, and not a name inside the tenant\'s own facts', async () => {
  const text = JSON.stringify(acme.recoverability);
  for (const t of registry.tenants().filter((t) => t.id !== 'acme-dist')) {
    for (const n of [t.id, t.name, ...t.identifiers]) assert.not.ok(text.includes(n), `${t.id}: ${n}`);
  }
  // The platform's backups of another tier are not acme-dist's either.
  assert.not.ok(text.includes('platform-dedicated-db'));
  assert.is(acme.recoverability.components.find((c) => c.component === 'queue')!.latest!.encryption_key_id, `kms-${ANOTHER_TENANT}-1`);
  const operator = await evidenceReport(store, registry, 'acme-dist', PERIOD, { requestedBy: { name: 'operator', kind: 'operator' }, anonymise: false, recoveryJudge: judge });
  assert.is(operator.recoverability.components.find((c) => c.component === 'queue')!.latest!.encryption_key_id, 'kms-globex-3pl-1');
});

test('incidents: the outage with acme-dist\'s own impact, the other tenant counted, as the incidents route gives it', async () => {
  const x = acme.incidents;
  assert.equal(x.windows, [{ from: new Date(PERIOD.fromMs).toISOString(), to: new Date(PERIOD.toMs).toISOString() }]);
  const outage = x.incidents.filter((i) => i.impact.services.includes('billing-api'));
  assert.is(outage.length, 1, JSON.stringify(x.incidents.map((i) => [i.id, i.impact.services])));
  const i = outage[0]!;
  assert.equal([i.impact.tenant, i.impact.impact.from, i.impact.impact.minutes, i.impact.requests, i.impact.failures, i.other_tenants_affected], ['acme-dist', new Date(OUTAGE).toISOString(), 15, 750, 375, 1]);
  assert.ok(i.episodes.length > 0 && i.episodes.every((e) => e.tenant === 'acme-dist'));
  // The exposure is the credit the month reaches with the outage's failures less the credit without them.
  const s = i.impact.sla;
  assert.ok(s.credit_percent > s.credit_percent_without_incident, JSON.stringify(s));
  assert.is(s.exposure, Math.round(s.monthly_fee * (s.credit_percent - s.credit_percent_without_incident)) / 100);
  // The same figures as the route: the tenant's view of the incidents report over the period.
  assert.equal(x.incidents, tenantIncidents(await incidentsReport(store, registry, PERIOD), 'acme-dist').incidents);
});

test('incidents never name the other tenant the outage hit, not even to the operator', async () => {
  const operator = await evidenceReport(store, registry, 'acme-dist', PERIOD, { requestedBy: { name: 'operator', kind: 'operator' }, anonymise: false, recoveryJudge: judge });
  assert.equal(operator.incidents, acme.incidents);
  const text = JSON.stringify(acme.incidents).toLowerCase();
  for (const t of registry.tenants().filter((t) => t.id !== 'acme-dist')) {
    for (const n of [t.id, t.name, ...t.identifiers]) assert.not.ok(text.includes(n.toLowerCase()), `${t.id}: ${n}`);
  }
  // globex-3pl's own view of the same outage names acme-dist nowhere either.
  const globex = await evidenceReport(store, registry, 'globex-3pl', PERIOD, { requestedBy: { name: 'x', kind: 'auditor' }, anonymise: true, recoveryJudge: judge });
  assert.is(globex.incidents.incidents.filter((i) => i.impact.services.includes('billing-api')).length, 1);
  assert.not.ok(JSON.stringify(globex.incidents).includes('acme'));
});

test('a period longer than 35 days reads incidents in windows of at most 35 days ending at its end', async () => {
  const long = { fromMs: PERIOD.toMs - 80 * DAY, toMs: PERIOD.toMs };
  const r = await evidenceReport(store, registry, 'acme-dist', long, { requestedBy: { name: 'x', kind: 'admin' }, anonymise: false, recoveryJudge: judge });
  const at = (ms: number) => new Date(ms).toISOString();
  assert.equal(r.incidents.windows, [
    { from: at(long.fromMs), to: at(long.toMs - 70 * DAY) },
    { from: at(long.toMs - 70 * DAY), to: at(long.toMs - 35 * DAY) },
    { from: at(long.toMs - 35 * DAY), to: at(long.toMs) },
  ]);
  // The outage lies in the last window, once, with the same impact as over the two-day period.
  const outage = r.incidents.incidents.filter((i) => i.impact.services.includes('billing-api'));
  assert.equal(outage.map((i) => [i.impact.impact.from, i.impact.failures]), [[at(OUTAGE), 375]]);
});

test('a period longer than a year, or ending before it starts, is refused with the parameter named', async () => {
  for (const w of [{ fromMs: DAY0 - 400 * DAY, toMs: DAY0 }, { fromMs: DAY0, toMs: DAY0 - 1 }]) {
    try {
      await evidenceReport(store, registry, 'acme-dist', w, { requestedBy: { name: 'x', kind: 'admin' }, anonymise: false, recoveryJudge: judge });
      assert.unreachable('accepted');
    } catch (e) {
      assert.ok(isTenantscopeError(e) && e.code === 'TS_ERR_BAD_QUERY' && /from/.test(e.message), String(e));
    }
  }
});

// ---- the signature ----

test('the signature is Ed25519 over the RFC 8785 canonical form of the report', () => {
  assert.is(canonicalize({ b: 1, a: [1e21, 'é', 0.1, { d: null, c: true }] }), '{"a":[1e+21,"é",0.1,{"c":true,"d":null}],"b":1}');
  const key = createPublicKey(acmeDoc.signature.public_key);
  assert.ok(verify(null, Buffer.from(canonicalize(acmeDoc.report)!), key, Buffer.from(acmeDoc.signature.value, 'base64')));
  assert.is(acmeDoc.signature.key_id, evidenceKeyId(key));
  // Member order is not part of what is signed.
  const reordered = JSON.parse(JSON.stringify(acmeDoc, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v))) as unknown;
  assert.ok(verifyEvidence(reordered, signer.publicKeyPem).valid);
});

test('an untouched evidence file verifies against the signer\'s public key', () => {
  const r = verifyEvidence(acmeText, signer.publicKeyPem);
  assert.ok(r.valid, JSON.stringify(r));
  if (r.valid) assert.equal([r.key_source, r.tenant, r.key_id], ['supplied', 'acme-dist', signer.keyId]);
  const embedded = verifyEvidence(acmeText);
  assert.ok(embedded.valid && embedded.key_source === 'embedded' && embedded.notes.length === 1);
});

/** The text with the first `needle` replaced; the needle must be there. */
function change(text: string, needle: string, replacement: string): string {
  const at = text.indexOf(needle);
  assert.ok(at >= 0, `${needle} in the document`);
  return text.slice(0, at) + replacement + text.slice(at + needle.length);
}

function failure(text: string, key: string | undefined = signer.publicKeyPem) {
  const r = verifyEvidence(text, key);
  if (r.valid) assert.unreachable('a changed document verified');
  return r as Extract<typeof r, { valid: false }>;
}

test('changing one byte of a value in a signed evidence report makes verify name the section that changed', () => {
  const r = failure(change(acmeText, '"actor": "acme-dist read"', '"actor": "acme-dist reae"'));
  assert.is(r.reason, 'signature_mismatch');
  assert.equal(r.sections, ['access_review']);
  assert.match(r.message, /access_review differs from what was signed/);
  const n = failure(change(acmeText, '"availability_budget_remaining": -1', '"availability_budget_remaining": -2'));
  assert.equal([n.reason, n.sections], ['signature_mismatch', ['series']]);
  const rpo = failure(change(acmeText, '"rpo_attainment": 0.8958', '"rpo_attainment": 0.9958'));
  assert.equal([rpo.reason, rpo.sections], ['signature_mismatch', ['recoverability']]);
  const inc = failure(change(acmeText, '"failures": 375', '"failures": 37'));
  assert.equal([inc.reason, inc.sections], ['signature_mismatch', ['incidents']]);
  assert.match(inc.message, /incidents differs from what was signed/);
});

test('changing one byte of a member name makes verify name its section', () => {
  const r = failure(change(acmeText, '"allowed_regions"', '"allowed_regionz"'));
  assert.equal([r.reason, r.sections], ['signature_mismatch', ['tenant']]);
  // A renamed section is both gone and new.
  const s = failure(change(acmeText, '"noisy_neighbours": {', '"noisy_neighbourz": {'));
  assert.equal(s.sections, ['noisy_neighbours', 'noisy_neighbourz']);
});

test('a changed signature value is a signature mismatch with no section of the report to blame', () => {
  const v = acmeDoc.signature.value;
  const flipped = `${v[0] === 'A' ? 'B' : 'A'}${v.slice(1)}`;
  const r = failure(change(acmeText, `"value": "${v}"`, `"value": "${flipped}"`));
  assert.is(r.reason, 'signature_mismatch');
  assert.match(r.message, /every section matches its signed digest/);
});

test('changed section digests leave the change unnameable, and say so', () => {
  const digest = acmeDoc.report.integrity.section_digests.cost!;
  const r = failure(change(acmeText, digest, `${digest.slice(0, -1)}${digest.endsWith('0') ? '1' : '0'}`));
  assert.is(r.reason, 'signature_mismatch');
  assert.equal(r.sections, undefined);
  assert.match(r.message, /does not cover the report as given/);
});

test('a different public key is a key mismatch, whether supplied or swapped into the document', () => {
  const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const r = failure(acmeText, other);
  assert.is(r.reason, 'key_mismatch');
  assert.match(r.message, new RegExp(`names key ${acmeDoc.signature.key_id}, but the supplied public key is ed25519-`));
  // Another key in the document, checked against the key it names.
  const swapped = evidenceJson({ ...acmeDoc, signature: { ...acmeDoc.signature, public_key: other } });
  assert.is(failure(swapped, undefined).reason, 'key_mismatch');
  // Re-signed by someone else: valid on its own terms, refused against the real signer's key.
  const forger = loadEvidenceSigner({ dataDir: mkdtempSync(join(tmpdir(), 'tenantscope-forger-')) });
  const forged = evidenceJson(forger.sign(acme));
  assert.ok(verifyEvidence(forged).valid);
  assert.is(failure(forged).reason, 'key_mismatch');
});

test('a file that is not JSON, not a document, or not as written is refused with what is wrong', () => {
  assert.is(failure(acmeText.slice(0, -3)).reason, 'not_json');
  const shape = failure(evidenceJson({ ...acmeDoc, signature: { ...acmeDoc.signature, algorithm: 'RS256' as 'Ed25519' } }));
  assert.equal([shape.reason, shape.field], ['bad_shape', 'signature.algorithm']);
  const { value: _v, ...noValue } = acmeDoc.signature;
  assert.equal(failure(JSON.stringify({ report: acmeDoc.report, signature: noValue }, null, 2) + '\n').field, 'signature.value');
  // Same content, other spacing: a changed byte all the same.
  assert.is(failure(acmeText.replace('{\n  "report"', '{\n   "report"')).reason, 'not_as_written');
});

// ---- the page ----

test('the page has a table per section, five SVG charts, nothing fetched, and every value escaped', async () => {
  const html = await renderEvidenceHtml(acmeDoc);
  for (const id of ['profile', 'controls', 'policy', 'redactions', 'audit-chain', 'retention', 'access-review', 'slo', 'noisy', 'cost', 'recoverability', 'incidents', 'signature']) assert.ok(html.includes(`<section id="${id}">`), id);
  assert.ok((html.match(/<svg/g) ?? []).length >= 5);
  // The recoverability table: a row per component, and the attainment bar chart.
  assert.match(html, /<td>database<\/td><td>yes<\/td><td>[^<]+ \(tenant\)<\/td><td>60<\/td><td>yes<\/td><td>45<\/td><td>0<\/td><td>180<\/td><td>1<\/td><td>93.75%<\/td>/);
  assert.ok(html.includes('aria-label="RPO attainment per component'));
  // The incidents table: the outage's row, with its 15 minutes, 750 requests, 375 failures and the one other tenant hit.
  const outage = acme.incidents.incidents.find((i) => i.impact.services.includes('billing-api'))!;
  assert.match(html, new RegExp(`<td><code>${outage.id}</code></td><td>${outage.scope}</td><td>[^<]+</td><td>15</td><td>750</td><td>375</td><td>${outage.impact.error_budget_consumed}</td><td>[^<]+</td><td>[^<]+</td><td>${outage.impact.sla.exposure.toFixed(2)} [A-Z]+</td><td>1</td>`));
  assert.not.match(html, /(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
  assert.not.match(html, /<link|<img|<script(?! type="application\/json" id="evidence")/);
  assert.ok(html.includes('&#60;/script&#62;&#60;img src=x onerror=alert(1)&#62;'), 'the hostile service name shown as text');
  // The embedded JSON survives the service name's </script>, and is the signed document.
  const embedded = embeddedEvidence(html)!;
  assert.not.ok(embedded.includes('</script>'));
  assert.equal(JSON.parse(embedded), acmeDoc);
  // The same document renders to the same bytes.
  assert.is(await renderEvidenceHtml(acmeDoc), html);
});

test('a page verifies through its embedded JSON, and a change to its visible tables is refused', async () => {
  const html = await renderEvidenceHtml(acmeDoc);
  assert.ok((await verifyEvidenceFile(html, signer.publicKeyPem)).valid);
  const shown = change(html, '<td>ingest_quota</td>', '<td>ingest_quotb</td>');
  const r = await verifyEvidenceFile(shown, signer.publicKeyPem);
  assert.equal(r.valid ? 'valid' : r.reason, 'page_mismatch');
  const inJson = change(html, '"actor":"acme-dist read"', '"actor":"acme-dist reae"');
  const j = await verifyEvidenceFile(inJson, signer.publicKeyPem);
  assert.equal(j.valid ? [] : j.sections, ['access_review']);
});

// ---- the key ----

test('the evidence key is generated once into the data dir, readable by its owner only, and reused', () => {
  const file = join(keyDir, EVIDENCE_KEY_FILE);
  assert.is(statSync(file).mode & 0o777, 0o600);
  const again = loadEvidenceSigner({ dataDir: keyDir });
  assert.is(again.keyId, signer.keyId);
  assert.ok(verifyEvidence(evidenceJson(again.sign(acme)), signer.publicKeyPem).valid);
});

test('a configured key file signs instead of the data dir\'s, and a non-Ed25519 key is refused at load', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const conf = mkdtempSync(join(tmpdir(), 'tenantscope-evidence-conf-'));
  const pem = join(conf, 'signing.pem');
  writeFileSync(pem, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const configured = loadEvidenceSigner({ dataDir: join(conf, 'data'), keyFile: pem });
  assert.is(configured.keyId, evidenceKeyId(publicKey));
  assert.ok(verifyEvidence(evidenceJson(configured.sign(acme)), publicKey.export({ type: 'spki', format: 'pem' }).toString()).valid);
  assert.equal(readdirSync(conf), ['signing.pem'], 'no key generated');
  const rsa = join(conf, 'rsa.pem');
  writeFileSync(rsa, generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  try {
    loadEvidenceSigner({ dataDir: conf, keyFile: rsa });
    assert.unreachable('an RSA key was accepted');
  } catch (e) {
    assert.ok(isTenantscopeError(e) && e.code === 'TS_ERR_CONFIG' && /rsa key; evidence is signed with Ed25519/.test(e.message), String(e));
  }
  rmSync(conf, { recursive: true, force: true });
});

test.run();
