-- The per-minute rollup (resource_minutes) is filled from sums tenantscope makes, no longer by
-- a view on spans. The view ran, and wrote a part, with every insert of spans: about a third
-- of each insert's cost. tenantscope now sums a request's spans on shared resources per
-- minute itself (src/ingest/rollup.ts) and writes the sums here, deferred with the request's
-- usage row (logged before the answer, inserted about once a second); the view below turns
-- them into the rollup's aggregate states. The table keeps nothing (Null engine). A block sent
-- again with the same deduplication token is skipped by the view's target too, so a replayed
-- block is counted once.
--
-- Spans written by a tenantscope of an earlier version while nodes are upgraded one by one,
-- and spans an earlier version logged and this one replays, reach the rollup no more once
-- this has run.
CREATE TABLE IF NOT EXISTS resource_minute_sums $ON_CLUSTER
(
    minute          DateTime,
    resource        LowCardinality(String),
    tenant_id       LowCardinality(String),
    name            LowCardinality(String),
    requests        UInt64,
    busy_ns         UInt64,
    slowest_trace   String,
    slowest_ns      UInt64,
    retention_days  UInt16,
    received        DateTime
)
ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS resource_minutes_from_sums $ON_CLUSTER TO resource_minutes AS
SELECT minute, resource, tenant_id, name,
       sum(requests) AS requests, sum(busy_ns) AS busy_ns, argMaxState(slowest_trace, slowest_ns) AS slowest,
       max(retention_days) AS retention_days, max(received) AS received
  FROM resource_minute_sums
 GROUP BY minute, resource, tenant_id, name;

DROP VIEW IF EXISTS resource_minutes_mv $ON_CLUSTER;
