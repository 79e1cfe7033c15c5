// Per-tenant ingest usage: records and bytes stored per data class over a window, and what
// was rejected by reason. Read from `ingest_usage`, which the pipeline writes with the data.
import type { Store } from '../store/types.js';

export type UsageClass = 'spans' | 'logs' | 'metric_points';
export const USAGE_CLASSES: readonly UsageClass[] = ['spans', 'logs', 'metric_points'];

export interface UsageFigure {
  /** Records stored. */
  count: number;
  /** Bytes stored (uncompressed row size). */
  bytes: number;
}

/** The usage report of one tenant. */
export interface UsageReport {
  tenant: string;
  /** Window bounds as RFC 3339, null when open. */
  from: string | null;
  to: string | null;
  spans: UsageFigure;
  logs: UsageFigure;
  metric_points: UsageFigure;
  /** Records refused, per data class and reason. */
  rejected: Record<UsageClass, Record<string, number>>;
}

export interface Window {
  /** Inclusive lower bound, ms since the epoch. */
  fromMs?: number;
  /** Exclusive upper bound, ms since the epoch. */
  toMs?: number;
}

/** Build the usage report of `tenantId` over the window. */
export async function usageReport(store: Store, tenantId: string, window: Window = {}): Promise<UsageReport> {
  const rows = await store.query<{ signal: string; outcome: string; reason: string; records: string; bytes: string }>(
    `SELECT signal, outcome, reason, sum(records) AS records, sum(bytes) AS bytes
       FROM ingest_usage
      WHERE tenant_id = {tenant:String}
        AND time >= fromUnixTimestamp64Milli({from:Int64})
        AND time < fromUnixTimestamp64Milli({to:Int64})
      GROUP BY signal, outcome, reason`,
    { tenant: tenantId, from: window.fromMs ?? 0, to: window.toMs ?? 8_000_000_000_000 },
  );
  const report: UsageReport = {
    tenant: tenantId,
    from: window.fromMs !== undefined ? new Date(window.fromMs).toISOString() : null,
    to: window.toMs !== undefined ? new Date(window.toMs).toISOString() : null,
    spans: { count: 0, bytes: 0 },
    logs: { count: 0, bytes: 0 },
    metric_points: { count: 0, bytes: 0 },
    rejected: { spans: {}, logs: {}, metric_points: {} },
  };
  for (const r of rows) {
    if (!(USAGE_CLASSES as readonly string[]).includes(r.signal)) continue;
    const cls = r.signal as UsageClass;
    if (r.outcome === 'accepted') {
      report[cls].count += Number(r.records);
      report[cls].bytes += Number(r.bytes);
    } else {
      report.rejected[cls][r.reason] = (report.rejected[cls][r.reason] ?? 0) + Number(r.records);
    }
  }
  return report;
}
