// Encodes an OTLP/JSON request object as the protobuf message it stands for, field by field
// from the OTLP field table (field numbers and wire types as in opentelemetry-proto), so a test
// can write a request once and send it in both encodings. Only what OTLP/JSON can say is
// needed: ids are hex, bytes values base64, 64-bit integers strings or numbers, doubles numbers
// or "NaN"/"Infinity"/"-Infinity". Every key present is written, defaults included (explicit
// presence is valid protobuf and keeps optional fields such as a histogram's sum apart from
// absent ones); unknown keys are an error, so a typo cannot silently drop a field.
import type { Signal } from '../../src/ingest/otlp/index.js';

type Scalar = 'string' | 'bool' | 'int64' | 'uint32' | 'enum' | 'sint32' | 'fixed32' | 'fixed64' | 'sfixed64' | 'double' | 'bytes' | 'id';
type Packed = 'packed-fixed64' | 'packed-double' | 'packed-uint64';
type Field = [no: number, type: Scalar | Packed] | [no: number, type: 'message', message: string, repeated?: 'repeated'];

const attrs = (no: number): Field => [no, 'message', 'KeyValue', 'repeated'];

const MESSAGES: Record<string, Record<string, Field>> = {
  ExportTraceServiceRequest: { resourceSpans: [1, 'message', 'ResourceSpans', 'repeated'] },
  ExportLogsServiceRequest: { resourceLogs: [1, 'message', 'ResourceLogs', 'repeated'] },
  ExportMetricsServiceRequest: { resourceMetrics: [1, 'message', 'ResourceMetrics', 'repeated'] },
  Resource: { attributes: attrs(1), droppedAttributesCount: [2, 'uint32'] },
  InstrumentationScope: { name: [1, 'string'], version: [2, 'string'], attributes: attrs(3), droppedAttributesCount: [4, 'uint32'] },
  KeyValue: { key: [1, 'string'], value: [2, 'message', 'AnyValue'] },
  AnyValue: {
    stringValue: [1, 'string'],
    boolValue: [2, 'bool'],
    intValue: [3, 'int64'],
    doubleValue: [4, 'double'],
    arrayValue: [5, 'message', 'ArrayValue'],
    kvlistValue: [6, 'message', 'KeyValueList'],
    bytesValue: [7, 'bytes'],
  },
  ArrayValue: { values: [1, 'message', 'AnyValue', 'repeated'] },
  KeyValueList: { values: [1, 'message', 'KeyValue', 'repeated'] },

  ResourceSpans: { resource: [1, 'message', 'Resource'], scopeSpans: [2, 'message', 'ScopeSpans', 'repeated'], schemaUrl: [3, 'string'] },
  ScopeSpans: { scope: [1, 'message', 'InstrumentationScope'], spans: [2, 'message', 'Span', 'repeated'], schemaUrl: [3, 'string'] },
  Span: {
    traceId: [1, 'id'],
    spanId: [2, 'id'],
    traceState: [3, 'string'],
    parentSpanId: [4, 'id'],
    flags: [16, 'fixed32'],
    name: [5, 'string'],
    kind: [6, 'enum'],
    startTimeUnixNano: [7, 'fixed64'],
    endTimeUnixNano: [8, 'fixed64'],
    attributes: attrs(9),
    droppedAttributesCount: [10, 'uint32'],
    events: [11, 'message', 'Event', 'repeated'],
    droppedEventsCount: [12, 'uint32'],
    links: [13, 'message', 'Link', 'repeated'],
    droppedLinksCount: [14, 'uint32'],
    status: [15, 'message', 'Status'],
  },
  Event: { timeUnixNano: [1, 'fixed64'], name: [2, 'string'], attributes: attrs(3), droppedAttributesCount: [4, 'uint32'] },
  Link: { traceId: [1, 'id'], spanId: [2, 'id'], traceState: [3, 'string'], attributes: attrs(4), droppedAttributesCount: [5, 'uint32'], flags: [6, 'fixed32'] },
  Status: { message: [2, 'string'], code: [3, 'enum'] },

  ResourceLogs: { resource: [1, 'message', 'Resource'], scopeLogs: [2, 'message', 'ScopeLogs', 'repeated'], schemaUrl: [3, 'string'] },
  ScopeLogs: { scope: [1, 'message', 'InstrumentationScope'], logRecords: [2, 'message', 'LogRecord', 'repeated'], schemaUrl: [3, 'string'] },
  LogRecord: {
    timeUnixNano: [1, 'fixed64'],
    observedTimeUnixNano: [11, 'fixed64'],
    severityNumber: [2, 'enum'],
    severityText: [3, 'string'],
    body: [5, 'message', 'AnyValue'],
    attributes: attrs(6),
    droppedAttributesCount: [7, 'uint32'],
    flags: [8, 'fixed32'],
    traceId: [9, 'id'],
    spanId: [10, 'id'],
    eventName: [12, 'string'],
  },

  ResourceMetrics: { resource: [1, 'message', 'Resource'], scopeMetrics: [2, 'message', 'ScopeMetrics', 'repeated'], schemaUrl: [3, 'string'] },
  ScopeMetrics: { scope: [1, 'message', 'InstrumentationScope'], metrics: [2, 'message', 'Metric', 'repeated'], schemaUrl: [3, 'string'] },
  Metric: {
    name: [1, 'string'],
    description: [2, 'string'],
    unit: [3, 'string'],
    gauge: [5, 'message', 'Gauge'],
    sum: [7, 'message', 'Sum'],
    histogram: [9, 'message', 'Histogram'],
    exponentialHistogram: [10, 'message', 'ExponentialHistogram'],
    summary: [11, 'message', 'Summary'],
    metadata: attrs(12),
  },
  Gauge: { dataPoints: [1, 'message', 'NumberDataPoint', 'repeated'] },
  Sum: { dataPoints: [1, 'message', 'NumberDataPoint', 'repeated'], aggregationTemporality: [2, 'enum'], isMonotonic: [3, 'bool'] },
  Histogram: { dataPoints: [1, 'message', 'HistogramDataPoint', 'repeated'], aggregationTemporality: [2, 'enum'] },
  ExponentialHistogram: { dataPoints: [1, 'message', 'ExponentialHistogramDataPoint', 'repeated'], aggregationTemporality: [2, 'enum'] },
  Summary: { dataPoints: [1, 'message', 'SummaryDataPoint', 'repeated'] },
  NumberDataPoint: {
    attributes: attrs(7),
    startTimeUnixNano: [2, 'fixed64'],
    timeUnixNano: [3, 'fixed64'],
    asDouble: [4, 'double'],
    asInt: [6, 'sfixed64'],
    exemplars: [5, 'message', 'Exemplar', 'repeated'],
    flags: [8, 'uint32'],
  },
  HistogramDataPoint: {
    attributes: attrs(9),
    startTimeUnixNano: [2, 'fixed64'],
    timeUnixNano: [3, 'fixed64'],
    count: [4, 'fixed64'],
    sum: [5, 'double'],
    bucketCounts: [6, 'packed-fixed64'],
    explicitBounds: [7, 'packed-double'],
    exemplars: [8, 'message', 'Exemplar', 'repeated'],
    flags: [10, 'uint32'],
    min: [11, 'double'],
    max: [12, 'double'],
  },
  ExponentialHistogramDataPoint: {
    attributes: attrs(1),
    startTimeUnixNano: [2, 'fixed64'],
    timeUnixNano: [3, 'fixed64'],
    count: [4, 'fixed64'],
    sum: [5, 'double'],
    scale: [6, 'sint32'],
    zeroCount: [7, 'fixed64'],
    positive: [8, 'message', 'Buckets'],
    negative: [9, 'message', 'Buckets'],
    flags: [10, 'uint32'],
    exemplars: [11, 'message', 'Exemplar', 'repeated'],
    min: [12, 'double'],
    max: [13, 'double'],
    zeroThreshold: [14, 'double'],
  },
  Buckets: { offset: [1, 'sint32'], bucketCounts: [2, 'packed-uint64'] },
  SummaryDataPoint: {
    attributes: attrs(7),
    startTimeUnixNano: [2, 'fixed64'],
    timeUnixNano: [3, 'fixed64'],
    count: [4, 'fixed64'],
    sum: [5, 'double'],
    quantileValues: [6, 'message', 'ValueAtQuantile', 'repeated'],
    flags: [8, 'uint32'],
  },
  ValueAtQuantile: { quantile: [1, 'double'], value: [2, 'double'] },
  Exemplar: {
    filteredAttributes: attrs(7),
    timeUnixNano: [2, 'fixed64'],
    asDouble: [3, 'double'],
    asInt: [6, 'sfixed64'],
    spanId: [4, 'id'],
    traceId: [5, 'id'],
  },
};

const REQUEST: Record<Signal, string> = { traces: 'ExportTraceServiceRequest', logs: 'ExportLogsServiceRequest', metrics: 'ExportMetricsServiceRequest' };

/** A protobuf varint; negative int64/enum values are their 64-bit two's complement (ten bytes). */
export function varint(n: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}

function tag(no: number, wire: number): Buffer {
  return varint(BigInt((no << 3) | wire));
}

function bigint(v: unknown, path: string): bigint {
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  throw new Error(`${path}: not an integer: ${JSON.stringify(v)}`);
}

function double(v: unknown, path: string): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  throw new Error(`${path}: not a double: ${JSON.stringify(v)}`);
}

function fixed(bytes: 4 | 8, write: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(bytes);
  write(b);
  return b;
}

function len(no: number, body: Buffer): Buffer {
  return Buffer.concat([tag(no, 2), varint(BigInt(body.length)), body]);
}

function scalar(no: number, type: Scalar | Packed, v: unknown, path: string): Buffer {
  switch (type) {
    case 'string':
      if (typeof v !== 'string') throw new Error(`${path}: not a string`);
      return len(no, Buffer.from(v, 'utf8'));
    case 'bytes':
      return len(no, Buffer.from(v as string, 'base64'));
    case 'id':
      if (typeof v !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(v)) throw new Error(`${path}: not hex`);
      return len(no, Buffer.from(v, 'hex'));
    case 'bool':
      return Buffer.concat([tag(no, 0), varint(v ? 1n : 0n)]);
    case 'int64':
    case 'uint32':
    case 'enum':
      return Buffer.concat([tag(no, 0), varint(bigint(v, path))]);
    case 'sint32': {
      const n = Number(bigint(v, path));
      return Buffer.concat([tag(no, 0), varint(BigInt(((n << 1) ^ (n >> 31)) >>> 0))]);
    }
    case 'fixed32':
      return Buffer.concat([tag(no, 5), fixed(4, (b) => b.writeUInt32LE(Number(bigint(v, path))))]);
    case 'fixed64':
      return Buffer.concat([tag(no, 1), fixed(8, (b) => b.writeBigUInt64LE(bigint(v, path)))]);
    case 'sfixed64':
      return Buffer.concat([tag(no, 1), fixed(8, (b) => b.writeBigInt64LE(bigint(v, path)))]);
    case 'double':
      return Buffer.concat([tag(no, 1), fixed(8, (b) => b.writeDoubleLE(double(v, path)))]);
    case 'packed-fixed64':
      return len(no, Buffer.concat((v as unknown[]).map((x, i) => fixed(8, (b) => b.writeBigUInt64LE(bigint(x, `${path}[${i}]`))))));
    case 'packed-double':
      return len(no, Buffer.concat((v as unknown[]).map((x, i) => fixed(8, (b) => b.writeDoubleLE(double(x, `${path}[${i}]`))))));
    case 'packed-uint64':
      return len(no, Buffer.concat((v as unknown[]).map((x, i) => varint(bigint(x, `${path}[${i}]`)))));
  }
}

function message(name: string, o: Record<string, unknown>, path: string): Buffer {
  const fields = MESSAGES[name];
  if (!fields) throw new Error(`no message ${name}`);
  const parts: Buffer[] = [];
  for (const [key, v] of Object.entries(o)) {
    const f = fields[key];
    if (!f) throw new Error(`${path}.${key}: not a field of ${name}`);
    if (v === null || v === undefined) continue;
    const [no, type] = f;
    if (type === 'message') {
      const [, , sub, repeated] = f;
      const items = repeated ? (v as Record<string, unknown>[]) : [v as Record<string, unknown>];
      items.forEach((item, i) => parts.push(len(no, message(sub, item ?? {}, repeated ? `${path}.${key}[${i}]` : `${path}.${key}`))));
    } else {
      parts.push(scalar(no, type, v, `${path}.${key}`));
    }
  }
  return Buffer.concat(parts);
}

/** The protobuf Export*ServiceRequest for an OTLP/JSON request object of `signal`. */
export function otlpJsonToProtobuf(signal: Signal, request: Record<string, unknown>): Buffer {
  return message(REQUEST[signal], request, REQUEST[signal]);
}
