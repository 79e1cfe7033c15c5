// Per-tenant SLO report: availability and latency SLIs per service from the tenant's server
// spans, the error budget left over the window, and multi-window burn rates with the
// SRE-workbook alerting pairs. ClickHouse does the counting (one pass, conditional counts per
// window); Node only turns integer counts into ratios, so the figures are exact.
import type { SloObjective, TenantRecord } from '../config/index.js';
import type { Store } from '../store/types.js';

/** OTLP SpanKind SERVER and Status ERROR as stored. */
const SPAN_KIND_SERVER = 2;
const STATUS_ERROR = 2;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Burn-rate windows, by name. */
export const BURN_WINDOWS = { '5m': 5 * MINUTE, '30m': 30 * MINUTE, '1h': HOUR, '2h': 2 * HOUR, '6h': 6 * HOUR, '1d': DAY, '3d': 3 * DAY } as const;
export type BurnWindow = keyof typeof BURN_WINDOWS;

/**
 * The multiwindow alert pairs: both windows must burn faster than the threshold. Page on fast
 * burns (2% and 5% of a 30-day budget within 1 h and 6 h), ticket on slow ones.
 */
export const ALERT_PAIRS: readonly { long: BurnWindow; short: BurnWindow; threshold: number; severity: 'page' | 'ticket' }[] = [
  { long: '1h', short: '5m', threshold: 14.4, severity: 'page' },
  { long: '6h', short: '30m', threshold: 6, severity: 'page' },
  { long: '1d', short: '2h', threshold: 3, severity: 'ticket' },
  { long: '3d', short: '6h', threshold: 1, severity: 'ticket' },
];

export type SloStatus = 'ok' | 'ticket' | 'page';

/** One SLI of one service. */
export interface SliReport {
  /** Good events over all events in the window; null without events. */
  sli: number | null;
  objective: number;
  good: number;
  total: number;
  /** Share of the window's error budget still unspent (1 = untouched, < 0 = overspent); null without events. */
  error_budget_remaining: number | null;
  /** Bad-event rate over the allowed rate, per window ending at `to`. */
  burn_rates: Record<BurnWindow, number>;
  /** The alert pairs and whether each fires; `guarded`: it would, but its long window holds fewer than `min_events` events. */
  alerts: { long: BurnWindow; short: BurnWindow; threshold: number; severity: 'page' | 'ticket'; firing: boolean; guarded: boolean }[];
  status: SloStatus;
}

export interface ServiceSloReport {
  service: string;
  requests: number;
  availability: SliReport;
  latency: SliReport;
  /** The worse of the two SLIs' statuses. */
  status: SloStatus;
}

/** GET /api/v1/tenants/{id}/slo */
export interface SloReport {
  tenant: string;
  from: string;
  to: string;
  objective: { availability: number; latency_target: number; latency_threshold_ms: number; window_days: number; min_events: number };
  services: ServiceSloReport[];
  status: SloStatus;
}

type WindowName = BurnWindow | 'window';

interface Row {
  service_name: string;
  [count: string]: string;
}

/** The SLO report of a tenant over [fromMs, toMs) (default: its objective's window ending now). */
export async function sloReport(store: Store, tenant: TenantRecord, window: { fromMs?: number; toMs?: number } = {}): Promise<SloReport> {
  const objective = tenant.slo;
  const toMs = window.toMs ?? Date.now();
  const fromMs = window.fromMs ?? toMs - objective.windowDays * DAY;
  const windows: [WindowName, number][] = [['window', fromMs], ...Object.entries(BURN_WINDOWS).map(([n, ms]) => [n as BurnWindow, toMs - ms] as [WindowName, number])];
  const scanFrom = Math.min(...windows.map(([, start]) => start));
  // Window bounds are parameters; the column aliases are built from constant names only.
  const params: Record<string, string | number> = { tenant: tenant.id, to: toMs, scanFrom, slowNs: Math.round(objective.latencyThresholdMs * 1e6) };
  const counts: string[] = [];
  for (const [name, start] of windows) {
    const key = name === 'window' ? 'w' : `b${name}`;
    params[`${key}_from`] = start;
    const inWindow = `start_time >= fromUnixTimestamp64Milli({${key}_from:Int64})`;
    counts.push(
      `countIf(${inWindow}) AS ${key}_total`,
      `countIf(${inWindow} AND status_code = ${STATUS_ERROR}) AS ${key}_errors`,
      `countIf(${inWindow} AND duration_ns > {slowNs:UInt64}) AS ${key}_slow`,
    );
  }
  const rows = await store.query<Row>(
    `SELECT service_name, ${counts.join(', ')}
     FROM spans
     WHERE tenant_id = {tenant:String} AND kind = ${SPAN_KIND_SERVER}
       AND start_time >= fromUnixTimestamp64Milli({scanFrom:Int64}) AND start_time < fromUnixTimestamp64Milli({to:Int64})
     GROUP BY service_name
     ORDER BY service_name`,
    params,
  );
  // Services with no request in the window but some in a burn window (a window shorter than
  // 3 days) are kept when they burn: an alert must not vanish with the chosen window.
  const services = rows.map((r) => serviceReport(r, objective)).filter((s) => s.requests > 0 || Object.values(s.availability.burn_rates).some((b) => b > 0));
  return {
    tenant: tenant.id,
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    objective: { availability: objective.availability, latency_target: objective.latencyTarget, latency_threshold_ms: objective.latencyThresholdMs, window_days: objective.windowDays, min_events: objective.minEvents },
    services,
    status: worst(services.map((s) => s.status)),
  };
}

function serviceReport(r: Row, o: SloObjective): ServiceSloReport {
  const n = (k: string) => Number(r[k] ?? 0);
  const sli = (bad: 'errors' | 'slow', objective: number): SliReport => {
    const allowed = allowedRate(objective);
    const total = n('w_total');
    const badCount = n(`w_${bad}`);
    const burn = {} as Record<BurnWindow, number>;
    for (const w of Object.keys(BURN_WINDOWS) as BurnWindow[]) {
      const t = n(`b${w}_total`);
      burn[w] = t === 0 ? 0 : round(n(`b${w}_${bad}`) / (t * allowed));
    }
    // The minimum-traffic guard: a handful of requests with one error is a huge burn rate and no incident.
    const alerts = ALERT_PAIRS.map((p) => {
      const burning = burn[p.long] > p.threshold && burn[p.short] > p.threshold;
      const enough = n(`b${p.long}_total`) >= o.minEvents;
      return { ...p, firing: burning && enough, guarded: burning && !enough };
    });
    const status: SloStatus = alerts.some((a) => a.firing && a.severity === 'page') ? 'page' : alerts.some((a) => a.firing) ? 'ticket' : 'ok';
    return {
      sli: total === 0 ? null : round((total - badCount) / total),
      objective,
      good: total - badCount,
      total,
      error_budget_remaining: budgetRemaining(badCount, total, objective),
      burn_rates: burn,
      alerts,
      status,
    };
  };
  const availability = sli('errors', o.availability);
  const latency = sli('slow', o.latencyTarget);
  return { service: r.service_name, requests: n('w_total'), availability, latency, status: worst([availability.status, latency.status]) };
}

/** Share of the error budget left after `bad` of `total` events; null without events. */
export function budgetRemaining(bad: number, total: number, objective: number): number | null {
  return total === 0 ? null : round(1 - bad / (total * allowedRate(objective)));
}

/** 1 - objective without binary noise (1 - 0.999 is 0.0010000000000000009 in doubles). */
function allowedRate(objective: number): number {
  return Math.round((1 - objective) * 1e9) / 1e9;
}

/** Ratios to 9 decimals: exact for the counts a window holds, free of float noise. */
function round(x: number): number {
  return Math.round(x * 1e9) / 1e9;
}

function worst(statuses: SloStatus[]): SloStatus {
  return statuses.includes('page') ? 'page' : statuses.includes('ticket') ? 'ticket' : 'ok';
}
