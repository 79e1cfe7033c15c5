// Cost report: the registry's price card applied to each tenant's measured usage, per UTC day.
//
// Usage, aggregated in ClickHouse:
// - compute: busy time of the tenant's server spans (their summed duration), in CPU-seconds;
// - requests: its server spans (both read from the per-minute rollup, by the minute a span
//   started);
// - ingest: bytes it had accepted (ingest_usage);
// - storage: bytes it keeps, over time: every accepted batch is held from its arrival for the
//   retention its records got (ingest_usage.kept_days), and each day is charged the
//   byte-seconds held within it (a GB-month is 10^9 bytes for 30 days). Data received before
//   the window and still held is charged too. Bytes are the stored rows' uncompressed size:
//   what the tenant sent, not how well ClickHouse compressed it next to other tenants' data.
// The fixed platform cost of a day is shared among the tenants in proportion to their metered
// cost that day; a day nobody used (idle) is shared in proportion to their metered cost over
// the whole window, or evenly when there was none at all.
//
// Money is exact to the cent: every (tenant, day, component) amount is computed exactly, each
// day's component total is rounded once and its cents handed out by largest remainder, so the
// tenants' totals, days and components all add up to the platform total.
import type { Registry, TenantRecord } from '../config/index.js';
import type { Store } from '../store/types.js';
import { USAGE_CLASSES } from './usage.js';

const DAY = 86_400_000;
const MONTH_SECONDS = 30 * 86_400;

export const COST_COMPONENTS = ['compute', 'requests', 'ingest', 'storage', 'platform'] as const;
export type CostComponent = (typeof COST_COMPONENTS)[number];
export type ByComponent = Record<CostComponent, number>;

export interface TenantUsage {
  cpu_seconds: number;
  requests: number;
  gb_ingested: number;
  gb_months_stored: number;
}

export interface DayCost {
  /** UTC date, YYYY-MM-DD. */
  day: string;
  total: number;
  by_component: ByComponent;
}

export interface TenantCost {
  tenant: string;
  tier: string;
  total: number;
  usage: TenantUsage;
  by_component: ByComponent;
  by_day: DayCost[];
}

/** GET /api/v1/cost and /api/v1/tenants/{id}/cost */
export interface CostReport {
  from: string;
  to: string;
  currency: string;
  /** The prices applied (a tenant's view leaves out the platform's fixed cost). */
  price_card: { cpu_second: number; gb_month_stored: number; gb_ingested: number; per_million_requests: number; platform_per_day?: number };
  /** The platform total, or the tenant's in a tenant view: the sum of `tenants[].total`. */
  total: number;
  by_component: ByComponent;
  /** Platform view only. */
  by_tier?: Record<string, number>;
  tenants: TenantCost[];
}

export interface CostOptions {
  fromMs?: number;
  toMs?: number;
  /** A tenant's own view: only its costs (computed with every tenant's usage, for the shares). */
  tenant?: string;
}

interface MeasuredRow {
  tenant_id: string;
  day: string;
  busy_ns: string;
  requests: string;
  bytes: string;
  byte_seconds: number;
}

/** The cost report over [fromMs, toMs) (default: this UTC month to now). */
export async function costReport(store: Store, registry: Registry, opts: CostOptions = {}): Promise<CostReport> {
  const toMs = opts.toMs ?? Date.now();
  const fromMs = opts.fromMs ?? Date.UTC(new Date(toMs).getUTCFullYear(), new Date(toMs).getUTCMonth(), 1);
  const tenants = registry.tenants();
  const prices = registry.settings.priceCard;
  const days = utcDays(fromMs, toMs);
  const usage = await measure(store, tenants, fromMs, toMs, days);

  // Exact amounts per (tenant, day, component).
  const exact = new Map<string, number[]>(); // `${tenant}|${day}` -> amounts in COST_COMPONENTS order
  const metered = (t: string, d: string) => (exact.get(`${t}|${d}`) ?? []).slice(0, 4).reduce((a, b) => a + b, 0);
  for (const t of tenants) {
    for (const d of days) {
      const u = usage.get(`${t.id}|${d.day}`);
      exact.set(`${t.id}|${d.day}`, [
        ((u ? Number(u.busy_ns) : 0) / 1e9) * prices.cpuSecond,
        ((u ? Number(u.requests) : 0) / 1e6) * prices.perMillionRequests,
        ((u ? Number(u.bytes) : 0) / 1e9) * prices.gbIngested,
        ((u?.byte_seconds ?? 0) / 1e9 / MONTH_SECONDS) * prices.gbMonthStored,
        0,
      ]);
    }
  }
  const windowMetered = new Map(tenants.map((t) => [t.id, days.reduce((a, d) => a + metered(t.id, d.day), 0)]));
  const allMetered = [...windowMetered.values()].reduce((a, b) => a + b, 0);
  for (const d of days) {
    const platform = prices.platformPerDay * d.fraction;
    const dayMetered = tenants.reduce((a, t) => a + metered(t.id, d.day), 0);
    for (const t of tenants) {
      // Shared by that day's usage; an idle day by the window's; no usage at all: evenly.
      const share = dayMetered > 0 ? metered(t.id, d.day) / dayMetered : allMetered > 0 ? windowMetered.get(t.id)! / allMetered : 1 / tenants.length;
      exact.get(`${t.id}|${d.day}`)![4] = platform * share;
    }
  }

  const cents = toCents(exact);
  const money = (c: number) => c / 100;
  const reportTenants: TenantCost[] = tenants.map((t) => {
    const byDay: DayCost[] = days.map((d) => {
      const c = cents.get(`${t.id}|${d.day}`)!;
      return { day: d.day, total: money(sum(c)), by_component: components(c.map(money)) };
    });
    const comp = COST_COMPONENTS.map((_, i) => days.reduce((a, d) => a + cents.get(`${t.id}|${d.day}`)![i]!, 0));
    const u = days.map((d) => usage.get(`${t.id}|${d.day}`));
    return {
      tenant: t.id,
      tier: t.tier,
      total: money(sum(comp)),
      usage: {
        cpu_seconds: round(u.reduce((a, x) => a + (x ? Number(x.busy_ns) : 0), 0) / 1e9, 3),
        requests: u.reduce((a, x) => a + (x ? Number(x.requests) : 0), 0),
        gb_ingested: round(u.reduce((a, x) => a + (x ? Number(x.bytes) : 0), 0) / 1e9, 9),
        gb_months_stored: round(u.reduce((a, x) => a + (x?.byte_seconds ?? 0), 0) / 1e9 / MONTH_SECONDS, 9),
      },
      by_component: components(comp.map(money)),
      by_day: byDay,
    };
  });
  const card = { cpu_second: prices.cpuSecond, gb_month_stored: prices.gbMonthStored, gb_ingested: prices.gbIngested, per_million_requests: prices.perMillionRequests };
  const base = { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), currency: prices.currency };
  if (opts.tenant !== undefined) {
    const mine = reportTenants.filter((t) => t.tenant === opts.tenant);
    return { ...base, price_card: card, total: mine[0]?.total ?? 0, by_component: mine[0]?.by_component ?? components([0, 0, 0, 0, 0]), tenants: mine };
  }
  // Sums in cents, so they are as exact as the parts.
  const tierCents = new Map<string, number>();
  for (const t of reportTenants) tierCents.set(t.tier, (tierCents.get(t.tier) ?? 0) + Math.round(t.total * 100));
  const byTier = Object.fromEntries([...tierCents].map(([tier, c]) => [tier, money(c)]));
  const totalCents = reportTenants.reduce((a, t) => a + Math.round(t.total * 100), 0);
  const byComponent = components(COST_COMPONENTS.map((c) => money(reportTenants.reduce((a, t) => a + Math.round(t.by_component[c] * 100), 0))));
  return { ...base, price_card: { ...card, platform_per_day: prices.platformPerDay }, total: money(totalCents), by_component: byComponent, by_tier: byTier, tenants: reportTenants };
}

/** A UTC day of a report window. */
export interface ReportDay {
  day: string;
  /** The part of the day inside the window, [startMs, endMs). */
  startMs: number;
  endMs: number;
  fraction: number;
}

/** The UTC days the window touches, clipped to it. */
export function utcDays(fromMs: number, toMs: number): ReportDay[] {
  const days: ReportDay[] = [];
  for (let d = Math.floor(fromMs / DAY) * DAY; d < toMs; d += DAY) {
    const startMs = Math.max(d, fromMs);
    const endMs = Math.min(d + DAY, toMs);
    days.push({ day: new Date(d).toISOString().slice(0, 10), startMs, endMs, fraction: (endMs - startMs) / DAY });
  }
  return days;
}

/** Per `${tenant}|${day}`: busy time and requests (spans), bytes accepted and byte-seconds held (ingest_usage). */
async function measure(store: Store, tenants: readonly TenantRecord[], fromMs: number, toMs: number, days: ReportDay[]): Promise<Map<string, MeasuredRow>> {
  const params = {
    from: fromMs,
    to: toMs,
    tenants: tenants.map((t) => t.id),
    dayNames: days.map((d) => d.day),
    dayStarts: days.map((d) => d.startMs / 1000),
    dayEnds: days.map((d) => d.endMs / 1000),
    // Usage rows from before kept_days: the tenant's current retention of the class.
    keptKeys: tenants.flatMap((t) => USAGE_CLASSES.map((c) => `${t.id}|${c}`)),
    keptDays: tenants.flatMap((t) => USAGE_CLASSES.map((c) => t.retentionDays[c])),
  };
  // Held bytes: batches grouped by hour and retention, each group placed at its byte-weighted
  // mean arrival (exact for the byte-seconds of any day the hour's batches are wholly held in
  // or wholly expired from), then each clipped day charged the seconds it overlaps
  // [arrival, arrival + retention).
  const rows = await store.query<MeasuredRow>(
    `WITH
       spans_used AS (
         SELECT tenant_id, toString(toDate(minute, 'UTC')) AS day, sum(busy_ns) AS busy_ns, sum(requests) AS requests
           FROM resource_minutes
          WHERE startsWith(resource, 'service:') AND tenant_id IN {tenants:Array(String)}
            AND minute >= toDateTime(intDiv({from:Int64}, 1000)) AND minute < toDateTime(intDiv({to:Int64}, 1000))
          GROUP BY tenant_id, day
       ),
       ingested AS (
         SELECT tenant_id, toString(toDate(time, 'UTC')) AS day, sum(bytes) AS bytes
           FROM ingest_usage
          WHERE outcome = 'accepted' AND tenant_id IN {tenants:Array(String)}
            AND time >= fromUnixTimestamp64Milli({from:Int64}) AND time < fromUnixTimestamp64Milli({to:Int64})
          GROUP BY tenant_id, day
       ),
       held AS (
         SELECT tenant_id, day, sum(held_bytes * greatest(0., least(held_until, day_end) - greatest(arrived, day_start))) AS byte_seconds
           FROM (
             SELECT tenant_id, toStartOfHour(time) AS hour,
                    if(kept_days > 0, kept_days, transform(concat(tenant_id, '|', signal), {keptKeys:Array(String)}, {keptDays:Array(UInt16)}, toUInt16(0))) AS kept,
                    toFloat64(sum(bytes)) AS held_bytes,
                    -- offsets within the hour keep the weighted sum small and exact in a Float64
                    toUnixTimestamp(hour) + sum(toFloat64(bytes) * (toUnixTimestamp64Milli(time) - toUnixTimestamp(hour) * 1000)) / held_bytes / 1000 AS arrived,
                    arrived + kept * 86400 AS held_until
               FROM ingest_usage
              WHERE outcome = 'accepted' AND bytes > 0 AND tenant_id IN {tenants:Array(String)}
                AND time < fromUnixTimestamp64Milli({to:Int64})
              GROUP BY tenant_id, hour, kept
             HAVING held_until > {from:Int64} / 1000
           )
           ARRAY JOIN {dayNames:Array(String)} AS day, {dayStarts:Array(Float64)} AS day_start, {dayEnds:Array(Float64)} AS day_end
          GROUP BY tenant_id, day
       )
     SELECT tenant_id, day, sum(busy_ns) AS busy_ns, sum(requests) AS requests, sum(bytes) AS bytes, sum(byte_seconds) AS byte_seconds
       FROM (
         SELECT tenant_id, day, busy_ns, requests, 0 AS bytes, 0. AS byte_seconds FROM spans_used
         UNION ALL SELECT tenant_id, day, 0, 0, bytes, 0. FROM ingested
         UNION ALL SELECT tenant_id, day, 0, 0, 0, byte_seconds FROM held
       )
      GROUP BY tenant_id, day`,
    params,
  );
  return new Map(rows.map((r) => [`${r.tenant_id}|${r.day}`, { ...r, byte_seconds: Number(r.byte_seconds) }]));
}

/**
 * Whole cents per cell. Each (day, component) is rounded once as a whole and its cents shared
 * among the tenants by largest remainder (each gets its amount rounded down; the cents left go
 * to the largest remainders, ties in tenant order), so a day's platform cost of exactly $40
 * is exactly $40 across the tenants, and every sum of cells is a sum of whole cents.
 */
function toCents(exact: Map<string, number[]>): Map<string, number[]> {
  const groups = new Map<string, { key: string; i: number; floor: number; rest: number }[]>();
  for (const [key, amounts] of exact) {
    const day = key.slice(key.indexOf('|') + 1);
    amounts.forEach((a, i) => {
      // Micro-cent rounding first, so 0.29 * 100 = 28.999999999999996 counts as 29.
      const c = Math.round(a * 100 * 1e6) / 1e6;
      const g = groups.get(`${day}|${i}`) ?? groups.set(`${day}|${i}`, []).get(`${day}|${i}`)!;
      g.push({ key, i, floor: Math.floor(c), rest: c - Math.floor(c) });
    });
  }
  const out = new Map<string, number[]>();
  for (const cells of groups.values()) {
    const total = Math.round(cells.reduce((a, c) => a + c.floor + c.rest, 0) * 1e6) / 1e6;
    let left = Math.round(total) - cells.reduce((a, c) => a + c.floor, 0);
    const order = [...cells].sort((a, b) => b.rest - a.rest || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const c of order) {
      if (left <= 0 || c.rest === 0) break;
      c.floor += 1;
      left--;
    }
    for (const c of cells) (out.get(c.key) ?? out.set(c.key, [0, 0, 0, 0, 0]).get(c.key)!)[c.i] = c.floor;
  }
  return out;
}

function components(values: number[]): ByComponent {
  return Object.fromEntries(COST_COMPONENTS.map((c, i) => [c, values[i] ?? 0])) as ByComponent;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** The report as CSV: one row per tenant and day, amounts in the report's currency. */
export function costCsv(r: CostReport): string {
  const lines = [['tenant', 'tier', 'day', ...COST_COMPONENTS, 'total'].join(',')];
  for (const t of r.tenants) {
    for (const d of t.by_day) lines.push([t.tenant, t.tier, d.day, ...COST_COMPONENTS.map((c) => d.by_component[c].toFixed(2)), d.total.toFixed(2)].join(','));
  }
  return `${lines.join('\n')}\n`;
}
