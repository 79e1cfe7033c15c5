// One tenant's backup and recovery facts over a period, read from recovery_events: its own
// and the platform-scope facts that cover it (by tier and home region). What the recovery
// report shows and what recovery.rego judges are both built from this, so an auditor's report
// and the scheduled violations never disagree about the same period.
//
// RPO coverage is computed in the engine from the backup timeline: a successful backup that
// completed at c with a snapshot at s makes the tenant recoverable within its RPO from c until
// s + RPO. The union of those intervals is the covered time; its complement within the
// period is the stale windows. A window function over the intervals sorted by start finds the
// gaps in one pass (an interval's uncovered start lies after the latest end before it), so
// only gap rows leave the engine, never the year of hourly backups behind them.
import type { TenantRecord } from '../config/index.js';
import type { RecoveryComponentDoc, RecoveryStaleWindow, RecoveryTenantDoc, RecoveryTestDoc } from '../policy/types.js';
import type { Params, Store } from '../store/types.js';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** The tenant's rows of recovery_events: its own, and platform-scope ones covering its tier and home region. */
const FACTS_OF_TENANT = `tenant_id IN ({tenant:String}, '_platform')
  AND (tenant_id = {tenant:String} OR (scope = 'platform' AND (empty(tiers) OR has(tiers, {tier:String})) AND (empty(regions) OR has(regions, {region:String}))))`;

/** A stale window with its start and end in ms, for the report's arithmetic. */
export interface StaleWindowMs {
  fromMs: number;
  toMs: number;
  /** The newest restorable snapshot at the window's end; undefined when none existed yet. */
  snapshotMs?: number;
}

/** One component's backups over the period. */
export interface ComponentFacts {
  component: string;
  latest?: { completedMs: number; snapshotMs: number; scope: string; eventId: string; keyId: string; region: string };
  backups: number;
  keys: string[];
  minRetentionDays?: number;
  regions: string[];
  stale: StaleWindowMs[];
  failures: { timeMs: number; eventId: string; scope: string; nextSuccessMs?: number }[];
}

/** A restore or failover test as stored. */
export interface TestFact {
  kind: 'restore.tested' | 'failover.tested';
  timeMs: number;
  component: string;
  scope: string;
  outcome: string;
  durationSeconds: number;
  verifiedRecords: number;
  region: string;
  eventId: string;
}

/** Everything recovery_events says about one tenant for [fromMs, toMs). */
export interface TenantRecoveryFacts {
  tenant: TenantRecord;
  fromMs: number;
  toMs: number;
  components: Map<string, ComponentFacts>;
  /** Tests at or before the period's end, newest first (at most TEST_LIMIT). */
  tests: TestFact[];
  /** Successful failover tests at or before the period's end. */
  failoverSuccesses: number;
}

/** Most tests of each kind, and most failed backups of the period, read per tenant (newest first). */
const TEST_LIMIT = 500;

interface BackupRow {
  component: string;
  latest_completed: string;
  latest_snapshot: string;
  latest_scope: string;
  latest_event: string;
  latest_key: string;
  latest_region: string;
  before_snapshot: string;
  backups: string;
  backup_keys: string[];
  min_retention: string;
  backup_regions: string[];
}

/** The latest successful backup of a group of rows (newest snapshot, then newest completion). */
const LATEST_BACKUP = `toString(toUnixTimestamp64Milli(argMax(time, (snapshot_time, time)))) AS latest_completed,
              toString(toUnixTimestamp64Milli(max(snapshot_time))) AS latest_snapshot,
              argMax(scope, (snapshot_time, time)) AS latest_scope,
              argMax(event_id, (snapshot_time, time)) AS latest_event,
              argMax(encryption_key_id, (snapshot_time, time)) AS latest_key,
              argMax(location_region, (snapshot_time, time)) AS latest_region`;

/** Read one tenant's recovery facts for [fromMs, toMs). */
export async function tenantRecoveryFacts(store: Store, tenant: TenantRecord, fromMs: number, toMs: number): Promise<TenantRecoveryFacts> {
  const rpoMs = tenant.recovery.rpoMinutes * MINUTE_MS;
  const params: Params = { tenant: tenant.id, tier: tenant.tier, region: tenant.region, from: fromMs, to: toMs, rpo: rpoMs, lookback: Math.max(rpoMs, DAY_MS) };
  const success = `${FACTS_OF_TENANT} AND kind = 'backup.completed' AND outcome = 'success' AND time < fromUnixTimestamp64Milli({to:Int64})`;
  // Backups from a day (or one RPO, if longer) before the period on: all the period's coverage
  // can come from there. The time before is read only for a component without a backup in that
  // day (its latest, and the snapshot a stale start of the period is aged from), which a
  // healthy tenant never needs.
  const recent = `${success} AND time > fromUnixTimestamp64Milli({from:Int64} - {lookback:Int64})`;
  const [backups, gaps, testsAndFailures] = await Promise.all([
    store.query<BackupRow>(
      `SELECT component, ${LATEST_BACKUP},
              toString(toUnixTimestamp64Milli(maxIf(snapshot_time, time < fromUnixTimestamp64Milli({from:Int64})))) AS before_snapshot,
              toString(countIf(time >= fromUnixTimestamp64Milli({from:Int64}))) AS backups,
              arraySort(groupUniqArrayIf(encryption_key_id, time >= fromUnixTimestamp64Milli({from:Int64}))) AS backup_keys,
              toString(minIf(backup_retention_days, time >= fromUnixTimestamp64Milli({from:Int64}))) AS min_retention,
              arraySort(groupUniqArrayIf(location_region, time >= fromUnixTimestamp64Milli({from:Int64}))) AS backup_regions
         FROM recovery_events WHERE ${recent}
        GROUP BY component`,
      params,
    ),
    // Intervals [completed, snapshot + RPO) that cover some of the period, sorted by start: a
    // row starting after every earlier end (and after the period's start) has a gap before it.
    // The first row of each component always comes back, carrying the latest end of all.
    store.query<{ component: string; start_ms: string; prev_ms: string; last_ms: string; row_n: string }>(
      `SELECT component, toString(s) AS start_ms, toString(prev) AS prev_ms, toString(last) AS last_ms, toString(rn) AS row_n FROM (
         SELECT component, s, ifNull(max(e) OVER (PARTITION BY component ORDER BY s, e ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS prev,
                max(e) OVER (PARTITION BY component) AS last, row_number() OVER (PARTITION BY component ORDER BY s, e) AS rn
           FROM (SELECT component, toUnixTimestamp64Milli(time) AS s, toUnixTimestamp64Milli(least(snapshot_time, time)) + {rpo:Int64} AS e
                   FROM recovery_events WHERE ${recent})
          WHERE e > s)
        WHERE rn = 1 OR s > greatest(prev, {from:Int64})
        ORDER BY component, start_ms`,
      params,
    ),
    // Tests at or before the period's end and the period's failed backups, newest first; the
    // successful failovers counted over all of them.
    store.query<{ kind: TestFact['kind'] | 'backup.failed'; t: string; component: string; scope: string; outcome: string; duration_seconds: number; verified_records: string; location_region: string; event_id: string; failovers: string }>(
      `SELECT kind, toString(toUnixTimestamp64Milli(time)) AS t, component, scope, outcome, duration_seconds, toString(verified_records) AS verified_records,
              location_region, event_id, toString(countIf(kind = 'failover.tested' AND outcome = 'success') OVER ()) AS failovers
         FROM recovery_events
        WHERE ${FACTS_OF_TENANT} AND time < fromUnixTimestamp64Milli({to:Int64})
          AND (kind IN ('restore.tested', 'failover.tested') OR (kind = 'backup.failed' AND time >= fromUnixTimestamp64Milli({from:Int64})))
        ORDER BY time DESC, event_id
        LIMIT ${TEST_LIMIT} BY kind`,
      params,
    ),
  ]);

  // Components with no backup in the day before the period: their latest from the time before.
  const needed = [...new Set([...tenant.recovery.components, ...backups.map((b) => b.component)])].filter(
    (c) => !backups.some((b) => b.component === c && Number(b.before_snapshot) > 0),
  );
  if (needed.length > 0) {
    const older = await store.query<BackupRow>(
      `SELECT component, ${LATEST_BACKUP}, toString(toUnixTimestamp64Milli(max(snapshot_time))) AS before_snapshot,
              '0' AS backups, [] AS backup_keys, '0' AS min_retention, [] AS backup_regions
         FROM recovery_events WHERE ${success} AND time <= fromUnixTimestamp64Milli({from:Int64} - {lookback:Int64}) AND component IN {needed:Array(String)}
        GROUP BY component`,
      { ...params, needed },
    );
    for (const o of older) {
      const b = backups.find((x) => x.component === o.component);
      if (b) b.before_snapshot = o.before_snapshot;
      else backups.push(o);
    }
  }

  const components = new Map<string, ComponentFacts>();
  const comp = (c: string): ComponentFacts => {
    let f = components.get(c);
    if (!f) components.set(c, (f = { component: c, backups: 0, keys: [], regions: [], stale: [], failures: [] }));
    return f;
  };
  const beforeSnapshot = new Map<string, number>();
  for (const b of backups) {
    const f = comp(b.component);
    f.latest = {
      completedMs: Number(b.latest_completed),
      snapshotMs: Number(b.latest_snapshot),
      scope: b.latest_scope,
      eventId: b.latest_event,
      keyId: b.latest_key,
      region: b.latest_region,
    };
    f.backups = Number(b.backups);
    if (f.backups > 0) {
      f.keys = b.backup_keys;
      f.regions = b.backup_regions;
      f.minRetentionDays = Number(b.min_retention);
    }
    if (Number(b.before_snapshot) > 0) beforeSnapshot.set(b.component, Number(b.before_snapshot));
  }
  // Gaps: before each row that starts after everything before it, and after the latest end.
  const lastEnd = new Map<string, number>();
  for (const g of gaps) {
    const f = comp(g.component);
    const s = Number(g.start_ms);
    const prev = Number(g.prev_ms);
    if (g.row_n === '1') lastEnd.set(g.component, Number(g.last_ms));
    const start = Math.max(prev, fromMs);
    if (s > start && start < toMs) {
      const snapshotMs = prev > 0 ? prev - rpoMs : beforeSnapshot.get(g.component);
      f.stale.push({ fromMs: start, toMs: Math.min(s, toMs), ...(snapshotMs !== undefined ? { snapshotMs } : {}) });
    }
  }
  for (const f of components.values()) {
    if (!f.latest) continue;
    const end = lastEnd.get(f.component);
    // No interval reaches into the period: stale throughout, since the latest snapshot.
    const start = end === undefined ? fromMs : Math.max(end, fromMs);
    if (start < toMs) f.stale.push({ fromMs: start, toMs, snapshotMs: f.latest.snapshotMs });
  }
  const tests = testsAndFailures.filter((r): r is typeof r & { kind: TestFact['kind'] } => r.kind !== 'backup.failed');
  const failed = testsAndFailures.filter((r) => r.kind === 'backup.failed').reverse();
  // The next success of each failed backup's component, asked only when a backup failed.
  const next = failed.length === 0 ? [] : await store.query<{ event_id: string; next: string }>(
    `SELECT f.event_id AS event_id, toString(toUnixTimestamp64Milli(s.time)) AS next
       FROM (SELECT component, time, event_id FROM recovery_events WHERE event_id IN {failed:Array(String)} AND ${FACTS_OF_TENANT} AND kind = 'backup.failed') AS f
       ASOF LEFT JOIN (SELECT component, time FROM recovery_events WHERE ${success} AND time >= fromUnixTimestamp64Milli({from:Int64})) AS s
         ON f.component = s.component AND s.time > f.time`,
    { ...params, failed: failed.map((f) => f.event_id) },
  );
  const nextOf = new Map(next.map((n) => [n.event_id, Number(n.next)]));
  for (const r of failed) {
    const n = nextOf.get(r.event_id) ?? 0;
    comp(r.component).failures.push({ timeMs: Number(r.t), eventId: r.event_id, scope: r.scope, ...(n > 0 ? { nextSuccessMs: n } : {}) });
  }
  return {
    tenant,
    fromMs,
    toMs,
    components,
    tests: tests.map((t) => ({
      kind: t.kind,
      timeMs: Number(t.t),
      component: t.component,
      scope: t.scope,
      outcome: t.outcome,
      durationSeconds: Number(t.duration_seconds),
      verifiedRecords: Number(t.verified_records),
      region: t.location_region,
      eventId: t.event_id,
    })),
    failoverSuccesses: testsAndFailures.length > 0 ? Number(testsAndFailures[0]!.failovers) : 0,
  };
}

const iso = (ms: number): string => new Date(ms).toISOString();
const minutes = (ms: number): number => Math.round(ms / 600) / 100;

/** A stale window as the policy and the report show it. */
export function staleWindowDoc(w: StaleWindowMs): RecoveryStaleWindow {
  return {
    from: iso(w.fromMs),
    to: iso(w.toMs),
    minutes: minutes(w.toMs - w.fromMs),
    // With no snapshot before it, the window is "not yet backed up", not an aged backup.
    max_age_minutes: w.snapshotMs === undefined ? -1 : minutes(w.toMs - w.snapshotMs),
  };
}

/** A test as the policy and the report show it. */
export function testDoc(t: TestFact, toMs: number): RecoveryTestDoc {
  return {
    time: iso(t.timeMs),
    outcome: t.outcome,
    duration_seconds: t.durationSeconds,
    component: t.component,
    location_region: t.region,
    age_days: Math.round(((toMs - t.timeMs) / DAY_MS) * 100) / 100,
    event_id: t.eventId,
  };
}

/** The facts as recovery.rego reads them (one tenant of its input). */
export function recoveryTenantDoc(f: TenantRecoveryFacts): RecoveryTenantDoc {
  const rpoMs = f.tenant.recovery.rpoMinutes * MINUTE_MS;
  const components: Record<string, RecoveryComponentDoc> = {};
  for (const c of f.components.values()) {
    components[c.component] = {
      ...(c.latest
        ? { latest: { completed: iso(c.latest.completedMs), snapshot: iso(c.latest.snapshotMs), age_minutes: minutes(f.toMs - c.latest.snapshotMs), scope: c.latest.scope === 'platform' ? 'platform' : 'tenant', event_id: c.latest.eventId } }
        : {}),
      backups: c.backups,
      stale: c.latest ? c.stale.map(staleWindowDoc) : [],
      keys: c.keys,
      ...(c.minRetentionDays !== undefined ? { min_retention_days: c.minRetentionDays } : {}),
      regions: c.regions,
      // A failure younger than the RPO with no success yet cannot be judged before the RPO has passed.
      failures: c.failures
        .filter((x) => x.nextSuccessMs !== undefined || f.toMs - x.timeMs > rpoMs)
        .map((x) => ({ time: iso(x.timeMs), event_id: x.eventId, next_success_minutes: x.nextSuccessMs === undefined ? -1 : minutes(x.nextSuccessMs - x.timeMs) })),
    };
  }
  const restore = f.tests.find((t) => t.kind === 'restore.tested' && t.scope === 'tenant');
  const failover = f.tests.find((t) => t.kind === 'failover.tested');
  const failoverRegions = [...new Set(f.tests.filter((t) => t.kind === 'failover.tested' && t.timeMs >= f.fromMs && t.region !== '').map((t) => t.region))].sort();
  return {
    components,
    ...(restore ? { restore_test: testDoc(restore, f.toMs) } : {}),
    failover_tests: f.failoverSuccesses,
    ...(failover ? { failover_test: testDoc(failover, f.toMs) } : {}),
    failover_regions: failoverRegions,
  };
}

/** One tenant's newest evidence at a moment: what the recovery gauges are made of. */
export interface LatestRecovery {
  /** Per component, the snapshot time of its newest successful backup (own or platform). */
  backupSnapshotMs: Map<string, number>;
  /** The newest successful tenant-scope restore test; undefined when there never was one. */
  restoreTestMs?: number;
}

interface LatestRow {
  tenant_id: string;
  kind: 'backup.completed' | 'restore.tested';
  component: string;
  tiers: string[];
  regions: string[];
  latest_ms: string;
}

/**
 * Every given tenant's newest backups and restore test before `nowMs`, in one query for all of
 * them: the metrics refresh asks this every interval, and a query per tenant would grow with
 * the tenant count. Platform-scope rows come back once per (tiers, regions) and are matched to
 * tenants here, by the same rule FACTS_OF_TENANT applies in SQL.
 */
export async function latestRecovery(store: Store, tenants: readonly TenantRecord[], nowMs: number): Promise<Map<string, LatestRecovery>> {
  const rows = await store.query<LatestRow>(
    `SELECT tenant_id, kind, component, tiers, regions,
            toString(toUnixTimestamp64Milli(max(if(kind = 'backup.completed', snapshot_time, time)))) AS latest_ms
       FROM recovery_events
      WHERE tenant_id IN {tenants:Array(String)} AND outcome = 'success' AND time < fromUnixTimestamp64Milli({now:Int64})
        AND ((kind = 'backup.completed' AND (tenant_id != '_platform' OR scope = 'platform'))
          OR (kind = 'restore.tested' AND scope = 'tenant' AND tenant_id != '_platform'))
      GROUP BY tenant_id, kind, component, tiers, regions`,
    { tenants: [...tenants.map((t) => t.id), '_platform'], now: nowMs },
  );
  const own = new Map<string, LatestRow[]>();
  const platform: LatestRow[] = [];
  for (const r of rows) {
    if (r.tenant_id === '_platform') platform.push(r);
    else if (own.has(r.tenant_id)) own.get(r.tenant_id)!.push(r);
    else own.set(r.tenant_id, [r]);
  }
  const out = new Map<string, LatestRecovery>();
  for (const t of tenants) {
    const latest: LatestRecovery = { backupSnapshotMs: new Map() };
    for (const r of [...(own.get(t.id) ?? []), ...platform.filter((p) => platformCovers(p, t))]) {
      const ms = Number(r.latest_ms);
      if (r.kind === 'restore.tested') latest.restoreTestMs = Math.max(latest.restoreTestMs ?? ms, ms);
      else latest.backupSnapshotMs.set(r.component, Math.max(latest.backupSnapshotMs.get(r.component) ?? ms, ms));
    }
    out.set(t.id, latest);
  }
  return out;
}

/** A platform-scope fact counts for the tenants of the tiers and home regions it names (all when none). */
function platformCovers(r: { tiers: string[]; regions: string[] }, t: TenantRecord): boolean {
  return (r.tiers.length === 0 || r.tiers.includes(t.tier)) && (r.regions.length === 0 || r.regions.includes(t.region));
}
