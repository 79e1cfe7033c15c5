// OTLP/protobuf decoder: Export{Trace,Metrics,Logs}ServiceRequest bytes → types.ts rows.
//
// Choice: hand-written, not a protobuf runtime library. Measured with bench/decode.ts on a
// 512-span request built by the OTel SDK and serialised by @opentelemetry/otlp-transformer
// (290 KiB; 12 attributes and 2 events per span), 2-core VM, Node 20.20, each case in its own
// process, median of 5 slices, two runs:
//   this decoder, bytes → rows                      189-192 ops/s   ~97,000 spans/s   56 MB/s
//   protobufjs 8 (Root.fromJSON descriptor) + rows   53-55 ops/s   ~28,000 spans/s   16 MB/s
//   protobufjs 8 decode alone, no rows yet          108-111 ops/s   ~56,000 spans/s   32 MB/s
//   our JSON decoder on the same data (724 KiB)      67-73 ops/s   ~36,000 spans/s   51 MB/s
// i.e. 3.5x the library once its output is turned into the same rows, and 1.75x its bare
// decode. The library builds a message tree first (an object per KeyValue/AnyValue, Long for
// each fixed64, fresh strings) that then has to be walked again; the profile of that path is
// dominated by garbage collection and by storing freshly decoded attribute keys, which V8 must
// internalise on every store. Two measured choices here attack exactly that: repeated short
// strings (attribute keys, span and event names) come from a byte-keyed cache, so a key is the
// same already-internalised string each time (103 → 180 ops/s when added); strings under 32
// bytes are decoded by a JS loop (148 ns/string on this request's strings, median 9 bytes)
// rather than Buffer#toString (216 ns) or TextDecoder (444 ns), whose per-call cost dominates
// at these lengths. Hand-writing also gives errors with a field path and byte offset and the
// OTLP AnyValue depth limit; protobufjs stops at 100 message levels with a bare
// "max depth exceeded".
//
// Structure: the input, read position and a path stack live in module state, and each message
// type has one function with a `switch` on the whole tag (field number and wire type together,
// so the usual case costs one comparison). Anything that is not the expected tag falls through
// to `skipOrFail`, which skips unknown fields by wire type and rejects a known field carrying
// the wrong wire type. The path stack (field name, index, message type) costs a few array
// stores per message and is only turned into a string when something goes wrong.
//
// Merge rules from the protobuf spec: a scalar seen twice keeps the last value; a singular
// message seen twice is merged (each function decodes into the same target); repeated fields
// append; for a oneof the last member wins and resets the others.

import { tsError } from '../../errors.js';
import {
  MAX_ANYVALUE_DEPTH,
  arrayJson,
  emptyMetricPoint,
  emptySpan,
  flattenBool,
  flattenBytes,
  flattenDouble,
  int64Decimal,
  int64Number,
  jsonElement,
  kvlistJson,
  nestingError,
  optionalIdProblem,
  requiredIdProblem,
  setAttribute,
  uint64Decimal,
} from './flatten.js';
import { DEFAULT_DECODE_LIMITS, LeafLimiter, RecordLimits, emptyLimitReport } from './limits.js';
import { GroupCollector } from './collect.js';
import type {
  AnyDecoded,
  DecodeLimits,
  DecodeOutcome,
  DecodeSink,
  Attributes,
  Exemplar,
  InvalidItem,
  LogBodyKind,
  LogRecord,
  MetricPoint,
  MetricType,
  Resource,
  Scope,
  Signal,
  SpanEvent,
  SpanLink,
  SpanRecord,
} from './types.js';

// ---------------------------------------------------------------------------------------------
// Message catalogue: names and known fields, used for error messages and for telling a known
// field with the wrong wire type (an error) from an unknown field (skipped).

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

const WIRE_NAMES = ['VARINT', 'I64', 'LEN', 'SGROUP', 'EGROUP', 'I32', '6', '7'];

interface FieldSpec {
  name: string;
  wire: number;
  /** Second accepted wire type: the unpacked form of a packed repeated scalar. */
  alt: number;
}

const MSG_NAMES: string[] = [];
const MSG_FIELDS: Array<Array<FieldSpec | undefined>> = [];

function defineMessage(name: string, fields: Array<[number, string, number, number?]>): number {
  const id = MSG_NAMES.length;
  MSG_NAMES.push(name);
  const table: Array<FieldSpec | undefined> = [];
  for (const [no, fname, wire, alt] of fields) table[no] = { name: fname, wire, alt: alt ?? -1 };
  MSG_FIELDS.push(table);
  return id;
}

const T_TRACE_REQ = defineMessage('ExportTraceServiceRequest', [[1, 'resourceSpans', LEN]]);
const T_METRICS_REQ = defineMessage('ExportMetricsServiceRequest', [[1, 'resourceMetrics', LEN]]);
const T_LOGS_REQ = defineMessage('ExportLogsServiceRequest', [[1, 'resourceLogs', LEN]]);
const T_RESOURCE_SPANS = defineMessage('ResourceSpans', [
  [1, 'resource', LEN],
  [2, 'scopeSpans', LEN],
  [3, 'schemaUrl', LEN],
]);
const T_RESOURCE_METRICS = defineMessage('ResourceMetrics', [
  [1, 'resource', LEN],
  [2, 'scopeMetrics', LEN],
  [3, 'schemaUrl', LEN],
]);
const T_RESOURCE_LOGS = defineMessage('ResourceLogs', [
  [1, 'resource', LEN],
  [2, 'scopeLogs', LEN],
  [3, 'schemaUrl', LEN],
]);
const T_SCOPE_SPANS = defineMessage('ScopeSpans', [
  [1, 'scope', LEN],
  [2, 'spans', LEN],
  [3, 'schemaUrl', LEN],
]);
const T_SCOPE_METRICS = defineMessage('ScopeMetrics', [
  [1, 'scope', LEN],
  [2, 'metrics', LEN],
  [3, 'schemaUrl', LEN],
]);
const T_SCOPE_LOGS = defineMessage('ScopeLogs', [
  [1, 'scope', LEN],
  [2, 'logRecords', LEN],
  [3, 'schemaUrl', LEN],
]);
const T_RESOURCE = defineMessage('Resource', [
  [1, 'attributes', LEN],
  [2, 'droppedAttributesCount', VARINT],
  [3, 'entityRefs', LEN],
]);
const T_SCOPE = defineMessage('InstrumentationScope', [
  [1, 'name', LEN],
  [2, 'version', LEN],
  [3, 'attributes', LEN],
  [4, 'droppedAttributesCount', VARINT],
]);
const T_KEYVALUE = defineMessage('KeyValue', [
  [1, 'key', LEN],
  [2, 'value', LEN],
  [3, 'keyStrindex', VARINT],
]);
const T_ANYVALUE = defineMessage('AnyValue', [
  [1, 'stringValue', LEN],
  [2, 'boolValue', VARINT],
  [3, 'intValue', VARINT],
  [4, 'doubleValue', I64],
  [5, 'arrayValue', LEN],
  [6, 'kvlistValue', LEN],
  [7, 'bytesValue', LEN],
  [8, 'stringValueStrindex', VARINT],
]);
const T_ARRAYVALUE = defineMessage('ArrayValue', [[1, 'values', LEN]]);
const T_KVLIST = defineMessage('KeyValueList', [[1, 'values', LEN]]);
const T_SPAN = defineMessage('Span', [
  [1, 'traceId', LEN],
  [2, 'spanId', LEN],
  [3, 'traceState', LEN],
  [4, 'parentSpanId', LEN],
  [5, 'name', LEN],
  [6, 'kind', VARINT],
  [7, 'startTimeUnixNano', I64],
  [8, 'endTimeUnixNano', I64],
  [9, 'attributes', LEN],
  [10, 'droppedAttributesCount', VARINT],
  [11, 'events', LEN],
  [12, 'droppedEventsCount', VARINT],
  [13, 'links', LEN],
  [14, 'droppedLinksCount', VARINT],
  [15, 'status', LEN],
  [16, 'flags', I32],
]);
const T_EVENT = defineMessage('Span.Event', [
  [1, 'timeUnixNano', I64],
  [2, 'name', LEN],
  [3, 'attributes', LEN],
  [4, 'droppedAttributesCount', VARINT],
]);
const T_LINK = defineMessage('Span.Link', [
  [1, 'traceId', LEN],
  [2, 'spanId', LEN],
  [3, 'traceState', LEN],
  [4, 'attributes', LEN],
  [5, 'droppedAttributesCount', VARINT],
  [6, 'flags', I32],
]);
const T_STATUS = defineMessage('Status', [
  [2, 'message', LEN],
  [3, 'code', VARINT],
]);
const T_METRIC = defineMessage('Metric', [
  [1, 'name', LEN],
  [2, 'description', LEN],
  [3, 'unit', LEN],
  [5, 'gauge', LEN],
  [7, 'sum', LEN],
  [9, 'histogram', LEN],
  [10, 'exponentialHistogram', LEN],
  [11, 'summary', LEN],
  [12, 'metadata', LEN],
]);
const T_GAUGE = defineMessage('Gauge', [[1, 'dataPoints', LEN]]);
const T_SUM = defineMessage('Sum', [
  [1, 'dataPoints', LEN],
  [2, 'aggregationTemporality', VARINT],
  [3, 'isMonotonic', VARINT],
]);
const T_HISTOGRAM = defineMessage('Histogram', [
  [1, 'dataPoints', LEN],
  [2, 'aggregationTemporality', VARINT],
]);
const T_EXP_HISTOGRAM = defineMessage('ExponentialHistogram', [
  [1, 'dataPoints', LEN],
  [2, 'aggregationTemporality', VARINT],
]);
const T_SUMMARY = defineMessage('Summary', [[1, 'dataPoints', LEN]]);
const T_NUMBER_POINT = defineMessage('NumberDataPoint', [
  [2, 'startTimeUnixNano', I64],
  [3, 'timeUnixNano', I64],
  [4, 'asDouble', I64],
  [5, 'exemplars', LEN],
  [6, 'asInt', I64],
  [7, 'attributes', LEN],
  [8, 'flags', VARINT],
]);
const T_HISTOGRAM_POINT = defineMessage('HistogramDataPoint', [
  [2, 'startTimeUnixNano', I64],
  [3, 'timeUnixNano', I64],
  [4, 'count', I64],
  [5, 'sum', I64],
  [6, 'bucketCounts', LEN, I64],
  [7, 'explicitBounds', LEN, I64],
  [8, 'exemplars', LEN],
  [9, 'attributes', LEN],
  [10, 'flags', VARINT],
  [11, 'min', I64],
  [12, 'max', I64],
]);
const T_EXP_POINT = defineMessage('ExponentialHistogramDataPoint', [
  [1, 'attributes', LEN],
  [2, 'startTimeUnixNano', I64],
  [3, 'timeUnixNano', I64],
  [4, 'count', I64],
  [5, 'sum', I64],
  [6, 'scale', VARINT],
  [7, 'zeroCount', I64],
  [8, 'positive', LEN],
  [9, 'negative', LEN],
  [10, 'flags', VARINT],
  [11, 'exemplars', LEN],
  [12, 'min', I64],
  [13, 'max', I64],
  [14, 'zeroThreshold', I64],
]);
const T_BUCKETS = defineMessage('ExponentialHistogramDataPoint.Buckets', [
  [1, 'offset', VARINT],
  [2, 'bucketCounts', LEN, VARINT],
]);
const T_SUMMARY_POINT = defineMessage('SummaryDataPoint', [
  [2, 'startTimeUnixNano', I64],
  [3, 'timeUnixNano', I64],
  [4, 'count', I64],
  [5, 'sum', I64],
  [6, 'quantileValues', LEN],
  [7, 'attributes', LEN],
  [8, 'flags', VARINT],
]);
const T_QUANTILE = defineMessage('SummaryDataPoint.ValueAtQuantile', [
  [1, 'quantile', I64],
  [2, 'value', I64],
]);
const T_EXEMPLAR = defineMessage('Exemplar', [
  [2, 'timeUnixNano', I64],
  [3, 'asDouble', I64],
  [4, 'spanId', LEN],
  [5, 'traceId', LEN],
  [6, 'asInt', I64],
  [7, 'filteredAttributes', LEN],
]);
const T_LOG = defineMessage('LogRecord', [
  [1, 'timeUnixNano', I64],
  [2, 'severityNumber', VARINT],
  [3, 'severityText', LEN],
  [5, 'body', LEN],
  [6, 'attributes', LEN],
  [7, 'droppedAttributesCount', VARINT],
  [8, 'flags', I32],
  [9, 'traceId', LEN],
  [10, 'spanId', LEN],
  [11, 'observedTimeUnixNano', I64],
  [12, 'eventName', LEN],
]);

// Signals as small ints so the per-item dispatch is a plain integer switch.
const SIG_TRACES = 0;
const SIG_METRICS = 1;
const SIG_LOGS = 2;

const SIGNALS: Array<{
  signal: Signal;
  request: number;
  resourceGroup: number;
  scopeGroup: number;
  item: number;
  groupsField: string;
  scopesField: string;
  itemsField: string;
}> = [
  {
    signal: 'traces',
    request: T_TRACE_REQ,
    resourceGroup: T_RESOURCE_SPANS,
    scopeGroup: T_SCOPE_SPANS,
    item: T_SPAN,
    groupsField: 'resourceSpans',
    scopesField: 'scopeSpans',
    itemsField: 'spans',
  },
  {
    signal: 'metrics',
    request: T_METRICS_REQ,
    resourceGroup: T_RESOURCE_METRICS,
    scopeGroup: T_SCOPE_METRICS,
    item: T_METRIC,
    groupsField: 'resourceMetrics',
    scopesField: 'scopeMetrics',
    itemsField: 'metrics',
  },
  {
    signal: 'logs',
    request: T_LOGS_REQ,
    resourceGroup: T_RESOURCE_LOGS,
    scopeGroup: T_SCOPE_LOGS,
    item: T_LOG,
    groupsField: 'resourceLogs',
    scopesField: 'scopeLogs',
    itemsField: 'logRecords',
  },
];

// ---------------------------------------------------------------------------------------------
// Decoder state. Decoding is synchronous and never re-entered, so module state is safe and
// spares passing a context object through every call.

const EMPTY = Buffer.alloc(0);
let buf: Buffer = EMPTY;
let pos = 0;
/** Offset of the current field's key, for error messages. */
let fieldStart = 0;
/** The current field's key (field number << 3 | wire type). */
let curTag = 0;
let requestType = T_TRACE_REQ;
let invalid: InvalidItem[] = [];
/** Where the request's groups and items go, and the limits applied before they go there. */
let sink: DecodeSink<unknown> = new GroupCollector();
let recordLimits = new RecordLimits(DEFAULT_DECODE_LIMITS, emptyLimitReport(DEFAULT_DECODE_LIMITS));
/** Output of readVarint64/readFixed64: the low and high 32 bits. */
let vLo = 0;
let vHi = 0;

// Path stack: one entry per message we are inside of.
const stName: string[] = [];
const stIdx: number[] = [];
const stType: number[] = [];
let sp = 0;

function enter(name: string, index: number, type: number): void {
  stName[sp] = name;
  stIdx[sp] = index;
  stType[sp] = type;
  sp++;
}

function pathString(): string {
  let s = '';
  for (let i = 0; i < sp; i++) {
    if (i > 0) s += '.';
    s += stName[i];
    if (stIdx[i]! >= 0) s += '[' + stIdx[i] + ']';
  }
  return s;
}

function currentType(): number {
  return sp === 0 ? requestType : stType[sp - 1]!;
}

function fieldLabel(type: number, no: number): string {
  const spec = MSG_FIELDS[type]![no];
  return spec ? spec.name : '#' + no;
}

/** Path of the field being read, e.g. `resourceSpans[0].scopeSpans[0].spans[3].name`. */
function fieldPath(): string {
  const p = pathString();
  const leaf = fieldLabel(currentType(), curTag >>> 3);
  return p ? p + '.' + leaf : leaf;
}

function fail(detail: string, path: string = fieldPath()): never {
  throw tsError('TS_ERR_OTLP_DECODE', [MSG_NAMES[requestType] + ' (protobuf)', `${detail} (${path})`], {
    path,
    field: path,
    offset: fieldStart,
    encoding: 'protobuf',
  });
}

// ---------------------------------------------------------------------------------------------
// Wire primitives. `end` is the end of the enclosing message, so a field cannot run past its
// parent even when the buffer continues.

function readTag(end: number): number {
  fieldStart = pos;
  const b = buf[pos]!;
  if (b < 0x80) {
    pos++;
    return (curTag = b);
  }
  return (curTag = readTagSlow(end));
}

function readTagSlow(end: number): number {
  let p = pos;
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 5; i++) {
    if (p >= end) fail(`truncated field key at byte ${fieldStart}`, pathString() || '(root)');
    const b = buf[p++]!;
    v += (b & 0x7f) * mul;
    if (b < 0x80) {
      pos = p;
      if (v > 0xffffffff) fail(`field number above 2^29-1 at byte ${fieldStart}`, pathString() || '(root)');
      return v;
    }
    mul *= 128;
  }
  fail(`field key longer than 5 bytes at byte ${fieldStart}`, pathString() || '(root)');
}

/** Low 32 bits of a varint, as an unsigned number (callers apply `| 0` for int32/enum). */
function readVarint(end: number): number {
  const p = pos;
  if (p < end) {
    const b = buf[p]!;
    if (b < 0x80) {
      pos = p + 1;
      return b;
    }
  }
  return readVarintSlow(end);
}

function readVarintSlow(end: number): number {
  let p = pos;
  let lo = 0;
  for (let shift = 0; shift < 70; shift += 7) {
    if (p >= end) fail(`truncated varint field ${curTag >>> 3} at byte ${fieldStart}`);
    const b = buf[p++]!;
    if (shift < 32) lo |= (b & 0x7f) << shift;
    if (b < 0x80) {
      pos = p;
      return lo >>> 0;
    }
  }
  fail(`varint field ${curTag >>> 3} at byte ${fieldStart} is longer than 10 bytes`);
}

/** Full 64-bit varint into vLo/vHi. */
function readVarint64(end: number): void {
  let p = pos;
  let lo = 0;
  let hi = 0;
  let b = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    if (p >= end) fail(`truncated varint field ${curTag >>> 3} at byte ${fieldStart}`);
    b = buf[p++]!;
    lo |= (b & 0x7f) << shift;
    if (b < 0x80) {
      pos = p;
      vLo = lo >>> 0;
      vHi = 0;
      return;
    }
  }
  if (p >= end) fail(`truncated varint field ${curTag >>> 3} at byte ${fieldStart}`);
  b = buf[p++]!;
  lo |= (b & 0x0f) << 28;
  hi = (b & 0x7f) >> 4;
  if (b < 0x80) {
    pos = p;
    vLo = lo >>> 0;
    vHi = hi >>> 0;
    return;
  }
  for (let shift = 3; shift < 38; shift += 7) {
    if (p >= end) fail(`truncated varint field ${curTag >>> 3} at byte ${fieldStart}`);
    b = buf[p++]!;
    hi |= (b & 0x7f) << shift;
    if (b < 0x80) {
      pos = p;
      vLo = lo >>> 0;
      vHi = hi >>> 0;
      return;
    }
  }
  fail(`varint field ${curTag >>> 3} at byte ${fieldStart} is longer than 10 bytes`);
}

function readBool(end: number): boolean {
  const p = pos;
  if (p < end && buf[p]! < 0x80) {
    pos = p + 1;
    return buf[p] !== 0;
  }
  readVarint64(end);
  return (vLo | vHi) !== 0;
}

/** Length of a LEN field, checked against what is left of the enclosing message. */
function readLen(end: number): number {
  const p = pos;
  let len: number;
  if (p < end && buf[p]! < 0x80) {
    len = buf[p]!;
    pos = p + 1;
  } else {
    len = readLenSlow(end);
  }
  if (len > end - pos) {
    fail(
      `truncated length-delimited field ${curTag >>> 3} at byte ${fieldStart}: ` +
        `declares ${len} bytes but only ${end - pos} remain`,
    );
  }
  return len;
}

function readLenSlow(end: number): number {
  let p = pos;
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (p >= end) fail(`truncated length of field ${curTag >>> 3} at byte ${fieldStart}`);
    const b = buf[p++]!;
    v += (b & 0x7f) * mul;
    if (b < 0x80) {
      pos = p;
      return v;
    }
    mul *= 128;
  }
  fail(`length of field ${curTag >>> 3} at byte ${fieldStart} is longer than 10 bytes`);
}

/** Reads a LEN header and returns the end offset of its payload. */
function lenEnd(end: number): number {
  const len = readLen(end);
  return pos + len;
}

function need(n: number, end: number, what: string): void {
  if (end - pos < n) {
    fail(`truncated ${what} field ${curTag >>> 3} at byte ${fieldStart}: needs ${n} bytes, ${end - pos} remain`);
  }
}

/** fixed64/sfixed64 into vLo/vHi. */
function readFixed64(end: number): void {
  const p = pos;
  if (end - p < 8) need(8, end, 'fixed64');
  vLo = (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0;
  vHi = (buf[p + 4]! | (buf[p + 5]! << 8) | (buf[p + 6]! << 16) | (buf[p + 7]! << 24)) >>> 0;
  pos = p + 8;
}

function readTime(end: number): string {
  readFixed64(end);
  return uint64Decimal(vLo, vHi);
}

function readFixed32(end: number): number {
  const p = pos;
  if (end - p < 4) need(4, end, 'fixed32');
  pos = p + 4;
  return (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0;
}

function readDouble(end: number): number {
  if (end - pos < 8) need(8, end, 'double');
  const d = buf.readDoubleLE(pos);
  pos += 8;
  return d;
}

// Below this length a JS loop beats the native call's fixed overhead (see bench/decode.ts).
const SHORT_STRING = 32;

function utf8(a: number, b: number): string {
  if (b - a < SHORT_STRING) {
    let s = '';
    for (let i = a; i < b; i++) {
      const c = buf[i]!;
      if (c >= 0x80) return buf.toString('utf8', a, b);
      s += String.fromCharCode(c);
    }
    return s;
  }
  return buf.toString('utf8', a, b);
}

function readString(end: number): string {
  const len = readLen(end);
  const a = pos;
  pos = a + len;
  return utf8(a, a + len);
}

// Strings that repeat across items (attribute keys, span/event names, enum-like values) are
// looked up by their bytes in a small direct-mapped cache instead of being decoded again. Besides
// skipping the decode, a cached key is the same string object each time, already internalised by
// V8 from its first use as a property name, so storing it into an attributes object is cheaper.
const CACHE_SLOTS = 4096;
const CACHE_MAX_BYTES = 48;
const cacheBytes: Array<Uint8Array | undefined> = new Array(CACHE_SLOTS);
const cacheStrings: string[] = new Array(CACHE_SLOTS);

function cachedString(a: number, b: number): string {
  const n = b - a;
  if (n > CACHE_MAX_BYTES || n === 0) return n === 0 ? '' : buf.toString('utf8', a, b);
  // The slot comes from the length and four sampled bytes, not from every byte: the byte-wise
  // compare below is what makes a hit correct, and hashing whole strings measured slower.
  let h = Math.imul(n, 0x9e3779b1) ^ buf[a]! ^ (buf[b - 1]! << 8) ^ (buf[a + (n >> 1)]! << 16) ^ (buf[a + (n >> 2)]! << 24);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  const slot = (h ^ (h >>> 16)) & (CACHE_SLOTS - 1);
  const c = cacheBytes[slot];
  if (c !== undefined && c.length === n) {
    let i = 0;
    while (i < n && c[i] === buf[a + i]) i++;
    if (i === n) return cacheStrings[slot]!;
  }
  const s = utf8(a, b);
  // A copy: Buffer#slice would be a view that pins the whole request and changes with it.
  cacheBytes[slot] = Uint8Array.prototype.slice.call(buf, a, b);
  cacheStrings[slot] = s;
  return s;
}

function readCachedString(end: number): string {
  const len = readLen(end);
  const a = pos;
  pos = a + len;
  return cachedString(a, a + len);
}

function sint32(v: number): number {
  return (v >>> 1) ^ -(v & 1);
}

function skipOrFail(tag: number, end: number, type: number): void {
  const no = tag >>> 3;
  const wire = tag & 7;
  if (no === 0) fail(`invalid field number 0 at byte ${fieldStart}`, pathString() || '(root)');
  const spec = MSG_FIELDS[type]![no];
  if (spec !== undefined && wire !== spec.wire && wire !== spec.alt) {
    const expected = WIRE_NAMES[spec.wire] + ' (' + spec.wire + ')' + (spec.alt >= 0 ? ` or ${WIRE_NAMES[spec.alt]} (${spec.alt})` : '');
    fail(
      `field ${no} (${spec.name}) of ${MSG_NAMES[type]} at byte ${fieldStart} has wire type ` +
        `${WIRE_NAMES[wire]} (${wire}), expected ${expected}`,
    );
  }
  switch (wire) {
    case VARINT: {
      const limit = Math.min(end, pos + 10);
      while (pos < limit && buf[pos]! >= 0x80) pos++;
      if (pos >= limit) {
        if (pos >= end) fail(`truncated varint field ${no} at byte ${fieldStart}`);
        fail(`varint field ${no} at byte ${fieldStart} is longer than 10 bytes`);
      }
      pos++;
      return;
    }
    case I64:
      need(8, end, 'I64');
      pos += 8;
      return;
    case LEN: {
      // not `pos += readLen(end)`: that reads pos before readLen has moved it past the length
      const n = readLen(end);
      pos += n;
      return;
    }
    case I32:
      need(4, end, 'I32');
      pos += 4;
      return;
    case 3:
    case 4:
      fail(`field ${no} at byte ${fieldStart} uses the group wire type ${wire}, which OTLP never uses and is not supported`);
    default:
      fail(`field ${no} at byte ${fieldStart} has invalid wire type ${wire}`);
  }
}

// ---------------------------------------------------------------------------------------------
// AnyValue. Values are decoded into an accumulator (kind + scalar text, or the JSON parts of
// an array/kvlist) so that a value split over several records merges like protobuf requires.
// Accumulators are pooled by depth: the one at depth d is busy only while a value at depth d is
// being decoded, and its children use depth d + 1.

interface Acc {
  kind: LogBodyKind;
  str: string;
  keys: string[];
  parts: string[];
  n: number;
}

function newAcc(): Acc {
  return { kind: 'empty', str: '', keys: [], parts: [], n: 0 };
}

const accPool: Acc[] = [];
/** The request's nesting limit and its leaf cutter (limits.ts). */
let maxDepth = MAX_ANYVALUE_DEPTH;
const leaves = new LeafLimiter();
/** Log bodies merge across records interleaved with attributes, so they get their own. */
const bodyAcc = newAcc();

function accAt(depth: number): Acc {
  let a = accPool[depth];
  if (a === undefined) accPool[depth] = a = newAcc();
  a.kind = 'empty';
  a.str = '';
  a.n = 0;
  return a;
}

function accFinish(a: Acc): string {
  if (a.kind === 'array') return arrayJson(a.parts, a.n);
  if (a.kind === 'kvlist') return kvlistJson(a.keys, a.parts, a.n);
  return a.str;
}

function decodeAnyValue(a: Acc, end: number, depth: number): void {
  if (depth > maxDepth) throw nestingError(pathString(), maxDepth);
  while (pos < end) {
    const tag = readTag(end);
    switch (tag) {
      case 0x0a:
        a.kind = 'string';
        a.str = leaves.string(readString(end));
        break;
      case 0x10:
        a.kind = 'bool';
        a.str = flattenBool(readBool(end));
        break;
      case 0x18:
        readVarint64(end);
        a.kind = 'int';
        a.str = int64Decimal(vLo, vHi);
        break;
      case 0x21:
        a.kind = 'double';
        a.str = flattenDouble(readDouble(end));
        break;
      case 0x2a: {
        const e = lenEnd(end);
        if (a.kind !== 'array') {
          a.kind = 'array';
          a.n = 0;
        }
        enter('arrayValue', -1, T_ARRAYVALUE);
        decodeArrayValue(a, e, depth);
        sp--;
        break;
      }
      case 0x32: {
        const e = lenEnd(end);
        if (a.kind !== 'kvlist') {
          a.kind = 'kvlist';
          a.n = 0;
        }
        enter('kvlistValue', -1, T_KVLIST);
        decodeKvlist(a, e, depth);
        sp--;
        break;
      }
      case 0x3a: {
        const len = readLen(end);
        a.kind = 'bytes';
        a.str = flattenBytes(buf, pos, pos + leaves.bytes(len));
        pos += len;
        break;
      }
      default:
        skipOrFail(tag, end, T_ANYVALUE);
    }
  }
}

function decodeArrayValue(a: Acc, end: number, depth: number): void {
  while (pos < end) {
    const tag = readTag(end);
    if (tag === 0x0a) {
      const e = lenEnd(end);
      const child = accAt(depth + 1);
      enter('values', a.n, T_ANYVALUE);
      decodeAnyValue(child, e, depth + 1);
      sp--;
      a.parts[a.n++] = jsonElement(accFinish(child), child.kind);
    } else {
      skipOrFail(tag, end, T_ARRAYVALUE);
    }
  }
}

function decodeKvlist(a: Acc, end: number, depth: number): void {
  while (pos < end) {
    const tag = readTag(end);
    if (tag === 0x0a) {
      const e = lenEnd(end);
      enter('values', a.n, T_KEYVALUE);
      const flat = decodeKeyValue(e, depth + 1);
      sp--;
      a.keys[a.n] = kvKey;
      a.parts[a.n++] = jsonElement(flat, kvKind);
    } else {
      skipOrFail(tag, end, T_KVLIST);
    }
  }
}

/** Key and kind of the last decodeKeyValue, returned through module state to avoid a tuple. */
let kvKey = '';
let kvKind: LogBodyKind = 'empty';

/** Decodes a KeyValue whose value sits at `depth`; returns the flattened value. */
function decodeKeyValue(end: number, depth: number): string {
  let key = '';
  const a = accAt(depth);
  while (pos < end) {
    const tag = readTag(end);
    if (tag === 0x0a) {
      key = readCachedString(end);
    } else if (tag === 0x12) {
      const e = lenEnd(end);
      enter('value', -1, T_ANYVALUE);
      decodeAnyValue(a, e, depth);
      sp--;
    } else {
      skipOrFail(tag, end, T_KEYVALUE);
    }
  }
  // An attribute's own key is dropped whole when too long (limits.ts); a nested one is a leaf.
  kvKey = depth > 1 ? leaves.string(key) : key;
  kvKind = a.kind;
  if (a.kind === 'array' || a.kind === 'kvlist') return accFinish(a);
  return a.str;
}

function decodeAttribute(end: number, attrs: Attributes, index: number, name: string): void {
  enter(name, index, T_KEYVALUE);
  const v = decodeKeyValue(end, 1);
  sp--;
  setAttribute(attrs, kvKey, v);
}

// ---------------------------------------------------------------------------------------------
// Envelopes

function decodeResource(end: number, r: Resource): void {
  let ai = 0;
  while (pos < end) {
    const tag = readTag(end);
    if (tag === 0x0a) {
      const e = lenEnd(end);
      decodeAttribute(e, r.attributes, ai++, 'attributes');
    } else if (tag === 0x10) {
      r.droppedAttributesCount = readVarint(end);
    } else {
      skipOrFail(tag, end, T_RESOURCE);
    }
  }
}

function decodeScope(end: number, s: Scope): void {
  let ai = 0;
  while (pos < end) {
    const tag = readTag(end);
    switch (tag) {
      case 0x0a:
        s.name = readString(end);
        break;
      case 0x12:
        s.version = readString(end);
        break;
      case 0x1a: {
        const e = lenEnd(end);
        decodeAttribute(e, s.attributes, ai++, 'attributes');
        break;
      }
      case 0x20:
        s.droppedAttributesCount = readVarint(end);
        break;
      default:
        skipOrFail(tag, end, T_SCOPE);
    }
  }
}

// An envelope is read twice: first its resource (or scope) and schema URL, wherever they sit
// among the items, so the sink knows whose items follow before the first one arrives; then its
// items. The first pass only skips over the items, which costs a few tag reads.
function decodeResourceGroup(end: number, sig: number): void {
  const info = SIGNALS[sig]!;
  const resource: Resource = { attributes: {}, droppedAttributesCount: 0, schemaUrl: '' };
  const start = pos;
  while (pos < end) {
    const tag = readTag(end);
    if (tag === 0x0a) {
      const e = lenEnd(end);
      enter('resource', -1, T_RESOURCE);
      decodeResource(e, resource);
      sp--;
    } else if (tag === 0x1a) {
      resource.schemaUrl = readString(end);
    } else {
      skipOrFail(tag, end, info.resourceGroup);
    }
  }
  recordLimits.resource(resource);
  sink.group(resource);
  pos = start;
  let si = 0;
  while (pos < end) {
    const tag = readTag(end);
    if (tag === 0x12) {
      const e = lenEnd(end);
      enter(info.scopesField, si++, info.scopeGroup);
      decodeScopeGroup(e, sig);
      sp--;
    } else {
      skipOrFail(tag, end, info.resourceGroup);
    }
  }
  sink.groupEnd();
}

function decodeScopeGroup(end: number, sig: number): void {
  const info = SIGNALS[sig]!;
  // Every item of this scope shares the one Scope object.
  const scope: Scope = { name: '', version: '', attributes: {}, droppedAttributesCount: 0, schemaUrl: '' };
  const start = pos;
  while (pos < end) {
    const tag = readTag(end);
    if (tag === 0x0a) {
      const e = lenEnd(end);
      enter('scope', -1, T_SCOPE);
      decodeScope(e, scope);
      sp--;
    } else if (tag === 0x1a) {
      scope.schemaUrl = readString(end);
    } else {
      skipOrFail(tag, end, info.scopeGroup);
    }
  }
  recordLimits.scope(scope);
  pos = start;
  let ii = 0;
  while (pos < end) {
    const tag = readTag(end);
    if (tag === 0x12) {
      const e = lenEnd(end);
      enter(info.itemsField, ii++, info.item);
      if (sig === SIG_TRACES) decodeSpan(e, scope);
      else if (sig === SIG_METRICS) decodeMetric(e, scope);
      else decodeLogRecord(e, scope);
      sp--;
    } else {
      skipOrFail(tag, end, info.scopeGroup);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Ids

function allZero(start: number, len: number): boolean {
  for (let i = start; i < start + len; i++) if (buf[i] !== 0) return false;
  return true;
}

function hex(start: number, len: number): string {
  return buf.toString('hex', start, start + len);
}

/** Hex of an optional id; all zeros reads as absent, which is what senders mean by it. */
function optionalIdHex(start: number, len: number): string {
  return len === 0 || allZero(start, len) ? '' : hex(start, len);
}

// ---------------------------------------------------------------------------------------------
// Traces

function decodeSpan(end: number, scope: Scope): void {
  const s = emptySpan(scope);

  let tS = 0;
  let tL = 0;
  let sS = 0;
  let sL = 0;
  let pS = 0;
  let pL = 0;
  let ai = 0;
  let li = 0;
  let problem = '';
  let problemPath = '';
  while (pos < end) {
    const tag = readTag(end);
    switch (tag) {
      case 0x0a:
        tL = readLen(end);
        tS = pos;
        pos += tL;
        break;
      case 0x12:
        sL = readLen(end);
        sS = pos;
        pos += sL;
        break;
      case 0x1a:
        s.traceState = readString(end);
        break;
      case 0x22:
        pL = readLen(end);
        pS = pos;
        pos += pL;
        break;
      case 0x2a:
        s.name = readCachedString(end);
        break;
      case 0x30:
        s.kind = readVarint(end) | 0;
        break;
      case 0x39:
        s.startTimeUnixNano = readTime(end);
        break;
      case 0x41:
        s.endTimeUnixNano = readTime(end);
        break;
      case 0x4a: {
        const e = lenEnd(end);
        decodeAttribute(e, s.attributes, ai++, 'attributes');
        break;
      }
      case 0x50:
        s.droppedAttributesCount = readVarint(end);
        break;
      case 0x5a: {
        const e = lenEnd(end);
        enter('events', s.events.length, T_EVENT);
        s.events.push(decodeEvent(e));
        sp--;
        break;
      }
      case 0x60:
        s.droppedEventsCount = readVarint(end);
        break;
      case 0x6a: {
        const e = lenEnd(end);
        enter('links', li++, T_LINK);
        const link = decodeLink(e);
        if (linkProblem !== '' && problem === '') {
          problem = linkProblem;
          problemPath = pathString() + '.' + linkProblemField;
        }
        sp--;
        s.links.push(link);
        break;
      }
      case 0x70:
        s.droppedLinksCount = readVarint(end);
        break;
      case 0x7a: {
        const e = lenEnd(end);
        enter('status', -1, T_STATUS);
        decodeSpanStatus(e, s);
        sp--;
        break;
      }
      case 0x85: // field 16 (flags): its key takes two bytes, 0x85 0x01
        s.flags = readFixed32(end);
        break;
      default:
        skipOrFail(tag, end, T_SPAN);
    }
  }
  let field = '';
  let reason = requiredIdProblem('traceId', 16, tL, tL === 16 && allZero(tS, 16));
  if (reason) field = 'traceId';
  else {
    reason = requiredIdProblem('spanId', 8, sL, sL === 8 && allZero(sS, 8));
    if (reason) field = 'spanId';
    else {
      reason = optionalIdProblem('parentSpanId', 8, pL);
      if (reason) field = 'parentSpanId';
    }
  }
  if (reason) {
    invalid.push({ path: pathString() + '.' + field, reason });
    return;
  }
  if (problem) {
    invalid.push({ path: problemPath, reason: problem });
    return;
  }
  s.traceId = hex(tS, 16);
  s.spanId = hex(sS, 8);
  if (pL !== 0) s.parentSpanId = optionalIdHex(pS, pL);
  recordLimits.span(s);
  sink.item(s);
}

function decodeEvent(end: number): SpanEvent {
  const ev: SpanEvent = { timeUnixNano: '0', name: '', attributes: {}, droppedAttributesCount: 0 };
  let ai = 0;
  while (pos < end) {
    const tag = readTag(end);
    switch (tag) {
      case 0x09:
        ev.timeUnixNano = readTime(end);
        break;
      case 0x12:
        ev.name = readCachedString(end);
        break;
      case 0x1a: {
        const e = lenEnd(end);
        decodeAttribute(e, ev.attributes, ai++, 'attributes');
        break;
      }
      case 0x20:
        ev.droppedAttributesCount = readVarint(end);
        break;
      default:
        skipOrFail(tag, end, T_EVENT);
    }
  }
  return ev;
}

/** Problem found by the last decodeLink ("" if none) and the id field it concerns. */
let linkProblem = '';
let linkProblemField = '';

function decodeLink(end: number): SpanLink {
  const l: SpanLink = { traceId: '', spanId: '', traceState: '', attributes: {}, droppedAttributesCount: 0, flags: 0 };
  let tS = 0;
  let tL = 0;
  let sS = 0;
  let sL = 0;
  let ai = 0;
  while (pos < end) {
    const tag = readTag(end);
    switch (tag) {
      case 0x0a:
        tL = readLen(end);
        tS = pos;
        pos += tL;
        break;
      case 0x12:
        sL = readLen(end);
        sS = pos;
        pos += sL;
        break;
      case 0x1a:
        l.traceState = readString(end);
        break;
      case 0x22: {
        const e = lenEnd(end);
        decodeAttribute(e, l.attributes, ai++, 'attributes');
        break;
      }
      case 0x28:
        l.droppedAttributesCount = readVarint(end);
        break;
      case 0x35:
        l.flags = readFixed32(end);
        break;
      default:
        skipOrFail(tag, end, T_LINK);
    }
  }
  linkProblem = requiredIdProblem('traceId', 16, tL, tL === 16 && allZero(tS, 16));
  linkProblemField = 'traceId';
  if (linkProblem === '') {
    linkProblem = requiredIdProblem('spanId', 8, sL, sL === 8 && allZero(sS, 8));
    linkProblemField = 'spanId';
  }
  if (linkProblem === '') {
    l.traceId = hex(tS, 16);
    l.spanId = hex(sS, 8);
  }
  return l;
}

function decodeSpanStatus(end: number, s: SpanRecord): void {
  while (pos < end) {
    const tag = readTag(end);
    if (tag === 0x12) s.statusMessage = readString(end);
    else if (tag === 0x18) s.statusCode = readVarint(end) | 0;
    else skipOrFail(tag, end, T_STATUS);
  }
}

// ---------------------------------------------------------------------------------------------
// Metrics. Points are collected per Metric and stamped with the metric's identity at its end,
// because name/unit/temporality may arrive after the points.

let mTemporality = 0;
let mMonotonic = false;
let mPointIndex = 0;


const METRIC_DATA: Record<number, { type: MetricType; msg: number; field: string }> = {
  5: { type: 'gauge', msg: T_GAUGE, field: 'gauge' },
  7: { type: 'sum', msg: T_SUM, field: 'sum' },
  9: { type: 'histogram', msg: T_HISTOGRAM, field: 'histogram' },
  10: { type: 'exponential_histogram', msg: T_EXP_HISTOGRAM, field: 'exponentialHistogram' },
  11: { type: 'summary', msg: T_SUMMARY, field: 'summary' },
};

function decodeMetric(end: number, scope: Scope): void {
  let name = '';
  let description = '';
  let unit = '';
  let dataField = 0;
  let points: MetricPoint[] = [];
  const invalidMark = invalid.length;
  mTemporality = 0;
  mMonotonic = false;
  mPointIndex = 0;
  while (pos < end) {
    const tag = readTag(end);
    switch (tag) {
      case 0x0a:
        name = readString(end);
        break;
      case 0x12:
        description = readString(end);
        break;
      case 0x1a:
        unit = readString(end);
        break;
      case 0x2a:
      case 0x3a:
      case 0x4a:
      case 0x52:
      case 0x5a: {
        const e = lenEnd(end);
        const no = tag >>> 3;
        if (no !== dataField) {
          // oneof: a different member replaces everything the previous one produced
          dataField = no;
          points = [];
          invalid.length = invalidMark;
          mTemporality = 0;
          mMonotonic = false;
          mPointIndex = 0;
        }
        const d = METRIC_DATA[no]!;
        enter(d.field, -1, d.msg);
        decodeMetricData(e, d.type, d.msg, scope, points);
        sp--;
        break;
      }
      default:
        skipOrFail(tag, end, T_METRIC);
    }
  }
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    p.metricName = name;
    p.metricDescription = description;
    p.metricUnit = unit;
    p.temporality = mTemporality;
    p.isMonotonic = mMonotonic;
    recordLimits.point(p);
    sink.item(p);
  }
}

function decodeMetricData(end: number, type: MetricType, msg: number, scope: Scope, points: MetricPoint[]): void {
  while (pos < end) {
    const tag = readTag(end);
    if (tag === 0x0a) {
      const e = lenEnd(end);
      const p = emptyMetricPoint(scope, type);
      pointProblem = '';
      if (type === 'gauge' || type === 'sum') {
        enter('dataPoints', mPointIndex++, T_NUMBER_POINT);
        decodeNumberPoint(e, p);
      } else if (type === 'histogram') {
        enter('dataPoints', mPointIndex++, T_HISTOGRAM_POINT);
        decodeHistogramPoint(e, p);
      } else if (type === 'exponential_histogram') {
        enter('dataPoints', mPointIndex++, T_EXP_POINT);
        decodeExpPoint(e, p);
      } else {
        enter('dataPoints', mPointIndex++, T_SUMMARY_POINT);
        decodeSummaryPoint(e, p);
      }
      sp--;
      if (pointProblem === '') points.push(p);
      else invalid.push({ path: pointProblemPath, reason: pointProblem });
    } else if (tag === 0x10 && msg !== T_GAUGE && msg !== T_SUMMARY) {
      mTemporality = readVarint(end) | 0;
    } else if (tag === 0x18 && msg === T_SUM) {
      mMonotonic = readBool(end);
    } else {
      skipOrFail(tag, end, msg);
    }
  }
}

/** Decodes an exemplar into `list`; returns why its ids are malformed ("" if they are fine). */
function decodeExemplarInto(end: number, list: Exemplar[]): string {
  const x: Exemplar = { timeUnixNano: '0', value: 0, traceId: '', spanId: '', filteredAttributes: {} };
  let tS = 0;
  let tL = 0;
  let sS = 0;
  let sL = 0;
  let ai = 0;
  while (pos < end) {
    const tag = readTag(end);
    switch (tag) {
      case 0x3a: {
        const e = lenEnd(end);
        decodeAttribute(e, x.filteredAttributes, ai++, 'filteredAttributes');
        break;
      }
      case 0x11:
        x.timeUnixNano = readTime(end);
        break;
      case 0x19:
        x.value = readDouble(end);
        break;
      case 0x31:
        readFixed64(end);
        x.value = int64Number(vLo, vHi);
        break;
      case 0x22:
        sL = readLen(end);
        sS = pos;
        pos += sL;
        break;
      case 0x2a:
        tL = readLen(end);
        tS = pos;
        pos += tL;
        break;
      default:
        skipOrFail(tag, end, T_EXEMPLAR);
    }
  }
  let reason = optionalIdProblem('traceId', 16, tL);
  let field = 'traceId';
  if (!reason) {
    reason = optionalIdProblem('spanId', 8, sL);
    field = 'spanId';
  }
  if (reason) {
    exemplarProblemPath = pathString() + '.' + field;
    return reason;
  }
  x.traceId = optionalIdHex(tS, tL);
  x.spanId = optionalIdHex(sS, sL);
  list.push(x);
  return '';
}

/** Where the last malformed exemplar id was found. */
let exemplarProblemPath = '';
/** First exemplar problem of the point being decoded; the whole point is rejected for it. */
let pointProblem = '';
let pointProblemPath = '';

/** Decodes the exemplar at `index` of point `p`, remembering the point's first problem. */
function exemplarAt(end: number, p: MetricPoint, index: number): void {
  const e = lenEnd(end);
  enter('exemplars', index, T_EXEMPLAR);
  const reason = decodeExemplarInto(e, p.exemplars);
  sp--;
  if (reason !== '' && pointProblem === '') {
    pointProblem = reason;
    pointProblemPath = exemplarProblemPath;
  }
}

function decodeNumberPoint(end: number, p: MetricPoint): void {
  let ai = 0;
  let xi = 0;
  while (pos < end) {
    const tag = readTag(end);
    switch (tag) {
      case 0x3a: {
        const e = lenEnd(end);
        decodeAttribute(e, p.attributes, ai++, 'attributes');
        break;
      }
      case 0x11:
        p.startTimeUnixNano = readTime(end);
        break;
      case 0x19:
        p.timeUnixNano = readTime(end);
        break;
      case 0x21:
        p.value = readDouble(end);
        p.intValue = '';
        break;
      case 0x31:
        readFixed64(end);
        p.value = int64Number(vLo, vHi);
        p.intValue = int64Decimal(vLo, vHi);
        break;
      case 0x2a:
        exemplarAt(end, p, xi++);
        break;
      case 0x40:
        p.flags = readVarint(end);
        break;
      default:
        skipOrFail(tag, end, T_NUMBER_POINT);
    }
  }
}

function packedFixed64(end: number, out: string[]): void {
  const len = readLen(end);
  if (len % 8 !== 0) fail(`packed fixed64 field ${curTag >>> 3} at byte ${fieldStart} has length ${len}, not a multiple of 8`);
  const stop = pos + len;
  while (pos < stop) out.push(readTime(stop));
}

function packedDouble(end: number, out: number[]): void {
  const len = readLen(end);
  if (len % 8 !== 0) fail(`packed double field ${curTag >>> 3} at byte ${fieldStart} has length ${len}, not a multiple of 8`);
  const stop = pos + len;
  for (; pos < stop; pos += 8) out.push(buf.readDoubleLE(pos));
}

function decodeHistogramPoint(end: number, p: MetricPoint): void {
  let ai = 0;
  let xi = 0;
  while (pos < end) {
    const tag = readTag(end);
    switch (tag) {
      case 0x4a: {
        const e = lenEnd(end);
        decodeAttribute(e, p.attributes, ai++, 'attributes');
        break;
      }
      case 0x11:
        p.startTimeUnixNano = readTime(end);
        break;
      case 0x19:
        p.timeUnixNano = readTime(end);
        break;
      case 0x21:
        p.count = readTime(end);
        break;
      case 0x29:
        p.sum = readDouble(end);
        break;
      case 0x32:
        packedFixed64(end, p.bucketCounts);
        break;
      case 0x31:
        p.bucketCounts.push(readTime(end));
        break;
      case 0x3a:
        packedDouble(end, p.explicitBounds);
        break;
      case 0x39:
        p.explicitBounds.push(readDouble(end));
        break;
      case 0x42:
        exemplarAt(end, p, xi++);
        break;
      case 0x50:
        p.flags = readVarint(end);
        break;
      case 0x59:
        p.min = readDouble(end);
        break;
      case 0x61:
        p.max = readDouble(end);
        break;
      default:
        skipOrFail(tag, end, T_HISTOGRAM_POINT);
    }
  }
}

function decodeExpPoint(end: number, p: MetricPoint): void {
  let ai = 0;
  let xi = 0;
  while (pos < end) {
    const tag = readTag(end);
    switch (tag) {
      case 0x0a: {
        const e = lenEnd(end);
        decodeAttribute(e, p.attributes, ai++, 'attributes');
        break;
      }
      case 0x11:
        p.startTimeUnixNano = readTime(end);
        break;
      case 0x19:
        p.timeUnixNano = readTime(end);
        break;
      case 0x21:
        p.count = readTime(end);
        break;
      case 0x29:
        p.sum = readDouble(end);
        break;
      case 0x30:
        p.scale = sint32(readVarint(end));
        break;
      case 0x39:
        p.zeroCount = readTime(end);
        break;
      case 0x42: {
        const e = lenEnd(end);
        enter('positive', -1, T_BUCKETS);
        p.positiveOffset = decodeBuckets(e, p.positiveOffset, p.positiveBucketCounts);
        sp--;
        break;
      }
      case 0x4a: {
        const e = lenEnd(end);
        enter('negative', -1, T_BUCKETS);
        p.negativeOffset = decodeBuckets(e, p.negativeOffset, p.negativeBucketCounts);
        sp--;
        break;
      }
      case 0x50:
        p.flags = readVarint(end);
        break;
      case 0x5a:
        exemplarAt(end, p, xi++);
        break;
      case 0x61:
        p.min = readDouble(end);
        break;
      case 0x69:
        p.max = readDouble(end);
        break;
      case 0x71:
        p.zeroThreshold = readDouble(end);
        break;
      default:
        skipOrFail(tag, end, T_EXP_POINT);
    }
  }
}

/** Appends bucket counts to `counts`; returns the offset (the previous one unless present). */
function decodeBuckets(end: number, offset: number, counts: string[]): number {
  while (pos < end) {
    const tag = readTag(end);
    switch (tag) {
      case 0x08:
        offset = sint32(readVarint(end));
        break;
      case 0x12: {
        const stop = lenEnd(end);
        while (pos < stop) {
          readVarint64(stop);
          counts.push(uint64Decimal(vLo, vHi));
        }
        break;
      }
      case 0x10:
        readVarint64(end);
        counts.push(uint64Decimal(vLo, vHi));
        break;
      default:
        skipOrFail(tag, end, T_BUCKETS);
    }
  }
  return offset;
}

function decodeSummaryPoint(end: number, p: MetricPoint): void {
  let ai = 0;
  let qi = 0;
  while (pos < end) {
    const tag = readTag(end);
    switch (tag) {
      case 0x3a: {
        const e = lenEnd(end);
        decodeAttribute(e, p.attributes, ai++, 'attributes');
        break;
      }
      case 0x11:
        p.startTimeUnixNano = readTime(end);
        break;
      case 0x19:
        p.timeUnixNano = readTime(end);
        break;
      case 0x21:
        p.count = readTime(end);
        break;
      case 0x29:
        p.sum = readDouble(end);
        break;
      case 0x32: {
        const e = lenEnd(end);
        enter('quantileValues', qi++, T_QUANTILE);
        let q = 0;
        let v = 0;
        while (pos < e) {
          const t = readTag(e);
          if (t === 0x09) q = readDouble(e);
          else if (t === 0x11) v = readDouble(e);
          else skipOrFail(t, e, T_QUANTILE);
        }
        sp--;
        p.quantiles.push(q);
        p.quantileValues.push(v);
        break;
      }
      case 0x40:
        p.flags = readVarint(end);
        break;
      default:
        skipOrFail(tag, end, T_SUMMARY_POINT);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Logs

function decodeLogRecord(end: number, scope: Scope): void {
  const r: LogRecord = {
    scope,
    timeUnixNano: '0',
    observedTimeUnixNano: '0',
    severityNumber: 0,
    severityText: '',
    body: '',
    bodyKind: 'empty',
    attributes: {},
    droppedAttributesCount: 0,
    flags: 0,
    traceId: '',
    spanId: '',
    eventName: '',
  };
  const body = bodyAcc;
  body.kind = 'empty';
  body.str = '';
  body.n = 0;
  let tS = 0;
  let tL = 0;
  let sS = 0;
  let sL = 0;
  let ai = 0;
  while (pos < end) {
    const tag = readTag(end);
    switch (tag) {
      case 0x09:
        r.timeUnixNano = readTime(end);
        break;
      case 0x59:
        r.observedTimeUnixNano = readTime(end);
        break;
      case 0x10:
        r.severityNumber = readVarint(end) | 0;
        break;
      case 0x1a:
        r.severityText = readString(end);
        break;
      case 0x2a: {
        const e = lenEnd(end);
        enter('body', -1, T_ANYVALUE);
        decodeAnyValue(body, e, 1);
        sp--;
        break;
      }
      case 0x32: {
        const e = lenEnd(end);
        decodeAttribute(e, r.attributes, ai++, 'attributes');
        break;
      }
      case 0x38:
        r.droppedAttributesCount = readVarint(end);
        break;
      case 0x45:
        r.flags = readFixed32(end);
        break;
      case 0x4a:
        tL = readLen(end);
        tS = pos;
        pos += tL;
        break;
      case 0x52:
        sL = readLen(end);
        sS = pos;
        pos += sL;
        break;
      case 0x62:
        r.eventName = readString(end);
        break;
      default:
        skipOrFail(tag, end, T_LOG);
    }
  }
  let reason = optionalIdProblem('traceId', 16, tL);
  let field = 'traceId';
  if (!reason) {
    reason = optionalIdProblem('spanId', 8, sL);
    field = 'spanId';
  }
  if (reason) {
    invalid.push({ path: pathString() + '.' + field, reason });
    return;
  }
  r.traceId = optionalIdHex(tS, tL);
  r.spanId = optionalIdHex(sS, sL);
  r.bodyKind = body.kind;
  r.body = accFinish(body);
  recordLimits.log(r);
  sink.item(r);
}

// ---------------------------------------------------------------------------------------------

const idle = new GroupCollector();

function toBuffer(body: Uint8Array): Buffer {
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

function resetState(): void {
  buf = EMPTY;
  sink = idle;
  pos = 0;
  sp = 0;
  invalid = [];
  // Drop references to decoded strings so a large request is not kept alive by the pool.
  for (const a of accPool) {
    if (a) {
      a.parts.length = 0;
      a.keys.length = 0;
      a.str = '';
    }
  }
  bodyAcc.parts.length = 0;
  bodyAcc.keys.length = 0;
  bodyAcc.str = '';
}

/** Decode an OTLP/protobuf Export*ServiceRequest body for `signal` into grouped rows, within `limits`. */
export function decodeProtobuf(signal: Signal, body: Uint8Array, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): AnyDecoded {
  const into = new GroupCollector();
  return into.decoded(decodeProtobufInto(signal, body, into, limits));
}

/** Decode an OTLP/protobuf Export*ServiceRequest body for `signal` into `into`, item by item, within `limits`. */
export function decodeProtobufInto(signal: Signal, body: Uint8Array, into: DecodeSink<unknown>, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): DecodeOutcome {
  const sig = signal === 'traces' ? SIG_TRACES : signal === 'metrics' ? SIG_METRICS : SIG_LOGS;
  const info = SIGNALS[sig]!;
  buf = toBuffer(body);
  pos = 0;
  sp = 0;
  invalid = [];
  requestType = info.request;
  maxDepth = limits.maxDepth;
  leaves.reset(limits.maxStringLength);
  const report = emptyLimitReport(limits);
  sink = into;
  recordLimits = new RecordLimits(limits, report);
  const found = invalid;
  try {
    const end = buf.length;
    let gi = 0;
    while (pos < end) {
      const tag = readTag(end);
      if (tag === 0x0a) {
        const e = lenEnd(end);
        enter(info.groupsField, gi++, info.resourceGroup);
        decodeResourceGroup(e, sig);
        sp--;
      } else {
        skipOrFail(tag, end, info.request);
      }
    }
  } finally {
    report.truncated += leaves.truncated;
    resetState();
  }
  return { signal, invalid: found, limits: report };
}
