// The columns ingest sends to each table, in the order its Native blocks carry them. They
// mirror the migrations (test/native.test.ts compares them with the tables the migrations
// make): LowCardinality(T) is sent as T and converted by the engine on input; columns with a
// DEFAULT or MATERIALIZED expression that ingest leaves to the engine are not listed.
import { BlockSchema } from './native.js';

const MAP = 'Map(String, String)';
const NS = 'DateTime64(9)';

/** The columns spans, logs and metric points all start with: the tenant, the request, the resource and the scope. */
const TELEMETRY_HEAD: ReadonlyArray<readonly [string, string]> = [
  ['tenant_id', 'String'],
  ['service_name', 'String'],
  ['retention_days', 'UInt16'],
  ['batch_id', 'String'],
  ['ingested_at', 'DateTime64(3)'],
  ['resource_attributes', MAP],
  ['resource_schema_url', 'String'],
  ['scope_name', 'String'],
  ['scope_version', 'String'],
  ['scope_attributes', MAP],
];

export const SPANS = new BlockSchema('spans', [
  ...TELEMETRY_HEAD,
  ['start_time', NS],
  ['end_time', NS],
  ['duration_ns', 'UInt64'],
  ['trace_id', 'String'],
  ['span_id', 'String'],
  ['parent_span_id', 'String'],
  ['trace_state', 'String'],
  ['flags', 'UInt32'],
  ['name', 'String'],
  ['kind', 'UInt8'],
  ['status_code', 'UInt8'],
  ['status_message', 'String'],
  ['attributes', MAP],
  ['dropped_attributes_count', 'UInt32'],
  ['event_times', `Array(${NS})`],
  ['event_names', 'Array(String)'],
  ['event_attributes', `Array(${MAP})`],
  ['dropped_events_count', 'UInt32'],
  ['link_trace_ids', 'Array(String)'],
  ['link_span_ids', 'Array(String)'],
  ['link_trace_states', 'Array(String)'],
  ['link_attributes', `Array(${MAP})`],
  ['link_flags', 'Array(UInt32)'],
  ['dropped_links_count', 'UInt32'],
]);

export const LOGS = new BlockSchema('logs', [
  ...TELEMETRY_HEAD,
  ['time', NS],
  ['observed_time', NS],
  ['severity_number', 'UInt8'],
  ['severity_text', 'String'],
  ['body', 'String'],
  ['body_kind', 'String'],
  ['event_name', 'String'],
  ['trace_id', 'String'],
  ['span_id', 'String'],
  ['flags', 'UInt32'],
  ['attributes', MAP],
  ['dropped_attributes_count', 'UInt32'],
]);

export const METRIC_TYPE = "Enum8('gauge' = 1, 'sum' = 2, 'histogram' = 3, 'exponential_histogram' = 4, 'summary' = 5)";

export const METRIC_POINTS = new BlockSchema('metric_points', [
  ...TELEMETRY_HEAD,
  ['metric_name', 'String'],
  ['metric_description', 'String'],
  ['metric_unit', 'String'],
  ['metric_type', METRIC_TYPE],
  ['temporality', 'UInt8'],
  ['is_monotonic', 'Bool'],
  ['start_time', NS],
  ['time', NS],
  ['flags', 'UInt32'],
  ['value', 'Float64'],
  ['int_value', 'Nullable(Int64)'],
  ['count', 'UInt64'],
  ['sum', 'Nullable(Float64)'],
  ['min', 'Nullable(Float64)'],
  ['max', 'Nullable(Float64)'],
  ['bucket_counts', 'Array(UInt64)'],
  ['explicit_bounds', 'Array(Float64)'],
  ['scale', 'Int32'],
  ['zero_count', 'UInt64'],
  ['zero_threshold', 'Float64'],
  ['positive_offset', 'Int32'],
  ['positive_bucket_counts', 'Array(UInt64)'],
  ['negative_offset', 'Int32'],
  ['negative_bucket_counts', 'Array(UInt64)'],
  ['quantiles', 'Array(Float64)'],
  ['quantile_values', 'Array(Float64)'],
  ['exemplar_times', `Array(${NS})`],
  ['exemplar_values', 'Array(Float64)'],
  ['exemplar_trace_ids', 'Array(String)'],
  ['exemplar_span_ids', 'Array(String)'],
  ['exemplar_attributes', `Array(${MAP})`],
  ['attributes', MAP],
]);

export const INGEST_USAGE = new BlockSchema('ingest_usage', [
  ['tenant_id', 'String'],
  ['time', 'DateTime64(3)'],
  ['signal', 'String'],
  ['outcome', "Enum8('accepted' = 1, 'rejected' = 2)"],
  ['reason', 'String'],
  ['claimed_tenant', 'String'],
  ['records', 'UInt64'],
  ['bytes', 'UInt64'],
  ['encoding', 'String'],
  ['token_name', 'String'],
  ['detail', 'String'],
  ['retention_days', 'UInt16'],
  ['kept_days', 'UInt16'],
  ['batch_id', 'String'],
]);

export const REDACTIONS = new BlockSchema('redactions', [
  ['tenant_id', 'String'],
  ['minute', 'DateTime'],
  ['data_class', 'String'],
  ['field', 'String'],
  ['class', 'String'],
  ['count', 'UInt64'],
  ['retention_days', 'UInt16'],
]);

export const RESOURCE_MINUTE_SUMS = new BlockSchema('resource_minute_sums', [
  ['minute', 'DateTime'],
  ['resource', 'String'],
  ['tenant_id', 'String'],
  ['name', 'String'],
  ['requests', 'UInt64'],
  ['busy_ns', 'UInt64'],
  ['slowest_trace', 'String'],
  ['slowest_ns', 'UInt64'],
  ['retention_days', 'UInt16'],
  ['received', 'DateTime'],
  ['errors', 'UInt64'],
  ['slow', 'UInt64'],
  ['slow_threshold_ns', 'UInt64'],
  ['failed_trace', 'String'],
]);

export const AUDIT_EVENTS = new BlockSchema('audit_events', [
  ['tenant_id', 'String'],
  ['segment_id', 'String'],
  ['seq', 'UInt64'],
  ['event_id', 'String'],
  ['time', NS],
  ['actor_id', 'String'],
  ['actor_type', 'String'],
  ['actor_tenant_id', 'String'],
  ['action', 'String'],
  ['target_type', 'String'],
  ['target_id', 'String'],
  ['target_tenant_id', 'String'],
  ['outcome', 'String'],
  ['region', 'String'],
  ['source_ip', 'String'],
  ['ticket', 'String'],
  ['attributes', MAP],
  ['flags', 'Array(String)'],
  ['prev_hash', 'String'],
  ['hash', 'String'],
  ['token_name', 'String'],
  ['retention_days', 'UInt16'],
]);

export const VIOLATIONS = new BlockSchema('violations', [
  ['tenant_id', 'String'],
  ['policy', 'String'],
  ['rule', 'String'],
  ['subject', 'String'],
  ['source', 'SimpleAggregateFunction(anyLast, String)'],
  ['severity', 'SimpleAggregateFunction(anyLast, String)'],
  ['message', 'SimpleAggregateFunction(anyLast, String)'],
  ['evidence', 'SimpleAggregateFunction(anyLast, String)'],
  ['first_seen', 'SimpleAggregateFunction(min, DateTime64(3))'],
  ['last_seen', 'SimpleAggregateFunction(max, DateTime64(3))'],
  ['count', 'SimpleAggregateFunction(sum, UInt64)'],
  ['resolved_at', 'SimpleAggregateFunction(max, DateTime64(3))'],
  ['retention_days', 'SimpleAggregateFunction(max, UInt16)'],
]);

/** Every table ingest writes, by name. */
export const SCHEMAS = {
  spans: SPANS,
  logs: LOGS,
  metric_points: METRIC_POINTS,
  ingest_usage: INGEST_USAGE,
  redactions: REDACTIONS,
  resource_minute_sums: RESOURCE_MINUTE_SUMS,
  audit_events: AUDIT_EVENTS,
  violations: VIOLATIONS,
} as const;
