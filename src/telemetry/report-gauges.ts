// The per-tenant gauges that are aggregates over stored data: SLO budget and burn rates, open
// violations, noisy-neighbour scores, cost to date, audit-chain status and recovery evidence
// (backup and restore-test ages). They come from the
// same report functions the API serves, so a dashboard and a report never disagree; they are
// computed on an interval (a scrape must not run a ClickHouse query per series) and the gauges
// read the last snapshot.
import type { Registry, TenantRecord } from '../config/index.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/types.js';
import { sloReport } from '../reports/slo.js';
import { costReport, COST_COMPONENTS } from '../reports/cost.js';
import { noisyNeighborReport } from '../reports/noisy.js';
import { listViolations } from '../policy/violations.js';
import { latestRecovery } from '../reports/recovery-facts.js';
import { verifyChain, type SegmentHead } from '../ingest/audit/chain.js';
import { truncatedSegments, type CheckpointReading } from '../ingest/audit/checkpoint.js';
import type { TenantscopeMetrics } from './metrics.js';

/** Default refresh interval. */
export const DEFAULT_REFRESH_MS = 30_000;

/** The window noisy-neighbour gauges look back over. */
const NOISY_WINDOW_MS = 60 * 60_000;
/** Refreshes between two verifications of whole chains (at the default 30 s: every 10 min). */
const FULL_CHAIN_EVERY = 20;

type Labels = Record<string, string>;

/** One gauge's values: labels and value. */
type Series = Array<{ labels: Labels; value: number }>;

/**
 * An age gauge's values: the moment each age counts from. The age itself is taken at scrape
 * time, so it keeps growing between refreshes (and while the store cannot be read) instead of
 * standing still for an interval, as a stalled backup's age would in reality not.
 */
type AgeSeries = Array<{ labels: Labels; sinceMs: number }>;

interface Snapshot {
  budget: Series;
  burn: Series;
  violations: Series;
  noisyScore: Series;
  noisyIncrease: Series;
  cost: Series;
  chainOk: Series;
  chainEvents: Series;
  backupAge: AgeSeries;
  backupMissing: Series;
  restoreTestAge: AgeSeries;
  restoreTestMissing: Series;
}

const emptySnapshot = (): Snapshot => ({
  budget: [], burn: [], violations: [], noisyScore: [], noisyIncrease: [], cost: [], chainOk: [], chainEvents: [],
  backupAge: [], backupMissing: [], restoreTestAge: [], restoreTestMissing: [],
});

const SEVERITIES = ['low', 'medium', 'high', 'critical'];

export class ReportGauges {
  private snapshot: Snapshot = emptySnapshot();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private refreshes = 0;
  /** Per tenant, the segment heads its last verification reached. */
  private readonly verified = new Map<string, SegmentHead[]>();

  constructor(
    private readonly store: Store,
    private readonly registry: Registry,
    private readonly metrics: TenantscopeMetrics,
    private readonly log: Logger,
    /** The latest audit chain checkpoints; absent: chains are checked without them. */
    private readonly checkpoints?: () => CheckpointReading,
  ) {
    const m = metrics.meter;
    const gauge = (name: string, description: string, pick: (s: Snapshot) => Series) =>
      m.createObservableGauge(name, { description }).addCallback((r) => {
        for (const x of pick(this.snapshot)) r.observe(x.value, x.labels);
      });
    gauge('tenantscope_slo_error_budget_remaining_ratio', 'Error budget left over the SLO window (1 untouched, below 0 overspent), per tenant, service and SLI', (s) => s.budget);
    gauge('tenantscope_slo_burn_rate', 'Error-budget burn rate per tenant, service, SLI and window, from the SLO report', (s) => s.burn);
    gauge('tenantscope_violations_open', 'Open policy violations, per tenant and severity', (s) => s.violations);
    gauge('tenantscope_noisy_neighbour_score', 'Noisy-neighbour offender score over the last hour, per tenant and shared resource', (s) => s.noisyScore);
    gauge('tenantscope_noisy_neighbour_latency_increase_ratio', 'How much slower a tenant was made by noisy neighbours over the last hour, per shared resource', (s) => s.noisyIncrease);
    gauge('tenantscope_cost_to_date', "Cost this month to date in the price card's currency, per tenant and component", (s) => s.cost);
    gauge('tenantscope_audit_chain_ok', "1 when the tenant's audit hash chain verifies and holds every head of the latest checkpoint, 0 when a link is broken or a checkpointed head is gone", (s) => s.chainOk);
    gauge('tenantscope_audit_chain_events', "Events in the tenant's verified audit chain", (s) => s.chainEvents);
    const age = (name: string, description: string, pick: (s: Snapshot) => AgeSeries) =>
      m.createObservableGauge(name, { description }).addCallback((r) => {
        const now = Date.now();
        for (const x of pick(this.snapshot)) r.observe((now - x.sinceMs) / 1000, x.labels);
      });
    age('tenantscope_backup_age_seconds', "Seconds since the snapshot of the newest successful backup (the tenant's own or a platform backup covering it), per tenant and component; required says whether the tenant's recovery objectives require the component", (s) => s.backupAge);
    gauge('tenantscope_backup_missing', "1 for a component the tenant's recovery objectives require that has never had a successful backup (so it has no backup age), 0 once it has one", (s) => s.backupMissing);
    age('tenantscope_restore_test_age_seconds', "Seconds since the tenant's newest successful tenant-scope restore test", (s) => s.restoreTestAge);
    gauge('tenantscope_restore_test_missing', '1 while the tenant has never passed a tenant-scope restore test (so it has no restore test age), else 0', (s) => s.restoreTestMissing);
  }

  /** Refresh now and then every `intervalMs`. */
  start(intervalMs: number = DEFAULT_REFRESH_MS): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), intervalMs);
    this.timer.unref();
  }

  /** Compute a new snapshot (one at a time); failures keep the previous one and are logged. */
  refresh(): Promise<void> {
    this.running ??= this.compute()
      .then((s) => {
        this.snapshot = s;
      })
      .catch((e: unknown) => {
        this.metrics.error('TS_ERR_STORE', 'metrics');
        this.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'report gauges not refreshed; the previous values stay');
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private async compute(): Promise<Snapshot> {
    const started = performance.now();
    const s = emptySnapshot();
    const now = Date.now();
    // Only tenants with labels of their own: a folded tenant's gauges cannot be told apart.
    const tenants = this.registry.tenants().filter((t) => this.metrics.labels.of(t.id).tenant === t.id);
    const own = new Set(tenants.map((t) => t.id));
    const labels = (id: string) => ({ ...this.metrics.labels.of(id) });
    const checkpoints = this.checkpoints?.();

    for (const t of tenants) {
      const l = labels(t.id);
      const slo = await sloReport(this.store, t, { toMs: now });
      for (const svc of slo.services) {
        for (const sli of ['availability', 'latency'] as const) {
          const r = svc[sli];
          if (r.error_budget_remaining !== null) s.budget.push({ labels: { ...l, service: svc.service, sli }, value: r.error_budget_remaining });
          for (const [window, rate] of Object.entries(r.burn_rates)) s.burn.push({ labels: { ...l, service: svc.service, sli, window }, value: rate });
        }
      }
      const open = await listViolations(this.store, { tenant: t.id, status: 'open', limit: 100_000 });
      for (const sev of SEVERITIES) s.violations.push({ labels: { ...l, severity: sev }, value: open.filter((v) => v.severity === sev).length });
      // New links every refresh, the whole chain every FULL_CHAIN_EVERY refreshes: chains grow
      // with every audited read, and an old row changed in place is still found, only later.
      const full = this.refreshes % FULL_CHAIN_EVERY === 0;
      const chain = await verifyChain(this.store, t.id, full ? undefined : this.verified.get(t.id));
      if (chain.status === 'ok') this.verified.set(t.id, chain.segments);
      else this.verified.delete(t.id);
      const truncated = checkpoints ? await truncatedSegments(this.store, t.id, checkpoints) : [];
      s.chainOk.push({ labels: l, value: chain.status === 'ok' && truncated.length === 0 ? 1 : 0 });
      s.chainEvents.push({ labels: l, value: chain.events });
    }

    const noisy = await noisyNeighborReport(this.store, { fromMs: now - NOISY_WINDOW_MS, toMs: now, anonymise: false });
    for (const o of noisy.offenders) if (own.has(o.tenant)) s.noisyScore.push({ labels: { ...labels(o.tenant), resource: o.resource }, value: o.score });
    for (const v of noisy.victims) if (own.has(v.tenant)) s.noisyIncrease.push({ labels: { ...labels(v.tenant), resource: v.resource }, value: v.latency_increase });

    const cost = await costReport(this.store, this.registry, { toMs: now });
    for (const c of cost.tenants) {
      if (!own.has(c.tenant)) continue;
      for (const comp of COST_COMPONENTS) s.cost.push({ labels: { ...labels(c.tenant), component: comp }, value: c.by_component[comp] });
    }
    await this.recovery(s, tenants, now);
    this.refreshes++;
    this.log.debug({ ms: Math.round(performance.now() - started), tenants: tenants.length }, 'report gauges refreshed');
    this.metrics.refreshed(performance.now() - started);
    return s;
  }

  // A required component with no backup, or a tenant with no restore test, has no age to show:
  // the *_missing gauges say so with a 1, so an alert sees it instead of an absent series.
  private async recovery(s: Snapshot, tenants: readonly TenantRecord[], now: number): Promise<void> {
    const latest = await latestRecovery(this.store, tenants, now);
    for (const t of tenants) {
      const l = { ...this.metrics.labels.of(t.id) };
      const facts = latest.get(t.id)!;
      const required = new Set<string>(t.recovery.components);
      for (const component of new Set([...required, ...facts.backupSnapshotMs.keys()])) {
        const snapshotMs = facts.backupSnapshotMs.get(component);
        if (snapshotMs !== undefined) s.backupAge.push({ labels: { ...l, component, required: String(required.has(component)) }, sinceMs: snapshotMs });
        if (required.has(component)) s.backupMissing.push({ labels: { ...l, component }, value: snapshotMs === undefined ? 1 : 0 });
      }
      if (facts.restoreTestMs !== undefined) s.restoreTestAge.push({ labels: l, sinceMs: facts.restoreTestMs });
      s.restoreTestMissing.push({ labels: l, value: facts.restoreTestMs === undefined ? 1 : 0 });
    }
  }
}
