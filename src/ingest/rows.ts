// Turns decoded OTLP records of one tenant into the store's rows, as column chunks of Native
// blocks (src/store/native.ts): each value goes straight into its column's stream, and the
// writer joins the chunks of many requests into one block per insert.
//
// Values shared by every row of a resource group (tenant, service, resource attributes) and
// of a scope are encoded once and copied per row.
import type { Attributes, LogRecord, MetricPoint, ResourceGroup, Scope, SpanRecord } from './otlp/types.js';
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
  const ks = Object.keys(a);
  for (let i = 0; i < ks.length; i++) {
    const k = ks[i]!;
    keys.string(k);
    values.string(a[k]!);
  }
  return ks.length;
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

/** Columns every telemetry table starts with, copied per row from one group's encoding. */
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

  group(resource: ResourceGroup<unknown>['resource']): void {
    this.head = { service: encoded((s) => s.string(serviceName(resource.attributes))), attrs: encodedMap(resource.attributes), url: encoded((s) => s.string(resource.schemaUrl)) };
  }

  /** The group and scope columns of one row. */
  row(scope: Scope): void {
    const f = this.fixed;
    this.tenant.bytes(f.tenant);
    this.retention.bytes(f.retention);
    this.batch.bytes(f.batch);
    this.ingested.bytes(f.ingested);
    const h = this.head;
    this.service.bytes(h.service);
    this.resource.sizes.push(h.attrs.n);
    this.resource.keys.bytes(h.attrs.keys);
    this.resource.values.bytes(h.attrs.values);
    this.schemaUrl.bytes(h.url);
    if (scope !== this.scope) {
      this.scope = scope;
      this.scopeHead = { name: encoded((s) => s.string(scope.name)), version: encoded((s) => s.string(scope.version)), attrs: encodedMap(scope.attributes) };
    }
    const sh = this.scopeHead;
    this.scopeName.bytes(sh.name);
    this.scopeVersion.bytes(sh.version);
    this.scopeAttrs.sizes.push(sh.attrs.n);
    this.scopeAttrs.keys.bytes(sh.attrs.keys);
    this.scopeAttrs.values.bytes(sh.attrs.values);
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

/** Encode spans of one tenant as `spans` rows, with their per-minute sums for the rollup. */
export function spanRows(ctx: RowContext, groups: ResourceGroup<SpanRecord>[]): EncodedRows {
  const c = new ColumnChunk(SPANS);
  const g = new GroupColumns(c, SP, ctx);
  let unstorable = 0;
  const sums = new MinuteSums(ctx.tenantId, ctx.retentionDays, ctx.receivedMs ?? Date.now());
  const sli: SliCounts = { total: 0, errors: 0, slow: 0 };
  const slowNs = ctx.slowNs ?? Infinity;
  const start = bytesOf(c, SP.start_time!);
  const end = bytesOf(c, SP.end_time!);
  const duration = bytesOf(c, SP.duration_ns!);
  const traceId = bytesOf(c, SP.trace_id!);
  const spanId = bytesOf(c, SP.span_id!);
  const parent = bytesOf(c, SP.parent_span_id!);
  const traceState = bytesOf(c, SP.trace_state!);
  const flags = bytesOf(c, SP.flags!);
  const name = bytesOf(c, SP.name!);
  const kind = bytesOf(c, SP.kind!);
  const status = bytesOf(c, SP.status_code!);
  const statusMessage = bytesOf(c, SP.status_message!);
  const attrs = new MapColumn(c, SP.attributes!);
  const dropped = bytesOf(c, SP.dropped_attributes_count!);
  const eventTimes = sizesOf(c, SP.event_times!);
  const eventTimeValues = bytesOf(c, SP.event_times!, 1);
  const eventNames = sizesOf(c, SP.event_names!);
  const eventNameValues = bytesOf(c, SP.event_names!, 1);
  const eventAttrs = new MapArrayColumn(c, SP.event_attributes!);
  const droppedEvents = bytesOf(c, SP.dropped_events_count!);
  const linkTraceIds = sizesOf(c, SP.link_trace_ids!);
  const linkTraceIdValues = bytesOf(c, SP.link_trace_ids!, 1);
  const linkSpanIds = sizesOf(c, SP.link_span_ids!);
  const linkSpanIdValues = bytesOf(c, SP.link_span_ids!, 1);
  const linkStates = sizesOf(c, SP.link_trace_states!);
  const linkStateValues = bytesOf(c, SP.link_trace_states!, 1);
  const linkAttrs = new MapArrayColumn(c, SP.link_attributes!);
  const linkFlags = sizesOf(c, SP.link_flags!);
  const linkFlagValues = bytesOf(c, SP.link_flags!, 1);
  const droppedLinks = bytesOf(c, SP.dropped_links_count!);
  for (const grp of groups) {
    g.group(grp.resource);
    const service = serviceName(grp.resource.attributes);
    for (const s of grp.items) {
      if (!storableTime(s.startTimeUnixNano) || !storableTime(s.endTimeUnixNano) || !allStorable(s.events)) {
        unstorable++;
        continue;
      }
      const startS = seconds(s.startTimeUnixNano);
      const startNs = nanos(s.startTimeUnixNano);
      const endS = seconds(s.endTimeUnixNano);
      const endNs = nanos(s.endTimeUnixNano);
      const d = durationNs(startS, startNs, endS, endNs);
      sums.add(s, service, Math.floor(startS / 60), d);
      if (s.kind === SPAN_KIND_SERVER) {
        sli.total++;
        if (s.statusCode === STATUS_ERROR) sli.errors++;
        if (d > slowNs) sli.slow++;
      }
      g.row(s.scope);
      writeParts(start, startS, startNs);
      writeParts(end, endS, endNs);
      if (d <= Number.MAX_SAFE_INTEGER) duration.u64(d);
      else writeDecimal64(duration, String(BigInt(s.endTimeUnixNano) - BigInt(s.startTimeUnixNano)));
      traceId.string(s.traceId);
      spanId.string(s.spanId);
      parent.string(s.parentSpanId);
      traceState.string(s.traceState);
      flags.u32(s.flags);
      name.string(s.name);
      kind.u8(s.kind);
      status.u8(s.statusCode);
      statusMessage.string(s.statusMessage);
      attrs.add(s.attributes);
      dropped.u32(s.droppedAttributesCount);
      const events = s.events;
      eventTimes.push(events.length);
      eventNames.push(events.length);
      eventAttrs.outer.push(events.length);
      for (const e of events) {
        writeDecimal64(eventTimeValues, e.timeUnixNano);
        eventNameValues.string(e.name);
        eventAttrs.addMap(e.attributes);
      }
      droppedEvents.u32(s.droppedEventsCount);
      const links = s.links;
      linkTraceIds.push(links.length);
      linkSpanIds.push(links.length);
      linkStates.push(links.length);
      linkAttrs.outer.push(links.length);
      linkFlags.push(links.length);
      for (const l of links) {
        linkTraceIdValues.string(l.traceId);
        linkSpanIdValues.string(l.spanId);
        linkStateValues.string(l.traceState);
        linkAttrs.addMap(l.attributes);
        linkFlagValues.u32(l.flags);
      }
      droppedLinks.u32(s.droppedLinksCount);
      c.rows++;
    }
  }
  const sumRows = sums.chunk();
  return { chunk: c, rows: c.rows, unstorable, sli, ...(sumRows.rows > 0 ? { sums: sumRows } : {}) };
}

/** Encode log records of one tenant as `logs` rows. */
export function logRows(ctx: RowContext, groups: ResourceGroup<LogRecord>[]): EncodedRows {
  const c = new ColumnChunk(LOGS);
  const g = new GroupColumns(c, LG, ctx);
  let unstorable = 0;
  const time = bytesOf(c, LG.time!);
  const observed = bytesOf(c, LG.observed_time!);
  const severity = bytesOf(c, LG.severity_number!);
  const severityText = bytesOf(c, LG.severity_text!);
  const body = bytesOf(c, LG.body!);
  const bodyKind = bytesOf(c, LG.body_kind!);
  const eventName = bytesOf(c, LG.event_name!);
  const traceId = bytesOf(c, LG.trace_id!);
  const spanId = bytesOf(c, LG.span_id!);
  const flags = bytesOf(c, LG.flags!);
  const attrs = new MapColumn(c, LG.attributes!);
  const dropped = bytesOf(c, LG.dropped_attributes_count!);
  for (const grp of groups) {
    g.group(grp.resource);
    for (const r of grp.items) {
      if (!storableTime(r.timeUnixNano) || !storableTime(r.observedTimeUnixNano)) {
        unstorable++;
        continue;
      }
      g.row(r.scope);
      writeDecimal64(time, r.timeUnixNano);
      writeDecimal64(observed, r.observedTimeUnixNano);
      severity.u8(r.severityNumber);
      severityText.string(r.severityText);
      body.string(r.body);
      bodyKind.string(r.bodyKind);
      eventName.string(r.eventName);
      traceId.string(r.traceId);
      spanId.string(r.spanId);
      flags.u32(r.flags);
      attrs.add(r.attributes);
      dropped.u32(r.droppedAttributesCount);
      c.rows++;
    }
  }
  return { chunk: c, rows: c.rows, unstorable };
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

/** Encode metric data points of one tenant as `metric_points` rows. */
export function metricRows(ctx: RowContext, groups: ResourceGroup<MetricPoint>[]): EncodedRows {
  const c = new ColumnChunk(METRIC_POINTS);
  const g = new GroupColumns(c, MP, ctx);
  let unstorable = 0;
  const b = (name: string, stream = 0) => bytesOf(c, MP[name]!, stream);
  const z = (name: string) => sizesOf(c, MP[name]!);
  const [name, description, unit, type, temporality, monotonic, start, time, flags, value] = ['metric_name', 'metric_description', 'metric_unit', 'metric_type', 'temporality', 'is_monotonic', 'start_time', 'time', 'flags', 'value'].map((n) => b(n)) as ByteSink[];
  const [count, scale, zeroCount, zeroThreshold, positiveOffset, negativeOffset] = ['count', 'scale', 'zero_count', 'zero_threshold', 'positive_offset', 'negative_offset'].map((n) => b(n)) as ByteSink[];
  const intNull = b('int_value', 0);
  const intValue = b('int_value', 1);
  const [sumNull, minNull, maxNull] = ['sum', 'min', 'max'].map((n) => b(n, 0)) as ByteSink[];
  const [sumValue, minValue, maxValue] = ['sum', 'min', 'max'].map((n) => b(n, 1)) as ByteSink[];
  const arrays = ['bucket_counts', 'explicit_bounds', 'positive_bucket_counts', 'negative_bucket_counts', 'quantiles', 'quantile_values', 'exemplar_times', 'exemplar_values', 'exemplar_trace_ids', 'exemplar_span_ids'];
  const [bucketCounts, bounds, positive, negative, quantiles, quantileValues, exTimes, exValues, exTraces, exSpans] = arrays.map((n) => ({ sizes: z(n), values: b(n, 1) }));
  const exAttrs = new MapArrayColumn(c, MP.exemplar_attributes!);
  const attrs = new MapColumn(c, MP.attributes!);
  for (const grp of groups) {
    g.group(grp.resource);
    for (const p of grp.items) {
      if (!storableTime(p.timeUnixNano) || !storableTime(p.startTimeUnixNano) || !p.exemplars.every((e) => storableTime(e.timeUnixNano))) {
        unstorable++;
        continue;
      }
      g.row(p.scope);
      name!.string(p.metricName);
      description!.string(p.metricDescription);
      unit!.string(p.metricUnit);
      type!.u8(METRIC_TYPE_CODE[p.metricType]);
      temporality!.u8(p.temporality);
      monotonic!.u8(p.isMonotonic ? 1 : 0);
      writeDecimal64(start!, p.startTimeUnixNano);
      writeDecimal64(time!, p.timeUnixNano);
      flags!.u32(p.flags);
      value!.f64(p.value);
      intNull.u8(p.intValue === '' ? 1 : 0);
      if (p.intValue === '') intValue.u64(0);
      else writeDecimal64(intValue, p.intValue);
      writeDecimal64(count!, p.count);
      nullableF64(sumNull!, sumValue!, p.sum);
      nullableF64(minNull!, minValue!, p.min);
      nullableF64(maxNull!, maxValue!, p.max);
      decimals(bucketCounts!.sizes, bucketCounts!.values, p.bucketCounts);
      doubles(bounds!.sizes, bounds!.values, p.explicitBounds);
      scale!.i32(p.scale);
      writeDecimal64(zeroCount!, p.zeroCount);
      zeroThreshold!.f64(p.zeroThreshold);
      positiveOffset!.i32(p.positiveOffset);
      decimals(positive!.sizes, positive!.values, p.positiveBucketCounts);
      negativeOffset!.i32(p.negativeOffset);
      decimals(negative!.sizes, negative!.values, p.negativeBucketCounts);
      doubles(quantiles!.sizes, quantiles!.values, p.quantiles);
      doubles(quantileValues!.sizes, quantileValues!.values, p.quantileValues);
      const ex = p.exemplars;
      exTimes!.sizes.push(ex.length);
      exValues!.sizes.push(ex.length);
      exTraces!.sizes.push(ex.length);
      exSpans!.sizes.push(ex.length);
      exAttrs.outer.push(ex.length);
      for (const e of ex) {
        writeDecimal64(exTimes!.values, e.timeUnixNano);
        exValues!.values.f64(e.value);
        exTraces!.values.string(e.traceId);
        exSpans!.values.string(e.spanId);
        exAttrs.addMap(e.filteredAttributes);
      }
      attrs.add(p.attributes);
      c.rows++;
    }
  }
  return { chunk: c, rows: c.rows, unstorable };
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
