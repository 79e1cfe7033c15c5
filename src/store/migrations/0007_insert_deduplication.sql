-- Idempotent inserts: the writer gives every block a unique insert_deduplication_token, and a
-- block sent again with the same token (replayed from the write-ahead log after a crash, or
-- retried after an insert whose answer was lost) is not stored twice. Replicated tables keep
-- such tokens by default; plain MergeTree (one node, the embedded store) only with this
-- window, the number of recent blocks per table whose tokens are remembered. A block skipped
-- this way is skipped by the rollup's materialized view too.
ALTER TABLE spans $ON_CLUSTER MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE logs $ON_CLUSTER MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE metric_points $ON_CLUSTER MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE ingest_usage $ON_CLUSTER MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE audit_events $ON_CLUSTER MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE redactions $ON_CLUSTER MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE violations $ON_CLUSTER MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE resource_minutes $ON_CLUSTER MODIFY SETTING non_replicated_deduplication_window = 10000;
