// Turns decoded OTLP records of one tenant into the store's rows, as column chunks of Native
// blocks (src/store/native.ts): each value goes straight into its column's stream, and the
// writer joins the chunks of many requests into one block per insert.
//
// Values shared by every row of a resource group (tenant, service, resource attributes) and
// of a scope are encoded once and copied per row.
import type { Attributes, LogRecord, MetricPoint, Resource, ResourceGroup, Scope, Signal, SpanRecord } from './otlp/types.js';
import { MinuteSums } from './rollup.js';
import { ByteSink, ColumnChunk, SizeSink, chunkOf, digits, writeDecimal64, writeParts, type BlockSchema } from '../store/native.js';
import { INGEST_USAGE, LOGS, METRIC_POINTS, REDACTIONS, SPANS } from '../store/schemas.js';

const SPAN_KIND_SERVER = 2;
const STATUS_ERROR = 2;

/** The largest nanosecond time a DateTime64(9) holds (2262-04-11). */
const MAX_NS = '9223372036854775807';

/** True when a decimal nanosecond string fits DateTime64(9). */
export function storableTime(ns: string): boolean {
  return ns.length < 19 || (ns.length === 19 && ns <= MAX_NS);
}

/** A tenant's stored server spans of one request, as the SLO report's SLIs count them. */
export interface SliCounts {
  /** Server spans (kind 2): the events of both SLIs. */
  total: number;
  /** Of those, with status error (availability). */
  errors: number;
  /** Of those, slower than the tenant's latency threshold (latency). */
  slow: number;
}

export interface EncodedRows {
  chunk: ColumnChunk;
  rows: number;
  /** Rows dropped because a time does not fit the store (after year 2262). */
  unstorable: number;
  /** Spans only: the stored spans' per-minute sums for the rollup (`resource_minute_sums` rows). */
  sums?: ColumnChunk;
  /** Spans only: the stored spans' SLI events, counted while their columns are written. */
  sli?: SliCounts;
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
  /** Spans: the tenant's latency threshold in nanoseconds (slower server spans are bad latency events). */
  slowNs?: number;
}

// Column streams by name: a plain column has one stream, an array or map a sizes stream
// first (see native.ts).
function columns(schema: BlockSchema): Record<string, number> {
  return Object.fromEntries(schema.columns.map((c, i) => [c.name, i]));
}

const SP = columns(SPANS);
const LG = columns(LOGS);
const MP = columns(METRIC_POINTS);

function bytesOf(c: ColumnChunk, col: number, stream = 0): ByteSink {
  return c.streams[col]![stream] as ByteSink;
}

function sizesOf(c: ColumnChunk, col: number): SizeSink {
  return c.streams[col]![0] as SizeSink;
}

/** Write a map's keys and values into their streams (in the object's key order); returns how many. */
function writeEntries(keys: ByteSink, values: ByteSink, a: Attributes): number {
  // for-in, not Object.keys: no array per set (decoders make plain objects without inherited keys).
  let n = 0;
  for (const k in a) {
    keys.string(k);
    values.string(a[k]!);
    n++;
  }
  return n;
}

/** A Map(String, String) column: sizes, keys, values. */
class MapColumn {
  readonly sizes: SizeSink;
  readonly keys: ByteSink;
  readonly values: ByteSink;
  constructor(c: ColumnChunk, col: number) {
    this.sizes = sizesOf(c, col);
    this.keys = bytesOf(c, col, 1);
    this.values = bytesOf(c, col, 2);
  }
  add(a: Attributes): void {
    this.sizes.push(writeEntries(this.keys, this.values, a));
  }
}

/** An Array(Map(String, String)) column: outer sizes, then a map column. */
class MapArrayColumn {
  readonly outer: SizeSink;
  readonly inner: SizeSink;
  readonly keys: ByteSink;
  readonly values: ByteSink;
  constructor(c: ColumnChunk, col: number) {
    this.outer = c.streams[col]![0] as SizeSink;
    this.inner = c.streams[col]![1] as SizeSink;
    this.keys = bytesOf(c, col, 2);
    this.values = bytesOf(c, col, 3);
  }
  addMap(a: Attributes): void {
    this.inner.push(writeEntries(this.keys, this.values, a));
  }
}

/** A value encoded once (a group's or scope's) and copied into a stream per row. */
function encoded(write: (s: ByteSink) => void): Buffer {
  const s = new ByteSink(256);
  write(s);
  return Buffer.from(s.view());
}

/** A map encoded once and copied per row. */
interface EncodedMap {
  n: number;
  keys: Buffer;
  values: Buffer;
}

function encodedMap(a: Attributes): EncodedMap {
  const keys = new ByteSink(256);
  const values = new ByteSink(256);
  const n = writeEntries(keys, values, a);
  return { n, keys: Buffer.from(keys.view()), values: Buffer.from(values.view()) };
}

function serviceName(resource: Attributes): string {
  return resource['service.name'] ?? 'unknown_service';
}

/**
 * Columns every telemetry table starts with: the same for every row of a resource group and
 * scope. A run of rows under one group and scope is counted, and its values are written for
 * the whole run at once when the run ends (ByteSink.repeat), not copied row by row.
 */
class GroupColumns {
  private readonly tenant: ByteSink;
  private readonly service: ByteSink;
  private readonly retention: ByteSink;
  private readonly batch: ByteSink;
  private readonly ingested: ByteSink;
  private readonly resource: MapColumn;
  private readonly schemaUrl: ByteSink;
  private readonly scopeName: ByteSink;
  private readonly scopeVersion: ByteSink;
  private readonly scopeAttrs: MapColumn;
  private readonly fixed: { tenant: Buffer; retention: Buffer; batch: Buffer; ingested: Buffer };
  private head!: { service: Buffer; attrs: EncodedMap; url: Buffer };
  private scope: Scope | undefined;
  private scopeHead!: { name: Buffer; version: Buffer; attrs: EncodedMap };
  /** Rows of the current group and scope whose group columns are not written yet. */
  private run = 0;

  constructor(
    chunk: ColumnChunk,
    idx: Record<string, number>,
    ctx: RowContext,
  ) {
    this.tenant = bytesOf(chunk, idx.tenant_id!);
    this.service = bytesOf(chunk, idx.service_name!);
    this.retention = bytesOf(chunk, idx.retention_days!);
    this.batch = bytesOf(chunk, idx.batch_id!);
    this.ingested = bytesOf(chunk, idx.ingested_at!);
    this.resource = new MapColumn(chunk, idx.resource_attributes!);
    this.schemaUrl = bytesOf(chunk, idx.resource_schema_url!);
    this.scopeName = bytesOf(chunk, idx.scope_name!);
    this.scopeVersion = bytesOf(chunk, idx.scope_version!);
    this.scopeAttrs = new MapColumn(chunk, idx.scope_attributes!);
    this.fixed = {
      tenant: encoded((s) => s.string(ctx.tenantId)),
      retention: encoded((s) => s.u16(ctx.retentionDays)),
      batch: encoded((s) => s.string(ctx.batchId)),
      ingested: encoded((s) => s.i64(Math.trunc(ctx.receivedMs ?? Date.now()))),
    };
  }

  group(resource: Resource): void {
    this.flush();
    this.scope = undefined;
    this.head = { service: encoded((s) => s.string(serviceName(resource.attributes))), attrs: encodedMap(resource.attributes), url: encoded((s) => s.string(resource.schemaUrl)) };
  }

  /** One more row under the current group, in `scope`. */
  row(scope: Scope): void {
    if (scope !== this.scope) {
      this.flush();
      this.scope = scope;
      this.scopeHead = { name: encoded((s) => s.string(scope.name)), version: encoded((s) => s.string(scope.version)), attrs: encodedMap(scope.attributes) };
    }
    this.run++;
  }

  /** Write the group columns of the rows counted so far. */
  flush(): void {
    const n = this.run;
    if (n === 0) return;
    this.run = 0;
    const f = this.fixed;
    this.tenant.repeat(f.tenant, n);
    this.retention.repeat(f.retention, n);
    this.batch.repeat(f.batch, n);
    this.ingested.repeat(f.ingested, n);
    const h = this.head;
    this.service.repeat(h.service, n);
    this.resource.sizes.fill(h.attrs.n, n);
    this.resource.keys.repeat(h.attrs.keys, n);
    this.resource.values.repeat(h.attrs.values, n);
    this.schemaUrl.repeat(h.url, n);
    const sh = this.scopeHead;
    this.scopeName.repeat(sh.name, n);
    this.scopeVersion.repeat(sh.version, n);
    this.scopeAttrs.sizes.fill(sh.attrs.n, n);
    this.scopeAttrs.keys.repeat(sh.attrs.keys, n);
    this.scopeAttrs.values.repeat(sh.attrs.values, n);
  }
}

// Times are decimal nanoseconds of at most 19 digits (storableTime): split into seconds and
// nanoseconds, each exact in a double, they are written and subtracted without BigInt.
function seconds(ns: string): number {
  return ns.length > 9 ? digits(ns, 0, ns.length - 9) : 0;
}

function nanos(ns: string): number {
  return digits(ns, ns.length > 9 ? ns.length - 9 : 0, ns.length);
}

/** Nanoseconds from start to end, 0 when end is earlier (or a time is missing). */
function durationNs(startS: number, startNs: number, endS: number, endNs: number): number {
  const d = (endS - startS) * 1e9 + (endNs - startNs);
  return d > 0 ? d : 0;
}

function allStorable(events: readonly { timeUnixNano: string }[]): boolean {
  for (let i = 0; i < events.length; i++) if (!storableTime(events[i]!.timeUnixNano)) return false;
  return true;
}

/** Turns one tenant's records into a table's rows, one at a time, as a decode delivers them. */
export interface RowWriter<T> {
  /** The resource of the records that follow. */
  group(resource: Resource): void;
  /** Write one record's row; false when it cannot be stored (a time after 2262), and nothing was written. */
  add(item: T): boolean;
  /** The rows written so far. */
  result(): EncodedRows;
}

/** Spans of one tenant as `spans` rows, with their per-minute sums for the rollup and SLI counts. */
export class SpanWriter implements RowWriter<SpanRecord> {
  private readonly c = new ColumnChunk(SPANS);
  private readonly g: GroupColumns;
  private unstorable = 0;
  private readonly sums: MinuteSums;
  private readonly sli: SliCounts = { total: 0, errors: 0, slow: 0 };
  private readonly slowNs: number;
  private service = '';
  private readonly start: ByteSink;
  private readonly end: ByteSink;
  private readonly duration: ByteSink;
  private readonly traceId: ByteSink;
  private readonly spanId: ByteSink;
  private readonly parent: ByteSink;
  private readonly traceState: ByteSink;
  private readonly flags: ByteSink;
  private readonly name: ByteSink;
  private readonly kind: ByteSink;
  private readonly status: ByteSink;
  private readonly statusMessage: ByteSink;
  private readonly attrs: MapColumn;
  private readonly dropped: ByteSink;
  private readonly eventTimes: SizeSink;
  private readonly eventTimeValues: ByteSink;
  private readonly eventNames: SizeSink;
  private readonly eventNameValues: ByteSink;
  private readonly eventAttrs: MapArrayColumn;
  private readonly droppedEvents: ByteSink;
  private readonly linkTraceIds: SizeSink;
  private readonly linkTraceIdValues: ByteSink;
  private readonly linkSpanIds: SizeSink;
  private readonly linkSpanIdValues: ByteSink;
  private readonly linkStates: SizeSink;
  private readonly linkStateValues: ByteSink;
  private readonly linkAttrs: MapArrayColumn;
  private readonly linkFlags: SizeSink;
  private readonly linkFlagValues: ByteSink;
  private readonly droppedLinks: ByteSink;

  constructor(ctx: RowContext) {
    const c = this.c;
    this.g = new GroupColumns(c, SP, ctx);
    this.slowNs = ctx.slowNs ?? Infinity;
    this.sums = new MinuteSums(ctx.tenantId, ctx.retentionDays, ctx.receivedMs ?? Date.now(), ctx.slowNs ?? 0);
    this.start = bytesOf(c, SP.start_time!);
    this.end = bytesOf(c, SP.end_time!);
    this.duration = bytesOf(c, SP.duration_ns!);
    this.traceId = bytesOf(c, SP.trace_id!);
    this.spanId = bytesOf(c, SP.span_id!);
    this.parent = bytesOf(c, SP.parent_span_id!);
    this.traceState = bytesOf(c, SP.trace_state!);
    this.flags = bytesOf(c, SP.flags!);
    this.name = bytesOf(c, SP.name!);
    this.kind = bytesOf(c, SP.kind!);
    this.status = bytesOf(c, SP.status_code!);
    this.statusMessage = bytesOf(c, SP.status_message!);
    this.attrs = new MapColumn(c, SP.attributes!);
    this.dropped = bytesOf(c, SP.dropped_attributes_count!);
    this.eventTimes = sizesOf(c, SP.event_times!);
    this.eventTimeValues = bytesOf(c, SP.event_times!, 1);
    this.eventNames = sizesOf(c, SP.event_names!);
    this.eventNameValues = bytesOf(c, SP.event_names!, 1);
    this.eventAttrs = new MapArrayColumn(c, SP.event_attributes!);
    this.droppedEvents = bytesOf(c, SP.dropped_events_count!);
    this.linkTraceIds = sizesOf(c, SP.link_trace_ids!);
    this.linkTraceIdValues = bytesOf(c, SP.link_trace_ids!, 1);
    this.linkSpanIds = sizesOf(c, SP.link_span_ids!);
    this.linkSpanIdValues = bytesOf(c, SP.link_span_ids!, 1);
    this.linkStates = sizesOf(c, SP.link_trace_states!);
    this.linkStateValues = bytesOf(c, SP.link_trace_states!, 1);
    this.linkAttrs = new MapArrayColumn(c, SP.link_attributes!);
    this.linkFlags = sizesOf(c, SP.link_flags!);
    this.linkFlagValues = bytesOf(c, SP.link_flags!, 1);
    this.droppedLinks = bytesOf(c, SP.dropped_links_count!);
  }

  group(resource: Resource): void {
    this.g.group(resource);
    this.service = serviceName(resource.attributes);
  }

  add(s: SpanRecord): boolean {
    if (!storableTime(s.startTimeUnixNano) || !storableTime(s.endTimeUnixNano) || !allStorable(s.events)) {
      this.unstorable++;
      return false;
    }
    const startS = seconds(s.startTimeUnixNano);
    const startNs = nanos(s.startTimeUnixNano);
    const endS = seconds(s.endTimeUnixNano);
    const endNs = nanos(s.endTimeUnixNano);
    const d = durationNs(startS, startNs, endS, endNs);
    this.sums.add(s, this.service, Math.floor(startS / 60), d);
    if (s.kind === SPAN_KIND_SERVER) {
      const sli = this.sli;
      sli.total++;
      if (s.statusCode === STATUS_ERROR) sli.errors++;
      if (d > this.slowNs) sli.slow++;
    }
    this.g.row(s.scope);
    writeParts(this.start, startS, startNs);
    writeParts(this.end, endS, endNs);
    if (d <= Number.MAX_SAFE_INTEGER) this.duration.u64(d);
    else writeDecimal64(this.duration, String(BigInt(s.endTimeUnixNano) - BigInt(s.startTimeUnixNano)));
    this.traceId.string(s.traceId);
    this.spanId.string(s.spanId);
    this.parent.string(s.parentSpanId);
    this.traceState.string(s.traceState);
    this.flags.u32(s.flags);
    this.name.string(s.name);
    this.kind.u8(s.kind);
    this.status.u8(s.statusCode);
    this.statusMessage.string(s.statusMessage);
    this.attrs.add(s.attributes);
    this.dropped.u32(s.droppedAttributesCount);
    const events = s.events;
    this.eventTimes.push(events.length);
    this.eventNames.push(events.length);
    this.eventAttrs.outer.push(events.length);
    for (const e of events) {
      writeDecimal64(this.eventTimeValues, e.timeUnixNano);
      this.eventNameValues.string(e.name);
      this.eventAttrs.addMap(e.attributes);
    }
    this.droppedEvents.u32(s.droppedEventsCount);
    const links = s.links;
    this.linkTraceIds.push(links.length);
    this.linkSpanIds.push(links.length);
    this.linkStates.push(links.length);
    this.linkAttrs.outer.push(links.length);
    this.linkFlags.push(links.length);
    for (const l of links) {
      this.linkTraceIdValues.string(l.traceId);
      this.linkSpanIdValues.string(l.spanId);
      this.linkStateValues.string(l.traceState);
      this.linkAttrs.addMap(l.attributes);
      this.linkFlagValues.u32(l.flags);
    }
    this.droppedLinks.u32(s.droppedLinksCount);
    this.c.rows++;
    return true;
  }

  result(): EncodedRows {
    this.g.flush();
    SPANS.noteSizes(this.c);
    const sumRows = this.sums.chunk();
    return { chunk: this.c, rows: this.c.rows, unstorable: this.unstorable, sli: this.sli, ...(sumRows.rows > 0 ? { sums: sumRows } : {}) };
  }
}

/** Log records of one tenant as `logs` rows. */
export class LogWriter implements RowWriter<LogRecord> {
  private readonly c = new ColumnChunk(LOGS);
  private readonly g: GroupColumns;
  private unstorable = 0;
  private readonly time: ByteSink;
  private readonly observed: ByteSink;
  private readonly severity: ByteSink;
  private readonly severityText: ByteSink;
  private readonly body: ByteSink;
  private readonly bodyKind: ByteSink;
  private readonly eventName: ByteSink;
  private readonly traceId: ByteSink;
  private readonly spanId: ByteSink;
  private readonly flags: ByteSink;
  private readonly attrs: MapColumn;
  private readonly dropped: ByteSink;

  constructor(ctx: RowContext) {
    const c = this.c;
    this.g = new GroupColumns(c, LG, ctx);
    this.time = bytesOf(c, LG.time!);
    this.observed = bytesOf(c, LG.observed_time!);
    this.severity = bytesOf(c, LG.severity_number!);
    this.severityText = bytesOf(c, LG.severity_text!);
    this.body = bytesOf(c, LG.body!);
    this.bodyKind = bytesOf(c, LG.body_kind!);
    this.eventName = bytesOf(c, LG.event_name!);
    this.traceId = bytesOf(c, LG.trace_id!);
    this.spanId = bytesOf(c, LG.span_id!);
    this.flags = bytesOf(c, LG.flags!);
    this.attrs = new MapColumn(c, LG.attributes!);
    this.dropped = bytesOf(c, LG.dropped_attributes_count!);
  }

  group(resource: Resource): void {
    this.g.group(resource);
  }

  add(r: LogRecord): boolean {
    if (!storableTime(r.timeUnixNano) || !storableTime(r.observedTimeUnixNano)) {
      this.unstorable++;
      return false;
    }
    this.g.row(r.scope);
    writeDecimal64(this.time, r.timeUnixNano);
    writeDecimal64(this.observed, r.observedTimeUnixNano);
    this.severity.u8(r.severityNumber);
    this.severityText.string(r.severityText);
    this.body.string(r.body);
    this.bodyKind.string(r.bodyKind);
    this.eventName.string(r.eventName);
    this.traceId.string(r.traceId);
    this.spanId.string(r.spanId);
    this.flags.u32(r.flags);
    this.attrs.add(r.attributes);
    this.dropped.u32(r.droppedAttributesCount);
    this.c.rows++;
    return true;
  }

  result(): EncodedRows {
    this.g.flush();
    LOGS.noteSizes(this.c);
    return { chunk: this.c, rows: this.c.rows, unstorable: this.unstorable };
  }
}

const METRIC_TYPE_CODE = { gauge: 1, sum: 2, histogram: 3, exponential_histogram: 4, summary: 5 } as const;

function nullableF64(nulls: ByteSink, values: ByteSink, v: number | null): void {
  nulls.u8(v === null ? 1 : 0);
  values.f64(v ?? 0);
}

function decimals(sizes: SizeSink, values: ByteSink, xs: readonly string[]): void {
  sizes.push(xs.length);
  for (const x of xs) writeDecimal64(values, x);
}

function doubles(sizes: SizeSink, values: ByteSink, xs: readonly number[]): void {
  sizes.push(xs.length);
  for (const x of xs) values.f64(x);
}

interface ArrayStreams {
  sizes: SizeSink;
  values: ByteSink;
}

/** Metric data points of one tenant as `metric_points` rows. */
export class MetricWriter implements RowWriter<MetricPoint> {
  private readonly c = new ColumnChunk(METRIC_POINTS);
  private readonly g: GroupColumns;
  private unstorable = 0;
  private readonly s: Record<string, ByteSink>;
  private readonly intNull: ByteSink;
  private readonly intValue: ByteSink;
  private readonly sumNull: ByteSink;
  private readonly minNull: ByteSink;
  private readonly maxNull: ByteSink;
  private readonly sumValue: ByteSink;
  private readonly minValue: ByteSink;
  private readonly maxValue: ByteSink;
  private readonly a: Record<string, ArrayStreams>;
  private readonly exAttrs: MapArrayColumn;
  private readonly attrs: MapColumn;

  constructor(ctx: RowContext) {
    const c = this.c;
    this.g = new GroupColumns(c, MP, ctx);
    const b = (name: string, stream = 0) => bytesOf(c, MP[name]!, stream);
    const plain = ['metric_name', 'metric_description', 'metric_unit', 'metric_type', 'temporality', 'is_monotonic', 'start_time', 'time', 'flags', 'value', 'count', 'scale', 'zero_count', 'zero_threshold', 'positive_offset', 'negative_offset'];
    this.s = Object.fromEntries(plain.map((n) => [n, b(n)]));
    this.intNull = b('int_value', 0);
    this.intValue = b('int_value', 1);
    this.sumNull = b('sum', 0);
    this.minNull = b('min', 0);
    this.maxNull = b('max', 0);
    this.sumValue = b('sum', 1);
    this.minValue = b('min', 1);
    this.maxValue = b('max', 1);
    const arrays = ['bucket_counts', 'explicit_bounds', 'positive_bucket_counts', 'negative_bucket_counts', 'quantiles', 'quantile_values', 'exemplar_times', 'exemplar_values', 'exemplar_trace_ids', 'exemplar_span_ids'];
    this.a = Object.fromEntries(arrays.map((n) => [n, { sizes: sizesOf(c, MP[n]!), values: b(n, 1) }]));
    this.exAttrs = new MapArrayColumn(c, MP.exemplar_attributes!);
    this.attrs = new MapColumn(c, MP.attributes!);
  }

  group(resource: Resource): void {
    this.g.group(resource);
  }

  add(p: MetricPoint): boolean {
    if (!storableTime(p.timeUnixNano) || !storableTime(p.startTimeUnixNano) || !p.exemplars.every((e) => storableTime(e.timeUnixNano))) {
      this.unstorable++;
      return false;
    }
    const s = this.s;
    const a = this.a;
    this.g.row(p.scope);
    s.metric_name!.string(p.metricName);
    s.metric_description!.string(p.metricDescription);
    s.metric_unit!.string(p.metricUnit);
    s.metric_type!.u8(METRIC_TYPE_CODE[p.metricType]);
    s.temporality!.u8(p.temporality);
    s.is_monotonic!.u8(p.isMonotonic ? 1 : 0);
    writeDecimal64(s.start_time!, p.startTimeUnixNano);
    writeDecimal64(s.time!, p.timeUnixNano);
    s.flags!.u32(p.flags);
    s.value!.f64(p.value);
    this.intNull.u8(p.intValue === '' ? 1 : 0);
    if (p.intValue === '') this.intValue.u64(0);
    else writeDecimal64(this.intValue, p.intValue);
    writeDecimal64(s.count!, p.count);
    nullableF64(this.sumNull, this.sumValue, p.sum);
    nullableF64(this.minNull, this.minValue, p.min);
    nullableF64(this.maxNull, this.maxValue, p.max);
    decimals(a.bucket_counts!.sizes, a.bucket_counts!.values, p.bucketCounts);
    doubles(a.explicit_bounds!.sizes, a.explicit_bounds!.values, p.explicitBounds);
    s.scale!.i32(p.scale);
    writeDecimal64(s.zero_count!, p.zeroCount);
    s.zero_threshold!.f64(p.zeroThreshold);
    s.positive_offset!.i32(p.positiveOffset);
    decimals(a.positive_bucket_counts!.sizes, a.positive_bucket_counts!.values, p.positiveBucketCounts);
    s.negative_offset!.i32(p.negativeOffset);
    decimals(a.negative_bucket_counts!.sizes, a.negative_bucket_counts!.values, p.negativeBucketCounts);
    doubles(a.quantiles!.sizes, a.quantiles!.values, p.quantiles);
    doubles(a.quantile_values!.sizes, a.quantile_values!.values, p.quantileValues);
    const ex = p.exemplars;
    a.exemplar_times!.sizes.push(ex.length);
    a.exemplar_values!.sizes.push(ex.length);
    a.exemplar_trace_ids!.sizes.push(ex.length);
    a.exemplar_span_ids!.sizes.push(ex.length);
    this.exAttrs.outer.push(ex.length);
    for (const e of ex) {
      writeDecimal64(a.exemplar_times!.values, e.timeUnixNano);
      a.exemplar_values!.values.f64(e.value);
      a.exemplar_trace_ids!.values.string(e.traceId);
      a.exemplar_span_ids!.values.string(e.spanId);
      this.exAttrs.addMap(e.filteredAttributes);
    }
    this.attrs.add(p.attributes);
    this.c.rows++;
    return true;
  }

  result(): EncodedRows {
    this.g.flush();
    METRIC_POINTS.noteSizes(this.c);
    return { chunk: this.c, rows: this.c.rows, unstorable: this.unstorable };
  }
}

/** A row writer for a signal's table. */
export function rowWriter(signal: Signal, ctx: RowContext): RowWriter<unknown> {
  switch (signal) {
    case 'traces':
      return new SpanWriter(ctx) as RowWriter<unknown>;
    case 'logs':
      return new LogWriter(ctx) as RowWriter<unknown>;
    case 'metrics':
      return new MetricWriter(ctx) as RowWriter<unknown>;
  }
}

/** Encode grouped records of one tenant as its signal's rows (what a writer makes of them one by one). */
export function encodeGroups<T>(w: RowWriter<T>, groups: readonly ResourceGroup<T>[]): EncodedRows {
  for (const grp of groups) {
    w.group(grp.resource);
    for (const item of grp.items) w.add(item);
  }
  return w.result();
}

/** Encode spans of one tenant as `spans` rows, with their per-minute sums for the rollup. */
export function spanRows(ctx: RowContext, groups: ResourceGroup<SpanRecord>[]): EncodedRows {
  return encodeGroups(new SpanWriter(ctx), groups);
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

/** Usage rows as an `ingest_usage` chunk. */
export function usageRows(rows: UsageRow[]): ColumnChunk {
  return chunkOf(
    INGEST_USAGE,
    rows.map((u) => ({
      tenant_id: u.tenantId, time: Math.round(u.timeMs), signal: u.signal, outcome: u.outcome, reason: u.reason, claimed_tenant: u.claimedTenant,
      records: u.records, bytes: u.bytes, encoding: u.encoding, token_name: u.tokenName, detail: u.detail.slice(0, 1000),
      retention_days: u.retentionDays, kept_days: u.keptDays, batch_id: u.batchId,
    })),
  );
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

/** Redaction counts as a `redactions` chunk. */
export function redactionRows(rows: RedactionRow[]): ColumnChunk {
  return chunkOf(
    REDACTIONS,
    rows.map((r) => ({ tenant_id: r.tenantId, minute: Math.floor(r.minuteMs / 60_000) * 60, data_class: r.dataClass, field: r.field, class: r.cls, count: r.count, retention_days: r.retentionDays })),
  );
}
