-- violations: policy findings, one logical row per (tenant, policy, rule, subject).
--
-- Every occurrence is inserted as its own row (first_seen = last_seen = when, count = 1) and
-- ClickHouse folds rows of one key in the background (AggregatingMergeTree with simple
-- aggregates), so several tenantscope nodes record findings without coordinating. A scheduled
-- run that no longer finds a violation inserts a row with resolved_at = now; the violation is
-- resolved while resolved_at > last_seen and opens again if it is seen after that. Reads
-- aggregate with GROUP BY, so unmerged parts never show a key twice. No partitioning: rows of
-- one key must meet in one part to fold. Kept for the tenant's audit retention: findings are
-- evidence.
CREATE TABLE IF NOT EXISTS violations $ON_CLUSTER
(
    tenant_id      LowCardinality(String),
    policy         LowCardinality(String),
    rule           LowCardinality(String),
    subject        String,
    source         SimpleAggregateFunction(anyLast, LowCardinality(String)),
    severity       SimpleAggregateFunction(anyLast, LowCardinality(String)),
    message        SimpleAggregateFunction(anyLast, String),
    evidence       SimpleAggregateFunction(anyLast, String),
    first_seen     SimpleAggregateFunction(min, DateTime64(3)),
    last_seen      SimpleAggregateFunction(max, DateTime64(3)),
    count          SimpleAggregateFunction(sum, UInt64),
    resolved_at    SimpleAggregateFunction(max, DateTime64(3)),
    retention_days SimpleAggregateFunction(max, UInt16)
)
ENGINE = $ENGINE(violations, Aggregating)
ORDER BY (tenant_id, policy, rule, subject)
TTL toDateTime(last_seen) + toIntervalDay(retention_days);
