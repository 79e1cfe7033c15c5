-- Backup and recovery facts (backup.completed, backup.failed, restore.tested, failover.tested),
-- one row per fact, whether it arrived as an audit event or as an OTLP log record named for
-- the action. Views on the two tables fill it as their rows are inserted, so the hot paths
-- write nothing extra and a restored tenant's facts come back with its events; the recovery
-- report and policy read this table alone, ordered for one tenant's component timeline.
--
-- tenant_id is the tenant, or '_platform' for platform-scope facts (the platform chain),
-- which count for every tenant of the `tiers` and home `regions` they name (all when empty).
-- Attribute values were checked at ingest (src/ingest/recovery/attributes.schema.json). Facts
-- stored before this migration (restore drills of an earlier version) are not copied in.
CREATE TABLE IF NOT EXISTS recovery_events $ON_CLUSTER
(
    tenant_id              LowCardinality(String),
    kind                   LowCardinality(String),
    component              LowCardinality(String),
    scope                  LowCardinality(String),
    tiers                  Array(LowCardinality(String)),
    regions                Array(LowCardinality(String)),
    time                   DateTime64(3),
    snapshot_time          DateTime64(3),
    outcome                LowCardinality(String),
    size_bytes             UInt64,
    encryption_key_id      String,
    backup_retention_days  UInt32,
    location_region        LowCardinality(String),
    duration_seconds       Float64,
    verified_records       UInt64,
    source                 LowCardinality(String),
    event_id               String,
    reporter               String,
    retention_days         UInt16,
    received_at            DateTime64(3)
)
ENGINE = $ENGINE(recovery_events)
PARTITION BY toYYYYMM(time)
ORDER BY (tenant_id, kind, component, time)
TTL toDateTime(received_at) + toIntervalDay(retention_days);

CREATE MATERIALIZED VIEW IF NOT EXISTS recovery_events_from_audit $ON_CLUSTER TO recovery_events AS
SELECT tenant_id, action AS kind, attributes['component'] AS component, attributes['scope'] AS scope,
       arrayFilter(x -> x != '', splitByChar(',', attributes['tiers'])) AS tiers,
       arrayFilter(x -> x != '', splitByChar(',', attributes['regions'])) AS regions,
       toDateTime64(time, 3) AS time,
       ifNull(parseDateTime64BestEffortOrNull(attributes['snapshot_time'], 3), toDateTime64(time, 3)) AS snapshot_time,
       outcome, toUInt64OrZero(attributes['size_bytes']) AS size_bytes, attributes['encryption_key_id'] AS encryption_key_id,
       toUInt32OrZero(attributes['retention_days']) AS backup_retention_days, attributes['location_region'] AS location_region,
       toFloat64OrZero(attributes['duration_seconds']) AS duration_seconds, toUInt64OrZero(attributes['verified_records']) AS verified_records,
       'audit' AS source, event_id, actor_id AS reporter, retention_days, received_at
  FROM audit_events
 WHERE action IN ('backup.completed', 'backup.failed', 'restore.tested', 'failover.tested');

CREATE MATERIALIZED VIEW IF NOT EXISTS recovery_events_from_logs $ON_CLUSTER TO recovery_events AS
SELECT tenant_id, event_name AS kind, attributes['component'] AS component, attributes['scope'] AS scope,
       CAST([], 'Array(LowCardinality(String))') AS tiers, CAST([], 'Array(LowCardinality(String))') AS regions,
       toDateTime64(if(toUnixTimestamp64Nano(time) = 0, observed_time, time), 3) AS time,
       ifNull(parseDateTime64BestEffortOrNull(attributes['snapshot_time'], 3), toDateTime64(if(toUnixTimestamp64Nano(time) = 0, observed_time, time), 3)) AS snapshot_time,
       multiIf(event_name = 'backup.completed', 'success', event_name = 'backup.failed', 'failure', attributes['outcome']) AS outcome,
       toUInt64OrZero(attributes['size_bytes']) AS size_bytes, attributes['encryption_key_id'] AS encryption_key_id,
       toUInt32OrZero(attributes['retention_days']) AS backup_retention_days, attributes['location_region'] AS location_region,
       toFloat64OrZero(attributes['duration_seconds']) AS duration_seconds, toUInt64OrZero(attributes['verified_records']) AS verified_records,
       'log' AS source, concat('log:', lower(hex(sipHash64(tenant_id, service_name, time, event_name, attributes)))) AS event_id,
       service_name AS reporter, retention_days, ingested_at AS received_at
  FROM logs
 WHERE event_name IN ('backup.completed', 'backup.failed', 'restore.tested', 'failover.tested');
