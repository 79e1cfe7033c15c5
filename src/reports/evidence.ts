// Evidence report: what an auditor needs about one tenant over one period, as one document
// they can read, keep and verify (signing: evidence-sign.ts; the page: evidence-html.ts).
//
// The figures come from the same functions as the per-topic routes (SLO, cost, violations,
// noisy neighbours, usage, audit-chain verification against the latest checkpoint, the
// retention policy's stored extent, recoverability, incidents), called with the same window, so the
// evidence and those routes never disagree. What only evidence needs is read here: redaction
// counts per class, and the access review over the `tenantscope.api.read` audit events the API
// writes into each tenant's chain.
//
// Control statuses are decided from data and configuration; every control carries the rule
// that decided it (`basis`) and the figures it used (`evidence`), so an auditor can redo it.
import { withoutForeignNames } from './foreign-names.js';
import { CONTROLS, DATA_CLASSES, type Control, type DataClass, type Registry, type TenantRecord } from '../config/index.js';
import { tsError } from '../errors.js';
import type { Store } from '../store/types.js';
import { verifyChain, type CheckpointCheck, type VerifyResult } from '../ingest/audit/chain.js';
import { verifyWithCheckpoint, type CheckpointReading } from '../ingest/audit/checkpoint.js';
import { IMPLEMENTED_PII_CLASSES } from '../ingest/redact/patterns.js';
import { listViolations } from '../policy/violations.js';
import { storedExtent } from '../policy/scheduled.js';
import { registryDocument, type PolicyTenant } from '../policy/registry-data.js';
import type { Severity, Violation } from '../policy/types.js';
import { budgetRemaining, sloReport, type SloReport } from './slo.js';
import { costReport, utcDays, type CostReport, type DayCost } from './cost.js';
import { noisyNeighborReport, type NoisyNeighborReport } from './noisy.js';
import { usageReport } from './usage.js';
import { recoveryReport, recoverySources, type RecoveryJudge, type RecoveryReport, type RecoverySource } from './recovery.js';
import { incidentsReport, tenantIncidents, MAX_PERIOD_DAYS, type TenantIncident } from './incidents.js';
import { VERSION } from '../version.js';

const DAY = 86_400_000;

/** Longest period one report covers: the daily series run one SLO query per day. */
export const MAX_EVIDENCE_DAYS = 366;

/** Most violations listed; beyond it the list says it was cut. */
const MAX_VIOLATIONS = 10_000;

/** Stored rows may outlive retention by this much before it counts (as the retention policy). */
const RETENTION_GRACE_DAYS = 2;

/** The audit action the API records for every read of a tenant's routes (the access contract). */
export const API_READ_ACTION = 'tenantscope.api.read';

/** Format marker of the report; bumped when its shape changes incompatibly. */
export const EVIDENCE_FORMAT = 'tenantscope-evidence/1';

export type ControlStatus = 'pass' | 'partial' | 'fail' | 'unknown';

export interface ControlResult {
  control: Control;
  required: boolean;
  /** Who requires it: the tenant's tier, the tenant's own registry entry, or nobody. */
  required_by: 'tier' | 'tenant' | null;
  status: ControlStatus;
  /** The rule that decided the status, in words. */
  basis: string;
  /** The figures the rule used. */
  evidence: Record<string, unknown>;
}

export interface RetentionStatus {
  data_class: DataClass;
  /** Days set in the registry for this tenant; null when it falls back to the tier minimum. */
  configured_days: number | null;
  effective_days: number;
  tier_min_days: number;
  tier_max_days: number;
  legal_hold: boolean;
  /** Oldest stored row (counted from receipt, as the TTL counts); null when nothing is stored. */
  oldest_stored: string | null;
  oldest_age_days: number | null;
  rows: number;
  status: 'ok' | 'below_minimum' | 'above_maximum' | 'not_enforced' | 'legal_hold';
  detail: string;
}

/** One line of the access review: an actor's reads of one route with one outcome. */
export interface AccessReviewRow {
  actor: string;
  token_kind: string;
  route: string;
  outcome: string;
  count: number;
  first: string;
  last: string;
}

export interface ViolationCounts {
  open: number;
  resolved: number;
}

/** Cumulative error budget left at the end of a day, per service. */
export interface BudgetDay {
  day: string;
  services: { service: string; requests: number; availability_sli: number | null; availability_budget_remaining: number | null; latency_budget_remaining: number | null }[];
}

export interface ViolationDay {
  day: string;
  /** First seen that day. */
  opened: number;
  /** Resolved that day. */
  resolved: number;
  /** Open at some time that day. */
  active: number;
}

/**
 * The recovery report of the period without what the evidence states once for all sections
 * (tenant, tier, region, period, generation time), plus the stored facts it rests on.
 */
export type RecoverabilitySection = Omit<RecoveryReport, 'tenant' | 'tier' | 'region' | 'period' | 'generated_at'> & {
  sources: RecoverySource[];
};

/**
 * The incidents that hit the tenant in the period, as its own incidents route shows them (its
 * impact only; other tenants counted, never named), with the query windows they came from.
 */
export interface IncidentsSection {
  /** Consecutive windows of at most MAX_PERIOD_DAYS, oldest first, the last ending at the period's end. */
  windows: { from: string; to: string }[];
  incidents: TenantIncident[];
}

/** The evidence report of one tenant and period (before signing). */
export interface EvidenceReport {
  format: typeof EVIDENCE_FORMAT;
  generated_at: string;
  tenantscope_version: string;
  period: { from: string; to: string; days: number };
  /** Who asked; neighbours and other tenants' tokens are anonymised for anyone but an admin or the operator. */
  requested_by: { name: string; kind: string; anonymised: boolean };
  /** The tenant as the registry resolves it (tier defaults applied), with its controls by origin. */
  tenant: PolicyTenant & { tier_controls: string[]; tenant_controls: string[] };
  controls: ControlResult[];
  policy: {
    /** Whether the server evaluates policies; null when not known (report built from the store). */
    policies_enabled: boolean | null;
    open: number;
    resolved: number;
    by_policy: Record<string, ViolationCounts>;
    by_severity: Partial<Record<Severity, ViolationCounts>>;
    /** Seen in the period; status as of generation. */
    violations: Violation[];
    truncated: boolean;
  };
  redactions: { total: number; by_class: Record<string, number>; by_data_class: Record<string, Record<string, number>> };
  /** The chain's verification, as `audit verify` answers it (its checkpoint is the next section). */
  audit_chain: VerifyResult;
  /**
   * The tenant's part of the latest signed checkpoint the chain was checked against, and newer
   * checkpoint files refused; null when the report was built without looking for checkpoints.
   */
  checkpoint: CheckpointCheck | null;
  retention: RetentionStatus[];
  access_review: { reads: number; denied: number; failed: number; actors: number; anonymised_actors: number; rows: AccessReviewRow[] };
  slo: SloReport;
  noisy_neighbours: NoisyNeighborReport;
  cost: CostReport;
  /** Recovery objectives against the backups, restore and failover tests of the period. */
  recoverability: RecoverabilitySection;
  /** SLO incidents that hit the tenant: its impact, error budget consumed and SLA credit exposure. */
  incidents: IncidentsSection;
  series: { error_budget: BudgetDay[]; cost: DayCost[]; violations: ViolationDay[] };
}

/** Server facts the controls depend on; undefined where the report cannot know them. */
export interface EvidenceRuntime {
  redaction?: boolean;
  quotas?: boolean;
  policies?: boolean;
}

export interface EvidenceOptions {
  requestedBy: { name: string; kind: string };
  /** Rename neighbours and other tenants' tokens (everyone but an admin or the operator). */
  anonymise: boolean;
  runtime?: EvidenceRuntime;
  /** The key the report will be signed with (the signed_evidence control). */
  signingKeyId?: string;
  /** Generation time; default now. */
  nowMs?: number;
  /** The latest audit chain checkpoints; absent: the chain is verified without them. */
  checkpoints?: CheckpointReading;
  /** Evaluates recovery.rego: the server's policy set, or the shipped policies where none runs. */
  recoveryJudge: RecoveryJudge;
}

/** The window an evidence request covers: given bounds, else the tenant's SLO window ending now. */
function evidenceWindow(tenant: TenantRecord, window: { fromMs?: number; toMs?: number }, nowMs: number): { fromMs: number; toMs: number } {
  const toMs = window.toMs ?? nowMs;
  const fromMs = window.fromMs ?? toMs - tenant.slo.windowDays * DAY;
  if (fromMs >= toMs) throw tsError('TS_ERR_BAD_QUERY', ['from', 'must be before to']);
  if (toMs - fromMs > MAX_EVIDENCE_DAYS * DAY) throw tsError('TS_ERR_BAD_QUERY', ['from', `the period may span at most ${MAX_EVIDENCE_DAYS} days`]);
  return { fromMs, toMs };
}

/** Build the evidence report of `tenantId` over the window. */
export async function evidenceReport(store: Store, registry: Registry, tenantId: string, window: { fromMs?: number; toMs?: number }, opts: EvidenceOptions): Promise<EvidenceReport> {
  const tenant = registry.tenant(tenantId);
  if (!tenant) throw tsError('TS_ERR_TENANT_NOT_FOUND', [tenantId]);
  const nowMs = opts.nowMs ?? Date.now();
  const { fromMs, toMs } = evidenceWindow(tenant, window, nowMs);
  const w = { fromMs, toMs };

  const [slo, cost, noisy, allViolations, verified, usage, redactions, access, stored, budget, recovery, incidents] = await Promise.all([
    sloReport(store, tenant, w),
    costReport(store, registry, { ...w, tenant: tenant.id }),
    noisyNeighborReport(store, { ...w, tenant: tenant.id, anonymise: opts.anonymise }),
    listViolations(store, { tenant: tenant.id, status: 'all', ...w, limit: MAX_VIOLATIONS + 1 }),
    opts.checkpoints ? verifyWithCheckpoint(store, tenant.id, opts.checkpoints) : verifyChain(store, tenant.id),
    usageReport(store, tenant.id, w),
    redactionCounts(store, tenant.id, w),
    accessReview(store, registry, tenant.id, w, opts.anonymise),
    storedExtent(store, tenant.id),
    errorBudgetByDay(store, tenant, w),
    recoveryReport(store, tenant, w, opts.recoveryJudge, nowMs),
    incidentsSection(store, registry, tenant.id, w, nowMs),
  ]);
  const { checkpoint, ...chain } = verified;
  const violations = allViolations.slice(0, MAX_VIOLATIONS);
  const rateLimited = Object.values(usage.rejected).reduce((a, byReason) => a + (byReason.rate_limited ?? 0), 0);
  const tierControls = registry.tiers[tenant.tier].controls;

  const report: EvidenceReport = {
    format: EVIDENCE_FORMAT,
    generated_at: new Date(nowMs).toISOString(),
    tenantscope_version: VERSION,
    period: { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), days: round((toMs - fromMs) / DAY, 3) },
    requested_by: { name: opts.requestedBy.name, kind: opts.requestedBy.kind, anonymised: opts.anonymise },
    tenant: { ...registryDocument(registry).tenants[tenant.id]!, tier_controls: [...tierControls], tenant_controls: tenant.controls.filter((c) => !tierControls.includes(c)) },
    controls: controlResults({ registry, tenant, violations, redactions, chain, checkpoint, access, rateLimited, opts }),
    policy: policySection(violations, allViolations.length > MAX_VIOLATIONS, opts.runtime?.policies),
    redactions,
    audit_chain: chain,
    checkpoint: checkpoint ?? null,
    retention: retentionStatus(registry, tenant, stored[tenant.id] ?? {}, nowMs),
    access_review: access,
    slo,
    noisy_neighbours: noisy,
    cost,
    recoverability: recoverabilitySection(recovery),
    incidents,
    series: { error_budget: budget, cost: cost.tenants[0]?.by_day ?? [], violations: violationsByDay(violations, fromMs, toMs) },
  };
  // Findings about other tenants (a redacted customer code's owner, a claimed tenant) keep
  // their names for the operator only.
  return opts.anonymise ? withoutForeignNames(report, registry, tenant.id) : report;
}

function recoverabilitySection(r: RecoveryReport): RecoverabilitySection {
  const { tenant: _t, tier: _tier, region: _r, period: _p, generated_at: _g, ...rest } = r;
  return { ...rest, sources: recoverySources(r) };
}

/**
 * The tenant's incidents over the period. One incidents query covers at most MAX_PERIOD_DAYS
 * (it holds every series' minutes), so a longer period is asked in consecutive windows of at
 * most that, ending at the period's end, one after another to hold one window's minutes at a
 * time, and their lists are concatenated oldest first. An incident that crosses a window
 * boundary is cut there and appears in both windows' lists, each part with its own impact;
 * its id includes its start, so the two parts have different ids and are not merged. The
 * windows are listed so a reader can redo each query against the incidents route.
 */
async function incidentsSection(store: Store, registry: Registry, tenantId: string, w: { fromMs: number; toMs: number }, nowMs: number): Promise<IncidentsSection> {
  const windows: { fromMs: number; toMs: number }[] = [];
  for (let end = w.toMs; end > w.fromMs; end -= MAX_PERIOD_DAYS * DAY) windows.unshift({ fromMs: Math.max(w.fromMs, end - MAX_PERIOD_DAYS * DAY), toMs: end });
  const incidents: TenantIncident[] = [];
  for (const x of windows) incidents.push(...tenantIncidents(await incidentsReport(store, registry, x, nowMs), tenantId).incidents);
  return { windows: windows.map((x) => ({ from: new Date(x.fromMs).toISOString(), to: new Date(x.toMs).toISOString() })), incidents };
}

function policySection(violations: Violation[], truncated: boolean, enabled: boolean | undefined): EvidenceReport['policy'] {
  const byPolicy: Record<string, ViolationCounts> = {};
  const bySeverity: Partial<Record<Severity, ViolationCounts>> = {};
  for (const v of violations) {
    (byPolicy[v.policy] ??= { open: 0, resolved: 0 })[v.status]++;
    (bySeverity[v.severity] ??= { open: 0, resolved: 0 })[v.status]++;
  }
  const open = violations.filter((v) => v.status === 'open').length;
  return { policies_enabled: enabled ?? null, open, resolved: violations.length - open, by_policy: byPolicy, by_severity: bySeverity, violations, truncated };
}

/** Redactions counted in the period, per class and per data class. */
async function redactionCounts(store: Store, tenantId: string, w: { fromMs: number; toMs: number }): Promise<EvidenceReport['redactions']> {
  const rows = await store.query<{ data_class: string; class: string; n: string }>(
    `SELECT data_class, class, sum(count) AS n FROM redactions
      WHERE tenant_id = {tenant:String}
        AND minute >= toDateTime(intDiv({from:Int64}, 1000)) AND minute < toDateTime(intDiv({to:Int64}, 1000))
      GROUP BY data_class, class ORDER BY data_class, class`,
    { tenant: tenantId, from: w.fromMs, to: w.toMs },
  );
  const out: EvidenceReport['redactions'] = { total: 0, by_class: {}, by_data_class: {} };
  for (const r of rows) {
    const n = Number(r.n);
    out.total += n;
    out.by_class[r.class] = (out.by_class[r.class] ?? 0) + n;
    (out.by_data_class[r.data_class] ??= {})[r.class] = n;
  }
  return out;
}

/**
 * Who read the tenant's data through the API in the period: the `tenantscope.api.read` events
 * of its chain, per actor (token name), token kind, route and outcome. For an anonymised view,
 * tokens that belong to neither this tenant nor the platform are renamed: a tenant's auditor
 * learns that another tenant's token tried, not whose.
 */
async function accessReview(store: Store, registry: Registry, tenantId: string, w: { fromMs: number; toMs: number }, anonymise: boolean): Promise<EvidenceReport['access_review']> {
  const rows = await store.query<{ actor_id: string; token_kind: string; route: string; outcome: string; n: string; first_ms: string; last_ms: string }>(
    `SELECT actor_id, attributes['token.kind'] AS token_kind, target_id AS route, outcome, count() AS n,
            toUnixTimestamp64Milli(min(time)) AS first_ms, toUnixTimestamp64Milli(max(time)) AS last_ms
       FROM audit_events
      WHERE tenant_id = {tenant:String} AND action = {action:String} AND actor_type = 'user' AND target_type = 'api_route'
        AND time >= fromUnixTimestamp64Milli({from:Int64}) AND time < fromUnixTimestamp64Milli({to:Int64})
      GROUP BY actor_id, token_kind, route, outcome
      ORDER BY actor_id, route, outcome, token_kind`,
    { tenant: tenantId, action: API_READ_ACTION, from: w.fromMs, to: w.toMs },
  );
  const own = new Set(registry.tokens().filter((t) => t.kind === 'admin' || t.tenants.includes(tenantId)).map((t) => t.name));
  const aliases = new Map<string, string>();
  const name = (actor: string) => {
    if (!anonymise || own.has(actor)) return actor;
    if (!aliases.has(actor)) aliases.set(actor, `other-token-${aliases.size + 1}`);
    return aliases.get(actor)!;
  };
  const out: AccessReviewRow[] = rows.map((r) => ({
    actor: name(r.actor_id),
    token_kind: r.token_kind,
    route: r.route,
    outcome: r.outcome,
    count: Number(r.n),
    first: new Date(Number(r.first_ms)).toISOString(),
    last: new Date(Number(r.last_ms)).toISOString(),
  }));
  const sum = (outcome?: string) => out.filter((r) => outcome === undefined || r.outcome === outcome).reduce((a, r) => a + r.count, 0);
  return { reads: sum(), denied: sum('denied'), failed: sum('failure'), actors: new Set(out.map((r) => r.actor)).size, anonymised_actors: aliases.size, rows: out };
}

/** At most this many per-day SLO queries run at once. */
const DAY_QUERIES = 4;

/**
 * The error budget left at the end of each day, counted from the start of the period: each
 * day's SLO report gives that day's counts, and the running sums give the budget as the
 * period's SLO report would have shown it at that day's end.
 */
async function errorBudgetByDay(store: Store, tenant: TenantRecord, w: { fromMs: number; toMs: number }): Promise<BudgetDay[]> {
  const days = utcDays(w.fromMs, w.toMs);
  const reports: SloReport[] = new Array(days.length);
  for (let i = 0; i < days.length; i += DAY_QUERIES) {
    const batch = days.slice(i, i + DAY_QUERIES);
    const done = await Promise.all(batch.map((d) => sloReport(store, tenant, { fromMs: d.startMs, toMs: d.endMs })));
    done.forEach((r, j) => (reports[i + j] = r));
  }
  const o = tenant.slo;
  const running = new Map<string, { total: number; errors: number; slow: number }>();
  return days.map((d, i) => {
    for (const s of reports[i]!.services) {
      const c = running.get(s.service) ?? { total: 0, errors: 0, slow: 0 };
      c.total += s.availability.total;
      c.errors += s.availability.total - s.availability.good;
      c.slow += s.latency.total - s.latency.good;
      running.set(s.service, c);
    }
    const today = new Map(reports[i]!.services.map((s) => [s.service, s]));
    return {
      day: d.day,
      services: [...running].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([service, c]) => ({
        service,
        requests: today.get(service)?.requests ?? 0,
        availability_sli: today.get(service)?.availability.sli ?? null,
        availability_budget_remaining: budgetRemaining(c.errors, c.total, o.availability),
        latency_budget_remaining: budgetRemaining(c.slow, c.total, o.latencyTarget),
      })),
    };
  });
}

/** Violations opened, resolved and active per UTC day of the period. */
function violationsByDay(violations: Violation[], fromMs: number, toMs: number): ViolationDay[] {
  return utcDays(fromMs, toMs).map((d) => {
    let opened = 0;
    let resolved = 0;
    let active = 0;
    for (const v of violations) {
      const first = Date.parse(v.first_seen);
      const end = v.status === 'resolved' ? Date.parse(v.resolved_at) : Infinity;
      if (first >= d.startMs && first < d.endMs) opened++;
      if (v.status === 'resolved' && end >= d.startMs && end < d.endMs) resolved++;
      if (first < d.endMs && end >= d.startMs) active++;
    }
    return { day: d.day, opened, resolved, active };
  });
}

function retentionStatus(registry: Registry, tenant: TenantRecord, stored: Record<string, { oldest: string; rows: number }>, nowMs: number): RetentionStatus[] {
  const tier = registry.tiers[tenant.tier];
  return DATA_CLASSES.map((cls) => {
    const days = tenant.retentionDays[cls];
    const min = tier.retentionMinDays[cls];
    const max = tier.retentionMaxDays[cls];
    const s = stored[cls];
    const age = s ? round((nowMs - Date.parse(s.oldest)) / DAY, 2) : null;
    let status: RetentionStatus['status'] = 'ok';
    let detail = `keeps ${days} days, within the tier's ${min}-${max}`;
    if (days < min) [status, detail] = ['below_minimum', `keeps ${days} days; the ${tenant.tier} tier requires at least ${min}`];
    else if (tenant.legalHold) [status, detail] = ['legal_hold', 'under legal hold: nothing expires until the hold is lifted'];
    else if (age !== null && age > days + RETENTION_GRACE_DAYS) [status, detail] = ['not_enforced', `the oldest row is ${age} days old, past the ${days}-day retention (and ${RETENTION_GRACE_DAYS} days' grace)`];
    else if (days > max) [status, detail] = ['above_maximum', `keeps ${days} days; the ${tenant.tier} tier allows at most ${max} without a legal hold`];
    else if (age !== null) detail += `; the oldest row is ${age} days old`;
    return {
      data_class: cls,
      configured_days: tenant.retentionConfigured[cls] ?? null,
      effective_days: days,
      tier_min_days: min,
      tier_max_days: max,
      legal_hold: tenant.legalHold,
      oldest_stored: s?.oldest ?? null,
      oldest_age_days: age,
      rows: s?.rows ?? 0,
      status,
      detail,
    };
  });
}

interface ControlInputs {
  registry: Registry;
  tenant: TenantRecord;
  violations: Violation[];
  redactions: EvidenceReport['redactions'];
  chain: VerifyResult;
  checkpoint: CheckpointCheck | undefined;
  access: EvidenceReport['access_review'];
  rateLimited: number;
  opts: EvidenceOptions;
}

type Decision = Pick<ControlResult, 'status' | 'basis' | 'evidence'>;

/** Every known control: the required ones first, each with its status and how it was decided. */
function controlResults(x: ControlInputs): ControlResult[] {
  const tierControls = x.registry.tiers[x.tenant.tier].controls;
  const results = CONTROLS.map((control): ControlResult => {
    const requiredBy = tierControls.includes(control) ? 'tier' : x.tenant.controls.includes(control) ? 'tenant' : null;
    return { control, required: requiredBy !== null, required_by: requiredBy, ...DECIDE[control](x) };
  });
  return [...results.filter((r) => r.required), ...results.filter((r) => !r.required)];
}

/** A server setting as the report knows it. */
function setting(value: boolean | undefined): string {
  return value === undefined ? 'not known to this report (built from the store)' : value ? 'on' : 'off';
}

const seenInPeriod = (x: ControlInputs, policy: string, rules: string[]) => x.violations.filter((v) => v.policy === policy && rules.includes(v.rule));

const DECIDE: Record<Control, (x: ControlInputs) => Decision> = {
  ingest_quota: (x) => {
    const q = x.tenant.quotas;
    const evidence = { events_per_second: q.eventsPerSecond, bytes_per_second: q.bytesPerSecond, server_quotas: setting(x.opts.runtime?.quotas), rate_limited_records: x.rateLimited };
    const basis = 'pass when the tenant has a records/s and a bytes/s quota and the server enforces quotas (known from its settings, or seen in rate-limited records in the period)';
    const configured = q.eventsPerSecond > 0 && q.bytesPerSecond > 0;
    if (!configured || x.opts.runtime?.quotas === false) return { status: 'fail', basis, evidence };
    if (x.opts.runtime?.quotas === undefined && x.rateLimited === 0) return { status: 'unknown', basis, evidence };
    return { status: 'pass', basis, evidence };
  },
  cross_tenant_redaction: (x) => redactionDecision(x, ['tenant_identifier'], 'pass when the server redacts before storage (known from its settings, or seen in redactions of other tenants\' identifiers in the period)', { tenant_identifier_redactions: x.redactions.by_class.tenant_identifier ?? 0 }),
  pii_redaction: (x) => {
    const implemented: readonly string[] = IMPLEMENTED_PII_CLASSES;
    const classes = x.tenant.piiClasses;
    const undetected = classes.filter((c) => !implemented.includes(c));
    const counts = Object.fromEntries(classes.filter((c) => implemented.includes(c)).map((c) => [c, x.redactions.by_class[c] ?? 0]));
    const basis = 'fail without PII classes configured; partial when some configured classes are not detected by tenantscope; else as cross_tenant_redaction, from the server setting or PII redactions seen in the period';
    const evidence = { pii_classes: [...classes], not_detected: undetected, redactions: counts };
    if (classes.length === 0) return { status: 'fail', basis, evidence: { ...evidence, server_redaction: setting(x.opts.runtime?.redaction) } };
    const d = redactionDecision(x, classes, basis, evidence);
    return d.status === 'pass' && undetected.length > 0 ? { ...d, status: 'partial' } : d;
  },
  audit_chain: (x) => ({
    status: x.chain.status === 'ok' ? 'pass' : 'fail',
    basis: 'pass when every segment of the tenant\'s audit chain recomputes to its stored hashes with no gap, and still holds every head of the latest signed checkpoint',
    evidence: {
      events: x.chain.events,
      segments: x.chain.segments.length,
      latest_checkpoint: x.checkpoint?.latest?.time ?? null,
      ...(x.chain.status === 'broken' ? { broken: x.chain.broken.detail } : {}),
      ...(x.chain.status !== 'ok' && x.chain.truncated ? { truncated: x.chain.truncated.map((t) => t.detail) } : {}),
    },
  }),
  access_review: (x) => ({
    status: x.access.reads > 0 ? 'pass' : 'unknown',
    basis: 'pass when API reads of the tenant were recorded in the period (listed under access review); unknown without any: nobody read, or reads were not recorded',
    evidence: { reads: x.access.reads, denied: x.access.denied, actors: x.access.actors },
  }),
  signed_evidence: (x) => ({
    status: x.opts.signingKeyId ? 'pass' : 'fail',
    basis: 'pass when this report is signed with Ed25519 (see its signature)',
    evidence: { key_id: x.opts.signingKeyId ?? null },
  }),
  per_tenant_key: (x) => {
    const key = x.tenant.encryptionKeyId;
    const sharers = key ? x.registry.tenants().filter((t) => t.id !== x.tenant.id && t.encryptionKeyId === key).length : 0;
    const findings = seenInPeriod(x, 'tiers', ['per_tenant_key_missing', 'shared_key']).length;
    const evidence = { encryption_key_id: key ?? null, other_tenants_with_this_key: sharers, key_violations_in_period: findings };
    const basis = 'pass when the tenant has an encryption_key_id that no other tenant is configured with, and no per_tenant_key_missing or shared_key violation was seen in the period';
    return { status: key && sharers === 0 && findings === 0 ? 'pass' : 'fail', basis, evidence };
  },
  eu_residency: (x) => {
    const regions = [x.tenant.region, ...x.tenant.allowedRegions];
    const outside = [...new Set(regions.filter((r) => !r.startsWith('eu-')))];
    const findings = seenInPeriod(x, 'isolation', ['residency']).length + seenInPeriod(x, 'tiers', ['eu_residency_region']).length;
    const evidence = { region: x.tenant.region, allowed_regions: [...x.tenant.allowedRegions], non_eu_regions: outside, residency_violations_in_period: findings };
    const basis = 'pass when the home region and every allowed region are EU regions (eu-*) and no residency violation was seen in the period';
    return { status: outside.length === 0 && findings === 0 ? 'pass' : 'fail', basis, evidence };
  },
  dedicated_storage: (x) => ({
    status: 'unknown',
    basis: 'tenantscope keeps every tenant in shared tables ordered by tenant; dedicated storage is provided outside tenantscope and cannot be checked from its data',
    evidence: { tier: x.tenant.tier },
  }),
};

/** A redaction control: off is a failure, on is a pass, unknown passes only on redactions seen. */
function redactionDecision(x: ControlInputs, classes: readonly string[], basis: string, evidence: Record<string, unknown>): Decision {
  const on = x.opts.runtime?.redaction;
  const seen = classes.reduce((a, c) => a + (x.redactions.by_class[c] ?? 0), 0);
  const status: ControlStatus = on === false ? 'fail' : on === true || seen > 0 ? 'pass' : 'unknown';
  return { status, basis, evidence: { ...evidence, server_redaction: setting(on) } };
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
