// Spans that tests and benchmarks write straight into the store never pass the ingest
// pipeline, which is what sums spans into the per-minute rollup (src/ingest/rollup.ts); this
// sums them in SQL instead, the way the pipeline would, so reports over them see a rollup.
import type { Store } from '../../src/store/types.js';

/** Roll up the stored spans of one batch (all spans when absent) into resource_minutes. */
export async function rollUpStoredSpans(store: Store, batchId?: string): Promise<void> {
  await store.exec(
    `INSERT INTO resource_minute_sums
     SELECT toDateTime(toStartOfMinute(start_time)) AS minute, shared_resource AS resource, tenant_id, name,
            count() AS requests, sum(duration_ns) AS busy_ns, argMax(trace_id, duration_ns) AS slowest_trace, max(duration_ns) AS slowest_ns,
            max(retention_days) AS retention_days, toDateTime(max(ingested_at)) AS received
       FROM spans
      WHERE shared_resource != '' AND ({all:UInt8} OR batch_id = {batch:String})
      GROUP BY minute, resource, tenant_id, name`,
    { all: batchId === undefined ? 1 : 0, batch: batchId ?? '' },
  );
}
