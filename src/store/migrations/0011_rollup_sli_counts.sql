-- The per-minute rollup also counts failed spans and slow server spans, so the incidents
-- report slides its burn windows over resource_minutes (a few rows per service and minute)
-- instead of counting the raw spans of the period and its three-day lookback.
--
-- `errors`: spans whose status is ERROR. `slow`: server spans longer than the tenant's latency
-- threshold as it was when they were ingested, which `slow_threshold_min`/`_max` record. A
-- reader trusts `slow` for a tenant's minutes only while both equal the threshold it judges by
-- (the registry can change; rows written before this migration read 0 for both, as do rows
-- summed by a writer that did not know the threshold) and counts the spans otherwise, so the
-- rollup never answers for a threshold it did not count. `failed_trace` names one failing span's
-- trace in the row (the greatest id, so merges agree), `slowest` already names the slowest:
-- the report's exemplar traces come from here too.
ALTER TABLE resource_minutes $ON_CLUSTER
    ADD COLUMN IF NOT EXISTS errors SimpleAggregateFunction(sum, UInt64),
    ADD COLUMN IF NOT EXISTS slow SimpleAggregateFunction(sum, UInt64),
    ADD COLUMN IF NOT EXISTS slow_threshold_min SimpleAggregateFunction(min, UInt64),
    ADD COLUMN IF NOT EXISTS slow_threshold_max SimpleAggregateFunction(max, UInt64),
    ADD COLUMN IF NOT EXISTS failed_trace SimpleAggregateFunction(max, String);

ALTER TABLE resource_minute_sums $ON_CLUSTER
    ADD COLUMN IF NOT EXISTS errors UInt64,
    ADD COLUMN IF NOT EXISTS slow UInt64,
    ADD COLUMN IF NOT EXISTS slow_threshold_ns UInt64,
    ADD COLUMN IF NOT EXISTS failed_trace String;

DROP VIEW IF EXISTS resource_minutes_from_sums $ON_CLUSTER;

CREATE MATERIALIZED VIEW IF NOT EXISTS resource_minutes_from_sums $ON_CLUSTER TO resource_minutes AS
SELECT minute, resource, tenant_id, name,
       sum(requests) AS requests, sum(busy_ns) AS busy_ns, argMaxState(slowest_trace, slowest_ns) AS slowest,
       max(retention_days) AS retention_days, max(received) AS received,
       sum(errors) AS errors, sum(slow) AS slow,
       min(slow_threshold_ns) AS slow_threshold_min, max(slow_threshold_ns) AS slow_threshold_max,
       max(failed_trace) AS failed_trace
  FROM resource_minute_sums
 GROUP BY minute, resource, tenant_id, name;
