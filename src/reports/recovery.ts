// The recovery report: for one tenant and period, were its recovery objectives met, and where
// is the evidence? Per component the latest backup and its age against the RPO, the RPO
// attainment over the period (the share of time a restorable backup younger than the RPO
// existed), restore and failover tests against the RTO, and what recovery.rego finds in the
// same facts. The platform view lists every tenant's summary for operators.
import type { Registry, TenantRecord } from '../config/index.js';
import type { Finding, RecoveryInput } from '../policy/types.js';
import type { Store } from '../store/types.js';
import { tsError } from '../errors.js';
import { recoveryTenantDoc, staleWindowDoc, tenantRecoveryFacts, testDoc, type StaleWindowMs, type TenantRecoveryFacts } from './recovery-facts.js';
import type { RecoveryStaleWindow, RecoveryTestDoc } from '../policy/types.js';
import { recoveryDocument, type PolicyRecovery } from '../policy/registry-data.js';

const MINUTE_MS = 60_000;
/** The period when the caller names none: the 30 days before now. */
export const DEFAULT_RECOVERY_DAYS = 30;

/** Evaluates recovery.rego on an input; the caller owns the policy set. */
export type RecoveryJudge = (input: RecoveryInput) => Finding[];

/** One component of a recovery report. */
export interface ComponentRecovery {
  component: string;
  /** Whether the tenant's objectives require it. */
  required: boolean;
  latest: { completed: string; snapshot: string; age_minutes: number; scope: string; event_id: string; encryption_key_id: string; location_region: string } | null;
  /** The latest snapshot is younger than the RPO at the period's end. */
  within_rpo: boolean;
  backups: number;
  failed_backups: number;
  /** The failed backups of the period, each with the minutes to the next success (null: none yet). */
  failures: { time: string; event_id: string; scope: string; next_success_minutes: number | null }[];
  period_minutes: number;
  covered_minutes: number;
  stale_minutes: number;
  /** covered / period, 0..1 (4 decimals). */
  rpo_attainment: number;
  stale_windows: RecoveryStaleWindow[];
}

/** A restore or failover test in the report. */
export interface TestRecovery extends RecoveryTestDoc {
  scope: string;
  verified_records: number;
  /** The test finished within the RTO. */
  within_rto: boolean;
}

/** GET /api/v1/tenants/{id}/recovery. */
export interface RecoveryReport {
  tenant: string;
  tier: string;
  region: string;
  period: { from: string; to: string };
  generated_at: string;
  objectives: PolicyRecovery;
  /** Share of the period in which every required component had a backup younger than the RPO. */
  rpo_attainment: number;
  components: ComponentRecovery[];
  /** Restore tests of the period, newest first. */
  restore_tests: TestRecovery[];
  /** The latest tenant-scope restore test at or before the period's end, with its due date. */
  last_restore_test: (TestRecovery & { due_by: string }) | null;
  failover_tests: TestRecovery[];
  findings: Finding[];
  /** met: no findings. */
  status: 'met' | 'not_met';
}

/** The period of a report: [from, to), default the 30 days before now. */
export function recoveryPeriod(w: { fromMs?: number; toMs?: number }, nowMs = Date.now()): { fromMs: number; toMs: number } {
  const toMs = w.toMs ?? nowMs;
  const fromMs = w.fromMs ?? toMs - DEFAULT_RECOVERY_DAYS * 86_400_000;
  if (fromMs >= toMs) throw tsError('TS_ERR_BAD_QUERY', ['from', 'must be before to']);
  return { fromMs, toMs };
}

/** The recovery input for some tenants over one period (the scheduled run and the report both use it). */
export async function recoveryInput(store: Store, tenants: readonly TenantRecord[], fromMs: number, toMs: number, nowMs = Date.now()): Promise<{ input: RecoveryInput; facts: TenantRecoveryFacts[] }> {
  const facts = await Promise.all(tenants.map((t) => tenantRecoveryFacts(store, t, fromMs, toMs)));
  const input: RecoveryInput = {
    kind: 'recovery',
    now: new Date(nowMs).toISOString(),
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    tenants: Object.fromEntries(facts.map((f) => [f.tenant.id, recoveryTenantDoc(f)])),
  };
  return { input, facts };
}

/** One tenant's recovery report. */
export async function recoveryReport(store: Store, tenant: TenantRecord, window: { fromMs?: number; toMs?: number }, judge: RecoveryJudge, nowMs = Date.now()): Promise<RecoveryReport> {
  const { fromMs, toMs } = recoveryPeriod(window, nowMs);
  const { input, facts } = await recoveryInput(store, [tenant], fromMs, toMs, nowMs);
  const findings = judge(input).filter((f) => f.tenant === tenant.id);
  return buildReport(facts[0]!, findings, nowMs);
}

/** Every tenant's recovery report over one period (admins). */
export async function platformRecovery(store: Store, registry: Registry, window: { fromMs?: number; toMs?: number }, judge: RecoveryJudge, nowMs = Date.now()): Promise<{ period: { from: string; to: string }; tenants: RecoveryReport[] }> {
  const { fromMs, toMs } = recoveryPeriod(window, nowMs);
  const { input, facts } = await recoveryInput(store, registry.tenants(), fromMs, toMs, nowMs);
  const findings = judge(input);
  return {
    period: { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() },
    tenants: facts.map((f) => buildReport(f, findings.filter((x) => x.tenant === f.tenant.id), nowMs)),
  };
}

/** A fact a recovery report rests on: which stored event, of what kind, and where it is kept. */
export interface RecoverySource {
  event_id: string;
  kind: 'backup.completed' | 'backup.failed' | 'restore.tested' | 'failover.tested';
  component: string;
  time: string;
  /** tenant: the tenant's own fact; platform: a platform-scope fact covering it. */
  scope: string;
  /**
   * Where the fact is stored: an audit event in the tenant's chain, or in the platform chain for
   * platform-scope facts (both checked by audit verify), or a log record (ids `log:...`).
   */
  stored_as: 'tenant_audit_chain' | 'platform_audit_chain' | 'log_record';
}

/**
 * The stored facts a report cites, once each and oldest first: the latest backup of each
 * component, the failed backups, and the restore and failover tests. An auditor finds each by
 * its event id (the stale windows follow from the backups between them).
 */
export function recoverySources(r: RecoveryReport): RecoverySource[] {
  const out = new Map<string, RecoverySource>();
  const add = (event_id: string, kind: RecoverySource['kind'], component: string, time: string, scope: string) => {
    if (!out.has(event_id)) out.set(event_id, { event_id, kind, component, time, scope, stored_as: storedAs(event_id, scope) });
  };
  for (const c of r.components) {
    if (c.latest) add(c.latest.event_id, 'backup.completed', c.component, c.latest.completed, c.latest.scope);
    for (const f of c.failures) add(f.event_id, 'backup.failed', c.component, f.time, f.scope);
  }
  const tests = [...r.restore_tests, ...(r.last_restore_test ? [r.last_restore_test] : [])];
  for (const t of tests) add(t.event_id, 'restore.tested', t.component, t.time, t.scope);
  for (const t of r.failover_tests) add(t.event_id, 'failover.tested', t.component, t.time, t.scope);
  return [...out.values()].sort((a, b) => a.time.localeCompare(b.time) || a.event_id.localeCompare(b.event_id));
}

// Log records get ids derived from their content (recovery_events_from_logs), prefixed `log:`.
function storedAs(eventId: string, scope: string): RecoverySource['stored_as'] {
  if (eventId.startsWith('log:')) return 'log_record';
  return scope === 'platform' ? 'platform_audit_chain' : 'tenant_audit_chain';
}

// Length of the union of windows, clipped to [from, to).
function unionMs(windows: readonly StaleWindowMs[]): number {
  const sorted = [...windows].sort((a, b) => a.fromMs - b.fromMs);
  let total = 0;
  let end = -Infinity;
  for (const w of sorted) {
    const start = Math.max(w.fromMs, end);
    if (w.toMs > start) total += w.toMs - start;
    end = Math.max(end, w.toMs);
  }
  return total;
}

const ratio = (part: number, whole: number): number => (whole <= 0 ? 1 : Math.round((part / whole) * 10_000) / 10_000);
const minutes = (ms: number): number => Math.round(ms / 600) / 100;

function buildReport(f: TenantRecoveryFacts, findings: Finding[], nowMs: number): RecoveryReport {
  const t = f.tenant;
  const r = t.recovery;
  const periodMs = f.toMs - f.fromMs;
  const rpoMs = r.rpoMinutes * MINUTE_MS;
  const required = new Set<string>(r.components);
  const names = [...new Set([...r.components, ...f.components.keys()])];
  const requiredGaps: StaleWindowMs[] = [];
  const components: ComponentRecovery[] = names.map((name) => {
    const c = f.components.get(name);
    // Never backed up: the whole period is without a restorable copy.
    const stale = c?.latest ? c.stale : [{ fromMs: f.fromMs, toMs: f.toMs }];
    if (required.has(name)) requiredGaps.push(...stale);
    const staleMs = unionMs(stale);
    return {
      component: name,
      required: required.has(name),
      latest: c?.latest
        ? {
            completed: new Date(c.latest.completedMs).toISOString(),
            snapshot: new Date(c.latest.snapshotMs).toISOString(),
            age_minutes: minutes(f.toMs - c.latest.snapshotMs),
            scope: c.latest.scope,
            event_id: c.latest.eventId,
            encryption_key_id: c.latest.keyId,
            location_region: c.latest.region,
          }
        : null,
      within_rpo: c?.latest !== undefined && f.toMs - c.latest.snapshotMs <= rpoMs,
      backups: c?.backups ?? 0,
      failed_backups: c?.failures.length ?? 0,
      failures: (c?.failures ?? []).map((x) => ({
        time: new Date(x.timeMs).toISOString(),
        event_id: x.eventId,
        scope: x.scope,
        next_success_minutes: x.nextSuccessMs === undefined ? null : minutes(x.nextSuccessMs - x.timeMs),
      })),
      period_minutes: minutes(periodMs),
      covered_minutes: minutes(periodMs - staleMs),
      stale_minutes: minutes(staleMs),
      rpo_attainment: ratio(periodMs - staleMs, periodMs),
      stale_windows: c?.latest ? c.stale.map(staleWindowDoc) : [],
    };
  });
  const test = (x: TenantRecoveryFacts['tests'][number]): TestRecovery => ({
    ...testDoc(x, f.toMs),
    scope: x.scope,
    verified_records: x.verifiedRecords,
    within_rto: x.outcome === 'success' && x.durationSeconds <= r.rtoMinutes * 60,
  });
  const inPeriod = f.tests.filter((x) => x.timeMs >= f.fromMs);
  const last = f.tests.find((x) => x.kind === 'restore.tested' && x.scope === 'tenant');
  return {
    tenant: t.id,
    tier: t.tier,
    region: t.region,
    period: { from: new Date(f.fromMs).toISOString(), to: new Date(f.toMs).toISOString() },
    generated_at: new Date(nowMs).toISOString(),
    objectives: recoveryDocument(r),
    rpo_attainment: ratio(periodMs - unionMs(requiredGaps), periodMs),
    components,
    restore_tests: inPeriod.filter((x) => x.kind === 'restore.tested').map(test),
    last_restore_test: last ? { ...test(last), due_by: new Date(last.timeMs + r.restoreTestDays * 86_400_000).toISOString() } : null,
    failover_tests: inPeriod.filter((x) => x.kind === 'failover.tested').map(test),
    findings: findings.sort((a, b) => a.rule.localeCompare(b.rule) || a.subject.localeCompare(b.subject)),
    status: findings.length === 0 ? 'met' : 'not_met',
  };
}
