// Turns decoded OTLP records of one tenant into the store's rows, encoded as JSONEachRow.
//
// Built by hand as text, not with JSON.stringify of a row object: timestamps and 64-bit
// counts must reach ClickHouse as bare integer literals (a quoted short digit string is read
// as a date, and JS numbers lose nanoseconds), and skipping the intermediate object keeps
// the hot path lean. Strings and maps still go through JSON.stringify for escaping.
import type { Attributes, LogRecord, MetricPoint, ResourceGroup, SpanRecord } from './otlp/types.js';
import { MinuteSums } from './rollup.js';

/** The largest nanosecond time a DateTime64(9) holds (2262-04-11). */
const MAX_NS = '9223372036854775807';

/** True when a decimal nanosecond string fits DateTime64(9). */
export function storableTime(ns: string): boolean {
  return ns.length < 19 || (ns.length === 19 && ns <= MAX_NS);
}

export interface EncodedRows {
  /** JSONEachRow text, one line per row, each ending in \n. */
  text: string;
  rows: number;
  /** Rows dropped because a time does not fit the store (after year 2262). */
  unstorable: number;
  /** Spans only: the stored spans' per-minute sums for the rollup (`resource_minute_sums` rows). */
  sums?: { text: string; rows: number };
}

export interface RowContext {
  tenantId: string;
  retentionDays: number;
  batchId: string;
  /**
   * When tenantscope received the rows (ms). Written into the row rather than left to the
   * store's default, so a block replayed from the write-ahead log later (even on another day,
   * in another partition) is the same block and the store's deduplication recognises it.
   */
  receivedMs?: number;
}

const str = JSON.stringify;

function attrs(a: Attributes): string {
  return JSON.stringify(a);
}

function num(n: number): string {
  // ClickHouse reads nan/inf from quoted strings in JSON input.
  if (Number.isFinite(n)) return String(n);
  return Number.isNaN(n) ? '"nan"' : n > 0 ? '"inf"' : '"-inf"';
}

function numOrNull(n: number | null): string {
  return n === null ? 'null' : num(n);
}

function ints(xs: string[]): string {
  return `[${xs.join(',')}]`;
}

function nums(xs: number[]): string {
  return `[${xs.map(num).join(',')}]`;
}

function serviceName(resource: Attributes): string {
  return resource['service.name'] ?? 'unknown_service';
}

// Fields shared by every row of one resource group, encoded once per group.
function groupPrefix(ctx: RowContext, resource: ResourceGroup<unknown>['resource']): string {
  return (
    `{"tenant_id":${str(ctx.tenantId)},"service_name":${str(serviceName(resource.attributes))},` +
    `"retention_days":${ctx.retentionDays},"batch_id":${str(ctx.batchId)},` +
    (ctx.receivedMs === undefined ? '' : `"ingested_at":${Math.trunc(ctx.receivedMs)},`) +
    `"resource_attributes":${attrs(resource.attributes)},"resource_schema_url":${str(resource.schemaUrl)}`
  );
}

function scopeFields(s: SpanRecord['scope']): string {
  return `,"scope_name":${str(s.name)},"scope_version":${str(s.version)},"scope_attributes":${attrs(s.attributes)}`;
}

function durationNs(start: string, end: string): bigint {
  if (end.length === 0 || start.length === 0) return 0n;
  const d = BigInt(end) - BigInt(start);
  return d > 0n ? d : 0n;
}

/** Encode spans of one tenant as `spans` rows, with their per-minute sums for the rollup. */
export function spanRows(ctx: RowContext, groups: ResourceGroup<SpanRecord>[]): EncodedRows {
  let text = '';
  let rows = 0;
  let unstorable = 0;
  const sums = new MinuteSums(ctx.tenantId, ctx.retentionDays, ctx.receivedMs ?? Date.now());
  for (const g of groups) {
    const prefix = groupPrefix(ctx, g.resource);
    const service = serviceName(g.resource.attributes);
    for (const s of g.items) {
      if (!storableTime(s.startTimeUnixNano) || !storableTime(s.endTimeUnixNano) || !s.events.every((e) => storableTime(e.timeUnixNano))) {
        unstorable++;
        continue;
      }
      const duration = durationNs(s.startTimeUnixNano, s.endTimeUnixNano);
      sums.add(s, service, duration);
      text +=
        prefix +
        scopeFields(s.scope) +
        `,"start_time":${s.startTimeUnixNano},"end_time":${s.endTimeUnixNano},"duration_ns":${duration}` +
        `,"trace_id":${str(s.traceId)},"span_id":${str(s.spanId)},"parent_span_id":${str(s.parentSpanId)},"trace_state":${str(s.traceState)}` +
        `,"flags":${s.flags},"name":${str(s.name)},"kind":${s.kind},"status_code":${s.statusCode},"status_message":${str(s.statusMessage)}` +
        `,"attributes":${attrs(s.attributes)},"dropped_attributes_count":${s.droppedAttributesCount}` +
        `,"event_times":${ints(s.events.map((e) => e.timeUnixNano))},"event_names":${str(s.events.map((e) => e.name))}` +
        `,"event_attributes":${str(s.events.map((e) => e.attributes))},"dropped_events_count":${s.droppedEventsCount}` +
        `,"link_trace_ids":${str(s.links.map((l) => l.traceId))},"link_span_ids":${str(s.links.map((l) => l.spanId))}` +
        `,"link_trace_states":${str(s.links.map((l) => l.traceState))},"link_attributes":${str(s.links.map((l) => l.attributes))}` +
        `,"link_flags":${str(s.links.map((l) => l.flags))},"dropped_links_count":${s.droppedLinksCount}}\n`;
      rows++;
    }
  }
  return { text, rows, unstorable, sums: sums.encode() };
}

/** Encode log records of one tenant as `logs` rows. */
export function logRows(ctx: RowContext, groups: ResourceGroup<LogRecord>[]): EncodedRows {
  let text = '';
  let rows = 0;
  let unstorable = 0;
  for (const g of groups) {
    const prefix = groupPrefix(ctx, g.resource);
    for (const r of g.items) {
      if (!storableTime(r.timeUnixNano) || !storableTime(r.observedTimeUnixNano)) {
        unstorable++;
        continue;
      }
      text +=
        prefix +
        scopeFields(r.scope) +
        `,"time":${r.timeUnixNano},"observed_time":${r.observedTimeUnixNano},"severity_number":${r.severityNumber}` +
        `,"severity_text":${str(r.severityText)},"body":${str(r.body)},"body_kind":${str(r.bodyKind)},"event_name":${str(r.eventName)}` +
        `,"trace_id":${str(r.traceId)},"span_id":${str(r.spanId)},"flags":${r.flags}` +
        `,"attributes":${attrs(r.attributes)},"dropped_attributes_count":${r.droppedAttributesCount}}\n`;
      rows++;
    }
  }
  return { text, rows, unstorable };
}

/** Encode metric data points of one tenant as `metric_points` rows. */
export function metricRows(ctx: RowContext, groups: ResourceGroup<MetricPoint>[]): EncodedRows {
  let text = '';
  let rows = 0;
  let unstorable = 0;
  for (const g of groups) {
    const prefix = groupPrefix(ctx, g.resource);
    for (const p of g.items) {
      if (!storableTime(p.timeUnixNano) || !storableTime(p.startTimeUnixNano) || !p.exemplars.every((e) => storableTime(e.timeUnixNano))) {
        unstorable++;
        continue;
      }
      text +=
        prefix +
        scopeFields(p.scope) +
        `,"metric_name":${str(p.metricName)},"metric_description":${str(p.metricDescription)},"metric_unit":${str(p.metricUnit)}` +
        `,"metric_type":${str(p.metricType)},"temporality":${p.temporality},"is_monotonic":${p.isMonotonic}` +
        `,"start_time":${p.startTimeUnixNano},"time":${p.timeUnixNano},"flags":${p.flags}` +
        `,"value":${num(p.value)},"int_value":${p.intValue === '' ? 'null' : p.intValue},"count":${p.count}` +
        `,"sum":${numOrNull(p.sum)},"min":${numOrNull(p.min)},"max":${numOrNull(p.max)}` +
        `,"bucket_counts":${ints(p.bucketCounts)},"explicit_bounds":${nums(p.explicitBounds)}` +
        `,"scale":${p.scale},"zero_count":${p.zeroCount},"zero_threshold":${num(p.zeroThreshold)}` +
        `,"positive_offset":${p.positiveOffset},"positive_bucket_counts":${ints(p.positiveBucketCounts)}` +
        `,"negative_offset":${p.negativeOffset},"negative_bucket_counts":${ints(p.negativeBucketCounts)}` +
        `,"quantiles":${nums(p.quantiles)},"quantile_values":${nums(p.quantileValues)}` +
        `,"exemplar_times":${ints(p.exemplars.map((e) => e.timeUnixNano))},"exemplar_values":${nums(p.exemplars.map((e) => e.value))}` +
        `,"exemplar_trace_ids":${str(p.exemplars.map((e) => e.traceId))},"exemplar_span_ids":${str(p.exemplars.map((e) => e.spanId))}` +
        `,"exemplar_attributes":${str(p.exemplars.map((e) => e.filteredAttributes))}` +
        `,"attributes":${attrs(p.attributes)}}\n`;
      rows++;
    }
  }
  return { text, rows, unstorable };
}

/** One `ingest_usage` row. */
export interface UsageRow {
  tenantId: string;
  timeMs: number;
  signal: 'spans' | 'logs' | 'metric_points';
  outcome: 'accepted' | 'rejected';
  reason: string;
  claimedTenant: string;
  records: number;
  bytes: number;
  encoding: string;
  tokenName: string;
  detail: string;
  /** Usage rows live for the audit retention. */
  retentionDays: number;
  /** How long the accepted records are kept (their table's retention); 0 when rejected. */
  keptDays: number;
  batchId: string;
}

/** Encode usage rows as `ingest_usage` JSONEachRow text. */
export function usageRows(rows: UsageRow[]): string {
  let text = '';
  for (const u of rows) {
    text +=
      `{"tenant_id":${str(u.tenantId)},"time":${Math.round(u.timeMs)},"signal":${str(u.signal)},"outcome":${str(u.outcome)}` +
      `,"reason":${str(u.reason)},"claimed_tenant":${str(u.claimedTenant)},"records":${u.records},"bytes":${u.bytes}` +
      `,"encoding":${str(u.encoding)},"token_name":${str(u.tokenName)},"detail":${str(u.detail.slice(0, 1000))}` +
      `,"retention_days":${u.retentionDays},"kept_days":${u.keptDays},"batch_id":${str(u.batchId)}}\n`;
  }
  return text;
}

/** One `redactions` row: how many values of a class were redacted in a field, never the values. */
export interface RedactionRow {
  tenantId: string;
  minuteMs: number;
  dataClass: string;
  field: string;
  cls: string;
  count: number;
  retentionDays: number;
}

/** Encode redaction counts as `redactions` JSONEachRow text. */
export function redactionRows(rows: RedactionRow[]): string {
  let text = '';
  for (const r of rows) {
    text +=
      `{"tenant_id":${str(r.tenantId)},"minute":${Math.floor(r.minuteMs / 60_000) * 60},"data_class":${str(r.dataClass)}` +
      `,"field":${str(r.field)},"class":${str(r.cls)},"count":${r.count},"retention_days":${r.retentionDays}}\n`;
  }
  return text;
}
