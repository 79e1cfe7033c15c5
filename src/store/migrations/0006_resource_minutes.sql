-- resource_minutes: spans rolled up per minute, shared resource, tenant and span name, filled
-- by a materialized view as spans are inserted. The noisy-neighbour and cost reports read
-- this instead of the spans: a day of a busy platform is a few hundred thousand rows here
-- against millions of spans.
--
-- AggregatingMergeTree with simple sums, so rows of one key from several inserts (or nodes)
-- fold in the background; reports read it with FINAL, which costs next to nothing on merged
-- partitions. Unlike the raw tables the ORDER BY leads with the minute, not the tenant: every
-- insert carries recent minutes of many tenants, and a time-led key keeps new parts from
-- overlapping the merged history, so FINAL stays cheap. Tenant scope is applied by the report
-- queries (the table is never read raw by a caller). Kept, like spans, for the span
-- retention from receipt.
CREATE TABLE IF NOT EXISTS resource_minutes $ON_CLUSTER
(
    minute          DateTime,
    resource        LowCardinality(String),
    tenant_id       LowCardinality(String),
    name            LowCardinality(String),
    requests        SimpleAggregateFunction(sum, UInt64),
    busy_ns         SimpleAggregateFunction(sum, UInt64),
    slowest         AggregateFunction(argMax, String, UInt64),
    retention_days  SimpleAggregateFunction(max, UInt16),
    received        SimpleAggregateFunction(max, DateTime)
)
ENGINE = $ENGINE(resource_minutes, Aggregating)
PARTITION BY toDate(minute)
ORDER BY (minute, resource, tenant_id, name)
TTL received + toIntervalDay(retention_days);

-- Spans stored before this migration, once (skipped if the rollup already has rows, so a
-- migration stopped halfway and run again does not count them twice).
INSERT INTO resource_minutes
SELECT toDateTime(toStartOfMinute(start_time)) AS minute, shared_resource AS resource, tenant_id, name,
       count(), sum(duration_ns), argMaxState(trace_id, duration_ns), max(retention_days), toDateTime(max(ingested_at))
  FROM spans
 WHERE shared_resource != '' AND (SELECT count() FROM resource_minutes) = 0
 GROUP BY minute, resource, tenant_id, name;

CREATE MATERIALIZED VIEW IF NOT EXISTS resource_minutes_mv $ON_CLUSTER TO resource_minutes AS
SELECT toDateTime(toStartOfMinute(start_time)) AS minute, shared_resource AS resource, tenant_id, name,
       count() AS requests, sum(duration_ns) AS busy_ns, argMaxState(trace_id, duration_ns) AS slowest,
       max(retention_days) AS retention_days, toDateTime(max(ingested_at)) AS received
  FROM spans
 WHERE shared_resource != ''
 GROUP BY minute, resource, tenant_id, name;
