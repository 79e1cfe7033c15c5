// Backup and restore evidence of the simulated platform: the facts the platform's backup
// tooling would report over the period, fitted to each tenant's recovery objectives in the
// registry, plus whatever drift the scenario lists. Plain data, planned up front (no sending
// here), so the recovery report's truths follow from the registry and the workload file alone.
//
// Platform-tier tenants ride on platform backups: one set per home region of theirs, fitted
// to the strictest tenant there (the shortest RPO, the longest retention, every component any
// of them needs). Every other tenant backs up its own components under its own key. Either way
// a backup completes every cadence (RPO / backups_per_rpo), starting one cadence before the
// period, so that a backup younger than the RPO exists at every instant of the period.
import type { RecoveryComponent, TenantRecord } from '../config/types.js';
import type { RecoveryAction } from '../ingest/recovery/vocabulary.js';
import { MINUTE_MS } from './model.js';
import { Rng } from './rng.js';
import type { RecoveryDrift, RecoveryEvidence } from './scenarios.js';

/** The sender of platform-scope facts (the platform's audit chain): an admin token on /v1/audit. */
export const PLATFORM = '_platform';

const DAY_MS = 86_400_000;
const GIB = 2 ** 30;

/** One backup or recovery fact as the platform's tooling reports it. */
export interface RecoveryFact {
  /** The tenant whose ingest token sends it (an OTLP log record), or PLATFORM. */
  sender: string;
  kind: RecoveryAction;
  timeMs: number;
  /** Attributes as OTLP sends them (numbers stay numbers); an audit event carries them as text. */
  attributes: Record<string, string | number>;
}

export interface RecoveryPlanOptions {
  evidence: RecoveryEvidence;
  drift: RecoveryDrift;
  /** The simulated tenants, with their effective objectives. */
  tenants: readonly TenantRecord[];
  seed: number;
  /** The period [startMs, endMs), whole minutes. */
  startMs: number;
  endMs: number;
}

/** One way the scenario's evidence departs from the objectives, for the summary. */
export interface RecoveryDriftSummary {
  tenant: string;
  kind: 'backup_gap' | 'restore_test_age' | 'skipped_component' | 'backup_region';
  component?: string;
  fromMs?: number;
  toMs?: number;
  description: string;
}

/** Every fact of the period (and the ones before it the period depends on), oldest first. */
export function planRecovery(o: RecoveryPlanOptions): RecoveryFact[] {
  checkDrift(o);
  const facts = [...platformBackups(o), ...o.tenants.flatMap((t) => tenantFacts(o, t))];
  // Stable: facts of one instant keep their planned order.
  return facts.sort((a, b) => a.timeMs - b.timeMs);
}

/** The scenario's drift as the summary states it. */
export function describeDrift(o: RecoveryPlanOptions): RecoveryDriftSummary[] {
  const d = o.drift;
  return [
    ...d.backup_gaps.map((g) => {
      const w = gapWindow(o, g);
      return { tenant: g.tenant, kind: 'backup_gap' as const, component: g.component, ...w, description: `no backup of ${g.component} completes` };
    }),
    ...d.restore_test_age.map((a) => ({ tenant: a.tenant, kind: 'restore_test_age' as const, description: `the latest restore test is ${a.days} days old at the period's end` })),
    ...d.skipped_components.map((s) => ({ tenant: s.tenant, kind: 'skipped_component' as const, component: s.component, description: `${s.component} is never backed up` })),
    ...d.backup_regions.map((r) => ({ tenant: r.tenant, kind: 'backup_region' as const, component: r.component, description: `backups of ${r.component} are stored in ${r.region}` })),
  ];
}

const onPlatform = (o: RecoveryPlanOptions, t: TenantRecord): boolean => o.evidence.platform_tiers.includes(t.tier);

// A drift only the tenant's own backups could show, on a tenant that has them and a component it
// must back up: anything else would make a truth the reports cannot find.
function checkDrift(o: RecoveryPlanOptions): void {
  const d = o.drift;
  const backupDrift = [...d.backup_gaps, ...d.skipped_components, ...d.backup_regions];
  for (const x of [...backupDrift, ...d.restore_test_age]) {
    if (!o.tenants.some((t) => t.id === x.tenant)) throw new Error(`recovery drift: ${x.tenant} is not a simulated tenant`);
  }
  for (const x of backupDrift) {
    const t = o.tenants.find((y) => y.id === x.tenant)!;
    if (onPlatform(o, t)) throw new Error(`recovery drift: ${t.id} (${t.tier}) rides on platform backups; its own backups cannot drift`);
    if (!t.recovery.components.includes(x.component as RecoveryComponent)) throw new Error(`recovery drift: ${t.id} is not required to back up ${x.component}`);
  }
}

// Whole minutes between backups: a backup (snapshot `lag` before completion) covers the RPO
// less the lag, so the next one must complete by then.
function cadenceMs(o: RecoveryPlanOptions, rpoMinutes: number, who: string): number {
  const cadence = Math.max(1, Math.floor(rpoMinutes / o.evidence.backups_per_rpo));
  if (cadence + o.evidence.snapshot_lag_minutes > rpoMinutes) {
    throw new Error(`${who}: a backup every ${cadence} minutes with snapshots ${o.evidence.snapshot_lag_minutes} minutes old cannot meet an RPO of ${rpoMinutes} minutes`);
  }
  return cadence * MINUTE_MS;
}

// Completion times from one cadence before the period to its end.
function backupTimes(o: RecoveryPlanOptions, cadence: number): number[] {
  const times: number[] = [];
  for (let t = o.startMs - cadence; t < o.endMs; t += cadence) times.push(t);
  return times;
}

// A fraction of the period as a time, on a whole minute (as the traffic model rounds its windows).
function atFraction(o: RecoveryPlanOptions, fraction: number): number {
  const minutes = Math.round((o.endMs - o.startMs) / MINUTE_MS);
  return o.startMs + Math.round(fraction * minutes) * MINUTE_MS;
}

function gapWindow(o: RecoveryPlanOptions, w: { from: number; to: number }): { fromMs: number; toMs: number } {
  return { fromMs: atFraction(o, w.from), toMs: atFraction(o, w.to) };
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Backup sizes of one sender's component: a seeded base, a little growth noise per backup. */
class Sizes {
  readonly #rng: Rng;
  readonly #base: number;

  constructor(seed: number, sender: string, component: string) {
    this.#rng = new Rng(seed, sender, component, 'backup-size');
    this.#base = (1 + 9 * this.#rng.float()) * GIB;
  }

  next(): number {
    return Math.round(this.#base * (0.98 + 0.04 * this.#rng.float()));
  }
}

function backup(sender: string, timeMs: number, lagMinutes: number, attributes: Record<string, string | number>): RecoveryFact {
  return { sender, kind: 'backup.completed', timeMs, attributes: { snapshot_time: iso(timeMs - lagMinutes * MINUTE_MS), ...attributes } };
}

function platformBackups(o: RecoveryPlanOptions): RecoveryFact[] {
  const groups = new Map<string, TenantRecord[]>();
  for (const t of o.tenants.filter((x) => onPlatform(o, x))) {
    const key = `${t.tier}|${t.region}`;
    groups.set(key, [...(groups.get(key) ?? []), t]);
  }
  const facts: RecoveryFact[] = [];
  for (const group of groups.values()) {
    const { tier, region } = group[0]!;
    const rpo = Math.min(...group.map((t) => t.recovery.rpoMinutes));
    const retention = Math.max(...group.map((t) => t.recovery.backupRetentionDays));
    const components = [...new Set(group.flatMap((t) => t.recovery.components))];
    const key = o.evidence.platform_key.replaceAll('{region}', region);
    const cadence = cadenceMs(o, rpo, `platform backups of ${tier} in ${region}`);
    const sizes = new Map(components.map((c) => [c, new Sizes(o.seed, `${PLATFORM}:${region}`, c)]));
    for (const timeMs of backupTimes(o, cadence)) {
      for (const component of components) {
        facts.push(
          backup(PLATFORM, timeMs, o.evidence.snapshot_lag_minutes, {
            component,
            scope: 'platform',
            tiers: tier,
            regions: region,
            size_bytes: sizes.get(component)!.next(),
            encryption_key_id: key,
            retention_days: retention,
            location_region: region,
          }),
        );
      }
    }
  }
  return facts;
}

function tenantFacts(o: RecoveryPlanOptions, t: TenantRecord): RecoveryFact[] {
  const tests = new Rng(o.seed, t.id, 'recovery-tests');
  return [
    ...(onPlatform(o, t) ? [] : ownBackups(o, t)),
    restoreTest(o, t, tests),
    ...(t.recovery.drRegionRequired ? [failoverTest(o, t, tests)] : []),
  ];
}

function ownBackups(o: RecoveryPlanOptions, t: TenantRecord): RecoveryFact[] {
  const d = o.drift;
  const components = t.recovery.components.filter((c) => !d.skipped_components.some((s) => s.tenant === t.id && s.component === c));
  const gaps = d.backup_gaps.filter((g) => g.tenant === t.id).map((g) => ({ component: g.component, ...gapWindow(o, g) }));
  const cadence = cadenceMs(o, t.recovery.rpoMinutes, t.id);
  const facts: RecoveryFact[] = [];
  for (const component of components) {
    const region = d.backup_regions.find((r) => r.tenant === t.id && r.component === component)?.region ?? t.region;
    const sizes = new Sizes(o.seed, t.id, component);
    for (const timeMs of backupTimes(o, cadence)) {
      if (gaps.some((g) => g.component === component && timeMs >= g.fromMs && timeMs < g.toMs)) continue;
      facts.push(
        backup(t.id, timeMs, o.evidence.snapshot_lag_minutes, {
          component,
          scope: 'tenant',
          size_bytes: sizes.next(),
          ...(t.encryptionKeyId !== undefined ? { encryption_key_id: t.encryptionKeyId } : {}),
          retention_days: t.recovery.backupRetentionDays,
          location_region: region,
        }),
      );
    }
  }
  return facts;
}

// A test's duration: a seeded share of the RTO, whole seconds.
function testSeconds(o: RecoveryPlanOptions, t: TenantRecord, rng: Rng): number {
  const { min, max } = o.evidence.test_rto_share;
  return Math.round(t.recovery.rtoMinutes * 60 * (min + (max - min) * rng.float()));
}

function restoreTest(o: RecoveryPlanOptions, t: TenantRecord, rng: Rng): RecoveryFact {
  const drifted = o.drift.restore_test_age.find((a) => a.tenant === t.id)?.days;
  const days = drifted ?? o.evidence.restore_test_days_before_end;
  if (drifted === undefined && days >= t.recovery.restoreTestDays) {
    throw new Error(`${t.id}: a restore test ${days} days before the period's end is overdue against ${t.recovery.restoreTestDays} days`);
  }
  const component = t.recovery.components[0] ?? 'database';
  return {
    sender: t.id,
    kind: 'restore.tested',
    timeMs: o.endMs - Math.round(days * DAY_MS),
    attributes: {
      component,
      scope: 'tenant',
      outcome: 'success',
      duration_seconds: testSeconds(o, t, rng),
      verified_records: 10_000 + rng.int(990_000),
      location_region: t.region,
    },
  };
}

function failoverTest(o: RecoveryPlanOptions, t: TenantRecord, rng: Rng): RecoveryFact {
  const region = t.allowedRegions.find((r) => r !== t.region);
  if (region === undefined) throw new Error(`${t.id} needs a DR region but has no allowed region besides ${t.region}`);
  return {
    sender: t.id,
    kind: 'failover.tested',
    timeMs: atFraction(o, o.evidence.failover_at),
    attributes: { scope: 'tenant', outcome: 'success', duration_seconds: testSeconds(o, t, rng), location_region: region },
  };
}

/** The planned facts, handed out as simulated time reaches them, counted per sender and kind. */
export class RecoveryFeed {
  readonly #facts: readonly RecoveryFact[];
  #next = 0;
  readonly #sent = new Map<string, { sender: string; kind: RecoveryAction; facts: number }>();

  constructor(facts: readonly RecoveryFact[]) {
    this.#facts = facts;
  }

  /** Facts before `untilMs` not handed out yet. */
  due(untilMs: number): RecoveryFact[] {
    const out: RecoveryFact[] = [];
    while (this.#next < this.#facts.length && this.#facts[this.#next]!.timeMs < untilMs) {
      const f = this.#facts[this.#next++]!;
      const key = `${f.sender}|${f.kind}`;
      const c = this.#sent.get(key) ?? { sender: f.sender, kind: f.kind, facts: 0 };
      c.facts++;
      this.#sent.set(key, c);
      out.push(f);
    }
    return out;
  }

  /** Facts handed out so far, per sender and kind. */
  get sent(): { sender: string; kind: RecoveryAction; facts: number }[] {
    return [...this.#sent.values()].sort((a, b) => a.sender.localeCompare(b.sender) || a.kind.localeCompare(b.kind));
  }
}
