// Incidents: who an SLO breach hit, whether it was one tenant, a noisy neighbour, a tier, a
// region or the whole platform, and what it cost each tenant.
//
// 1. Episodes. Per tenant, service and SLI, the per-minute rollup holds the server spans'
//    counts (all, failed, slower than the tenant's threshold: migration 0011), read from the
//    longest burn window before the period to its last whole minute, in the Native format
//    (a million minutes as JSON took longer to parse than to count). The hours in which no
//    burn window of the period starts (for a day's period, the day two days before it) come
//    from the rollup's hourly sums (migration 0012) instead. A tenant whose rollup rows were
//    not counted with its current threshold is counted from its spans. Node slides the SLO
//    report's alert pairs over those minutes: a pair fires at the end of a minute when both
//    its windows burn faster than its threshold and its long window holds at least
//    `slo.min_events` events (the minimum-traffic guard). An episode opens when any pair
//    fires and closes at the first minute end at which none of the pairs that fired during
//    it has both windows above its threshold.
// 2. Incidents. Episodes that overlap in time form one incident, classified by who it hit
//    (see `classify`).
// 3. Impact. For each affected tenant: its bad minutes (a minute whose own burn rate is above
//    the lowest threshold that fired, from the longest short window of the pairs that fired
//    before an episode to its end), requests and failures between its first and last,
//    the error budget that consumed, and the SLA credit its calendar month's availability
//    reaches under its contract.
import { createHash } from 'node:crypto';
import type { Registry, TenantRecord } from '../config/index.js';
import type { Store } from '../store/types.js';
import { tsError } from '../errors.js';
import { readNative } from '../store/native-read.js';
import { ALERT_PAIRS, BURN_WINDOWS } from './slo.js';
import { noisyFindings, type NoisyFindings } from './noisy.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
const SPAN_KIND_SERVER = 2;
const STATUS_ERROR = 2;
/** The longest period one incidents query covers. */
export const MAX_PERIOD_DAYS = 35;
const HOUR = 3_600_000;
/** The longest window of any alert pair: how far before the period the minutes are read. */
const LOOKBACK_MS = Math.max(...ALERT_PAIRS.map((p) => BURN_WINDOWS[p.long]));
/** The longest short window: how far before the period every minute is needed. */
const SHORT_LOOKBACK_MS = Math.max(...ALERT_PAIRS.map((p) => BURN_WINDOWS[p.short]));

export type Sli = 'availability' | 'latency';
export type IncidentScope = 'tenant' | 'noisy_neighbour' | 'tier' | 'regional' | 'platform';

/** A stretch of time in which a tenant's service burnt its error budget past an alert pair. */
export interface Episode {
  tenant: string;
  service: string;
  sli: Sli;
  /** page if a page pair fired during it. */
  severity: 'page' | 'ticket';
  startMs: number;
  /** The period's end when it is still open. */
  endMs: number;
  open: boolean;
  /** The pairs that fired, as long/short. */
  pairs: string[];
  peakBurnRate: number;
  /** The lowest threshold that fired: a minute burning faster is a bad minute. */
  threshold: number;
}

/** One series of minute counts. */
interface Series {
  tenant: TenantRecord;
  service: string;
  total: Uint32Array;
  errors: Uint32Array;
  slow: Uint32Array;
  /** Whether any minute read has a failure, a slow request. */
  withErrors: boolean;
  withSlow: boolean;
}

/**
 * Minute counts per tenant and service over [baseMs, baseMs + count minutes). In the hours of
 * `gaps` (minute indexes [from, to), whole hours) each hour's counts sit on its first minute:
 * a running sum is exact at an hour's start there and nowhere else inside it.
 */
interface Minutes {
  baseMs: number;
  count: number;
  gaps: [number, number][];
  series: Series[];
  /** Tenants whose minutes were counted from the spans: the rollup could not answer for them. */
  fromSpans: Set<string>;
}

const slowNsOf = (t: TenantRecord): number => Math.round(t.slo.latencyThresholdMs * 1e6);

/** The rollup's rows of server spans (resource `service:<name>`), and how tenants and minutes pick them out. */
const SERVER_ROWS = "startsWith(resource, 'service:')";

/**
 * The whole hours before the period that no burn window starts in (minute indexes from baseMs,
 * [from, to)): a day's period with its three days of burn windows reads the day two days
 * before it by the hour.
 */
function hoursNoWindowStartsIn(first: number, last: number, lookbackMin: number): [number, number][] {
  // A window ending at minute `end` (first..last) sums minutes [end - w, end): its running sums
  // are read at end - w. The period's own minutes and the short windows' are all needed, by
  // the minute, from the longest short window before it.
  const needed = [...new Set(PAIRS.map((p) => p.longMin))].map((w): [number, number] => [first - w, last - w]);
  const gaps: [number, number][] = [];
  let free = 0; // the first index after the needed stretches seen so far
  for (const [a, b] of [...needed, [first - lookbackMin, last] as [number, number]].sort((x, y) => x[0] - y[0])) {
    // Indexes free..a-1 are needed by no window: the whole hours whose insides lie there
    // (their edges may be needed: a running sum is exact at an hour's start).
    const from = Math.ceil(Math.max(0, free - 1) / 60) * 60;
    const to = Math.floor(a / 60) * 60;
    if (to > from) gaps.push([from, to]);
    free = Math.max(free, b + 1);
  }
  return gaps;
}

/** The minutes of [fromMs, toMs) and its burn windows. */
async function readMinutes(store: Store, tenants: readonly TenantRecord[], fromMs: number, toMs: number): Promise<Minutes> {
  // From the hour of the longest burn window's start before the period (hours, so the hourly
  // sums line up with the minutes).
  const baseMs = Math.floor((fromMs - LOOKBACK_MS) / HOUR) * HOUR;
  // Whole minutes only: a burn window ends at a minute's end, so a minute the period cuts
  // short is never judged.
  const count = Math.max(0, Math.floor((toMs - baseMs) / MINUTE));
  const endMs = baseMs + count * MINUTE;
  const gaps = hoursNoWindowStartsIn(Math.ceil((fromMs - baseMs) / MINUTE), Math.floor((toMs - baseMs) / MINUTE), SHORT_LOOKBACK_MS / MINUTE);
  // The rollup answers for a tenant whose every row in the range was counted with its current
  // latency threshold (migration 0011); the others' minutes are counted from the spans.
  // One row per series with its minutes as arrays of 32-bit numbers: a day and its burn windows
  // are hundreds of thousands of minutes across tenants, which as one object each would cost
  // more to hand over than to count.
  const ids = tenants.map((t) => t.id);
  const thresholds = tenants.map(slowNsOf);
  // The stretches read by the minute and the gaps read by the hour, as times in seconds; each a
  // range of the rollup's key (an OR of ranges narrows its read, a condition per row would not).
  const edges = [0, ...gaps.flat(), count].map((m) => (baseMs + m * MINUTE) / 1000);
  const stretches = edges.flatMap((_, i) => (i % 2 === 0 && edges[i]! < edges[i + 1]! ? [[edges[i]!, edges[i + 1]!]] : []));
  const inGaps = (time: string) => `(${gaps.length === 0 ? '0' : gaps.map((_, i) => `${time} >= toDateTime({gap${i}:UInt32}) AND ${time} < toDateTime({gapEnd${i}:UInt32})`).join(' OR ')})`;
  const inStretches = (time: string) => `(${stretches.length === 0 ? '0' : stretches.map((_, i) => `${time} >= toDateTime({at${i}:UInt32}) AND ${time} < toDateTime({atEnd${i}:UInt32})`).join(' OR ')})`;
  const params = {
    ids,
    slowNs: thresholds,
    base: baseMs,
    end: endMs,
    ...Object.fromEntries(gaps.flatMap((_, i) => [[`gap${i}`, edges[2 * i + 1]], [`gapEnd${i}`, edges[2 * i + 2]]])),
    ...Object.fromEntries(stretches.flatMap(([a, b], i) => [[`at${i}`, a], [`atEnd${i}`, b]])),
  };
  // Rows as stored, not summed per minute first: a minute holds a row per span name (and,
  // until merged, per insert), which the loop below adds up faster than a GROUP BY on the minute.
  // Failures and slow requests come only for the minutes that have some (most have none),
  // which halves what is handed over. The gaps' hours come from the hourly sums (migration
  // 0012), each on its hour's first minute.
  const perSeries = (at: string, from: string, where: string) => `
     SELECT CAST(tenant_id AS String) AS tenant, CAST(substring(resource, 9) AS String) AS service,
            groupArray(at) AS ms, groupArray(n) AS totals,
            groupArrayIf(at, e > 0) AS errMs, groupArrayIf(e, e > 0) AS errs, groupArrayIf(at, s > 0) AS slowMs, groupArrayIf(s, s > 0) AS slows,
            toUInt8(min(lo) = transform(tenant_id, {ids:Array(String)}, {slowNs:Array(UInt64)}, toUInt64(0)) AND max(hi) = min(lo)) AS counted
       FROM (SELECT tenant_id, resource, toUInt32(intDiv(toUnixTimestamp(${at}) - intDiv({base:Int64}, 1000), 60)) AS at, ${from}
              WHERE ${where} AND ${SERVER_ROWS} AND tenant_id IN {ids:Array(String)})
      GROUP BY tenant_id, resource`;
  const rolled = readNative(await store.queryNative(
    `${perSeries(
      'minute',
      'toUInt32(requests) AS n, toUInt32(errors) AS e, toUInt32(slow) AS s, slow_threshold_min AS lo, slow_threshold_max AS hi FROM resource_minutes',
      inStretches('minute'),
    )}
     UNION ALL
     ${perSeries(
       'h',
       `n, e, s, lo, hi FROM (SELECT tenant_id, resource, toStartOfHour(minute) AS h, toUInt32(sum(requests)) AS n, toUInt32(sum(errors)) AS e, toUInt32(sum(slow)) AS s,
                                     min(slow_threshold_min) AS lo, max(slow_threshold_max) AS hi
                                FROM resource_minutes
                               WHERE ${inGaps('toStartOfHour(minute)')} AND ${SERVER_ROWS} AND tenant_id IN {ids:Array(String)}
                               GROUP BY tenant_id, resource, h)`,
       '1',
     )}`,
    params,
  ));
  const counted = rolled.get('counted') as number[] | undefined ?? [];
  const tenantCol = rolled.get('tenant') as string[] | undefined ?? [];
  const uncounted = [...new Set(tenantCol.filter((_, i) => counted[i] !== 1))];
  const answers = [rolled];
  if (uncounted.length > 0) {
    answers.push(readNative(await store.queryNative(
      `SELECT CAST(tenant_id AS String) AS tenant, CAST(service_name AS String) AS service, groupArray(m) AS ms, groupArray(total) AS totals,
              groupArray(m) AS errMs, groupArray(errors) AS errs, groupArray(m) AS slowMs, groupArray(slow) AS slows
         FROM (SELECT tenant_id, service_name, toUInt32(intDiv(toUnixTimestamp64Milli(start_time) - {base:Int64}, 60000)) AS m,
                      toUInt32(count()) AS total, toUInt32(countIf(status_code = ${STATUS_ERROR})) AS errors,
                      toUInt32(countIf(duration_ns > transform(tenant_id, {ids:Array(String)}, {slowNs:Array(UInt64)}, toUInt64(0)))) AS slow
                 FROM spans
                WHERE tenant_id IN {uncounted:Array(String)} AND kind = ${SPAN_KIND_SERVER}
                  AND start_time >= fromUnixTimestamp64Milli({base:Int64}) AND start_time < fromUnixTimestamp64Milli({end:Int64})
                GROUP BY tenant_id, service_name, m)
        GROUP BY tenant_id, service_name`,
      { ...params, uncounted },
    )));
  }
  const byKey = new Map<string, Series>();
  const byId = new Map(tenants.map((t) => [t.id, t]));
  const add = (into: Uint32Array, at: Uint32Array, n: Uint32Array) => {
    for (let i = 0; i < at.length; i++) into[at[i]!] += n[i]!;
  };
  for (const [answer, skip] of answers.map((x, i) => [x, i === 0 ? new Set(uncounted) : new Set<string>()] as const)) {
    const tenant = answer.get('tenant') as string[] | undefined ?? [];
    const service = answer.get('service') as string[];
    const [ms, totals, errMs, errs, slowMs, slows] = ['ms', 'totals', 'errMs', 'errs', 'slowMs', 'slows'].map((c) => answer.get(c) as Uint32Array[]);
    for (let r = 0; r < tenant.length; r++) {
      if (skip.has(tenant[r]!)) continue;
      // A series comes in two rows from the rollup: its minutes, and its gaps' hours.
      const key = `${tenant[r]}\u0000${service[r]}`;
      let s = byKey.get(key);
      if (!s) {
        s = { tenant: byId.get(tenant[r]!)!, service: service[r]!, total: new Uint32Array(count), errors: new Uint32Array(count), slow: new Uint32Array(count), withErrors: false, withSlow: false };
        byKey.set(key, s);
      }
      s.withErrors ||= errs![r]!.length > 0;
      s.withSlow ||= slows![r]!.length > 0;
      add(s.total, ms![r]!, totals![r]!);
      add(s.errors, errMs![r]!, errs![r]!);
      add(s.slow, slowMs![r]!, slows![r]!);
    }
  }
  return { baseMs, count, gaps, series: [...byKey.values()], fromSpans: new Set(uncounted) };
}

/** Running sums of `a` into `into` (length a.length + 1), so any window's count is one subtraction. */
function prefix(a: Uint32Array, into: Float64Array): Float64Array {
  let sum = 0;
  into[0] = 0;
  for (let i = 0; i < a.length; i++) into[i + 1] = sum += a[i]!;
  return into;
}

/** The alert pairs in minutes, with their names. */
const PAIRS = ALERT_PAIRS.map((p) => ({ ...p, longMin: BURN_WINDOWS[p.long] / MINUTE, shortMin: BURN_WINDOWS[p.short] / MINUTE, name: `${p.long}/${p.short}` }));
const firedNames = (fired: number): string[] => PAIRS.filter((_, i) => fired & (1 << i)).map((p) => p.name);

/** The episodes of every series and SLI; running sums in two buffers reused from series to series. */
function allEpisodes(mins: Minutes, fromMs: number, toMs: number): Episode[] {
  const pt = new Float64Array(mins.count + 1);
  const pb = new Float64Array(mins.count + 1);
  const out: Episode[] = [];
  for (const s of mins.series) {
    // Without a bad event in the minutes read there is nothing to find.
    const { withErrors, withSlow } = s;
    if (!withErrors && !withSlow) continue;
    prefix(s.total, pt);
    if (withErrors) out.push(...seriesEpisodes(s, 'availability', mins, fromMs, toMs, pt, prefix(s.errors, pb)));
    if (withSlow) out.push(...seriesEpisodes(s, 'latency', mins, fromMs, toMs, pt, prefix(s.slow, pb)));
  }
  return out;
}

/** 1 - objective without binary noise. */
const allowedRate = (objective: number): number => Math.round((1 - objective) * 1e9) / 1e9;

/** The episodes of one series within [fromMs, toMs). */
function seriesEpisodes(s: Series, sli: Sli, mins: Minutes, fromMs: number, toMs: number, pt: Float64Array, pb: Float64Array): Episode[] {
  const allowed = allowedRate(sli === 'availability' ? s.tenant.slo.availability : s.tenant.slo.latencyTarget);
  const pairs = PAIRS;
  const out: Episode[] = [];
  // A window burns faster than a threshold when its bad events exceed threshold x allowed
  // rate x its events: compared without dividing, in a loop of plain numbers, since it runs
  // for every minute of every series (an empty window has no bad event, so it never burns).
  const n = pairs.length;
  const longW = pairs.map((p) => p.longMin);
  const shortW = pairs.map((p) => p.shortMin);
  const limit = pairs.map((p) => p.threshold * allowed);
  let open: (Episode & { fired: number }) | undefined;
  const first = Math.ceil((fromMs - mins.baseMs) / MINUTE);
  const last = Math.floor((toMs - mins.baseMs) / MINUTE);
  const minEvents = s.tenant.slo.minEvents;
  // Every short window ends where the longest does: with no bad event in that one, no pair
  // burns now (most minutes of a healthy series), and an open episode ends.
  const longestShort = Math.max(...shortW);
  for (let end = Math.max(first, 1); end <= last; end++) {
    let firingNow = false;
    let stillHot = false;
    const pte = pt[end]!;
    const pbe = pb[end]!;
    const quiet = pbe === pb[end > longestShort ? end - longestShort : 0];
    for (let i = 0; i < n && !quiet; i++) {
      const ls = end > longW[i]! ? end - longW[i]! : 0;
      const longTotal = pte - pt[ls]!;
      if (!(pbe - pb[ls]! > limit[i]! * longTotal)) continue;
      const ss = end > shortW[i]! ? end - shortW[i]! : 0;
      const shortTotal = pte - pt[ss]!;
      const shortBad = pbe - pb[ss]!;
      if (!(shortBad > limit[i]! * shortTotal)) continue;
      const p = pairs[i]!;
      if (longTotal >= minEvents) {
        firingNow = true;
        if (!open) {
          open = { tenant: s.tenant.id, service: s.service, sli, severity: p.severity, startMs: mins.baseMs + end * MINUTE, endMs: toMs, open: true, pairs: [], peakBurnRate: 0, threshold: p.threshold, fired: 0 };
        }
        open.fired |= 1 << i;
        if (p.severity === 'page') open.severity = 'page';
        open.threshold = Math.min(open.threshold, p.threshold);
        open.peakBurnRate = Math.max(open.peakBurnRate, shortBad / (shortTotal * allowed));
      }
      if (open && open.fired & (1 << i)) stillHot = true;
    }
    if (open && !firingNow && !stillHot) {
      const { fired, ...e } = open;
      out.push({ ...e, endMs: mins.baseMs + end * MINUTE, open: false, pairs: firedNames(fired), peakBurnRate: round(e.peakBurnRate) });
      open = undefined;
    }
  }
  if (open) {
    const { fired, ...e } = open;
    out.push({ ...e, pairs: firedNames(fired), peakBurnRate: round(e.peakBurnRate) });
  }
  return out;
}

const round = (x: number): number => Math.round(x * 1000) / 1000;
const cents = (x: number): number => Math.round(x * 100) / 100;
const iso = (ms: number): string => new Date(ms).toISOString();

/** One affected tenant of an incident, as an admin sees it. */
export interface TenantImpact {
  tenant: string;
  tier: string;
  region: string;
  services: string[];
  /** First to last bad minute of its SLIs within the incident. */
  impact: { from: string; to: string; minutes: number };
  requests: number;
  failures: number;
  slow: number;
  /** Bad events in the impact window over the SLO window's error budget (requests over window_days x allowed rate). */
  error_budget_consumed: number;
  sla: {
    month: string;
    availability_objective: number;
    /** The calendar month's availability so far (to the period's last whole minute or the month's end). */
    month_availability: number | null;
    /** The same without the incident's failures. */
    month_availability_without_incident: number | null;
    credit_percent: number;
    credit_percent_without_incident: number;
    monthly_fee: number;
    currency: string;
    /** Credit owed for the month as it stands, and the part of it this incident adds, in the currency, to the cent. */
    credit: number;
    exposure: number;
  };
  /** Exemplar traces of failing or slow requests in the impact window. */
  trace_ids: string[];
}

/** GET /api/v1/incidents */
export interface Incident {
  id: string;
  scope: IncidentScope;
  /** Why this scope (the rule that matched, in words). */
  reason: string;
  from: string;
  to: string;
  open: boolean;
  severity: 'page' | 'ticket';
  tenants: TenantImpact[];
  services: string[];
  regions: string[];
  tiers: string[];
  /** Shared resources the affected tenants used in the window (`service:`, `db:`, `queue:`). */
  shared_resources: string[];
  /** The noisy-neighbour finding that explains it, when the scope is noisy_neighbour. */
  noisy_neighbour?: { offender: string; resource: string; score: number; windows: { from: string; to: string }[] };
  episodes: { tenant: string; service: string; sli: Sli; severity: 'page' | 'ticket'; from: string; to: string; pairs: string[]; peak_burn_rate: number }[];
}

export interface IncidentsReport {
  from: string;
  to: string;
  /** Tenants with server traffic in the period: the base the platform rule counts against. */
  active_tenants: number;
  incidents: Incident[];
}

/** The thresholds of the scope rules (README, "Incidents"). */
export const SCOPE_RULES = {
  /** platform: at least this share of the tenants with traffic, in at least two regions. */
  platformShare: 0.5,
  /** noisy_neighbour: an offender's window must overlap the incident, widened by this much on each side. */
  noisyMarginMs: 5 * MINUTE,
} as const;

/** Classify the tenants an incident hit (README, "Incidents", has these rules in words). */
export function classify(
  affected: readonly TenantRecord[],
  active: readonly TenantRecord[],
  noisy?: { offender: string; resource: string; victims: readonly string[] },
): { scope: IncidentScope; reason: string } {
  const regions = new Set(affected.map((t) => t.region));
  const tiers = new Set(affected.map((t) => t.tier));
  if (noisy && affected.every((t) => noisy.victims.includes(t.id) || t.id === noisy.offender)) {
    return { scope: 'noisy_neighbour', reason: `the noisy-neighbour analysis names ${noisy.offender} on ${noisy.resource} in the same window, and every affected tenant is its victim there` };
  }
  if (affected.length >= 2 && regions.size >= 2 && affected.length >= SCOPE_RULES.platformShare * active.length) {
    return { scope: 'platform', reason: `${affected.length} of ${active.length} tenants with traffic, across ${regions.size} regions` };
  }
  if (regions.size === 1) {
    const region = [...regions][0]!;
    const inRegion = active.filter((t) => t.region === region);
    const elsewhere = active.filter((t) => t.region !== region);
    // Every active tenant of the region, more than one of them, and tenants elsewhere unaffected.
    if (affected.length >= 2 && affected.length === inRegion.length && elsewhere.length > 0) {
      return { scope: 'regional', reason: `every tenant with traffic in ${region} (${affected.length}) and none of the ${elsewhere.length} elsewhere` };
    }
  }
  if (tiers.size === 1 && affected.length >= 2) {
    const tier = [...tiers][0]!;
    // The tier's tenants: every one of them with traffic, none of another tier.
    if (affected.length === active.filter((t) => t.tier === tier).length) {
      return { scope: 'tier', reason: `every tenant with traffic of tier ${tier} (${affected.length}) and no tenant of another tier` };
    }
  }
  if (affected.length === 1) return { scope: 'tenant', reason: `only ${affected[0]!.id}` };
  return { scope: 'platform', reason: `${affected.length} tenants across tiers and regions` };
}

/** The incidents of [fromMs, toMs): every tenant's episodes, grouped and classified, with each tenant's impact. */
export async function incidentsReport(store: Store, registry: Registry, window: { fromMs?: number; toMs?: number }, nowMs = Date.now()): Promise<IncidentsReport> {
  const toMs = window.toMs ?? nowMs;
  const fromMs = window.fromMs ?? toMs - DAY;
  if (fromMs >= toMs) throw tsError('TS_ERR_BAD_QUERY', ['from', 'must be before to']);
  // Every series' minutes are held while its episodes are found: bounded by the period.
  if (toMs - fromMs > MAX_PERIOD_DAYS * DAY) throw tsError('TS_ERR_BAD_QUERY', ['from', `an incidents period may span at most ${MAX_PERIOD_DAYS} days; ask month by month`]);
  const tenants = registry.tenants();
  // The noisy-neighbour analysis that may explain an incident learns what is usual from the
  // minutes it is given: over an incident alone a surge would be its own normal, so it runs
  // over the whole period, widened by the margin its findings may lie off an incident. It is
  // the longest read, so it starts first, beside the minutes' read (the store answers reads
  // on two connections), and goes on while Node adds the minutes up and slides the windows.
  // Without an incident its answer is not used, but it is awaited all the same (an engine
  // read cannot be called off, and one left running would slow the next statement).
  const noisyRead = noisyFindings(store, { fromMs: fromMs - SCOPE_RULES.noisyMarginMs, toMs: toMs + SCOPE_RULES.noisyMarginMs }).then(
    (report) => ({ report }),
    (error: unknown) => ({ error }),
  );
  const mins = await readMinutes(store, tenants, fromMs, toMs);
  const episodes = allEpisodes(mins, fromMs, toMs);
  const activeIds = new Set(mins.series.filter((s) => sumRange(s.total, Math.max(0, Math.floor((fromMs - mins.baseMs) / MINUTE)), mins.count) > 0).map((s) => s.tenant.id));
  const active = tenants.filter((t) => activeIds.has(t.id));
  const groups = overlapping(episodes);
  // Each affected tenant's bad minutes come from the minutes already read (still beside the
  // noisy-neighbour read); what lies outside them (its SLO window's requests, its calendar
  // month, exemplar traces, shared resources) is then read for every incident and tenant at
  // once, on the store's second connection while the noisy-neighbour analysis holds the first.
  const drafts = groups.map((g, i) => {
    const ids = [...new Set(g.episodes.map((e) => e.tenant))].sort();
    return { g, ids, impacts: ids.map((id) => badMinutes(registry.tenant(id)!, `${i}:${id}`, g.episodes.filter((e) => e.tenant === id), mins, toMs)) };
  });
  const impacts = drafts.flatMap((d) => d.impacts);
  if (groups.length === 0) {
    const answer = await noisyRead;
    if ('error' in answer) throw answer.error;
    return { from: iso(fromMs), to: iso(toMs), active_tenants: active.length, incidents: [] };
  }
  const [counts, traces, shared] = await Promise.all([
    serverCounts(store, mins, [
      ...impacts.map((d) => ({ key: `budget:${d.key}`, tenant: d.tenant, fromMs: d.impactTo - d.tenant.slo.windowDays * DAY, toMs: d.impactTo })),
      ...impacts.map((d) => ({ key: `month:${d.key}`, tenant: d.tenant, ...calendarMonth(d.impactFrom, d.impactTo, toMs) })),
    ]),
    exemplarTraces(store, impacts, mins),
    sharedResources(store, drafts.map((d) => ({ tenants: d.ids, fromMs: Math.min(...d.impacts.map((x) => x.impactFrom), d.g.fromMs), toMs: Math.max(...d.impacts.map((x) => x.impactTo)) }))),
  ]);
  const noisyAnswer = await noisyRead;
  if ('error' in noisyAnswer) throw noisyAnswer.error;
  const noisy = noisyAnswer.report;
  const currency = registry.settings.priceCard.currency;
  const incidents = drafts.map((d, i) => {
    const own = d.impacts.map((x) => tenantImpact(x, counts.get(`budget:${x.key}`)!, counts.get(`month:${x.key}`)!, traces.get(x.key) ?? [], currency));
    return incident(d.g, d.ids.map((id) => registry.tenant(id)!), own, active, noisy, shared[i]!);
  });
  return { from: iso(fromMs), to: iso(toMs), active_tenants: active.length, incidents };
}

function sumRange(a: Uint32Array, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n += a[i]!;
  return n;
}

/** Episodes that overlap in time, as groups (sorted by start). */
function overlapping(episodes: Episode[]): { fromMs: number; toMs: number; episodes: Episode[] }[] {
  const sorted = [...episodes].sort((a, b) => a.startMs - b.startMs || a.tenant.localeCompare(b.tenant));
  const groups: { fromMs: number; toMs: number; episodes: Episode[] }[] = [];
  for (const e of sorted) {
    const g = groups.at(-1);
    if (g && e.startMs <= g.toMs) {
      g.episodes.push(e);
      g.toMs = Math.max(g.toMs, e.endMs);
    } else groups.push({ fromMs: e.startMs, toMs: e.endMs, episodes: [e] });
  }
  return groups;
}

/** The noisy finding whose window overlaps [fromMs, toMs), with the victims it slowed there. */
function noisyFor(report: NoisyFindings | undefined, fromMs: number, toMs: number): { offender: string; resource: string; score: number; windows: { from: string; to: string }[]; victims: string[] } | undefined {
  if (!report) return undefined;
  const m = SCOPE_RULES.noisyMarginMs;
  for (const o of report.offenders) {
    const windows = o.windows.filter((w) => Date.parse(w.from) < toMs + m && Date.parse(w.to) > fromMs - m);
    if (windows.length === 0) continue;
    const victims = report.victims.filter((v) => v.resource === o.resource && v.offenders.includes(o.tenant)).map((v) => v.tenant);
    return { offender: o.tenant, resource: o.resource, score: o.score, windows: windows.map((w) => ({ from: w.from, to: w.to })), victims };
  }
  return undefined;
}

function incident(
  g: { fromMs: number; toMs: number; episodes: Episode[] },
  affected: readonly TenantRecord[],
  impacts: TenantImpact[],
  active: readonly TenantRecord[],
  noisyReport: NoisyFindings | undefined,
  shared: string[],
): Incident {
  const ids = affected.map((t) => t.id);
  const noisy = noisyFor(noisyReport, g.fromMs, g.toMs);
  const { scope, reason } = classify(affected, active, noisy);
  const from = Math.min(...impacts.map((i) => Date.parse(i.impact.from)), g.fromMs);
  const to = Math.max(...impacts.map((i) => Date.parse(i.impact.to)));
  return {
    // Stable for the same episodes, and naming no tenant (the id reaches every affected tenant).
    id: `inc-${new Date(g.fromMs).toISOString().replace(/[-:]/g, '').slice(0, 13)}-${createHash('sha256').update(`${g.fromMs}|${ids.join(',')}`).digest('hex').slice(0, 8)}`,
    scope,
    reason,
    from: iso(from),
    to: iso(to),
    open: g.episodes.some((e) => e.open),
    severity: g.episodes.some((e) => e.severity === 'page') ? 'page' : 'ticket',
    tenants: impacts,
    services: [...new Set(g.episodes.map((e) => e.service))].sort(),
    regions: [...new Set(affected.map((t) => t.region))].sort(),
    tiers: [...new Set(affected.map((t) => t.tier))].sort(),
    shared_resources: shared,
    ...(scope === 'noisy_neighbour' && noisy ? { noisy_neighbour: { offender: noisy.offender, resource: noisy.resource, score: noisy.score, windows: noisy.windows } } : {}),
    episodes: g.episodes.map((e) => ({ tenant: e.tenant, service: e.service, sli: e.sli, severity: e.severity, from: iso(e.startMs), to: iso(e.endMs), pairs: e.pairs, peak_burn_rate: e.peakBurnRate })),
  };
}

/** One affected tenant of one incident, as far as its minutes tell. */
interface BadMinutes {
  /** Names this tenant in this incident across the batched reads. */
  key: string;
  tenant: TenantRecord;
  services: string[];
  impactFrom: number;
  impactTo: number;
  requests: number;
  failures: number;
  slow: number;
}

/** A tenant's bad minutes around its episodes, and what its requests did in them. */
function badMinutes(t: TenantRecord, key: string, episodes: Episode[], mins: Minutes, toMs: number): BadMinutes {
  const services = [...new Set(episodes.map((e) => e.service))].sort();
  const series = mins.series.filter((s) => s.tenant.id === t.id && services.includes(s.service));
  let firstBad = Infinity;
  let lastBad = -Infinity;
  for (const e of episodes) {
    const s = series.find((x) => x.service === e.service)!;
    const bad = e.sli === 'availability' ? s.errors : s.slow;
    const allowed = allowedRate(e.sli === 'availability' ? t.slo.availability : t.slo.latencyTarget);
    // Back from the episode's start by the longest short window of its pairs: the burn that
    // opened it lies there (the short window is what says a burn is going on now). The long
    // windows reach days back, where a quiet series' one failed request in five is a "bad
    // minute" too and would stretch the impact over days.
    const lookback = Math.max(...e.pairs.map((p) => BURN_WINDOWS[p.split('/')[1] as keyof typeof BURN_WINDOWS]));
    const lo = Math.max(0, Math.floor((e.startMs - lookback - mins.baseMs) / MINUTE));
    const hi = Math.min(mins.count, Math.ceil((Math.min(e.endMs, toMs) - mins.baseMs) / MINUTE));
    for (let m = lo; m < hi; m++) {
      const total = s.total[m]!;
      if (total > 0 && bad[m]! / (total * allowed) > e.threshold) {
        firstBad = Math.min(firstBad, m);
        lastBad = Math.max(lastBad, m);
      }
    }
  }
  if (!Number.isFinite(firstBad)) {
    firstBad = Math.floor((Math.min(...episodes.map((e) => e.startMs)) - mins.baseMs) / MINUTE);
    lastBad = firstBad;
  }
  const all = mins.series.filter((s) => s.tenant.id === t.id);
  return {
    key,
    tenant: t,
    services,
    impactFrom: mins.baseMs + firstBad * MINUTE,
    impactTo: mins.baseMs + (lastBad + 1) * MINUTE,
    requests: all.reduce((n, s) => n + sumRange(s.total, firstBad, lastBad + 1), 0),
    failures: all.reduce((n, s) => n + sumRange(s.errors, firstBad, lastBad + 1), 0),
    slow: all.reduce((n, s) => n + sumRange(s.slow, firstBad, lastBad + 1), 0),
  };
}

/**
 * The calendar month of an impact's start, up to the end of the period's last whole minute (or
 * the impact's end, if later) or the month's end: whole minutes, like every window here.
 */
function calendarMonth(impactFrom: number, impactTo: number, toMs: number): { fromMs: number; toMs: number } {
  const start = new Date(impactFrom);
  return {
    fromMs: Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), 1),
    toMs: Math.min(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1), Math.max(Math.floor(toMs / MINUTE) * MINUTE, impactTo)),
  };
}

/** One tenant's impact: its bad minutes, what they consumed of its error budget, and what they cost. */
function tenantImpact(d: BadMinutes, window: ServerCounts, month: ServerCounts, traceIds: string[], currency: string): TenantImpact {
  const t = d.tenant;
  const budget = window.requests * allowedRate(t.slo.availability);
  return {
    tenant: t.id,
    tier: t.tier,
    region: t.region,
    services: d.services,
    impact: { from: iso(d.impactFrom), to: iso(d.impactTo), minutes: (d.impactTo - d.impactFrom) / MINUTE },
    requests: d.requests,
    failures: d.failures,
    slow: d.slow,
    error_budget_consumed: budget === 0 ? 0 : round(d.failures / budget),
    sla: { ...slaExposure(t, d.impactFrom, month, d.failures), currency },
    trace_ids: traceIds,
  };
}

/** The calendar month's availability and the SLA credit it reaches, with and without the incident's failures. */
function slaExposure(t: TenantRecord, impactFrom: number, m: ServerCounts, incidentFailures: number): Omit<TenantImpact['sla'], 'currency'> {
  const total = m.requests;
  const errors = m.errors;
  const availability = total === 0 ? null : (total - errors) / total;
  const without = total === 0 ? null : (total - Math.max(0, errors - incidentFailures)) / total;
  const percent = (a: number | null) => (a === null ? 0 : t.sla.credits.filter((c) => a < c.below).reduce((p, c) => Math.max(p, c.percent), 0));
  const withPct = percent(availability);
  const withoutPct = percent(without);
  const fee = t.monthlyFee;
  return {
    month: new Date(impactFrom).toISOString().slice(0, 7),
    availability_objective: t.sla.availability,
    month_availability: availability === null ? null : Math.round(availability * 1e6) / 1e6,
    month_availability_without_incident: without === null ? null : Math.round(without * 1e6) / 1e6,
    credit_percent: withPct,
    credit_percent_without_incident: withoutPct,
    monthly_fee: fee,
    credit: cents((fee * withPct) / 100),
    exposure: cents((fee * (withPct - withoutPct)) / 100),
  };
}

interface ServerCounts {
  requests: number;
  errors: number;
}

type CountRange = { key: string; tenant: TenantRecord; fromMs: number; toMs: number };

/**
 * Server requests and failures of each tenant over each range, from the rollup (its hourly
 * sums, and its minutes in the hours where a range begins or ends: cheaper than adding up the
 * minutes already read, which cover only a few of a month's days anyway), and what it cannot
 * answer from the spans: a range's minute that it cuts short, and tenants whose rollup rows
 * were written before failures were counted (migration 0011).
 */
async function serverCounts(store: Store, mins: Minutes, ranges: readonly CountRange[]): Promise<Map<string, ServerCounts>> {
  const out = new Map<string, ServerCounts>(ranges.map((r) => [r.key, { requests: 0, errors: 0 }]));
  const add = (key: string, requests: number, errors: number) => {
    const c = out.get(key)!;
    c.requests += requests;
    c.errors += errors;
  };
  const rollupParts: CountRange[] = [];
  const spanParts: CountRange[] = [];
  // The minutes read are exact after the last gap's end: a range ending there takes the minutes
  // of its last, partial hour from them, so the rollup is asked for whole hours at that end.
  const exactFrom = mins.baseMs + (mins.gaps.at(-1)?.[1] ?? 0) * MINUTE;
  const exactTo = mins.baseMs + mins.count * MINUTE;
  for (const r of ranges) {
    const first = Math.ceil(r.fromMs / MINUTE) * MINUTE;
    let last = Math.floor(r.toMs / MINUTE) * MINUTE;
    if (first > last) {
      spanParts.push(r);
      continue;
    }
    if (r.fromMs < first) spanParts.push({ ...r, toMs: first });
    if (last < r.toMs) spanParts.push({ ...r, fromMs: last });
    const hour = Math.max(first, Math.floor(last / HOUR) * HOUR);
    if (hour < last && hour >= exactFrom && last <= exactTo) {
      const [a, b] = [(hour - mins.baseMs) / MINUTE, (last - mins.baseMs) / MINUTE];
      for (const s of mins.series) if (s.tenant.id === r.tenant.id) add(r.key, sumRange(s.total, a, b), sumRange(s.errors, a, b));
      last = hour;
    }
    if (first < last) rollupParts.push({ ...r, fromMs: first, toMs: last });
  }
  const uncounted = await rollupCounts(store, rollupParts, add);
  await spanCounts(store, [...spanParts, ...uncounted], add);
  return out;
}

/**
 * Add each part's server requests and failures from the rollup; the parts it cannot answer are
 * returned. Whole hours come from the rollup's hourly sums (migration 0012's projection: a
 * query grouping by the hour and filtering on nothing finer is answered from it), and the
 * hours in which one of a tenant's parts begins or ends from its minutes.
 */
async function rollupCounts(store: Store, parts: readonly CountRange[], add: (key: string, requests: number, errors: number) => void): Promise<CountRange[]> {
  if (parts.length === 0) return [];
  const ids = [...new Set(parts.map((r) => r.tenant.id))];
  // A tenant's edge hours, as numbers (tenant's index x 2^32 + the hour's seconds) the engine
  // looks each row's pair up in.
  const index = new Map(ids.map((id, i) => [id, i]));
  const pair = (tenant: string, hourSeconds: number) => index.get(tenant)! * 2 ** 32 + hourSeconds;
  const edges = new Set(parts.flatMap((r) => [r.fromMs, r.toMs].filter((ms) => ms % HOUR !== 0).map((ms) => pair(r.tenant.id, Math.floor(ms / HOUR) * 3600))));
  const lo = Math.floor(Math.min(...parts.map((r) => r.fromMs)) / HOUR) * HOUR;
  const hi = Math.ceil(Math.max(...parts.map((r) => r.toMs)) / HOUR) * HOUR;
  const params = { ids, index: ids.map((_, i) => i), edges: [...edges], edgeHours: [...new Set([...edges].map((x) => x % 2 ** 32))], lo, hi };
  const pairOf = "transform(tenant_id, {ids:Array(String)}, {index:Array(UInt64)}, toUInt64(0)) * 4294967296 + toUnixTimestamp(toStartOfHour(minute))";
  // One statement: the hours (each a row of the projection), and the edge hours' minutes.
  const perTenant = (hourly: boolean, where: string) =>
    `SELECT CAST(tenant_id AS String) AS tenant, toUInt8(${hourly ? 1 : 0}) AS hourly, groupArray(b) AS buckets, groupArray(n) AS requests, groupArray(e) AS errors, toUInt8(min(c)) AS counted
       FROM (SELECT tenant_id, toUInt32(${hourly ? 'toStartOfHour(minute)' : 'minute'}) AS b, toUInt32(sum(requests)) AS n, toUInt32(sum(errors)) AS e, min(slow_threshold_min) > 0 AS c
               FROM resource_minutes
              WHERE ${where} AND ${SERVER_ROWS} AND tenant_id IN {ids:Array(String)}
              GROUP BY tenant_id, b)
      GROUP BY tenant_id`;
  const answer = readNative(await store.queryNative(
    [
      perTenant(true, 'toStartOfHour(minute) >= toDateTime(intDiv({lo:Int64}, 1000)) AND toStartOfHour(minute) < toDateTime(intDiv({hi:Int64}, 1000))'),
      ...(edges.size === 0 ? [] : [perTenant(false, `toStartOfHour(minute) IN {edgeHours:Array(DateTime)} AND ${pairOf} IN {edges:Array(UInt64)}`)]),
    ].join(' UNION ALL '),
    params,
  ));
  // Per tenant: its buckets (an hour outside its edge hours, or a minute inside them), and whether
  // every row was counted (migration 0011).
  const buckets = new Map<string, { at: number[]; requests: number[]; errors: number[]; counted: boolean }>();
  const tenants = answer.get('tenant') as string[] | undefined ?? [];
  const [b, n, e] = ['buckets', 'requests', 'errors'].map((c) => answer.get(c) as Uint32Array[]);
  const [counted, hourlyRow] = ['counted', 'hourly'].map((c) => answer.get(c) as number[]);
  tenants.forEach((t, i) => {
    const hourly = hourlyRow![i] === 1;
    const into = buckets.get(t) ?? { at: [], requests: [], errors: [], counted: true };
    buckets.set(t, into);
    into.counted &&= counted![i] === 1;
    for (let k = 0; k < b![i]!.length; k++) {
      if (hourly && edges.has(pair(t, b![i]![k]!))) continue;
      into.at.push(b![i]![k]!);
      into.requests.push(n![i]![k]!);
      into.errors.push(e![i]![k]!);
    }
  });
  const left: CountRange[] = [];
  for (const p of parts) {
    const t = buckets.get(p.tenant.id);
    if (t === undefined) continue;
    if (!t.counted) {
      left.push(p);
      continue;
    }
    // Every bucket lies wholly inside or outside a part: its edges' hours are minutes.
    const from = p.fromMs / 1000;
    const to = p.toMs / 1000;
    let n = 0;
    let e = 0;
    for (let k = 0; k < t.at.length; k++) {
      if (t.at[k]! >= from && t.at[k]! < to) {
        n += t.requests[k]!;
        e += t.errors[k]!;
      }
    }
    add(p.key, n, e);
  }
  return left;
}

/** Add each part's server requests and failures counted from the spans, in one read. */
async function spanCounts(store: Store, parts: readonly CountRange[], add: (key: string, requests: number, errors: number) => void): Promise<void> {
  if (parts.length === 0) return;
  const counted = await store.query<{ k: number; requests: string; errors: string }>(
    `SELECT arrayJoin(arrayFilter(i -> {ids:Array(String)}[i] = tenant_id AND start_time >= fromUnixTimestamp64Milli({froms:Array(Int64)}[i]) AND start_time < fromUnixTimestamp64Milli({tos:Array(Int64)}[i]),
                                  arrayEnumerate({ids:Array(String)}))) AS k,
            toString(count()) AS requests, toString(countIf(status_code = ${STATUS_ERROR})) AS errors
       FROM spans
      WHERE tenant_id IN {ids:Array(String)} AND kind = ${SPAN_KIND_SERVER}
        AND start_time >= fromUnixTimestamp64Milli({lo:Int64}) AND start_time < fromUnixTimestamp64Milli({hi:Int64})
      GROUP BY k`,
    { ids: parts.map((p) => p.tenant.id), froms: parts.map((p) => p.fromMs), tos: parts.map((p) => p.toMs), lo: Math.min(...parts.map((p) => p.fromMs)), hi: Math.max(...parts.map((p) => p.toMs)) },
  );
  for (const n of counted) add(parts[Number(n.k) - 1]!.key, Number(n.requests), Number(n.errors));
}

/**
 * Up to five traces of failing or slow requests in each impact window, earliest minutes first:
 * the failing trace the rollup keeps for each minute, else its slowest when that was slow. The
 * minutes already read say which minutes hold such requests, so only the first five of those per
 * impact are looked up (the rollup is ordered by minute: a handful of rows). Tenants whose
 * minutes were counted from the spans (their rollup rows are older than these columns) get
 * theirs from the spans.
 */
async function exemplarTraces(store: Store, impacts: readonly BadMinutes[], mins: Minutes): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const rolled = impacts.filter((d) => !mins.fromSpans.has(d.tenant.id));
  const raw = impacts.filter((d) => mins.fromSpans.has(d.tenant.id));
  // Per rolled-up impact, the first five minutes (as epoch seconds) with a failing or slow request.
  const wanted = rolled.map((d) => {
    const lo = (d.impactFrom - mins.baseMs) / MINUTE;
    const hi = (d.impactTo - mins.baseMs) / MINUTE;
    const found = new Set<number>();
    for (const s of mins.series) {
      if (s.tenant.id !== d.tenant.id) continue;
      for (let m = lo; m < hi; m++) if (s.errors[m]! > 0 || s.slow[m]! > 0) found.add(m);
    }
    return [...found].sort((a, b) => a - b).slice(0, 5).map((m) => (mins.baseMs + m * MINUTE) / 1000);
  });
  const minutes = [...new Set(wanted.flat())];
  const [fromRollup, fromRaw] = await Promise.all([
    minutes.length === 0 ? [] : store.query<{ tenant: string; minute: number; trace_id: string }>(
      `SELECT CAST(tenant_id AS String) AS tenant, toUInt32(minute) AS minute, if(failed_trace != '', failed_trace, finalizeAggregation(slowest)) AS trace_id
         FROM resource_minutes
        WHERE minute IN (SELECT toDateTime(arrayJoin({minutes:Array(UInt32)}))) AND tenant_id IN {ids:Array(String)} AND ${SERVER_ROWS}
          AND (failed_trace != '' OR slow > 0)`,
      { minutes, ids: [...new Set(rolled.map((d) => d.tenant.id))] },
    ),
    raw.length === 0 ? [] : store.query<{ k: number; trace_id: string }>(
      `SELECT arrayJoin(arrayFilter(i -> {ids:Array(String)}[i] = tenant_id AND start_time >= fromUnixTimestamp64Milli({froms:Array(Int64)}[i]) AND start_time < fromUnixTimestamp64Milli({tos:Array(Int64)}[i]), arrayEnumerate({ids:Array(String)}))) AS k,
              trace_id
         FROM spans
        WHERE tenant_id IN {ids:Array(String)} AND kind = ${SPAN_KIND_SERVER}
          AND start_time >= fromUnixTimestamp64Milli({lo:Int64}) AND start_time < fromUnixTimestamp64Milli({hi:Int64})
          AND (status_code = ${STATUS_ERROR} OR duration_ns > transform(tenant_id, {ids:Array(String)}, {slowNs:Array(UInt64)}, toUInt64(0)))
        ORDER BY k, start_time, trace_id
        LIMIT 5 BY k`,
      {
        ids: raw.map((d) => d.tenant.id),
        froms: raw.map((d) => d.impactFrom),
        tos: raw.map((d) => d.impactTo),
        lo: Math.min(...raw.map((d) => d.impactFrom)),
        hi: Math.max(...raw.map((d) => d.impactTo)),
        slowNs: raw.map((d) => slowNsOf(d.tenant)),
      },
    ),
  ]);
  const add = (key: string, traceIds: string[]) => {
    const traces = out.get(key) ?? [];
    for (const id of traceIds) if (!traces.includes(id) && traces.length < 5) traces.push(id);
    out.set(key, traces);
  };
  const sorted = [...fromRollup].sort((a, b) => a.minute - b.minute || (a.trace_id < b.trace_id ? -1 : a.trace_id > b.trace_id ? 1 : 0));
  rolled.forEach((d, i) => add(d.key, sorted.filter((r) => r.tenant === d.tenant.id && wanted[i]!.includes(Number(r.minute))).map((r) => r.trace_id)));
  // k is the 1-based impact a span falls in (a tenant's impacts in several incidents do not overlap).
  for (const r of fromRaw) add(raw[Number(r.k) - 1]!.key, [r.trace_id]);
  return out;
}

/**
 * The shared resources each incident's tenants used in its window, from the per-minute rollup
 * (at most 50 each, by name): one statement for every incident, a branch each (a month's
 * report has dozens of incidents, and statements with bound parameters run one at a time).
 */
async function sharedResources(store: Store, asks: readonly { tenants: readonly string[]; fromMs: number; toMs: number }[]): Promise<string[][]> {
  if (asks.length === 0) return [];
  const rows = await store.query<{ k: number; resource: string }>(
    asks
      .map((_, i) => `SELECT toUInt32(${i}) AS k, resource FROM (
                  SELECT DISTINCT resource FROM resource_minutes
                   WHERE tenant_id IN {tenants${i}:Array(String)} AND minute >= toDateTime(intDiv({from${i}:Int64}, 1000)) AND minute < toDateTime(intDiv({to${i}:Int64}, 1000))
                   ORDER BY resource LIMIT 50)`)
      .join('\n UNION ALL '),
    Object.fromEntries(asks.flatMap((a, i) => [[`tenants${i}`, [...a.tenants]], [`from${i}`, Math.floor(a.fromMs / MINUTE) * MINUTE], [`to${i}`, Math.max(a.toMs, a.fromMs + MINUTE)]])),
  );
  const out = asks.map((): string[] => []);
  for (const r of rows) out[Number(r.k)]!.push(r.resource);
  // Each branch answers in name order; the branches come in any order.
  return out.map((list) => list.sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
}

/** GET /api/v1/tenants/{id}/incidents: the incidents that hit one tenant, as that tenant may see them. */
export interface TenantIncident {
  id: string;
  scope: IncidentScope;
  from: string;
  to: string;
  open: boolean;
  severity: 'page' | 'ticket';
  /** This tenant's own impact. */
  impact: TenantImpact;
  /** How many other tenants the incident hit; never who. */
  other_tenants_affected: number;
  shared_resources: string[];
  episodes: Incident['episodes'];
}

/** The tenant's own share of the incidents that hit it: other tenants counted, never named. */
export function tenantIncidents(report: IncidentsReport, tenantId: string): { tenant: string; from: string; to: string; incidents: TenantIncident[] } {
  const incidents: TenantIncident[] = [];
  for (const i of report.incidents) {
    const own = i.tenants.find((x) => x.tenant === tenantId);
    if (!own) continue;
    incidents.push({
      id: i.id,
      scope: i.scope,
      from: i.from,
      to: i.to,
      open: i.open,
      severity: i.severity,
      impact: own,
      other_tenants_affected: i.tenants.length - 1,
      shared_resources: i.shared_resources,
      episodes: i.episodes.filter((e) => e.tenant === tenantId),
    });
  }
  return { tenant: tenantId, from: report.from, to: report.to, incidents };
}
