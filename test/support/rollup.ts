// Spans that tests and benchmarks write straight into the store never pass the ingest
// pipeline, which is what sums spans into the per-minute rollup (src/ingest/rollup.ts); this
// sums them in SQL instead, the way the pipeline would, so reports over them see a rollup.
import type { Store } from '../../src/store/types.js';

/** Each tenant's latency threshold in ns, the way ingest judges `slow` by. */
export type SlowThresholds = ReadonlyMap<string, number>;

/**
 * Roll up the stored spans of one batch (all spans when absent) into resource_minutes. Slow
 * server spans are counted for the tenants `slowNs` names; for the others the threshold is
 * written as unknown (0), as a writer that does not know it would, so readers count their spans.
 */
export async function rollUpStoredSpans(store: Store, batchId?: string, slowNs: SlowThresholds = new Map()): Promise<void> {
  await store.exec(
    `INSERT INTO resource_minute_sums (minute, resource, tenant_id, name, requests, busy_ns, slowest_trace, slowest_ns, retention_days, received, errors, slow, slow_threshold_ns, failed_trace)
     SELECT toDateTime(toStartOfMinute(start_time)) AS minute, shared_resource AS resource, tenant_id, name,
            count() AS requests, sum(duration_ns) AS busy_ns, argMax(trace_id, duration_ns) AS slowest_trace, max(duration_ns) AS slowest_ns,
            max(retention_days) AS retention_days, toDateTime(max(ingested_at)) AS received,
            countIf(status_code = 2) AS errors, countIf(kind = 2 AND threshold > 0 AND duration_ns > threshold) AS slow, any(threshold) AS slow_threshold_ns,
            maxIf(trace_id, status_code = 2) AS failed_trace
       FROM (SELECT start_time, shared_resource, tenant_id, name, duration_ns, trace_id, retention_days, ingested_at, status_code, kind,
                    transform(tenant_id, {ids:Array(String)}, {ns:Array(UInt64)}, toUInt64(0)) AS threshold FROM spans
              WHERE shared_resource != '' AND ({all:UInt8} OR batch_id = {batch:String}))
      GROUP BY minute, resource, tenant_id, name`,
    { all: batchId === undefined ? 1 : 0, batch: batchId ?? '', ids: [...slowNs.keys()], ns: [...slowNs.values()] },
  );
}

/** The latency thresholds of these tenants, for rollUpStoredSpans. */
export function thresholdsOf(tenants: readonly { id: string; slo: { latencyThresholdMs: number } }[]): SlowThresholds {
  return new Map(tenants.map((t) => [t.id, Math.round(t.slo.latencyThresholdMs * 1e6)]));
}
