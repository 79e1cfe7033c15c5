// Incidents: who an SLO breach hit, whether it was one tenant, a noisy neighbour, a tier, a
// region or the whole platform, and what it cost each tenant.
//
// 1. Episodes. Per tenant, service and SLI, the engine counts server spans per minute (all,
//    failed, slower than the tenant's threshold) from the longest burn window before the
//    period to its end. Node slides the SLO report's alert pairs over those minutes: a pair
//    fires at the end of a minute when both its windows burn faster than its threshold and
//    its long window holds at least `slo.min_events` events (the minimum-traffic guard). An
//    episode opens when any pair fires and closes at the first minute end at which none of
//    the pairs that fired during it has both windows above its threshold.
// 2. Incidents. Episodes that overlap in time form one incident, classified by who it hit
//    (see `classify`).
// 3. Impact. For each affected tenant: its bad minutes (a minute whose own burn rate is above
//    the lowest threshold that fired), requests and failures between its first and last,
//    the error budget that consumed, and the SLA credit its calendar month's availability
//    reaches under its contract.
import { createHash } from 'node:crypto';
import type { Registry, TenantRecord } from '../config/index.js';
import type { Store } from '../store/types.js';
import { tsError } from '../errors.js';
import { ALERT_PAIRS, BURN_WINDOWS } from './slo.js';
import { noisyNeighborReport, type NoisyNeighborReport } from './noisy.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
const SPAN_KIND_SERVER = 2;
const STATUS_ERROR = 2;
/** The longest period one incidents query covers. */
export const MAX_PERIOD_DAYS = 35;
/** The longest window of any alert pair: how far before the period the minutes are read. */
const LOOKBACK_MS = Math.max(...ALERT_PAIRS.map((p) => BURN_WINDOWS[p.long]));

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
}

/** Minute counts per tenant and service over [baseMs, toMs). */
interface Minutes {
  baseMs: number;
  count: number;
  series: Series[];
}

async function readMinutes(store: Store, tenants: readonly TenantRecord[], fromMs: number, toMs: number): Promise<Minutes> {
  const baseMs = Math.floor((fromMs - LOOKBACK_MS) / MINUTE) * MINUTE;
  const count = Math.ceil((toMs - baseMs) / MINUTE);
  // One row per series with its minutes as arrays of 32-bit numbers: a day and its burn windows
  // are about a million minutes across tenants, which as one object each would cost more to
  // hand over than to count.
  const rows = await store.query<{ tenant_id: string; service_name: string; ms: number[]; totals: number[]; errs: number[]; slows: number[] }>(
    `SELECT tenant_id, service_name, groupArray(m) AS ms, groupArray(total) AS totals, groupArray(errors) AS errs, groupArray(slow) AS slows
       FROM (SELECT tenant_id, service_name, toUInt32(intDiv(toUnixTimestamp64Milli(start_time) - {base:Int64}, 60000)) AS m,
                    toUInt32(count()) AS total, toUInt32(countIf(status_code = ${STATUS_ERROR})) AS errors,
                    toUInt32(countIf(duration_ns > transform(tenant_id, {ids:Array(String)}, {slowNs:Array(UInt64)}, toUInt64(0)))) AS slow
               FROM spans
              WHERE tenant_id IN {ids:Array(String)} AND kind = ${SPAN_KIND_SERVER}
                AND start_time >= fromUnixTimestamp64Milli({base:Int64}) AND start_time < fromUnixTimestamp64Milli({to:Int64})
              GROUP BY tenant_id, service_name, m)
      GROUP BY tenant_id, service_name`,
    { ids: tenants.map((t) => t.id), slowNs: tenants.map((t) => Math.round(t.slo.latencyThresholdMs * 1e6)), base: baseMs, to: toMs },
  );
  const byKey = new Map<string, Series>();
  const byId = new Map(tenants.map((t) => [t.id, t]));
  for (const r of rows) {
    const s: Series = { tenant: byId.get(r.tenant_id)!, service: r.service_name, total: new Uint32Array(count), errors: new Uint32Array(count), slow: new Uint32Array(count) };
    for (let i = 0; i < r.ms.length; i++) {
      const m = r.ms[i]!;
      s.total[m] = r.totals[i]!;
      s.errors[m] = r.errs[i]!;
      s.slow[m] = r.slows[i]!;
    }
    byKey.set(`${r.tenant_id}\u0000${r.service_name}`, s);
  }
  return { baseMs, count, series: [...byKey.values()] };
}

/** Running sums, so any window's count is one subtraction. */
function prefix(a: Uint32Array): Float64Array {
  const p = new Float64Array(a.length + 1);
  for (let i = 0; i < a.length; i++) p[i + 1] = p[i]! + a[i]!;
  return p;
}

/** 1 - objective without binary noise. */
const allowedRate = (objective: number): number => Math.round((1 - objective) * 1e9) / 1e9;

/** The episodes of one series within [fromMs, toMs). */
function seriesEpisodes(s: Series, sli: Sli, mins: Minutes, fromMs: number, toMs: number): Episode[] {
  const bad = sli === 'availability' ? s.errors : s.slow;
  const allowed = allowedRate(sli === 'availability' ? s.tenant.slo.availability : s.tenant.slo.latencyTarget);
  const pt = prefix(s.total);
  const pb = prefix(bad);
  const pairs = ALERT_PAIRS.map((p) => ({ ...p, longMin: BURN_WINDOWS[p.long] / MINUTE, shortMin: BURN_WINDOWS[p.short] / MINUTE, name: `${p.long}/${p.short}` }));
  // Burn rate of the `w` minutes ending at minute boundary `end` (an index into the prefix sums).
  const burn = (end: number, w: number): { rate: number; total: number } => {
    const start = Math.max(0, end - w);
    const total = pt[end]! - pt[start]!;
    return { rate: total === 0 ? 0 : (pb[end]! - pb[start]!) / (total * allowed), total };
  };
  const out: Episode[] = [];
  let open: (Episode & { fired: Set<number> }) | undefined;
  const first = Math.ceil((fromMs - mins.baseMs) / MINUTE);
  const last = Math.floor((toMs - mins.baseMs) / MINUTE);
  for (let end = Math.max(first, 1); end <= last; end++) {
    let firingNow = false;
    let stillHot = false;
    for (let i = 0; i < pairs.length; i++) {
      const p = pairs[i]!;
      const long = burn(end, p.longMin);
      const short = burn(end, p.shortMin);
      const both = long.rate > p.threshold && short.rate > p.threshold;
      if (both && long.total >= s.tenant.slo.minEvents) {
        firingNow = true;
        if (!open) {
          open = { tenant: s.tenant.id, service: s.service, sli, severity: p.severity, startMs: mins.baseMs + end * MINUTE, endMs: toMs, open: true, pairs: [], peakBurnRate: 0, threshold: p.threshold, fired: new Set() };
        }
        open.fired.add(i);
        if (p.severity === 'page') open.severity = 'page';
        open.threshold = Math.min(open.threshold, p.threshold);
        open.peakBurnRate = Math.max(open.peakBurnRate, short.rate);
      }
      if (open?.fired.has(i) && both) stillHot = true;
    }
    if (open && !firingNow && !stillHot) {
      const { fired, ...e } = open;
      out.push({ ...e, endMs: mins.baseMs + end * MINUTE, open: false, pairs: [...fired].sort().map((i) => pairs[i]!.name), peakBurnRate: round(e.peakBurnRate) });
      open = undefined;
    }
  }
  if (open) {
    const { fired, ...e } = open;
    out.push({ ...e, pairs: [...fired].sort().map((i) => pairs[i]!.name), peakBurnRate: round(e.peakBurnRate) });
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
    /** The calendar month's availability so far (to the period's end or the month's end). */
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
  const mins = await readMinutes(store, tenants, fromMs, toMs);
  const episodes = mins.series.flatMap((s) => [...seriesEpisodes(s, 'availability', mins, fromMs, toMs), ...seriesEpisodes(s, 'latency', mins, fromMs, toMs)]);
  const activeIds = new Set(mins.series.filter((s) => sumRange(s.total, Math.max(0, Math.floor((fromMs - mins.baseMs) / MINUTE)), mins.count) > 0).map((s) => s.tenant.id));
  const active = tenants.filter((t) => activeIds.has(t.id));
  const groups = overlapping(episodes);
  // The noisy-neighbour analysis learns what is usual from the minutes it is given: over the
  // episodes alone a surge would be its own normal, so it runs over the whole period as well.
  const noisyWindow = () => ({
    fromMs: Math.min(fromMs, ...groups.map((g) => g.fromMs - SCOPE_RULES.noisyMarginMs)),
    toMs: Math.max(toMs, ...groups.map((g) => g.toMs + SCOPE_RULES.noisyMarginMs)),
  });
  const noisy = groups.length === 0 ? undefined : await noisyNeighborReport(store, noisyWindow());
  const incidents: Incident[] = [];
  for (const g of groups) incidents.push(await incident(store, registry, g, mins, active, noisy, toMs));
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
function noisyFor(report: NoisyNeighborReport | undefined, fromMs: number, toMs: number): { offender: string; resource: string; score: number; windows: { from: string; to: string }[]; victims: string[] } | undefined {
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

async function incident(
  store: Store,
  registry: Registry,
  g: { fromMs: number; toMs: number; episodes: Episode[] },
  mins: Minutes,
  active: readonly TenantRecord[],
  noisyReport: NoisyNeighborReport | undefined,
  toMs: number,
): Promise<Incident> {
  const ids = [...new Set(g.episodes.map((e) => e.tenant))].sort();
  const affected = ids.map((id) => registry.tenant(id)!);
  const noisy = noisyFor(noisyReport, g.fromMs, g.toMs);
  const { scope, reason } = classify(affected, active, noisy);
  const impacts: TenantImpact[] = [];
  for (const t of affected) impacts.push(await tenantImpact(store, t, g.episodes.filter((e) => e.tenant === t.id), mins, toMs, registry.settings.priceCard.currency));
  const from = Math.min(...impacts.map((i) => Date.parse(i.impact.from)), g.fromMs);
  const to = Math.max(...impacts.map((i) => Date.parse(i.impact.to)));
  const shared = await sharedResources(store, ids, from, Math.max(to, from + MINUTE));
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

/** One tenant's impact: its bad minutes around its episodes, what they held, and what they cost. */
async function tenantImpact(store: Store, t: TenantRecord, episodes: Episode[], mins: Minutes, toMs: number, currency: string): Promise<TenantImpact> {
  const services = [...new Set(episodes.map((e) => e.service))].sort();
  const series = mins.series.filter((s) => s.tenant.id === t.id && services.includes(s.service));
  // Bad minutes are looked for from a long window before the episode (the burn that opened it) to its end.
  let firstBad = Infinity;
  let lastBad = -Infinity;
  for (const e of episodes) {
    const s = series.find((x) => x.service === e.service)!;
    const bad = e.sli === 'availability' ? s.errors : s.slow;
    const allowed = allowedRate(e.sli === 'availability' ? t.slo.availability : t.slo.latencyTarget);
    const longest = Math.max(...e.pairs.map((p) => BURN_WINDOWS[p.split('/')[0] as keyof typeof BURN_WINDOWS]));
    const lo = Math.max(0, Math.floor((e.startMs - longest - mins.baseMs) / MINUTE));
    const hi = Math.min(mins.count, Math.ceil((e.endMs - mins.baseMs) / MINUTE));
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
  const impactFrom = mins.baseMs + firstBad * MINUTE;
  const impactTo = mins.baseMs + (lastBad + 1) * MINUTE;
  const all = mins.series.filter((s) => s.tenant.id === t.id);
  const requests = all.reduce((n, s) => n + sumRange(s.total, firstBad, lastBad + 1), 0);
  const failures = all.reduce((n, s) => n + sumRange(s.errors, firstBad, lastBad + 1), 0);
  const slow = all.reduce((n, s) => n + sumRange(s.slow, firstBad, lastBad + 1), 0);
  const [window] = await store.query<{ total: string; traces: string[] }>(
    `SELECT toString(countIf(start_time >= fromUnixTimestamp64Milli({windowFrom:Int64}))) AS total,
            arraySlice(groupArrayIf(trace_id, (status_code = ${STATUS_ERROR} OR duration_ns > {slowNs:UInt64}) AND start_time >= fromUnixTimestamp64Milli({from:Int64})), 1, 5) AS traces
       FROM spans
      WHERE tenant_id = {tenant:String} AND kind = ${SPAN_KIND_SERVER}
        AND start_time >= fromUnixTimestamp64Milli(least({windowFrom:Int64}, {from:Int64})) AND start_time < fromUnixTimestamp64Milli({to:Int64})`,
    { tenant: t.id, windowFrom: impactTo - t.slo.windowDays * DAY, from: impactFrom, to: impactTo, slowNs: Math.round(t.slo.latencyThresholdMs * 1e6) },
  );
  const budget = Number(window?.total ?? 0) * allowedRate(t.slo.availability);
  return {
    tenant: t.id,
    tier: t.tier,
    region: t.region,
    services,
    impact: { from: iso(impactFrom), to: iso(impactTo), minutes: (impactTo - impactFrom) / MINUTE },
    requests,
    failures,
    slow,
    error_budget_consumed: budget === 0 ? 0 : round(failures / budget),
    sla: { ...(await slaExposure(store, t, impactFrom, impactTo, failures, toMs)), currency },
    trace_ids: window?.traces ?? [],
  };
}

/** The calendar month's availability and the SLA credit it reaches, with and without the incident's failures. */
async function slaExposure(store: Store, t: TenantRecord, impactFrom: number, impactTo: number, incidentFailures: number, toMs: number): Promise<TenantImpact['sla']> {
  const start = new Date(impactFrom);
  const monthFrom = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), 1);
  const monthTo = Math.min(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1), Math.max(toMs, impactTo));
  const [m] = await store.query<{ total: string; errors: string }>(
    `SELECT toString(count()) AS total, toString(countIf(status_code = ${STATUS_ERROR})) AS errors FROM spans
      WHERE tenant_id = {tenant:String} AND kind = ${SPAN_KIND_SERVER}
        AND start_time >= fromUnixTimestamp64Milli({from:Int64}) AND start_time < fromUnixTimestamp64Milli({to:Int64})`,
    { tenant: t.id, from: monthFrom, to: monthTo },
  );
  const total = Number(m?.total ?? 0);
  const errors = Number(m?.errors ?? 0);
  const availability = total === 0 ? null : (total - errors) / total;
  const without = total === 0 ? null : (total - Math.max(0, errors - incidentFailures)) / total;
  const percent = (a: number | null) => (a === null ? 0 : t.sla.credits.filter((c) => a < c.below).reduce((p, c) => Math.max(p, c.percent), 0));
  const withPct = percent(availability);
  const withoutPct = percent(without);
  const fee = t.monthlyFee;
  return {
    month: start.toISOString().slice(0, 7),
    availability_objective: t.sla.availability,
    month_availability: availability === null ? null : Math.round(availability * 1e6) / 1e6,
    month_availability_without_incident: without === null ? null : Math.round(without * 1e6) / 1e6,
    credit_percent: withPct,
    credit_percent_without_incident: withoutPct,
    monthly_fee: fee,
    currency: '',
    credit: cents((fee * withPct) / 100),
    exposure: cents((fee * (withPct - withoutPct)) / 100),
  };
}

/** Shared resources the tenants used in [fromMs, toMs), from the per-minute rollup. */
async function sharedResources(store: Store, tenants: readonly string[], fromMs: number, toMs: number): Promise<string[]> {
  const rows = await store.query<{ resource: string }>(
    `SELECT DISTINCT resource FROM resource_minutes
      WHERE tenant_id IN {tenants:Array(String)} AND minute >= toDateTime(intDiv({from:Int64}, 1000)) AND minute < toDateTime(intDiv({to:Int64}, 1000))
      ORDER BY resource LIMIT 50`,
    { tenants: [...tenants], from: Math.floor(fromMs / MINUTE) * MINUTE, to: toMs },
  );
  return rows.map((r) => r.resource);
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
