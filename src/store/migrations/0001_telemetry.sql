-- Telemetry tables. Every table leads its ORDER BY with tenant_id so a tenant's reads touch
-- only its own granules, is partitioned by the day tenantscope received the data, and
-- expires rows by a per-row retention_days column, so one table serves tenants with
-- different retention. Retention counts from receipt (ingested_at): event timestamps come
-- from clients and may be unset (0) or skewed, and must not make data vanish on arrival.
-- Placeholders: $ON_CLUSTER (empty, or ON CLUSTER name) and $ENGINE(table) (MergeTree, or
-- ReplicatedMergeTree in cluster mode).

CREATE TABLE IF NOT EXISTS spans $ON_CLUSTER
(
    tenant_id                LowCardinality(String),
    service_name             LowCardinality(String),
    start_time               DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    end_time                 DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    duration_ns              UInt64,
    trace_id                 String CODEC(ZSTD(1)),
    span_id                  String CODEC(ZSTD(1)),
    parent_span_id           String CODEC(ZSTD(1)),
    trace_state              String CODEC(ZSTD(1)),
    flags                    UInt32,
    name                     LowCardinality(String),
    kind                     UInt8,
    status_code              UInt8,
    status_message           String CODEC(ZSTD(1)),
    resource_attributes      Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    resource_schema_url      LowCardinality(String),
    scope_name               LowCardinality(String),
    scope_version            LowCardinality(String),
    scope_attributes         Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    attributes               Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    dropped_attributes_count UInt32,
    event_times              Array(DateTime64(9)),
    event_names              Array(LowCardinality(String)),
    event_attributes         Array(Map(LowCardinality(String), String)) CODEC(ZSTD(1)),
    dropped_events_count     UInt32,
    link_trace_ids           Array(String),
    link_span_ids            Array(String),
    link_trace_states        Array(String),
    link_attributes          Array(Map(LowCardinality(String), String)) CODEC(ZSTD(1)),
    link_flags               Array(UInt32),
    dropped_links_count      UInt32,
    retention_days           UInt16,
    ingested_at              DateTime64(3) DEFAULT now64(3),
    batch_id                 String,
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_start start_time TYPE minmax GRANULARITY 1
)
ENGINE = $ENGINE(spans)
PARTITION BY toDate(ingested_at)
ORDER BY (tenant_id, service_name, start_time)
TTL toDateTime(ingested_at) + toIntervalDay(retention_days);

CREATE TABLE IF NOT EXISTS logs $ON_CLUSTER
(
    tenant_id                LowCardinality(String),
    service_name             LowCardinality(String),
    time                     DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    observed_time            DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    severity_number          UInt8,
    severity_text            LowCardinality(String),
    body                     String CODEC(ZSTD(1)),
    body_kind                LowCardinality(String),
    event_name               LowCardinality(String),
    trace_id                 String CODEC(ZSTD(1)),
    span_id                  String CODEC(ZSTD(1)),
    flags                    UInt32,
    resource_attributes      Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    resource_schema_url      LowCardinality(String),
    scope_name               LowCardinality(String),
    scope_version            LowCardinality(String),
    scope_attributes         Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    attributes               Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    dropped_attributes_count UInt32,
    retention_days           UInt16,
    ingested_at              DateTime64(3) DEFAULT now64(3),
    batch_id                 String,
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_time time TYPE minmax GRANULARITY 1
)
ENGINE = $ENGINE(logs)
PARTITION BY toDate(ingested_at)
ORDER BY (tenant_id, service_name, time)
TTL toDateTime(ingested_at) + toIntervalDay(retention_days);

CREATE TABLE IF NOT EXISTS metric_points $ON_CLUSTER
(
    tenant_id                LowCardinality(String),
    service_name             LowCardinality(String),
    metric_name              LowCardinality(String),
    metric_description       String CODEC(ZSTD(1)),
    metric_unit              LowCardinality(String),
    metric_type              Enum8('gauge' = 1, 'sum' = 2, 'histogram' = 3, 'exponential_histogram' = 4, 'summary' = 5),
    temporality              UInt8,
    is_monotonic             Bool,
    start_time               DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    time                     DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    flags                    UInt32,
    value                    Float64,
    int_value                Nullable(Int64),
    count                    UInt64,
    sum                      Nullable(Float64),
    min                      Nullable(Float64),
    max                      Nullable(Float64),
    bucket_counts            Array(UInt64),
    explicit_bounds          Array(Float64),
    scale                    Int32,
    zero_count               UInt64,
    zero_threshold           Float64,
    positive_offset          Int32,
    positive_bucket_counts   Array(UInt64),
    negative_offset          Int32,
    negative_bucket_counts   Array(UInt64),
    quantiles                Array(Float64),
    quantile_values          Array(Float64),
    exemplar_times           Array(DateTime64(9)),
    exemplar_values          Array(Float64),
    exemplar_trace_ids       Array(String),
    exemplar_span_ids        Array(String),
    exemplar_attributes      Array(Map(LowCardinality(String), String)),
    attributes               Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    resource_attributes      Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    resource_schema_url      LowCardinality(String),
    scope_name               LowCardinality(String),
    scope_version            LowCardinality(String),
    scope_attributes         Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    retention_days           UInt16,
    ingested_at              DateTime64(3) DEFAULT now64(3),
    batch_id                 String,
    INDEX idx_time time TYPE minmax GRANULARITY 1
)
ENGINE = $ENGINE(metric_points)
PARTITION BY toDate(ingested_at)
ORDER BY (tenant_id, metric_name, service_name, time)
TTL toDateTime(ingested_at) + toIntervalDay(retention_days);

-- One row per (request, tenant, signal, outcome): what was accepted and stored, and what was
-- rejected and why. Usage is evidence of isolation too (tenant_mismatch rows), so it is kept
-- for the tenant's audit retention.
CREATE TABLE IF NOT EXISTS ingest_usage $ON_CLUSTER
(
    tenant_id        LowCardinality(String),
    time             DateTime64(3),
    signal           LowCardinality(String),
    outcome          Enum8('accepted' = 1, 'rejected' = 2),
    reason           LowCardinality(String),
    claimed_tenant   String,
    records          UInt64,
    bytes            UInt64,
    encoding         LowCardinality(String),
    token_name       String,
    detail           String,
    retention_days   UInt16,
    batch_id         String
)
ENGINE = $ENGINE(ingest_usage)
PARTITION BY toYYYYMM(time)
ORDER BY (tenant_id, signal, time)
TTL toDateTime(time) + toIntervalDay(retention_days);
