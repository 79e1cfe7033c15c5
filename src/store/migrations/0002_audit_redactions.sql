-- Audit events and redaction counts.
--
-- audit_events: per tenant, a hash chain split into segments, one per writing node, so several
-- ingest nodes never contend for one chain head. (segment_id, seq) orders a segment; each row
-- stores prev_hash and hash = SHA-256(canonical event + prev_hash), so a changed or missing
-- row breaks the chain where it happened. Kept for the tenant's audit retention, counted from
-- receipt like the telemetry tables.
CREATE TABLE IF NOT EXISTS audit_events $ON_CLUSTER
(
    tenant_id        LowCardinality(String),
    segment_id       LowCardinality(String),
    seq              UInt64,
    event_id         String,
    time             DateTime64(9),
    actor_id         String,
    actor_type       LowCardinality(String),
    actor_tenant_id  String,
    action           LowCardinality(String),
    target_type      LowCardinality(String),
    target_id        String,
    target_tenant_id String,
    outcome          LowCardinality(String),
    region           LowCardinality(String),
    source_ip        String,
    ticket           String,
    attributes       Map(LowCardinality(String), String),
    flags            Array(LowCardinality(String)),
    prev_hash        String,
    hash             String,
    token_name       String,
    retention_days   UInt16,
    received_at      DateTime64(3) DEFAULT now64(3),
    INDEX idx_event_id event_id TYPE bloom_filter(0.001) GRANULARITY 1
)
ENGINE = $ENGINE(audit_events)
PARTITION BY toYYYYMM(received_at)
ORDER BY (tenant_id, segment_id, seq)
TTL toDateTime(received_at) + toIntervalDay(retention_days);

-- redactions: how many values of which class were redacted in which field, per tenant and
-- minute. Never the values themselves. Summed at read time.
CREATE TABLE IF NOT EXISTS redactions $ON_CLUSTER
(
    tenant_id      LowCardinality(String),
    minute         DateTime,
    data_class     LowCardinality(String),
    field          String,
    class          LowCardinality(String),
    count          UInt64,
    retention_days UInt16
)
ENGINE = $ENGINE(redactions)
PARTITION BY toYYYYMM(minute)
ORDER BY (tenant_id, minute, data_class, class, field)
TTL minute + toIntervalDay(retention_days);
