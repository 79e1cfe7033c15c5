// Noisy-neighbour report: which tenant's load on a shared resource (a service, a database
// pool, a queue) slowed the other tenants on it, when, and by how much.
//
// The model, per shared resource and minute (all in ClickHouse, over the per-minute rollup
// `resource_minutes` that ingest fills with its per-minute sums of each request's spans):
// - An *operation* is a tenant's span name on a resource. Its normal latency is the median,
//   over the window's minutes, of the operation's mean duration in that minute. Taking
//   minutes, not spans, as the unit keeps a burst (many spans in a few minutes) from becoming
//   its own normal. A span's *demand* is that latency: the busy time it would have caused at
//   normal speed. Demand is what a tenant asks of the resource; busy time (actual duration)
//   is what it got, contention included.
// - A minute is *contended* when the resource's busy time is at least `minSlowdown` times its
//   demand (everyone ran that much slower than usual) over at least `minRequests` spans.
// - A tenant's *excess* in a minute is the demand of its requests beyond each operation's
//   usual count (the 75th percentile per minute, minutes without any counted as zero) and
//   beyond that count's chance variation (2 sqrt(usual) + 1: a few requests of an operation
//   that usually sees none in a minute are not a surge).
// - Its *score* on the resource is the sum, over contended minutes, of its excess as a share
//   of the resource's demand times the other tenants' slowdown above normal (their busy time
//   over their demand, minus one). A score of 10 is, e.g., twenty minutes in which half the
//   work on the resource was this tenant's surge and its neighbours ran twice as slow. Weighing
//   by the share of demand keeps a tenant with a few extra requests from being blamed for a
//   slowdown that came from elsewhere (a service slowed by the database pool behind it).
// - Offenders are listed from `minScore` up; their *windows* are the contended minutes where
//   they carry at least half of all tenants' excess (runs one quiet minute apart are joined).
// - *Victims* are the other tenants with spans on the resource in an offender's windows:
//   their latency increase is their busy time over their demand in those minutes, minus one.
// - For explanation, an offender also shows its share of the resource in its windows against
//   its share in the uncontended minutes, and its load factor: its demand per offence minute
//   over its average demand per uncontended minute.
//
// Per-tenant views see the same analysis restricted to the resources the tenant used, with
// only its own victim entries and the offenders that hurt it; for anyone but an admin every
// other tenant is renamed tenant-1, tenant-2, ... in order of rank, without its trace ids.
// Aliases follow the rank in this report only, so they say nothing across reports.
import type { Store } from '../store/types.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** Thresholds of the analysis; see the header for their meaning. */
export interface NoisyThresholds {
  minSlowdown: number;
  minRequests: number;
  minScore: number;
  /** Victims below this latency increase (0.2 = 20% slower) are not listed. */
  minLatencyIncrease: number;
}

export const DEFAULT_NOISY_THRESHOLDS: NoisyThresholds = { minSlowdown: 1.5, minRequests: 5, minScore: 5, minLatencyIncrease: 0.2 };

/** A run of minutes, [from, to). */
export interface NoisyWindow {
  from: string;
  to: string;
  minutes: number;
}

export interface NoisyOffender {
  tenant: string;
  /** `service:<name>`, `db:<pool>` or `queue:<destination>`. */
  resource: string;
  score: number;
  windows: NoisyWindow[];
  /** Example traces of the offender's requests in its windows (admin view only). */
  trace_ids: string[];
  /** Its spans on the resource in its windows. */
  requests: number;
  /** Its share of the resource's requests and busy time in its windows. */
  request_share: number | null;
  busy_share: number | null;
  /** Its shares in the window's uncontended minutes. */
  baseline_request_share: number;
  baseline_busy_share: number;
  /** Its demand per minute in its windows over its average per uncontended minute; null without one. */
  load_factor: number | null;
  /** The other tenants' busy time over their demand in its windows (1 = normal speed). */
  neighbour_slowdown: number | null;
}

export interface NoisyVictim {
  tenant: string;
  resource: string;
  /** Busy time over demand in the offenders' windows, minus one (1.5 = 150% slower). */
  latency_increase: number;
  requests: number;
  /** Time its requests spent beyond their normal latency, summed. */
  added_latency_ms: number;
  /** The offenders whose windows it was caught in. */
  offenders: string[];
  /** Those offenders' windows it had slowed requests in. */
  windows: NoisyWindow[];
  /** Its most delayed traces in those windows. */
  trace_ids: string[];
}

/** GET /api/v1/noisy-neighbors and /api/v1/tenants/{id}/noisy-neighbors */
export interface NoisyNeighborReport {
  from: string;
  to: string;
  /** The tenant whose view this is; absent in the platform view. */
  tenant?: string;
  thresholds: { min_slowdown: number; min_requests: number; min_score: number; min_latency_increase: number };
  /** Highest score first. */
  offenders: NoisyOffender[];
  /** Most added latency first. */
  victims: NoisyVictim[];
}

export interface NoisyOptions {
  fromMs?: number;
  toMs?: number;
  /** The per-tenant view of this tenant; the platform view without. */
  tenant?: string;
  /** In a tenant view, rename every other tenant (true for anyone but an admin). Default true. */
  anonymise?: boolean;
  thresholds?: Partial<NoisyThresholds>;
}

/**
 * The whole analysis as one query with one row per (resource, tenant) that is an offender, a
 * victim, or both, over the per-minute rollup (resource_minutes). ClickHouse inlines a CTE
 * wherever it is named, computing it again each time, but evaluates a scalar subquery once per
 * query. So the two small sets that several steps need are scalars (arrays), looked up with
 * `transform` rather than joined: `active`, each resource's minutes with any request, and `o`,
 * each operation's normal latency, usual count and window totals (a few hundred operations;
 * `usual` unpacks them again per tenant). The rollup is then read four times, each a FINAL
 * read of merged parts with cheap groupings: for `active`, for `ops`, for `contended` (each
 * minute's busy time against its demand) and for `detail`, which only the contended minutes
 * pass, so the per-tenant steps see a few rows a contended minute. `contended` stays a CTE,
 * named once: the IN set is built from it once, and IN over a scalar array of the same pairs
 * is many times slower. `ops` groups by the operation's hash, one key instead of three strings.
 * A tenant's view runs the same analysis (its neighbours' load is the point) and keeps, in
 * Node, only the few result rows it may see.
 */
function analysisSql(explained: boolean): string {
  const window = 'minute >= toDateTime(intDiv({from:Int64}, 1000)) AND minute < toDateTime(intDiv({to:Int64}, 1000))';
  // An operation's normal latency and usual count, looked up in `o` by its hash (o's arrays,
  // in order: op, base_ns, base_n, resource, tenant_id, op_n, op_busy); a resource's active
  // minutes in `active` (resource, active_minutes).
  const baseNs = 'transform(op, o.1, o.2, 0.)';
  const baseN = 'transform(op, o.1, o.3, 0.)';
  const activeMinutes = 'transform(resource, active.1, active.2, toUInt64(0))';
  return `
WITH
  r AS (
    SELECT tenant_id, resource, name, cityHash64(tenant_id, resource, name) AS op, toUInt32(minute) AS m,
           requests AS rn, toFloat64(busy_ns) AS rb, slowest
      FROM resource_minutes FINAL
     WHERE ${window}
  ),
  (SELECT groupArray(resource), groupArray(active_minutes)
     FROM (SELECT resource, uniqExact(m) AS active_minutes FROM r GROUP BY resource)) AS active,
  ops AS (
    SELECT op, any(tenant_id) AS tenant_id, any(resource) AS resource,
           quantileExact(0.5)(rb / rn) AS base_ns,
           arrayReduce('quantileExact(0.75)', arrayConcat(groupArray(toFloat64(rn)), arrayWithConstant(toUInt64(${activeMinutes} - count()), 0.))) AS base_n,
           sum(rn) AS op_n, sum(rb) AS op_busy
      FROM r
     GROUP BY op
  ),
  (SELECT groupArray(op), groupArray(base_ns), groupArray(base_n), groupArray(resource), groupArray(tenant_id), groupArray(op_n), groupArray(op_busy)
     FROM ops) AS o,
  contended AS (
    SELECT resource, m FROM r GROUP BY resource, m
    HAVING sum(rb) >= {minSlowdown:Float64} * sum(rn * ${baseNs}) AND sum(rn) >= {minRequests:UInt32}
  ),
  detail AS (
    SELECT resource, m, tenant_id, sum(rn) AS n, sum(rb) AS busy, sum(rn * base_ns) AS demand,
           sum(greatest(rn - base_n - 2 * sqrt(base_n) - 1, 0.) * base_ns) AS excess${explained ? `,
           argMaxMerge(slowest) AS example_trace` : ''}
      FROM (SELECT *, ${baseNs} AS base_ns, ${baseN} AS base_n
              FROM r WHERE (resource, m) IN (SELECT resource, m FROM contended)) AS hot
     GROUP BY resource, m, tenant_id
  ),
  scored AS (
    SELECT *,
           sum(n) OVER per_minute AS total_n, sum(busy) OVER per_minute AS total_busy, sum(demand) OVER per_minute AS total_demand,
           sum(excess) OVER per_minute AS total_excess,
           if(total_demand - demand > 0, (total_busy - busy) / (total_demand - demand), 1.) AS others_slowdown,
           excess / total_demand * greatest(others_slowdown - 1, 0.) AS contribution,
           total_excess > 0 AND excess / total_excess >= 0.5 AS offending
      FROM detail
    WINDOW per_minute AS (PARTITION BY resource, m)
  ),
  ranked AS (
    SELECT *,
           sum(contribution) OVER (PARTITION BY resource, tenant_id) AS score,
           sum(n) OVER (PARTITION BY resource) AS contended_n, sum(busy) OVER (PARTITION BY resource) AS contended_busy,
           uniqExact(m) OVER (PARTITION BY resource) AS contended_minutes
      FROM scored
  ),
  marked AS (
    SELECT *,
           groupArrayIf(tenant_id, offending AND score >= {minScore:Float64}) OVER (PARTITION BY resource, m) AS minute_offenders,
           notEmpty(minute_offenders) AND NOT has(minute_offenders, tenant_id) AS hurt
      FROM ranked
  )${explained ? `,
  usual AS (
    SELECT resource, tenant_id, sum(op_n) AS window_n, sum(op_busy) AS window_busy, sum(op_n * base_ns) AS window_demand,
           sum(window_n) OVER (PARTITION BY resource) AS resource_n, sum(window_busy) OVER (PARTITION BY resource) AS resource_busy
      FROM (SELECT o.4 AS resource, o.5 AS tenant_id, o.6 AS op_n, o.7 AS op_busy, o.2 AS base_ns)
           ARRAY JOIN resource, tenant_id, op_n, op_busy, base_ns
     GROUP BY resource, tenant_id
  )
SELECT resource, tenant_id AS tenant,
       round(any(score), 3) AS score,
       arraySort(groupArrayIf(m, offending)) AS offence_minutes,
       arraySlice(arrayMap(x -> x.2, arraySort(groupArrayIf((m, example_trace), offending))), 1, 5) AS offence_traces,
       sumIf(n, offending) AS offence_requests,
       round(sumIf(n, offending) / nullIf(sumIf(total_n, offending), 0), 4) AS request_share,
       round(sumIf(busy, offending) / nullIf(sumIf(total_busy, offending), 0), 4) AS busy_share,
       round((any(window_n) - sum(n)) / nullIf(any(resource_n) - any(contended_n), 0), 4) AS baseline_request_share,
       round((any(window_busy) - sum(busy)) / nullIf(any(resource_busy) - any(contended_busy), 0), 4) AS baseline_busy_share,
       round(sumIf(demand, offending) / countIf(offending)
             / nullIf((any(window_demand) - sum(demand)) / nullIf(${activeMinutes} - any(contended_minutes), 0), 0), 2) AS load_factor,
       round(sumIf(total_busy - busy, offending) / nullIf(sumIf(total_demand - demand, offending), 0), 3) AS neighbour_slowdown,
       round(sumIf(busy, hurt) / nullIf(sumIf(demand, hurt), 0) - 1, 4) AS latency_increase,
       sumIf(n, hurt) AS hurt_requests,
       round((sumIf(busy, hurt) - sumIf(demand, hurt)) / 1e6, 1) AS added_latency_ms,
       arraySort(groupUniqArrayArrayIf(minute_offenders, hurt)) AS hurt_by,
       arraySort(groupArrayIf(m, hurt)) AS hurt_minutes,
       arraySlice(arrayMap(x -> x.2, arrayReverseSort(groupArrayIf((busy - demand, example_trace), hurt))), 1, 5) AS hurt_traces
  FROM marked
       INNER JOIN usual USING (resource, tenant_id)
 GROUP BY resource, tenant_id
` : `
SELECT resource, tenant_id AS tenant, round(any(score), 3) AS score, arraySort(groupArrayIf(m, offending)) AS offence_minutes,
       round(sumIf(busy, hurt) / nullIf(sumIf(demand, hurt), 0) - 1, 4) AS latency_increase, sumIf(n, hurt) AS hurt_requests,
       arraySort(groupUniqArrayArrayIf(minute_offenders, hurt)) AS hurt_by
  FROM marked
 GROUP BY resource, tenant_id
`}
HAVING score >= {minScore:Float64} OR (hurt_requests > 0 AND latency_increase >= {minLatencyIncrease:Float64})`;
}

/** A row of the analysis: the offender's figures as reported, plus the victim's. */
interface AnalysisRow
  extends Pick<NoisyOffender, 'resource' | 'tenant' | 'score' | 'request_share' | 'busy_share' | 'baseline_request_share' | 'baseline_busy_share' | 'load_factor' | 'neighbour_slowdown'> {
  offence_minutes: number[];
  offence_traces: string[];
  offence_requests: string;
  latency_increase: number | null;
  hurt_requests: string;
  added_latency_ms: number;
  hurt_by: string[];
  hurt_minutes: number[];
  hurt_traces: string[];
}

/** The analysis's thresholds, window and query parameters from a caller's options. */
function analysisParams(opts: NoisyOptions) {
  const t = { ...DEFAULT_NOISY_THRESHOLDS, ...opts.thresholds };
  const toMs = opts.toMs ?? Date.now();
  const fromMs = opts.fromMs ?? toMs - DAY;
  const params = { from: fromMs, to: toMs, minSlowdown: t.minSlowdown, minRequests: t.minRequests, minScore: t.minScore, minLatencyIncrease: t.minLatencyIncrease };
  return { t, fromMs, toMs, params };
}

const byScore = (a: { score: number; tenant: string; resource: string }, b: { score: number; tenant: string; resource: string }): number =>
  b.score - a.score || a.tenant.localeCompare(b.tenant) || a.resource.localeCompare(b.resource);

/** Whether a row is a victim entry: slowed requests, slowed past the threshold. */
const isVictim = (r: Pick<AnalysisRow, 'hurt_requests' | 'latency_increase'>, t: NoisyThresholds): boolean =>
  Number(r.hurt_requests) > 0 && r.latency_increase !== null && Number(r.latency_increase) >= t.minLatencyIncrease;

/** The findings of a platform report without what explains them: who offended where and when, and who it hurt. */
export interface NoisyFindings {
  /** Highest score first, as in the report. */
  offenders: Pick<NoisyOffender, 'tenant' | 'resource' | 'score' | 'windows'>[];
  victims: Pick<NoisyVictim, 'tenant' | 'resource' | 'offenders'>[];
}

/**
 * The platform report's offenders and victims over [fromMs, toMs), the same analysis without
 * its explanations (traces, shares, load factors): a third cheaper, for callers that only
 * ask who (the incidents report's scope rule).
 */
export async function noisyFindings(store: Store, opts: Omit<NoisyOptions, 'tenant' | 'anonymise'> = {}): Promise<NoisyFindings> {
  const { t, params } = analysisParams(opts);
  const rows = await store.query<Pick<AnalysisRow, 'resource' | 'tenant' | 'score' | 'offence_minutes' | 'latency_increase' | 'hurt_requests' | 'hurt_by'>>(analysisSql(false), params);
  return {
    offenders: rows
      .filter((r) => Number(r.score) >= t.minScore)
      .map((r) => ({ tenant: r.tenant, resource: r.resource, score: Number(r.score), windows: minuteRuns(r.offence_minutes) }))
      .sort(byScore),
    victims: rows.filter((r) => isVictim(r, t)).map((r) => ({ tenant: r.tenant, resource: r.resource, offenders: r.hurt_by })),
  };
}

/** The noisy-neighbour report over [fromMs, toMs) (default: the last day). */
export async function noisyNeighborReport(store: Store, opts: NoisyOptions = {}): Promise<NoisyNeighborReport> {
  const { t, fromMs, toMs, params } = analysisParams(opts);
  const rows = await store.query<AnalysisRow>(analysisSql(true), params);
  let offenders: NoisyOffender[] = rows
    .filter((r) => Number(r.score) >= t.minScore)
    .map((r) => ({
      tenant: r.tenant,
      resource: r.resource,
      score: Number(r.score),
      windows: minuteRuns(r.offence_minutes),
      trace_ids: r.offence_traces,
      requests: Number(r.offence_requests),
      request_share: finiteOrNull(r.request_share),
      busy_share: finiteOrNull(r.busy_share),
      baseline_request_share: Number(r.baseline_request_share),
      baseline_busy_share: Number(r.baseline_busy_share),
      load_factor: finiteOrNull(r.load_factor),
      neighbour_slowdown: finiteOrNull(r.neighbour_slowdown),
    }))
    .sort(byScore);
  let victims: NoisyVictim[] = rows
    .filter((r) => isVictim(r, t))
    .map((r) => ({
      tenant: r.tenant,
      resource: r.resource,
      latency_increase: Number(r.latency_increase),
      requests: Number(r.hurt_requests),
      added_latency_ms: Number(r.added_latency_ms),
      offenders: r.hurt_by,
      windows: caughtIn(r, offenders),
      trace_ids: r.hurt_traces,
    }))
    .sort((a, b) => b.added_latency_ms - a.added_latency_ms || a.tenant.localeCompare(b.tenant) || a.resource.localeCompare(b.resource));
  const report: NoisyNeighborReport = {
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    thresholds: { min_slowdown: t.minSlowdown, min_requests: t.minRequests, min_score: t.minScore, min_latency_increase: t.minLatencyIncrease },
    offenders,
    victims,
  };
  if (opts.tenant === undefined) return report;
  ({ offenders, victims } = tenantView(opts.tenant, offenders, victims, opts.anonymise ?? true));
  return { ...report, tenant: opts.tenant, offenders, victims };
}

/**
 * What one tenant may see: its own offences, the offences that hurt it (on the resource it
 * was hurt on), and its own victim entries; every other tenant anonymised by rank.
 */
function tenantView(tenant: string, offenders: NoisyOffender[], victims: NoisyVictim[], anonymise: boolean): { offenders: NoisyOffender[]; victims: NoisyVictim[] } {
  const mine = victims.filter((v) => v.tenant === tenant);
  const hurtBy = new Set(mine.flatMap((v) => v.offenders.map((o) => `${o}\u0000${v.resource}`)));
  const visible = offenders.filter((o) => o.tenant === tenant || hurtBy.has(`${o.tenant}\u0000${o.resource}`));
  if (!anonymise) return { offenders: visible, victims: mine };
  const aliases = new Map<string, string>();
  const alias = (id: string): string => {
    if (id === tenant) return id;
    let a = aliases.get(id);
    if (!a) aliases.set(id, (a = `tenant-${aliases.size + 1}`));
    return a;
  };
  return {
    offenders: visible.map((o) => (o.tenant === tenant ? o : { ...o, tenant: alias(o.tenant), trace_ids: [] })),
    victims: mine.map((v) => ({ ...v, offenders: v.offenders.map(alias) })),
  };
}

/** The offence windows, on the victim's resource, that hold at least one of its slowed minutes. */
function caughtIn(v: AnalysisRow, offenders: NoisyOffender[]): NoisyWindow[] {
  const minutes = v.hurt_minutes.map((m) => Number(m) * 1000);
  const seen = new Set<string>();
  const out: NoisyWindow[] = [];
  for (const o of offenders) {
    if (o.resource !== v.resource || !v.hurt_by.includes(o.tenant)) continue;
    for (const w of o.windows) {
      const [from, to] = [Date.parse(w.from), Date.parse(w.to)];
      if (seen.has(w.from + w.to) || !minutes.some((m) => m >= from && m < to)) continue;
      seen.add(w.from + w.to);
      out.push(w);
    }
  }
  return out.sort((a, b) => a.from.localeCompare(b.from));
}

/** Sorted minute starts (epoch seconds) as runs, joining runs one quiet minute apart. */
function minuteRuns(minutes: number[]): NoisyWindow[] {
  const runs: NoisyWindow[] = [];
  let start = -1;
  let last = -1;
  let count = 0;
  const close = () => {
    if (start >= 0) runs.push({ from: new Date(start * 1000).toISOString(), to: new Date((last + 60) * 1000).toISOString(), minutes: count });
  };
  for (const m of minutes.map(Number)) {
    if (start < 0 || m - last > 120) {
      close();
      start = m;
      count = 0;
    }
    last = m;
    count++;
  }
  close();
  return runs;
}

function finiteOrNull(x: number | null): number | null {
  const n = Number(x);
  return x === null || !Number.isFinite(n) ? null : n;
}
