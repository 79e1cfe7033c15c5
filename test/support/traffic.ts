// Server spans written straight into a store, minute by minute: how the incident tests make a
// tenant fail on cue without a simulator run.
import type { Store } from '../../src/store/types.js';

/** `perMinute` server spans of `service` in every minute of [fromMs, toMs); in each minute the first `errors` fail. */
export async function serverTraffic(store: Store, tenant: string, service: string, fromMs: number, toMs: number, perMinute: number, errors = 0): Promise<void> {
  await store.exec(
    `INSERT INTO spans (tenant_id, service_name, start_time, end_time, duration_ns, kind, status_code, trace_id, span_id, retention_days)
     SELECT {tenant:String}, {service:String}, fromUnixTimestamp64Milli({from:Int64} + intDiv(number, {per:UInt64}) * 60000 + (number % {per:UInt64}) * 100) AS s, s,
            100000000, 2, if(number % {per:UInt64} < {errors:UInt64}, 2, 0), lower(hex(randomString(16))), lower(hex(randomString(8))), 30
       FROM numbers({n:UInt64})`,
    { tenant, service, from: fromMs, per: perMinute, errors, n: ((toMs - fromMs) / 60_000) * perMinute },
  );
}
