// Server spans written straight into a store, minute by minute: how the incident tests make a
// tenant fail on cue without a simulator run. Each call also sums its spans into the
// per-minute rollup, as ingest would have, counting slow spans by the tenant's latency
// threshold in the demo registry (or `opts.slowNs`; 0 writes the rollup as a writer that did not
// know the threshold, which readers answer from the spans instead).
import { randomUUID } from 'node:crypto';
import type { Store } from '../../src/store/types.js';
import { loadRegistry } from '../../src/config/index.js';
import { DEMO_CONFIG } from './server.js';
import { rollUpStoredSpans, thresholdsOf } from './rollup.js';

const demoThresholds = thresholdsOf(loadRegistry(DEMO_CONFIG).tenants());

/**
 * `perMinute` server spans of `service` in every minute of [fromMs, toMs), each lasting 100 ms;
 * in each minute the first `errors` fail and the next `opts.slow` last `opts.slowMs` (1 s).
 */
export async function serverTraffic(
  store: Store, tenant: string, service: string, fromMs: number, toMs: number, perMinute: number, errors = 0,
  opts: { slow?: number; slowMs?: number; slowNs?: number } = {},
): Promise<void> {
  const slowNs = opts.slowNs ?? demoThresholds.get(tenant) ?? 0;
  const batch = randomUUID();
  await store.exec(
    `INSERT INTO spans (tenant_id, service_name, start_time, end_time, duration_ns, kind, status_code, trace_id, span_id, retention_days, batch_id)
     SELECT {tenant:String}, {service:String}, fromUnixTimestamp64Milli({from:Int64} + intDiv(number, {per:UInt64}) * 60000 + (number % {per:UInt64}) * 100) AS s, s,
            if(number % {per:UInt64} >= {errors:UInt64} AND number % {per:UInt64} < {errors:UInt64} + {slow:UInt64}, {slowMs:UInt64} * 1000000, 100000000), 2, if(number % {per:UInt64} < {errors:UInt64}, 2, 0), lower(hex(randomString(16))), lower(hex(randomString(8))), 30, {batch:String}
       FROM numbers({n:UInt64})`,
    { tenant, service, from: fromMs, per: perMinute, errors, n: ((toMs - fromMs) / 60_000) * perMinute, batch, slow: opts.slow ?? 0, slowMs: opts.slowMs ?? 1000 },
  );
  await rollUpStoredSpans(store, batch, new Map([[tenant, slowNs]]));
}
