// OTLP decoding as a receiver needs it: the upstream example payloads decode field for field,
// the OTel SDK's own JSON and protobuf encodings of the same data decode to identical rows,
// hostile or broken input fails with a catalogue error (never a crash or a stack overflow),
// and replies (Export responses, google.rpc.Status) round-trip in both encodings.
import { varint } from './support/otlp-protobuf.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { context, trace, SpanKind, SpanStatusCode, ValueType } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { MeterProvider, MetricReader, AggregationType } from '@opentelemetry/sdk-metrics';
import { LoggerProvider, InMemoryLogRecordExporter, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import {
  ProtobufTraceSerializer,
  JsonTraceSerializer,
  ProtobufMetricsSerializer,
  JsonMetricsSerializer,
  ProtobufLogsSerializer,
  JsonLogsSerializer,
} from '@opentelemetry/otlp-transformer';
import {
  countItems,
  DEFAULT_DECODE_LIMITS,
  DEFAULT_MAX_STRING_LENGTH,
  limitWarning,
  decodeExportResponse,
  decodeOtlp,
  decodeStatus,
  encodeExportResponse,
  encodeStatus,
  MAX_ANYVALUE_DEPTH,
  type AnyDecoded,
  type DecodedLogs,
  type DecodedMetrics,
  type DecodedTraces,
  type DecodeLimits,
  type Encoding,
  type Signal,
} from '../src/ingest/otlp/index.js';
import { int64Decimal, kvlistJson, uint64Decimal } from '../src/ingest/otlp/flatten.js';
import { isTenantscopeError, type TenantscopeError } from '../src/errors.js';

// ---------------------------------------------------------------------------------------------
// Helpers

/** Runs `fn`, expecting a catalogue error with `code`; returns it. */
function expectError(fn: () => unknown, code: string, message?: RegExp): TenantscopeError {
  try {
    fn();
  } catch (e) {
    if (!isTenantscopeError(e)) throw new Error(`expected ${code}, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    assert.is(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return e;
  }
  throw new Error(`expected ${code}, but it decoded`);
}

/** Decoding either succeeds or throws a catalogue error; anything else fails the test. */
function decodesOrRejects(signal: Signal, body: Uint8Array, encoding: Encoding, label: string): void {
  try {
    decodeOtlp(signal, body, encoding);
  } catch (e) {
    if (!isTenantscopeError(e)) throw new Error(`${label}: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    if (e.code !== 'TS_ERR_OTLP_DECODE' && e.code !== 'TS_ERR_OTLP_NESTING') throw new Error(`${label}: unexpected ${e.code}`);
  }
}

function js(v: unknown): Buffer {
  return Buffer.from(JSON.stringify(v));
}

// A minimal protobuf writer for hand-made messages (field number first in every helper).
const cat = (...parts: Array<Buffer | number[]>): Buffer => Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
const key = (no: number, wire: number): Buffer => varint(no * 8 + wire);
const len = (no: number, ...parts: Buffer[]): Buffer => {
  const payload = Buffer.concat(parts);
  return cat(key(no, 2), varint(payload.length), payload);
};
const str = (no: number, s: string): Buffer => len(no, Buffer.from(s, 'utf8'));
const raw = (no: number, bytes: Buffer | number[]): Buffer => len(no, Buffer.from(bytes));
const vint = (no: number, n: number | bigint): Buffer => cat(key(no, 0), varint(n));
const fixed64 = (no: number, n: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, n));
  return cat(key(no, 1), b);
};
const dbl = (no: number, d: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(d);
  return cat(key(no, 1), b);
};
const fixed32 = (no: number, n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return cat(key(no, 5), b);
};
const strKv = (k: string, v: string): Buffer => cat(str(1, k), len(2, str(1, v)));

const TRACE_ID = Buffer.from('5b8efff798038103d269b633813fc60c', 'hex');
const SPAN_ID = Buffer.from('eee19b7ec3c1b174', 'hex');

/** ExportTraceServiceRequest with one resource (service.name=svc) and one scope holding `spans`. */
function traceRequest(...spans: Buffer[]): Buffer {
  return len(1, len(1, len(1, strKv('service.name', 'svc'))), len(2, len(1, str(1, 'lib')), ...spans.map((s) => len(2, s))));
}

function basicSpan(...extra: Buffer[]): Buffer {
  return cat(raw(1, TRACE_ID), raw(2, SPAN_ID), str(5, 'op'), ...extra);
}

function logsRequest(...records: Buffer[]): Buffer {
  return len(1, len(2, ...records.map((r) => len(2, r))));
}

function metricsRequest(...metrics: Buffer[]): Buffer {
  return len(1, len(2, ...metrics.map((m) => len(2, m))));
}

function spans(d: AnyDecoded) {
  return (d as DecodedTraces).groups.flatMap((g) => g.items);
}
function points(d: AnyDecoded) {
  return (d as DecodedMetrics).groups.flatMap((g) => g.items);
}
function logs(d: AnyDecoded) {
  return (d as DecodedLogs).groups.flatMap((g) => g.items);
}

/**
 * A protobuf AnyValue nesting `depth` AnyValues through arrays (or kvlists) around "x". Built
 * inside-out from sizes so that 100,000 levels take linear time and memory.
 */
function deepAnyValue(depth: number, via: 'array' | 'kvlist'): Buffer {
  const headers: Buffer[] = [];
  let size = 3; // innermost AnyValue{string_value:"x"}
  for (let i = 1; i < depth; i++) {
    let h: Buffer;
    if (via === 'array') {
      // AnyValue{array_value: ArrayValue{values: [inner]}}
      const inner = cat([0x0a], varint(size));
      h = cat([0x2a], varint(inner.length + size), inner);
    } else {
      // AnyValue{kvlist_value: KeyValueList{values: [KeyValue{key:"k", value: inner}]}}
      const kv = cat([0x0a, 0x01, 0x6b, 0x12], varint(size));
      const list = cat([0x0a], varint(kv.length + size), kv);
      h = cat([0x32], varint(list.length + size), list);
    }
    headers.push(h);
    size += h.length;
  }
  headers.reverse();
  return cat(...headers, Buffer.from([0x0a, 0x01, 0x78]));
}

/** KeyValue "deep" holding deepAnyValue(depth, via). */
function deepKeyValue(depth: number, via: 'array' | 'kvlist'): Buffer {
  return cat(str(1, 'deep'), len(2, deepAnyValue(depth, via)));
}

// ---------------------------------------------------------------------------------------------
// The upstream example payloads

const EXAMPLES = new URL('../../../shared/otlp-examples/', import.meta.url);
const haveExamples = existsSync(fileURLToPath(EXAMPLES));
if (!haveExamples) console.log('skip: ../shared/otlp-examples not found');
const exampleTest = haveExamples ? test : test.skip;
const example = (name: string): Buffer => readFileSync(new URL(name, EXAMPLES));

const EXAMPLE_SCOPE = {
  name: 'my.library',
  version: '1.0.0',
  attributes: { 'my.scope.attribute': 'some scope attribute' },
  droppedAttributesCount: 0,
  schemaUrl: '',
};

exampleTest('trace.json decodes field for field: lowercase ids, exact nanosecond times, kind, attributes', () => {
  const d = decodeOtlp('traces', example('trace.json'), 'json');
  assert.equal(d.invalid, []);
  assert.is(d.groups.length, 1);
  assert.equal(d.groups[0]!.resource, { attributes: { 'service.name': 'my.service' }, droppedAttributesCount: 0, schemaUrl: '' });
  assert.equal(d.groups[0]!.items, [
    {
      scope: EXAMPLE_SCOPE,
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b174',
      parentSpanId: 'eee19b7ec3c1b173',
      traceState: '',
      flags: 0,
      name: "I'm a server span",
      kind: 2,
      startTimeUnixNano: '1544712660000000000',
      endTimeUnixNano: '1544712661000000000',
      attributes: { 'my.span.attr': 'some value' },
      droppedAttributesCount: 0,
      events: [],
      droppedEventsCount: 0,
      links: [],
      droppedLinksCount: 0,
      statusCode: 0,
      statusMessage: '',
    },
  ]);
  assert.is(countItems(d), 1);
});

exampleTest('metrics.json yields one point per metric: sum, gauge, histogram and exponential histogram', () => {
  const d = decodeOtlp('metrics', example('metrics.json'), 'json');
  assert.equal(d.invalid, []);
  const ps = points(d);
  assert.equal(
    ps.map((p) => [p.metricName, p.metricType, p.metricUnit, p.metricDescription]),
    [
      ['my.counter', 'sum', '1', 'I am a Counter'],
      ['my.gauge', 'gauge', '1', 'I am a Gauge'],
      ['my.histogram', 'histogram', '1', 'I am a Histogram'],
      ['my.exponential.histogram', 'exponential_histogram', '1', 'I am an Exponential Histogram'],
    ],
  );
  const [sum, gauge, hist, exp] = ps as [(typeof ps)[0], (typeof ps)[0], (typeof ps)[0], (typeof ps)[0]];
  assert.is(sum.value, 5);
  assert.is(sum.intValue, '');
  assert.is(sum.temporality, 1);
  assert.is(sum.isMonotonic, true);
  assert.is(sum.startTimeUnixNano, '1544712660300000000');
  assert.is(sum.timeUnixNano, '1544712660300000000');
  assert.equal(sum.attributes, { 'my.counter.attr': 'some value' });
  assert.is(sum.sum, null);
  assert.is(gauge.value, 10);
  assert.is(gauge.temporality, 0);
  assert.is(gauge.startTimeUnixNano, '0');
  assert.equal(gauge.attributes, { 'my.gauge.attr': 'some value' });
  assert.is(hist.count, '2');
  assert.is(hist.sum, 2);
  assert.equal(hist.bucketCounts, ['1', '1']);
  assert.equal(hist.explicitBounds, [1]);
  assert.is(hist.min, 0);
  assert.is(hist.max, 2);
  assert.is(hist.temporality, 1);
  assert.is(exp.count, '3');
  assert.is(exp.sum, 10);
  assert.is(exp.scale, 0);
  assert.is(exp.zeroCount, '1');
  assert.is(exp.positiveOffset, 1);
  assert.equal(exp.positiveBucketCounts, ['0', '2']);
  assert.equal(exp.negativeBucketCounts, []);
  assert.is(exp.min, 0);
  assert.is(exp.max, 5);
  assert.is(exp.zeroThreshold, 0);
  assert.equal(exp.attributes, { 'my.exponential.histogram.attr': 'some value' });
  assert.ok(ps.every((p) => p.scope === ps[0]!.scope), 'points of one scope share its Scope');
  assert.equal(ps[0]!.scope, EXAMPLE_SCOPE);
});

exampleTest('logs.json flattens every AnyValue kind: string, bool, int, double, array and kvlist', () => {
  const d = decodeOtlp('logs', example('logs.json'), 'json');
  assert.equal(d.invalid, []);
  const [r] = logs(d);
  assert.ok(r);
  assert.is(r.traceId, '5b8efff798038103d269b633813fc60c');
  assert.is(r.spanId, 'eee19b7ec3c1b174');
  assert.is(r.timeUnixNano, '1544712660300000000');
  assert.is(r.observedTimeUnixNano, '1544712660300000000');
  assert.is(r.severityNumber, 10);
  assert.is(r.severityText, 'Information');
  assert.is(r.body, 'Example log record');
  assert.is(r.bodyKind, 'string');
  assert.is(r.eventName, '');
  assert.equal(r.attributes, {
    'string.attribute': 'some string',
    'boolean.attribute': 'true',
    'int.attribute': '10',
    'double.attribute': '637.704',
    'array.attribute': '["many","values"]',
    'map.attribute': '{"some.map.key":"some value"}',
  });
  assert.equal(r.scope, EXAMPLE_SCOPE);
});

exampleTest('events.json keeps the event name and flattens the map body to compact JSON', () => {
  const d = decodeOtlp('logs', example('events.json'), 'json');
  const [r] = logs(d);
  assert.ok(r);
  assert.is(r.eventName, 'browser.page_view');
  assert.is(r.severityNumber, 9);
  assert.is(r.severityText, 'test severity text');
  assert.is(r.bodyKind, 'kvlist');
  assert.is(
    r.body,
    '{"type":"0","url":"https://www.guidgenerator.com/online-guid-generator.aspx","referrer":"https://wwww.google.com","title":"Free Online GUID Generator"}',
  );
  assert.equal(JSON.parse(r.body).type, '0');
  assert.equal(r.attributes, { 'event.attribute': 'some event attribute' });
  assert.is(r.traceId, '');
  assert.is(r.spanId, '');
});

// ---------------------------------------------------------------------------------------------
// Interop: the OTel SDK's own serializers, both encodings of the same data

const RESOURCE = resourceFromAttributes({ 'service.name': 'checkout', 'tenant.id': 'acme', 'host.cores': 2 });

function sdkSpans() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource: RESOURCE, spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('shop.lib', '2.1.0');
  const linked = tracer.startSpan('producer', { kind: SpanKind.PRODUCER });
  linked.end();
  const root = tracer.startSpan('GET /cart', {
    kind: SpanKind.SERVER,
    attributes: {
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      ratio: 0.25,
      negative: -42,
      big: 2 ** 52 + 1,
      ok: true,
      tags: ['a', 'b', 'ü'],
      codes: [1, 2, 3],
      mixed: [1.5, 2],
      bools: [true, false],
      empty: '',
    },
    links: [{ context: linked.spanContext(), attributes: { why: 'batch' } }],
    startTime: [1_700_000_000, 123_456_789],
  });
  root.addEvent('cache.miss', { key: 'cart:42', size: 3 }, [1_700_000_000, 200_000_000]);
  root.addEvent('retry');
  const child = tracer.startSpan('SELECT cart', { kind: SpanKind.CLIENT }, trace.setSpan(context.active(), root));
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'timeout' });
  child.end();
  root.setStatus({ code: SpanStatusCode.OK });
  root.end([1_700_000_001, 0]);
  return { spans: exporter.getFinishedSpans(), root, child, linked };
}

class TestReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

async function sdkMetrics() {
  const reader = new TestReader();
  const provider = new MeterProvider({
    resource: RESOURCE,
    readers: [reader],
    views: [{ instrumentName: 'payload.size', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
  });
  const meter = provider.getMeter('shop.metrics', '1.0.0');
  meter.createCounter('requests', { valueType: ValueType.INT, unit: '1', description: 'requests served' }).add(5, { route: '/cart' });
  meter.createCounter('bytes', { valueType: ValueType.DOUBLE }).add(12.5);
  meter.createUpDownCounter('inflight', { valueType: ValueType.INT }).add(-3, { pool: 'db' });
  meter.createGauge('temperature').record(21.5, { room: 'a' });
  const h = meter.createHistogram('latency', { unit: 'ms', advice: { explicitBucketBoundaries: [1, 10, 100] } });
  for (const v of [0.5, 5, 50, 500, 7]) h.record(v, { route: '/cart' });
  const e = meter.createHistogram('payload.size');
  for (const v of [1, 2, 4, 1000, 0, 3.5]) e.record(v);
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  return resourceMetrics;
}

function sdkLogs() {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource: RESOURCE, processors: [new SimpleLogRecordProcessor({ exporter })] });
  const logger = provider.getLogger('shop.logs', '3.0.0');
  const spanCtx = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };
  const ctx = trace.setSpanContext(context.active(), spanCtx);
  logger.emit({ body: 'plain text', severityNumber: SeverityNumber.INFO, severityText: 'INFO', attributes: { n: 1 }, timestamp: [1_700_000_000, 5] });
  logger.emit({ body: { user: { id: 7, roles: ['admin', 'dev'] }, ok: false }, severityNumber: SeverityNumber.WARN, context: ctx });
  logger.emit({ body: new Uint8Array([0, 1, 2, 250, 255]), eventName: 'blob.received' });
  logger.emit({ body: [1, 'two', 3.5, [true]], attributes: { nested: { a: [1, { b: 'c' }] } } });
  logger.emit({ eventName: 'empty.body' });
  return exporter.getFinishedLogRecords();
}

test('SDK spans encoded as JSON and as protobuf decode to deep-equal rows with the SDK ids and times', () => {
  const { spans: sdk, root, child, linked } = sdkSpans();
  const fromJson = decodeOtlp('traces', JsonTraceSerializer.serializeRequest(sdk)!, 'json');
  const fromProto = decodeOtlp('traces', ProtobufTraceSerializer.serializeRequest(sdk)!, 'protobuf');
  assert.equal(fromProto, fromJson);
  assert.equal(fromProto.invalid, []);
  const rows = spans(fromProto);
  assert.is(rows.length, 3);
  const r = rows.find((s) => s.name === 'GET /cart')!;
  const c = rows.find((s) => s.name === 'SELECT cart')!;
  assert.is(r.traceId, root.spanContext().traceId);
  assert.is(r.spanId, root.spanContext().spanId);
  assert.is(r.parentSpanId, '');
  assert.is(c.parentSpanId, root.spanContext().spanId);
  assert.is(c.traceId, child.spanContext().traceId);
  assert.is(r.kind, 2);
  assert.is(c.kind, 3);
  assert.is(r.startTimeUnixNano, '1700000000123456789');
  assert.is(r.endTimeUnixNano, '1700000001000000000');
  assert.is(r.statusCode, 1);
  assert.is(c.statusCode, 2);
  assert.is(c.statusMessage, 'timeout');
  assert.equal(r.attributes, {
    'http.request.method': 'GET',
    'http.response.status_code': '200',
    ratio: '0.25',
    negative: '-42',
    big: '4503599627370497',
    ok: 'true',
    tags: '["a","b","ü"]',
    codes: '["1","2","3"]',
    mixed: '["1.5","2"]',
    bools: '["true","false"]',
    empty: '',
  });
  assert.equal(
    r.events.map((e) => [e.name, e.attributes]),
    [
      ['cache.miss', { key: 'cart:42', size: '3' }],
      ['retry', {}],
    ],
  );
  assert.is(r.events[0]!.timeUnixNano, '1700000000200000000');
  assert.is(r.links.length, 1);
  assert.is(r.links[0]!.traceId, linked.spanContext().traceId);
  assert.is(r.links[0]!.spanId, linked.spanContext().spanId);
  assert.equal(r.links[0]!.attributes, { why: 'batch' });
  assert.is(r.scope.name, 'shop.lib');
  assert.is(r.scope.version, '2.1.0');
  assert.equal(fromProto.groups[0]!.resource.attributes, { 'service.name': 'checkout', 'tenant.id': 'acme', 'host.cores': '2' });
});

test('SDK metrics (counters, gauge, histogram, exponential histogram) decode identically from JSON and protobuf', async () => {
  const rm = await sdkMetrics();
  const fromJson = decodeOtlp('metrics', JsonMetricsSerializer.serializeRequest(rm)!, 'json');
  const fromProto = decodeOtlp('metrics', ProtobufMetricsSerializer.serializeRequest(rm)!, 'protobuf');
  assert.equal(fromProto, fromJson);
  const ps = points(fromProto);
  const by = (n: string) => ps.find((p) => p.metricName === n)!;
  assert.is(by('requests').metricType, 'sum');
  assert.is(by('requests').intValue, '5');
  assert.is(by('requests').value, 5);
  assert.is(by('requests').isMonotonic, true);
  assert.is(by('requests').temporality, 2);
  assert.is(by('requests').metricDescription, 'requests served');
  assert.is(by('bytes').value, 12.5);
  assert.is(by('bytes').intValue, '');
  assert.is(by('inflight').intValue, '-3');
  assert.is(by('inflight').isMonotonic, false);
  assert.is(by('temperature').metricType, 'gauge');
  assert.is(by('temperature').value, 21.5);
  const lat = by('latency');
  assert.is(lat.metricType, 'histogram');
  assert.is(lat.count, '5');
  assert.is(lat.sum, 562.5);
  assert.equal(lat.explicitBounds, [1, 10, 100]);
  assert.equal(lat.bucketCounts, ['1', '2', '1', '1']);
  assert.is(lat.min, 0.5);
  assert.is(lat.max, 500);
  const exp = by('payload.size');
  assert.is(exp.metricType, 'exponential_histogram');
  assert.is(exp.count, '6');
  assert.is(exp.zeroCount, '1');
  assert.ok(exp.positiveBucketCounts.length > 0);
  assert.is(
    exp.positiveBucketCounts.reduce((a, b) => a + Number(b), 0),
    5,
  );
  assert.ok(exp.scale !== 0, 'scale comes through zigzag');
});

test('SDK log records (string, map, bytes, array bodies, event names, trace context) decode identically from JSON and protobuf', () => {
  const records = sdkLogs();
  const fromJson = decodeOtlp('logs', JsonLogsSerializer.serializeRequest(records)!, 'json');
  const fromProto = decodeOtlp('logs', ProtobufLogsSerializer.serializeRequest(records)!, 'protobuf');
  assert.equal(fromProto, fromJson);
  const rs = logs(fromProto);
  assert.equal(
    rs.map((r) => [r.bodyKind, r.body]),
    [
      ['string', 'plain text'],
      ['kvlist', '{"user":{"id":"7","roles":["admin","dev"]},"ok":"false"}'],
      ['bytes', 'AAEC+v8='],
      ['array', '["1","two","3.5",["true"]]'],
      ['empty', ''],
    ],
  );
  assert.is(rs[0]!.timeUnixNano, '1700000000000000005');
  assert.is(rs[0]!.severityNumber, 9);
  assert.is(rs[1]!.traceId, '0af7651916cd43dd8448eb211c80319c');
  assert.is(rs[1]!.spanId, 'b7ad6b7169203331');
  assert.is(rs[1]!.flags, 1);
  assert.is(rs[2]!.eventName, 'blob.received');
  assert.equal(rs[3]!.attributes, { nested: '{"a":["1",{"b":"c"}]}' });
});

// ---------------------------------------------------------------------------------------------
// Protobuf rules (FIELDS.md)

test('protobuf: unknown fields of every wire type, reserved numbers and profiles-only fields are skipped', () => {
  const unknowns = cat(vint(99, 300), fixed64(98, 1n), raw(97, [1, 2, 3]), fixed32(96, 7));
  const span = basicSpan(unknowns, cat(key(2000, 0), varint(1)));
  const kv = cat(str(1, 'a'), vint(3, 5), len(2, str(1, 'v'), vint(8, 4))); // key_strindex, string_value_strindex
  const req = len(1, len(1, len(1, kv), len(3, str(1, 'entity'))), raw(1000, [9, 9]), len(2, len(1, str(1, 'lib'), unknowns), len(2, span)), unknowns);
  const d = decodeOtlp('traces', req, 'protobuf');
  assert.equal(d.invalid, []);
  assert.equal(d.groups[0]!.resource.attributes, { a: 'v' });
  const [s] = spans(d);
  assert.is(s!.name, 'op');
  assert.is(s!.scope.name, 'lib');
  // Metric 4/6/8 and point field 1 are retired numbers
  const m = cat(str(1, 'm'), vint(4, 1), raw(6, [1]), len(5, len(1, fixed64(1, 5n), dbl(4, 2.5))));
  const [p] = points(decodeOtlp('metrics', metricsRequest(m), 'protobuf'));
  assert.is(p!.value, 2.5);
  assert.is(p!.metricType, 'gauge');
});

test('protobuf: packed, unpacked and mixed repeated scalars all append in order', () => {
  const packedU64 = (...ns: number[]) => Buffer.concat(ns.map((n) => varint(n)));
  const packedF64 = (...ns: bigint[]) => Buffer.concat(ns.map((n) => fixed64(1, n).subarray(1)));
  const packedDbl = (...ds: number[]) => Buffer.concat(ds.map((d) => dbl(1, d).subarray(1)));
  const hist = cat(
    len(6, packedF64(1n, 2n)),
    fixed64(6, 3n),
    len(6, packedF64(2n ** 60n)),
    dbl(7, 0.5),
    len(7, packedDbl(1.5, 2.5)),
    fixed64(4, 2n ** 60n + 6n),
  );
  const exp = cat(len(8, vint(1, 3 /* zigzag -2 */), len(2, packedU64(1, 300)), vint(2, 4), len(2, packedU64(2 ** 40))), len(9, vint(2, 7)));
  const req = metricsRequest(cat(str(1, 'h'), len(9, len(1, hist), vint(2, 2))), cat(str(1, 'e'), len(10, len(1, exp))));
  const [h, e] = points(decodeOtlp('metrics', req, 'protobuf'));
  assert.equal(h!.bucketCounts, ['1', '2', '3', '1152921504606846976']);
  assert.equal(h!.explicitBounds, [0.5, 1.5, 2.5]);
  assert.is(h!.count, '1152921504606846982');
  assert.is(h!.temporality, 2);
  assert.is(h!.sum, null, 'absent optional sum stays null');
  assert.equal(e!.positiveBucketCounts, ['1', '300', '4', '1099511627776']);
  assert.is(e!.positiveOffset, -2);
  assert.equal(e!.negativeBucketCounts, ['7']);
});

test('protobuf: fixed64 times, sfixed64 as_int and sint32 scale/offset decode exactly', () => {
  const max = (1n << 64n) - 1n;
  const pointWith = (asInt: bigint) => cat(str(1, 'g'), len(5, len(1, fixed64(2, max), fixed64(3, 1544712660300000001n), fixed64(6, asInt))));
  const req = metricsRequest(
    pointWith(-1n),
    pointWith(-(1n << 63n)),
    pointWith((1n << 63n) - 1n),
    pointWith(9007199254740993n),
    cat(str(1, 'e'), len(10, len(1, vint(6, 19), len(8, vint(1, 5))))),
    cat(str(1, 'e2'), len(10, len(1, vint(6, 0xffffffff), len(9, vint(1, 2 ** 31 - 1))))),
  );
  const ps = points(decodeOtlp('metrics', req, 'protobuf'));
  assert.is(ps[0]!.startTimeUnixNano, max.toString());
  assert.is(ps[0]!.timeUnixNano, '1544712660300000001');
  assert.equal(
    ps.slice(0, 4).map((p) => p.intValue),
    ['-1', '-9223372036854775808', '9223372036854775807', '9007199254740993'],
  );
  assert.is(ps[0]!.value, -1);
  assert.is(ps[4]!.scale, -10);
  assert.is(ps[4]!.positiveOffset, -3);
  assert.is(ps[5]!.scale, -2147483648);
  assert.is(ps[5]!.negativeOffset, -1073741824);
});

test('protobuf: int64 AnyValues are exact decimals, including ten-byte negatives and the extremes', () => {
  const values = [0n, 1n, -1n, 127n, -128n, 2n ** 53n + 1n, -(2n ** 53n) - 1n, 2n ** 63n - 1n, -(2n ** 63n), -5000000000n];
  const kvs = values.map((v, i) => len(9, str(1, `k${i}`), len(2, vint(3, v))));
  const [s] = spans(decodeOtlp('traces', traceRequest(basicSpan(...kvs)), 'protobuf'));
  assert.equal(
    values.map((_, i) => s!.attributes[`k${i}`]),
    values.map((v) => v.toString()),
  );
});

test('protobuf: last scalar wins, singular messages merge, repeated fields append, the last oneof member wins', () => {
  const span = basicSpan(
    str(5, 'second-name'),
    len(15, str(2, 'msg')),
    len(15, vint(3, 2)), // status merged: message kept, code added
    len(9, str(1, 'a'), len(2, str(1, 'first'), vint(3, 7))), // oneof: int replaces string
    len(9, str(1, 'b'), len(2, len(5, len(1, str(1, 'x')))), len(2, len(5, len(1, str(1, 'y'))))), // value merged: arrays append
    len(9, str(1, 'c'), len(2, len(5, len(1, str(1, 'x'))), str(1, 's'), len(5, len(1, str(1, 'z'))))), // array, string, array: only z
    len(9, str(1, 'a'), len(2, dbl(4, 1.25))), // repeated key: last wins
    vint(6, 3),
    vint(6, 4),
  );
  const req = len(1, len(1, len(1, strKv('x', '1'))), len(1, len(1, strKv('y', '2')), vint(2, 3)), len(2, len(2, span)));
  const d = decodeOtlp('traces', req, 'protobuf');
  const [s] = spans(d);
  assert.is(s!.name, 'second-name');
  assert.is(s!.kind, 4);
  assert.is(s!.statusMessage, 'msg');
  assert.is(s!.statusCode, 2);
  assert.equal(s!.attributes, { a: '1.25', b: '["x","y"]', c: '["z"]' });
  assert.equal(d.groups[0]!.resource, { attributes: { x: '1', y: '2' }, droppedAttributesCount: 3, schemaUrl: '' });
  // Metric data oneof: a later member replaces the earlier one's points
  const m = cat(len(5, len(1, dbl(4, 1))), str(1, 'm'), len(7, len(1, dbl(4, 2)), vint(3, 1)), len(7, len(1, fixed64(6, 3n))));
  const ps = points(decodeOtlp('metrics', metricsRequest(m), 'protobuf'));
  assert.equal(
    ps.map((p) => [p.metricType, p.metricName, p.value, p.intValue, p.isMonotonic]),
    [
      ['sum', 'm', 2, '', true],
      ['sum', 'm', 3, '3', true],
    ],
  );
  // NumberDataPoint value oneof: as_double after as_int clears the int
  const [q] = points(decodeOtlp('metrics', metricsRequest(cat(str(1, 'q'), len(5, len(1, fixed64(6, 9n), dbl(4, 0.5))))), 'protobuf'));
  assert.is(q!.value, 0.5);
  assert.is(q!.intValue, '');
});

test('protobuf: spans with a wrong-length, missing or all-zero id go to invalid with a path; the others are kept', () => {
  const req = traceRequest(
    basicSpan(),
    cat(raw(1, [1, 2, 3]), raw(2, SPAN_ID)),
    cat(raw(1, TRACE_ID)),
    cat(raw(1, Buffer.alloc(16)), raw(2, SPAN_ID)),
    cat(raw(1, TRACE_ID), raw(2, Buffer.alloc(8))),
    cat(raw(1, TRACE_ID), raw(2, SPAN_ID), raw(4, [1, 2])),
    cat(raw(1, TRACE_ID), raw(2, SPAN_ID), len(13, raw(1, TRACE_ID), raw(2, [1]))),
    cat(raw(1, TRACE_ID), raw(2, SPAN_ID), raw(4, Buffer.alloc(8))),
  );
  const d = decodeOtlp('traces', req, 'protobuf');
  assert.equal(d.invalid, [
    { path: 'resourceSpans[0].scopeSpans[0].spans[1].traceId', reason: 'traceId must be 16 bytes, got 3' },
    { path: 'resourceSpans[0].scopeSpans[0].spans[2].spanId', reason: 'spanId is missing (must be 8 bytes)' },
    { path: 'resourceSpans[0].scopeSpans[0].spans[3].traceId', reason: 'traceId must not be all zeros' },
    { path: 'resourceSpans[0].scopeSpans[0].spans[4].spanId', reason: 'spanId must not be all zeros' },
    { path: 'resourceSpans[0].scopeSpans[0].spans[5].parentSpanId', reason: 'parentSpanId must be 8 bytes or empty, got 2' },
    { path: 'resourceSpans[0].scopeSpans[0].spans[6].links[0].spanId', reason: 'spanId must be 8 bytes, got 1' },
  ]);
  const kept = spans(d);
  assert.is(kept.length, 2);
  assert.is(kept[1]!.parentSpanId, '', 'an all-zero parent id reads as a root span');
  assert.is(countItems(d), 2);
});

test('protobuf: log record ids may be empty, but present ids must be 16/8 bytes', () => {
  const req = logsRequest(str(3, 'no ids'), cat(raw(9, TRACE_ID), raw(10, SPAN_ID)), cat(raw(9, TRACE_ID), raw(10, [1, 2, 3])), raw(9, [1]));
  const d = decodeOtlp('logs', req, 'protobuf');
  assert.equal(
    logs(d).map((r) => [r.traceId, r.spanId]),
    [
      ['', ''],
      ['5b8efff798038103d269b633813fc60c', 'eee19b7ec3c1b174'],
    ],
  );
  assert.equal(d.invalid, [
    { path: 'resourceLogs[0].scopeLogs[0].logRecords[2].spanId', reason: 'spanId must be 8 bytes or empty, got 3' },
    { path: 'resourceLogs[0].scopeLogs[0].logRecords[3].traceId', reason: 'traceId must be 16 bytes or empty, got 1' },
  ]);
});

test('protobuf: invalid UTF-8 decodes with replacement characters, valid multi-byte text intact', () => {
  const s = basicSpan(raw(3, [0x61, 0xff, 0x62]), len(9, str(1, 'k'), len(2, str(1, 'Grüße, 世界 🎉'))));
  const [span] = spans(decodeOtlp('traces', traceRequest(s), 'protobuf'));
  assert.is(span!.traceState, 'a\ufffdb');
  assert.is(span!.attributes.k, 'Grüße, 世界 🎉');
});

test('protobuf: the repeated-string cache never returns another string, even for colliding keys or a reused buffer', () => {
  // Same length and same bytes at the sampled positions (0, 2, 4, 7): they share a cache slot.
  const keys = ['aXcdefgh', 'aYcdefgh', 'aXcdefgh', 'aZcdefgh', 'aYcdefgh'];
  const s = basicSpan(...keys.map((k, i) => len(9, strKv(k, String(i)))));
  const [span] = spans(decodeOtlp('traces', traceRequest(s), 'protobuf'));
  assert.equal(span!.attributes, { aXcdefgh: '2', aYcdefgh: '4', aZcdefgh: '3' });
  // A caller may reuse its buffer: decoded strings must not change, and new bytes must be read.
  const body = traceRequest(basicSpan(len(9, strKv('tenant.id', 'acme'))));
  const first = spans(decodeOtlp('traces', body, 'protobuf'))[0]!;
  body.write('tenant.ix', body.indexOf('tenant.id'));
  const second = spans(decodeOtlp('traces', body, 'protobuf'))[0]!;
  assert.equal(Object.keys(first.attributes), ['tenant.id']);
  assert.equal(Object.keys(second.attributes), ['tenant.ix']);
  // non-ASCII keys go through the cache as well
  const [u] = spans(decodeOtlp('traces', traceRequest(basicSpan(len(9, strKv('ключ', 'значение')), len(9, strKv('ключ', 'v2')))), 'protobuf'));
  assert.equal(u!.attributes, { ключ: 'v2' });
});

test('protobuf: an empty body is an empty request', () => {
  for (const signal of ['traces', 'metrics', 'logs'] as const) {
    const d = decodeOtlp(signal, new Uint8Array(0), 'protobuf');
    assert.equal({ ...d, limits: undefined }, { signal, groups: [], invalid: [], limits: undefined });
  }
});

// ---------------------------------------------------------------------------------------------
// Hostile protobuf

test('hostile protobuf: every prefix of a valid request decodes or throws TS_ERR_OTLP_DECODE, for each signal', async () => {
  const { spans: sdk } = sdkSpans();
  const bodies: Array<[Signal, Uint8Array]> = [
    ['traces', ProtobufTraceSerializer.serializeRequest(sdk)!],
    ['metrics', ProtobufMetricsSerializer.serializeRequest(await sdkMetrics())!],
    ['logs', ProtobufLogsSerializer.serializeRequest(sdkLogs())!],
  ];
  for (const [signal, body] of bodies) {
    for (let n = 0; n < body.length; n++) decodesOrRejects(signal, body.subarray(0, n), 'protobuf', `${signal} prefix ${n}`);
  }
  // A cut request fails at the outermost length, the first thing that no longer fits.
  const [, traces] = bodies[0]!;
  expectError(
    () => decodeOtlp('traces', traces.subarray(0, traces.length - 3), 'protobuf'),
    'TS_ERR_OTLP_DECODE',
    /^cannot decode ExportTraceServiceRequest \(protobuf\) request: truncated length-delimited field 1 at byte 0: declares \d+ bytes but only \d+ remain \(resourceSpans\)$/,
  );
  // A length that overruns its own message is reported with the full path of the field.
  const bad = traceRequest(cat(raw(1, TRACE_ID), raw(2, SPAN_ID), [0x2a, 0x7f], Buffer.from('abc')));
  const e = expectError(() => decodeOtlp('traces', bad, 'protobuf'), 'TS_ERR_OTLP_DECODE');
  assert.match(
    e.message,
    /^cannot decode ExportTraceServiceRequest \(protobuf\) request: truncated length-delimited field 5 at byte \d+: declares 127 bytes but only 3 remain \(resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.name\)$/,
  );
});

test('hostile protobuf: random corruption never escapes as anything but a catalogue error', () => {
  const { spans: sdk } = sdkSpans();
  const body = Buffer.from(ProtobufTraceSerializer.serializeRequest(sdk)!);
  let seed = 0x2545f491;
  const rnd = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  for (let i = 0; i < 3000; i++) {
    const b = Buffer.from(body);
    const flips = 1 + rnd(4);
    for (let j = 0; j < flips; j++) b[rnd(b.length)] = rnd(256);
    decodesOrRejects('traces', b, 'protobuf', `mutation ${i}`);
  }
});

test('hostile protobuf: a known field with the wrong wire type is rejected, naming field, path and byte offset', () => {
  expectError(() => decodeOtlp('traces', Buffer.from([0x08, 0x01]), 'protobuf'), 'TS_ERR_OTLP_DECODE', /field 1 \(resourceSpans\) of ExportTraceServiceRequest at byte 0 has wire type VARINT \(0\), expected LEN \(2\)/);
  const req = traceRequest(cat(raw(1, TRACE_ID), raw(2, SPAN_ID), vint(5, 3)));
  const e = expectError(() => decodeOtlp('traces', req, 'protobuf'), 'TS_ERR_OTLP_DECODE', /wire type VARINT \(0\), expected LEN \(2\)/);
  assert.match(e.message, /\(resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.name\)$/);
  assert.is(e.context.path, 'resourceSpans[0].scopeSpans[0].spans[0].name');
  assert.is(typeof e.context.offset, 'number');
  // a fixed64 time sent as a varint
  expectError(() => decodeOtlp('traces', traceRequest(basicSpan(vint(7, 5))), 'protobuf'), 'TS_ERR_OTLP_DECODE', /startTimeUnixNano/);
  // a packed field as I32 is neither of its two forms
  const m = metricsRequest(cat(str(1, 'h'), len(9, len(1, fixed32(6, 1)))));
  expectError(() => decodeOtlp('metrics', m, 'protobuf'), 'TS_ERR_OTLP_DECODE', /expected LEN \(2\) or I64 \(1\)/);
});

test('hostile protobuf: a 2^40 length is rejected as running past the data, without allocating', () => {
  const body = cat([0x0a], varint(2 ** 40), [0x0a, 0x00]);
  expectError(() => decodeOtlp('traces', body, 'protobuf'), 'TS_ERR_OTLP_DECODE', /truncated length-delimited field 1 at byte 0: declares 1099511627776 bytes but only 2 remain \(resourceSpans\)/);
  // A nested length may not run past its parent even if the buffer goes on.
  const nested = cat(len(1, cat([0x0a, 0x05], [0x0a, 0x00])), Buffer.alloc(10));
  expectError(() => decodeOtlp('traces', nested, 'protobuf'), 'TS_ERR_OTLP_DECODE', /resourceSpans\[0\]\.resource/);
  // a packed fixed64 whose length is not a multiple of 8
  const m = metricsRequest(cat(str(1, 'h'), len(9, len(1, raw(6, [1, 2, 3])))));
  expectError(() => decodeOtlp('metrics', m, 'protobuf'), 'TS_ERR_OTLP_DECODE', /not a multiple of 8/);
});

test('hostile protobuf: 100,000-deep AnyValue nesting fails with TS_ERR_OTLP_NESTING, not a stack overflow', () => {
  for (const via of ['array', 'kvlist'] as const) {
    const body = traceRequest(basicSpan(len(9, deepKeyValue(100_000, via))));
    const e = expectError(() => decodeOtlp('traces', body, 'protobuf'), 'TS_ERR_OTLP_NESTING', /AnyValue nested deeper than 64 levels at resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.attributes\[0\]\.value\./);
    assert.ok(e.message.length < 2000);
    const inBody = logsRequest(len(5, deepAnyValue(100_000, via)));
    expectError(() => decodeOtlp('logs', inBody, 'protobuf'), 'TS_ERR_OTLP_NESTING', /at resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[0\]\.body\./);
  }
});

test(`protobuf nesting: ${MAX_ANYVALUE_DEPTH} levels are accepted, one more is not`, () => {
  for (const via of ['array', 'kvlist'] as const) {
    const ok = decodeOtlp('traces', traceRequest(basicSpan(len(9, deepKeyValue(MAX_ANYVALUE_DEPTH, via)))), 'protobuf');
    const v = spans(ok)[0]!.attributes.deep!;
    assert.ok(v.startsWith(via === 'array' ? '[[[' : '{"k":{"k":'), v.slice(0, 20));
    assert.ok(v.includes('"x"'));
    expectError(() => decodeOtlp('traces', traceRequest(basicSpan(len(9, deepKeyValue(MAX_ANYVALUE_DEPTH + 1, via)))), 'protobuf'), 'TS_ERR_OTLP_NESTING');
  }
});

test('hostile protobuf: group wire types 3 and 4, invalid wire types and field number 0 are rejected', () => {
  expectError(() => decodeOtlp('traces', traceRequest(basicSpan(key(20, 3), key(20, 4))), 'protobuf'), 'TS_ERR_OTLP_DECODE', /group wire type 3/);
  expectError(() => decodeOtlp('traces', cat(key(5, 4)), 'protobuf'), 'TS_ERR_OTLP_DECODE', /group wire type 4/);
  expectError(() => decodeOtlp('traces', cat(key(5, 7)), 'protobuf'), 'TS_ERR_OTLP_DECODE', /invalid wire type 7/);
  expectError(() => decodeOtlp('traces', Buffer.from([0x02, 0x00]), 'protobuf'), 'TS_ERR_OTLP_DECODE', /field number 0/);
  expectError(() => decodeOtlp('traces', Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), 'protobuf'), 'TS_ERR_OTLP_DECODE', /field key/);
  expectError(() => decodeOtlp('traces', traceRequest(basicSpan(cat(key(6, 0), Buffer.alloc(11, 0xff)))), 'protobuf'), 'TS_ERR_OTLP_DECODE', /longer than 10 bytes/);
});

// ---------------------------------------------------------------------------------------------
// JSON rules and hostile JSON

const spanJson = (extra: Record<string, unknown> = {}) => ({
  traceId: '5b8efff798038103d269b633813fc60c',
  spanId: 'eee19b7ec3c1b174',
  name: 'op',
  ...extra,
});
const traceJson = (...ss: unknown[]) => js({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans: ss }] }] });

test('JSON leniency: snake_case keys, uppercase hex, base64 ids, int64 numbers, NaN/Infinity, url-safe bytes, nulls, unknown keys', () => {
  const body = js({
    resource_spans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { string_value: 'svc' } }], dropped_attributes_count: '2' },
        schema_url: 'https://schema',
        unknownKey: { deeply: [1, 2, 3] },
        scope_spans: [
          {
            scope: { name: 'lib', version: null },
            spans: [
              {
                trace_id: 'W47/95gDgQPSabYzgT/GDA==',
                span_id: '7uGbfsPBsXQ',
                parent_span_id: 'EEE19B7EC3C1B173',
                start_time_unix_nano: 1544712660000000000,
                end_time_unix_nano: '1544712661000000000',
                kind: '3',
                status: { code: 2, message: null },
                attributes: [
                  { key: 'i', value: { int_value: -7 } },
                  { key: 'n', value: { double_value: 'NaN' } },
                  { key: 'inf', value: { doubleValue: '-Infinity' } },
                  { key: 'e', value: { doubleValue: '1e3' } },
                  { key: 'b', value: { bytes_value: '-_8' } },
                  { key: 'nil', value: null },
                  { key: 'x', value: { stringValue: null, boolValue: false } },
                  { key: 'big', value: { intValue: '0009223372036854775807' } },
                ],
                events: null,
                futureField: 42,
              },
            ],
          },
        ],
      },
    ],
  });
  const d = decodeOtlp('traces', body, 'json');
  assert.equal(d.invalid, []);
  const [s] = spans(d);
  assert.is(s!.traceId, '5b8efff798038103d269b633813fc60c');
  assert.is(s!.spanId, 'eee19b7ec3c1b174');
  assert.is(s!.parentSpanId, 'eee19b7ec3c1b173');
  assert.is(s!.startTimeUnixNano, '1544712660000000000');
  assert.is(s!.kind, 3);
  assert.is(s!.statusCode, 2);
  assert.equal(s!.attributes, { i: '-7', n: 'NaN', inf: '-Infinity', e: '1000', b: '+/8=', nil: '', x: 'false', big: '9223372036854775807' });
  assert.equal(d.groups[0]!.resource, { attributes: { 'service.name': 'svc' }, droppedAttributesCount: 2, schemaUrl: 'https://schema' });
  assert.is(s!.scope.version, '');
});

test('hostile JSON: invalid JSON is rejected with the parser position', () => {
  const e = expectError(() => decodeOtlp('traces', Buffer.from('{"resourceSpans": [\n  {"resource": }'), 'json'), 'TS_ERR_OTLP_DECODE');
  assert.match(e.message, /^cannot decode ExportTraceServiceRequest \(JSON\) request: \(root\): invalid JSON at character 35 \(line 2, column 16\): /);
  expectError(() => decodeOtlp('traces', Buffer.from('{"resourceSpans": ['), 'json'), 'TS_ERR_OTLP_DECODE', /invalid JSON/);
  expectError(() => decodeOtlp('logs', Buffer.from('[1,2]'), 'json'), 'TS_ERR_OTLP_DECODE', /expected a JSON object with "resourceLogs", got an array/);
});

test('hostile JSON: a known field of the wrong JSON type names the path and the expected type', () => {
  const cases: Array<[Buffer, RegExp]> = [
    [js({ resourceSpans: 5 }), /resourceSpans: expected an array, got a number \(5\)/],
    [js({ resourceSpans: [{ scopeSpans: [{ spans: 5 }] }] }), /resourceSpans\[0\]\.scopeSpans\[0\]\.spans: expected an array, got a number \(5\)/],
    [traceJson(spanJson({ traceId: 12 })), /spans\[0\]\.traceId: expected a string, got a number \(12\)/],
    [traceJson(spanJson({ attributes: {} })), /spans\[0\]\.attributes: expected an array, got an object/],
    [traceJson(spanJson({ startTimeUnixNano: true })), /spans\[0\]\.startTimeUnixNano: expected a uint64/],
    [traceJson(spanJson({ startTimeUnixNano: '-5' })), /startTimeUnixNano: -5 is out of range for uint64/],
    [traceJson(spanJson({ kind: 'SPAN_KIND_SERVER' })), /spans\[0\]\.kind: expected an integer enum value \(OTLP\/JSON sends enums as numbers, not names\)/],
    [traceJson(spanJson({ attributes: [{ key: 'k', value: { intValue: 1.5 } }] })), /attributes\[0\]\.value\.intValue: expected an int64/],
    [traceJson(spanJson({ attributes: [{ key: 'k', value: { intValue: '9223372036854775808' } }] })), /out of range for int64/],
    [traceJson(spanJson({ attributes: [{ key: 'k', value: { doubleValue: 'fast' } }] })), /doubleValue: expected a double/],
    [traceJson(spanJson({ attributes: [{ key: 'k', value: { bytesValue: 'not base64!' } }] })), /bytesValue: expected base64/],
    [traceJson(spanJson({ attributes: [{ key: 'k', value: 'bare' }] })), /attributes\[0\]\.value: expected an AnyValue object/],
    [traceJson(spanJson({ attributes: [{ key: 7, value: {} }] })), /attributes\[0\]\.key: expected a string/],
    [traceJson(spanJson({ status: [] })), /spans\[0\]\.status: expected an object, got an array/],
    [traceJson(spanJson({ droppedAttributesCount: -1 })), /droppedAttributesCount: -1 is out of range for a uint32/],
    [traceJson(7), /spans: expected spans to hold objects|spans\[0\]/],
  ];
  for (const [body, re] of cases) {
    const e = expectError(() => decodeOtlp('traces', body, 'json'), 'TS_ERR_OTLP_DECODE', re);
    assert.ok(typeof e.context.path === 'string');
  }
  expectError(
    () => decodeOtlp('metrics', js({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'm', histogram: { dataPoints: [{ bucketCounts: ['1', 'x'] }] } }] }] }] }), 'json'),
    'TS_ERR_OTLP_DECODE',
    /metrics\[0\]\.histogram\.dataPoints\[0\]\.bucketCounts\[1\]: expected a uint64/,
  );
  expectError(() => decodeOtlp('logs', js({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: 5 }] }] }] }), 'json'), 'TS_ERR_OTLP_DECODE', /logRecords\[0\]\.body: expected an AnyValue object/);
});

test('hostile JSON: putting any JSON type in place of any value of real SDK requests yields rows or a catalogue error', async () => {
  const bodies: Array<[Signal, Uint8Array]> = [
    ['traces', JsonTraceSerializer.serializeRequest(sdkSpans().spans)!],
    ['metrics', JsonMetricsSerializer.serializeRequest(await sdkMetrics())!],
    ['logs', JsonLogsSerializer.serializeRequest(sdkLogs())!],
  ];
  const replacements: unknown[] = [null, 0, -1, 1.5, 1e300, '', 'x', '-9', 'NaN', true, [], [null], {}, { values: 5 }, [{ key: 1 }]];
  let decodes = 0;
  for (const [signal, body] of bodies) {
    const root = JSON.parse(Buffer.from(body).toString()) as unknown;
    const slots: Array<[Record<string, unknown> | unknown[], string | number]> = [];
    const walk = (v: unknown) => {
      if (Array.isArray(v)) v.forEach((x, i) => (slots.push([v, i]), walk(x)));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) (slots.push([v as Record<string, unknown>, k]), walk(x));
    };
    walk(root);
    for (const [holder, k] of slots) {
      const saved = (holder as Record<string | number, unknown>)[k];
      for (const r of replacements) {
        (holder as Record<string | number, unknown>)[k] = r;
        decodesOrRejects(signal, js(root), 'json', `${signal} ${String(k)} := ${JSON.stringify(r)}`);
        decodes++;
      }
      (holder as Record<string | number, unknown>)[k] = saved;
    }
  }
  assert.ok(decodes > 1000, `${decodes} variants`);
});

test('hostile JSON: 1,000-deep AnyValue nesting fails with TS_ERR_OTLP_NESTING', () => {
  let v: unknown = { stringValue: 'x' };
  for (let i = 0; i < 1000; i++) v = { arrayValue: { values: [v] } };
  expectError(() => decodeOtlp('traces', traceJson(spanJson({ attributes: [{ key: 'deep', value: v }] })), 'json'), 'TS_ERR_OTLP_NESTING', /nested deeper than 64 levels at resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.attributes\[0\]\.value\.arrayValue\.values\[0\]/);
  let w: unknown = { stringValue: 'x' };
  for (let i = 1; i < MAX_ANYVALUE_DEPTH; i++) w = { kvlistValue: { values: [{ key: 'k', value: w }] } };
  const d = decodeOtlp('logs', js({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: w }] }] }] }), 'json');
  assert.is(logs(d)[0]!.bodyKind, 'kvlist');
  // 100,000 levels of raw JSON nesting in an ignored key do not matter either
  const deepUnknown = Buffer.from(`{"junk":${'['.repeat(100_000)}${']'.repeat(100_000)},"resourceSpans":[]}`);
  assert.equal(decodeOtlp('traces', deepUnknown, 'json').groups, []);
});

test('hostile JSON: a 10 MB string attribute is cut to the 64 Ki-character default, and kept whole under a higher limit', () => {
  const big = 'x'.repeat(10 * 1024 * 1024);
  const body = traceJson(spanJson({ attributes: [{ key: 'big', value: { stringValue: big } }] }));
  const d = decodeOtlp('traces', body, 'json');
  assert.is(spans(d)[0]!.attributes.big, big.slice(0, DEFAULT_MAX_STRING_LENGTH));
  assert.is(d.limits.truncated, 1);
  const whole = decodeOtlp('traces', body, 'json', { ...DEFAULT_DECODE_LIMITS, maxStringLength: big.length });
  assert.ok(spans(whole)[0]!.attributes.big === big);
  assert.is(whole.limits.truncated, 0);
});

test('JSON: bad ids send the item to invalid with a path and reason, in the same words as protobuf', () => {
  const d = decodeOtlp(
    'traces',
    traceJson(
      spanJson({ traceId: 'zz8efff798038103d269b633813fc60c' }),
      spanJson({ traceId: '5b8eff' }),
      spanJson({ spanId: '' }),
      spanJson({ traceId: '00000000000000000000000000000000' }),
      spanJson({ links: [{ traceId: '5b8efff798038103d269b633813fc60c', spanId: 'abc' }] }),
      spanJson(),
    ),
    'json',
  );
  assert.equal(d.invalid, [
    { path: 'resourceSpans[0].scopeSpans[0].spans[0].traceId', reason: 'traceId is not 32 hex characters (or base64 of 16 bytes): "zz8efff798038103d269b633813fc60c"' },
    { path: 'resourceSpans[0].scopeSpans[0].spans[1].traceId', reason: 'traceId must be 16 bytes, got 3' },
    { path: 'resourceSpans[0].scopeSpans[0].spans[2].spanId', reason: 'spanId is missing (must be 8 bytes)' },
    { path: 'resourceSpans[0].scopeSpans[0].spans[3].traceId', reason: 'traceId must not be all zeros' },
    { path: 'resourceSpans[0].scopeSpans[0].spans[4].links[0].spanId', reason: 'spanId is not 16 hex characters (or base64 of 8 bytes): "abc"' },
  ]);
  assert.is(countItems(d), 1);
  const l = decodeOtlp('logs', js({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ traceId: '' }, { spanId: '0102' }] }] }] }), 'json');
  assert.is(countItems(l), 1);
  assert.equal(l.invalid, [{ path: 'resourceLogs[0].scopeLogs[0].logRecords[1].spanId', reason: 'spanId must be 8 bytes or empty, got 2' }]);
});

test('JSON: an empty or whitespace body is an empty request', () => {
  assert.equal({ ...decodeOtlp('logs', Buffer.from(' \n'), 'json'), limits: undefined }, { signal: 'logs', groups: [], invalid: [], limits: undefined });
  assert.equal({ ...decodeOtlp('logs', Buffer.from('{}'), 'json'), limits: undefined }, { signal: 'logs', groups: [], invalid: [], limits: undefined });
});

// ---------------------------------------------------------------------------------------------
// Flattening

test('flatten: uint64/int64 decimals are exact around 2^53 and at the extremes', () => {
  const probe = (lo: number, hi: number) => {
    const u = (BigInt(hi) << 32n) | BigInt(lo);
    assert.is(uint64Decimal(lo, hi), u.toString(), `${lo} ${hi}`);
    assert.is(int64Decimal(lo, hi), BigInt.asIntN(64, u).toString(), `signed ${lo} ${hi}`);
  };
  const edges = [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x1fffff, 0x200000, 0xffe00000, 0xffdfffff, 999999999, 1e9];
  for (const lo of edges) for (const hi of edges) probe(lo >>> 0, hi >>> 0);
  let seed = 12345;
  const r32 = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed;
  };
  for (let i = 0; i < 20000; i++) probe(r32(), r32());
});

test('flatten: a kvlist with a repeated key keeps the last value at the first position', () => {
  assert.is(kvlistJson(['a', 'b', 'a'], ['"1"', '"2"', '"3"']), '{"a":"3","b":"2"}');
  assert.is(kvlistJson([], []), '{}');
  const body = logsRequest(len(5, len(6, len(1, strKv('k', '1')), len(1, strKv('j', '2')), len(1, strKv('k', '3')))));
  assert.is(logs(decodeOtlp('logs', body, 'protobuf'))[0]!.body, '{"k":"3","j":"2"}');
  const attrs = decodeOtlp('traces', traceJson(spanJson({ attributes: [{ key: '__proto__', value: { stringValue: 'p' } }] })), 'json');
  assert.is(Object.getOwnPropertyDescriptor(spans(attrs)[0]!.attributes, '__proto__')?.value, 'p');
});

// ---------------------------------------------------------------------------------------------
// Replies

test('replies: full success is zero bytes in protobuf and {} in JSON, for every signal', () => {
  for (const signal of ['traces', 'metrics', 'logs'] as const) {
    assert.is(encodeExportResponse(signal, { rejected: 0, errorMessage: '' }, 'protobuf').length, 0);
    assert.is(encodeExportResponse(signal, { rejected: 0, errorMessage: '' }, 'json').toString(), '{}');
    assert.equal(decodeExportResponse(signal, Buffer.alloc(0), 'protobuf'), { rejected: 0, errorMessage: '' });
    assert.equal(decodeExportResponse(signal, Buffer.from('{}'), 'json'), { rejected: 0, errorMessage: '' });
  }
});

test('replies: partial success round-trips in both encodings with the per-signal count field', () => {
  const cases: Array<[Signal, string]> = [
    ['traces', 'rejectedSpans'],
    ['metrics', 'rejectedDataPoints'],
    ['logs', 'rejectedLogRecords'],
  ];
  for (const [signal, field] of cases) {
    const partial = { rejected: 300, errorMessage: '300 items dropped: ids must be 16/8 bytes — see docs' };
    for (const enc of ['protobuf', 'json'] as const) {
      assert.equal(decodeExportResponse(signal, encodeExportResponse(signal, partial, enc), enc), partial);
    }
    assert.equal(JSON.parse(encodeExportResponse(signal, partial, 'json').toString()), { partialSuccess: { [field]: '300', errorMessage: partial.errorMessage } });
    const warning = { rejected: 0, errorMessage: 'accepted, but 2 attributes were truncated' };
    assert.equal(decodeExportResponse(signal, encodeExportResponse(signal, warning, 'protobuf'), 'protobuf'), warning);
  }
  // protobuf layout: field 1 (partial_success) holding varint 1 and string 2
  assert.equal([...encodeExportResponse('traces', { rejected: 2, errorMessage: 'x' }, 'protobuf')], [0x0a, 0x05, 0x08, 0x02, 0x12, 0x01, 0x78]);
});

test('replies: google.rpc.Status with BadRequest and RetryInfo round-trips in both encodings', () => {
  const status = {
    code: 3,
    message: 'TS_ERR_OTLP_DECODE: cannot decode ExportTraceServiceRequest (protobuf) request: …',
    details: [
      { type: 'BadRequest' as const, violations: [{ field: 'resourceSpans[0].scopeSpans[0].spans[3].name', description: 'truncated' }] },
      { type: 'RetryInfo' as const, retryDelaySeconds: 1.5 },
    ],
  };
  for (const enc of ['protobuf', 'json'] as const) assert.equal(decodeStatus(encodeStatus(enc, status), enc), status);
  assert.equal(JSON.parse(encodeStatus('json', status).toString()), {
    code: 3,
    message: status.message,
    details: [
      { '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field: 'resourceSpans[0].scopeSpans[0].spans[3].name', description: 'truncated' }] },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1.500s' },
    ],
  });
  // protobuf: message field 2 and Any details carrying the type URL
  const pb = encodeStatus('protobuf', { message: 'slow down', details: [{ type: 'RetryInfo', retryDelaySeconds: 5 }] });
  assert.ok(pb.includes(Buffer.from('type.googleapis.com/google.rpc.RetryInfo')));
  assert.equal(decodeStatus(pb, 'protobuf'), { code: 0, message: 'slow down', details: [{ type: 'RetryInfo', retryDelaySeconds: 5 }] });
  assert.equal(JSON.parse(encodeStatus('json', { message: 'm' }).toString()), { message: 'm' });
  expectError(() => decodeStatus(Buffer.from([0x12, 0x09, 0x41]), 'protobuf'), 'TS_ERR_OTLP_DECODE');
});

// ---------------------------------------------------------------------------------------------
// Input limits (src/ingest/otlp/limits.ts): the same limited rows from either encoding

const SMALL: DecodeLimits = { maxDepth: 4, maxAttributes: 3, maxStringLength: 16 };

test('under small limits, SDK spans in JSON and protobuf decode to the same rows: the first attributes kept, the rest and long keys counted, strings cut on a character boundary', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'checkout', r1: 'a', r2: 'b', r3: 'c', r4: 'd' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('a-library-name-longer-than-sixteen', '1.0.0');
  const linked = tracer.startSpan('producer');
  linked.end();
  const span = tracer.startSpan('GET /a/route/longer/than/sixteen', {
    attributes: { a: 1, 'a-key-longer-than-sixteen-characters': 'x', b: 'fifteen chars..', c: '😀'.repeat(20), d: 'dropped', e: 'dropped too' },
    links: [{ context: linked.spanContext(), attributes: { l1: 1, l2: 2, l3: 3, l4: 4 } }],
  });
  span.addEvent('an-event-name-over-the-limit', { e1: 1, e2: 2, e3: 3, e4: 4, e5: 5 });
  span.setStatus({ code: SpanStatusCode.ERROR, message: 'a status message over the limit' });
  span.end();
  const sdk = exporter.getFinishedSpans();
  const fromJson = decodeOtlp('traces', JsonTraceSerializer.serializeRequest(sdk)!, 'json', SMALL);
  const fromProto = decodeOtlp('traces', ProtobufTraceSerializer.serializeRequest(sdk)!, 'protobuf', SMALL);
  assert.equal(fromProto, fromJson);
  const s = spans(fromProto).find((x) => x.name.startsWith('GET'))!;
  assert.is(s.name, 'GET /a/route/lon');
  // the long key is dropped without taking a slot; a, b, c are the first three that fit
  assert.equal(s.attributes, { a: '1', b: 'fifteen chars..', c: '😀'.repeat(16) });
  assert.is(s.droppedAttributesCount, 3);
  assert.is(s.statusMessage, 'a status message');
  assert.is(s.events[0]!.name, 'an-event-name-ov');
  assert.equal(s.events[0]!.attributes, { e1: '1', e2: '2', e3: '3' });
  assert.is(s.events[0]!.droppedAttributesCount, 2);
  assert.equal(s.links[0]!.attributes, { l1: '1', l2: '2', l3: '3' });
  assert.is(s.links[0]!.droppedAttributesCount, 1);
  const group = fromProto.groups[0]!;
  assert.equal(Object.keys(group.resource.attributes).length, 3);
  assert.is(group.resource.droppedAttributesCount, Object.keys(sdk[0]!.resource.attributes).length - 3);
  assert.is(s.scope.name, 'a-library-name-l');
  // resource + span + event + link over the count; one long key; span name, status, event name, scope name and one value cut
  assert.is(fromProto.limits.longKeys, 1);
  assert.is(fromProto.limits.overCount, group.resource.droppedAttributesCount + 2 + 2 + 1);
  assert.is(fromProto.limits.truncated, 5);
  assert.match(limitWarning(fromProto.limits), /^\d+ attribute\(s\) dropped over the 3-attribute limit; 1 attribute\(s\) dropped for a key longer than 16 characters; 5 value\(s\) truncated to 16 characters$/);
});

test('under small limits, SDK logs in JSON and protobuf agree: every string leaf of a nested body or attribute is cut, and bytes to the limit in bytes', () => {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource: RESOURCE, processors: [new SimpleLogRecordProcessor({ exporter })] });
  const logger = provider.getLogger('shop.logs');
  logger.emit({ body: 'a plain body that is much longer than sixteen', eventName: 'an.event.name.over.the.limit', attributes: { k: 'v' } });
  logger.emit({ body: { 'a nested key that is long': ['a leaf string longer than 16', 7] }, attributes: { nested: { a: ['x'.repeat(40)] } } });
  logger.emit({ body: new Uint8Array(40).fill(7) });
  const sdk = exporter.getFinishedLogRecords();
  const fromJson = decodeOtlp('logs', JsonLogsSerializer.serializeRequest(sdk)!, 'json', SMALL);
  const fromProto = decodeOtlp('logs', ProtobufLogsSerializer.serializeRequest(sdk)!, 'protobuf', SMALL);
  assert.equal(fromProto, fromJson);
  const [plain, nested, bytes] = logs(fromProto);
  assert.is(plain!.body, 'a plain body tha');
  assert.is(plain!.eventName, 'an.event.name.ov');
  assert.is(nested!.body, '{"a nested key tha":["a leaf string lo","7"]}');
  assert.is(nested!.attributes.nested, `{"a":["${'x'.repeat(16)}"]}`);
  assert.is(bytes!.body, Buffer.alloc(16, 7).toString('base64'));
  assert.is(fromProto.limits.truncated, 6);
});

test('under small limits, metric points keep their first attributes and a long metric name is cut and counted once', async () => {
  const reader = new TestReader();
  const provider = new MeterProvider({ resource: RESOURCE, readers: [reader] });
  const counter = provider.getMeter('m').createCounter('a.metric.name.longer.than.sixteen');
  counter.add(1, { p1: 'a', p2: 'b', p3: 'c', p4: 'd' });
  counter.add(1, { p1: 'x' });
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  const fromJson = decodeOtlp('metrics', JsonMetricsSerializer.serializeRequest(resourceMetrics)!, 'json', SMALL);
  const fromProto = decodeOtlp('metrics', ProtobufMetricsSerializer.serializeRequest(resourceMetrics)!, 'protobuf', SMALL);
  assert.equal(fromProto, fromJson);
  const ps = points(fromProto);
  assert.is(ps.length, 2);
  for (const p of ps) assert.is(p.metricName, 'a.metric.name.lo');
  assert.equal(ps.map((p) => Object.keys(p.attributes).length).sort(), [1, 3]);
  assert.is(fromProto.limits.overCount, 1);
  assert.is(fromProto.limits.truncated, 1);
});

test('the nesting limit is configurable: at the limit a value decodes, one level more is refused naming the limit, in both encodings', () => {
  const jsonNested = (depth: number) => {
    let v: unknown = { stringValue: 'x' };
    for (let i = 1; i < depth; i++) v = { arrayValue: { values: [v] } };
    return traceJson(spanJson({ attributes: [{ key: 'deep', value: v }] }));
  };
  for (const max of [2, 4, 512]) {
    const limits = { ...DEFAULT_DECODE_LIMITS, maxDepth: max };
    assert.is(spans(decodeOtlp('traces', jsonNested(max), 'json', limits)).length, 1);
    expectError(() => decodeOtlp('traces', jsonNested(max + 1), 'json', limits), 'TS_ERR_OTLP_NESTING', new RegExp(`nested deeper than ${max} levels`));
    for (const via of ['array', 'kvlist'] as const) {
      assert.is(spans(decodeOtlp('traces', traceRequest(basicSpan(len(9, deepKeyValue(max, via)))), 'protobuf', limits)).length, 1);
      expectError(() => decodeOtlp('traces', traceRequest(basicSpan(len(9, deepKeyValue(max + 1, via)))), 'protobuf', limits), 'TS_ERR_OTLP_NESTING', new RegExp(`nested deeper than ${max} levels`));
    }
  }
});

test('strings at the limit are kept as they are and nothing is reported', () => {
  const limits = { ...DEFAULT_DECODE_LIMITS, maxAttributes: 2, maxStringLength: 16 };
  const d = decodeOtlp('traces', traceJson(spanJson({ name: 'n'.repeat(16), attributes: [{ key: 'k'.repeat(16), value: { stringValue: '€'.repeat(16) } }, { key: 'b', value: { stringValue: '' } }] })), 'json', limits);
  assert.equal(spans(d)[0]!.attributes, { ['k'.repeat(16)]: '€'.repeat(16), b: '' });
  assert.is(spans(d)[0]!.name, 'n'.repeat(16));
  assert.is(limitWarning(d.limits), '');
});

test.run();
