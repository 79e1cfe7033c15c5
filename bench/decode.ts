// Decode throughput of a realistic OTLP trace request (512 service spans, ~12 attributes and 2
// events each), built with the OTel SDK and the official otlp-transformer serializers:
//   1. our hand-written protobuf decoder,
//   2. our JSON decoder (JSON.parse + walk),
//   3. protobufjs decoding the same bytes via a descriptor written from FIELDS.md, plus the
//      conversion of its message tree into the same rows, so that all three produce identical
//      output (checked before timing).
// Also times the string-decoding strategies the protobuf decoder chose between, on the actual
// strings of the request. Each case runs in a child process of its own. Prints figures only;
// nothing is asserted.
//
// Usage: node dist/bench/decode.js [--seconds 2] [--only <substring of a case name>]
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import protobuf from 'protobufjs';
import type Long from 'long';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { checkoutSpans } from './workload.js';
import { decodeOtlp, decodeOtlpInto, type DecodedTraces, type LogBodyKind, type SpanRecord, type Resource, type Scope, type ResourceGroup } from '../src/ingest/otlp/index.js';
import { arrayJson, int64Decimal, jsonElement, kvlistJson, setAttribute, uint64Decimal } from '../src/ingest/otlp/flatten.js';
import { DEFAULT_DECODE_LIMITS, emptyLimitReport } from '../src/ingest/otlp/limits.js';
import { SpanWriter, spanRows } from '../src/ingest/rows.js';
import { encodeBlock } from '../src/store/native.js';
import { SPANS as SPANS_TABLE } from '../src/store/schemas.js';

const { values: args } = parseArgs({
  options: { seconds: { type: 'string', default: '2' }, only: { type: 'string' }, child: { type: 'string' } },
});
const SECONDS = Number(args.seconds);
const SPANS = 512;

// ---------------------------------------------------------------------------------------------
// The request

function buildSpans() {
  return checkoutSpans({ count: SPANS, tenantId: 'acme-dist' });
}

// ---------------------------------------------------------------------------------------------
// protobufjs: a descriptor written from FIELDS.md (trace messages only), then message → rows

const descriptor = {
  nested: {
    otlp: {
      nested: {
        ExportTraceServiceRequest: { fields: { resourceSpans: { rule: 'repeated', type: 'ResourceSpans', id: 1 } } },
        ResourceSpans: {
          fields: {
            resource: { type: 'Resource', id: 1 },
            scopeSpans: { rule: 'repeated', type: 'ScopeSpans', id: 2 },
            schemaUrl: { type: 'string', id: 3 },
          },
        },
        Resource: {
          fields: {
            attributes: { rule: 'repeated', type: 'KeyValue', id: 1 },
            droppedAttributesCount: { type: 'uint32', id: 2 },
          },
        },
        ScopeSpans: {
          fields: {
            scope: { type: 'InstrumentationScope', id: 1 },
            spans: { rule: 'repeated', type: 'Span', id: 2 },
            schemaUrl: { type: 'string', id: 3 },
          },
        },
        InstrumentationScope: {
          fields: {
            name: { type: 'string', id: 1 },
            version: { type: 'string', id: 2 },
            attributes: { rule: 'repeated', type: 'KeyValue', id: 3 },
            droppedAttributesCount: { type: 'uint32', id: 4 },
          },
        },
        KeyValue: { fields: { key: { type: 'string', id: 1 }, value: { type: 'AnyValue', id: 2 } } },
        AnyValue: {
          oneofs: { value: { oneof: ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'] } },
          fields: {
            stringValue: { type: 'string', id: 1 },
            boolValue: { type: 'bool', id: 2 },
            intValue: { type: 'int64', id: 3 },
            doubleValue: { type: 'double', id: 4 },
            arrayValue: { type: 'ArrayValue', id: 5 },
            kvlistValue: { type: 'KeyValueList', id: 6 },
            bytesValue: { type: 'bytes', id: 7 },
          },
        },
        ArrayValue: { fields: { values: { rule: 'repeated', type: 'AnyValue', id: 1 } } },
        KeyValueList: { fields: { values: { rule: 'repeated', type: 'KeyValue', id: 1 } } },
        Span: {
          fields: {
            traceId: { type: 'bytes', id: 1 },
            spanId: { type: 'bytes', id: 2 },
            traceState: { type: 'string', id: 3 },
            parentSpanId: { type: 'bytes', id: 4 },
            flags: { type: 'fixed32', id: 16 },
            name: { type: 'string', id: 5 },
            kind: { type: 'int32', id: 6 },
            startTimeUnixNano: { type: 'fixed64', id: 7 },
            endTimeUnixNano: { type: 'fixed64', id: 8 },
            attributes: { rule: 'repeated', type: 'KeyValue', id: 9 },
            droppedAttributesCount: { type: 'uint32', id: 10 },
            events: { rule: 'repeated', type: 'Event', id: 11 },
            droppedEventsCount: { type: 'uint32', id: 12 },
            links: { rule: 'repeated', type: 'Link', id: 13 },
            droppedLinksCount: { type: 'uint32', id: 14 },
            status: { type: 'Status', id: 15 },
          },
        },
        Event: {
          fields: {
            timeUnixNano: { type: 'fixed64', id: 1 },
            name: { type: 'string', id: 2 },
            attributes: { rule: 'repeated', type: 'KeyValue', id: 3 },
            droppedAttributesCount: { type: 'uint32', id: 4 },
          },
        },
        Link: {
          fields: {
            traceId: { type: 'bytes', id: 1 },
            spanId: { type: 'bytes', id: 2 },
            traceState: { type: 'string', id: 3 },
            attributes: { rule: 'repeated', type: 'KeyValue', id: 4 },
            droppedAttributesCount: { type: 'uint32', id: 5 },
            flags: { type: 'fixed32', id: 6 },
          },
        },
        Status: { fields: { message: { type: 'string', id: 2 }, code: { type: 'int32', id: 3 } } },
      },
    },
  },
};

const RequestType = protobuf.Root.fromJSON(descriptor).lookupType('otlp.ExportTraceServiceRequest');

// Shapes of protobufjs's decoded messages (defaults come from the prototype).
interface PbAnyValue {
  value?: string;
  stringValue: string;
  boolValue: boolean;
  intValue: Long | number;
  doubleValue: number;
  arrayValue?: { values: PbAnyValue[] };
  kvlistValue?: { values: PbKeyValue[] };
  bytesValue: Uint8Array;
}
interface PbKeyValue {
  key: string;
  value?: PbAnyValue;
}
interface PbSpan {
  traceId: Uint8Array;
  spanId: Uint8Array;
  traceState: string;
  parentSpanId: Uint8Array;
  flags: number;
  name: string;
  kind: number;
  startTimeUnixNano: Long | number;
  endTimeUnixNano: Long | number;
  attributes: PbKeyValue[];
  droppedAttributesCount: number;
  events: Array<{ timeUnixNano: Long | number; name: string; attributes: PbKeyValue[]; droppedAttributesCount: number }>;
  droppedEventsCount: number;
  links: Array<{ traceId: Uint8Array; spanId: Uint8Array; traceState: string; attributes: PbKeyValue[]; droppedAttributesCount: number; flags: number }>;
  droppedLinksCount: number;
  status?: { message: string; code: number };
}
interface PbRequest {
  resourceSpans: Array<{
    resource?: { attributes: PbKeyValue[]; droppedAttributesCount: number };
    schemaUrl: string;
    scopeSpans: Array<{
      scope?: { name: string; version: string; attributes: PbKeyValue[]; droppedAttributesCount: number };
      schemaUrl: string;
      spans: PbSpan[];
    }>;
  }>;
}

// The conversion uses the same helpers as our decoder (not Long#toString, which divides
// slowly), so the comparison is between decoding strategies, not between helper speeds.
const hex = (b: Uint8Array): string => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)).toString('hex');
const u64 = (v: Long | number): string => (typeof v === 'number' ? String(v) : uint64Decimal(v.low >>> 0, v.high >>> 0));
const i64 = (v: Long | number): string => (typeof v === 'number' ? String(v) : int64Decimal(v.low >>> 0, v.high >>> 0));

let pbKind: LogBodyKind = 'empty';
function pbFlatten(v: PbAnyValue | undefined): string {
  pbKind = 'empty';
  if (!v || !v.value) return '';
  switch (v.value) {
    case 'stringValue':
      pbKind = 'string';
      return v.stringValue;
    case 'boolValue':
      pbKind = 'bool';
      return v.boolValue ? 'true' : 'false';
    case 'intValue':
      pbKind = 'int';
      return i64(v.intValue);
    case 'doubleValue':
      pbKind = 'double';
      return String(v.doubleValue);
    case 'bytesValue':
      pbKind = 'bytes';
      return Buffer.from(v.bytesValue).toString('base64');
    case 'arrayValue': {
      const values = v.arrayValue!.values;
      const parts: string[] = [];
      for (let i = 0; i < values.length; i++) {
        const f = pbFlatten(values[i]);
        parts.push(jsonElement(f, pbKind));
      }
      pbKind = 'array';
      return arrayJson(parts);
    }
    case 'kvlistValue': {
      const kvs = v.kvlistValue!.values;
      const keys: string[] = [];
      const parts: string[] = [];
      for (let i = 0; i < kvs.length; i++) {
        const f = pbFlatten(kvs[i]!.value);
        keys.push(kvs[i]!.key);
        parts.push(jsonElement(f, pbKind));
      }
      pbKind = 'kvlist';
      return kvlistJson(keys, parts);
    }
    default:
      return '';
  }
}

function pbAttrs(list: PbKeyValue[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < list.length; i++) setAttribute(out, list[i]!.key, pbFlatten(list[i]!.value));
  return out;
}

/** protobufjs decode plus conversion to our rows (ids validated the same way, roughly). */
function protobufjsDecode(body: Uint8Array): DecodedTraces {
  const msg = RequestType.decode(body) as unknown as PbRequest;
  const groups: ResourceGroup<SpanRecord>[] = [];
  for (const rs of msg.resourceSpans) {
    const resource: Resource = {
      attributes: rs.resource ? pbAttrs(rs.resource.attributes) : {},
      droppedAttributesCount: rs.resource?.droppedAttributesCount ?? 0,
      schemaUrl: rs.schemaUrl,
    };
    const items: SpanRecord[] = [];
    for (const ss of rs.scopeSpans) {
      const scope: Scope = {
        name: ss.scope?.name ?? '',
        version: ss.scope?.version ?? '',
        attributes: ss.scope ? pbAttrs(ss.scope.attributes) : {},
        droppedAttributesCount: ss.scope?.droppedAttributesCount ?? 0,
        schemaUrl: ss.schemaUrl,
      };
      for (const s of ss.spans) {
        if (s.traceId.length !== 16 || s.spanId.length !== 8) continue;
        items.push({
          scope,
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: s.parentSpanId.length ? hex(s.parentSpanId) : '',
          traceState: s.traceState,
          flags: s.flags,
          name: s.name,
          kind: s.kind,
          startTimeUnixNano: u64(s.startTimeUnixNano),
          endTimeUnixNano: u64(s.endTimeUnixNano),
          attributes: pbAttrs(s.attributes),
          droppedAttributesCount: s.droppedAttributesCount,
          events: s.events.map((e) => ({
            timeUnixNano: u64(e.timeUnixNano),
            name: e.name,
            attributes: pbAttrs(e.attributes),
            droppedAttributesCount: e.droppedAttributesCount,
          })),
          droppedEventsCount: s.droppedEventsCount,
          links: s.links.map((l) => ({
            traceId: hex(l.traceId),
            spanId: hex(l.spanId),
            traceState: l.traceState,
            attributes: pbAttrs(l.attributes),
            droppedAttributesCount: l.droppedAttributesCount,
            flags: l.flags,
          })),
          droppedLinksCount: s.droppedLinksCount,
          statusCode: s.status?.code ?? 0,
          statusMessage: s.status?.message ?? '',
        });
      }
    }
    if (items.length) groups.push({ resource, items });
  }
  return { signal: 'traces', groups, invalid: [], limits: emptyLimitReport(DEFAULT_DECODE_LIMITS) };
}

// ---------------------------------------------------------------------------------------------
// Timing

interface Result {
  name: string;
  opsPerSec: number;
  msPerOp: number;
}

function time(name: string, fn: () => unknown): Result {
  const deadline = (ms: number) => {
    const end = performance.now() + ms;
    let ops = 0;
    while (performance.now() < end) {
      fn();
      ops++;
    }
    return ops;
  };
  deadline(Math.min(1000, SECONDS * 500)); // warm-up: let the JIT settle
  // Median of 5 slices, which is steadier than one long run on a shared 2-core machine.
  const slices: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const ops = deadline((SECONDS * 1000) / 5);
    slices.push(ops / ((performance.now() - t0) / 1000));
  }
  slices.sort((a, b) => a - b);
  const opsPerSec = slices[2]!;
  return { name, opsPerSec, msPerOp: 1000 / opsPerSec };
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

const readable = buildSpans();
const pbBody = Buffer.from(ProtobufTraceSerializer.serializeRequest(readable)!);
const jsonBody = Buffer.from(JsonTraceSerializer.serializeRequest(readable)!);
const ours = decodeOtlp('traces', pbBody, 'protobuf');
const spanCount = ours.groups.reduce((n, g) => n + g.items.length, 0);

// Bytes to the columns of a Native block in one pass, each span written as it is decoded: what
// ingest does with a request before the writer (without redaction and the policy summary).
const toColumns = (body: Buffer, encoding: 'protobuf' | 'json') => {
  const w = new SpanWriter({ tenantId: 'acme-dist', retentionDays: 30, batchId: 'bench', receivedMs: 0 });
  decodeOtlpInto('traces', body, encoding, { group: (r) => w.group(r), item: (x) => w.add(x as SpanRecord), groupEnd: () => {} });
  return encodeBlock(SPANS_TABLE, [w.result().chunk]);
};
const ROWS_ONLY = { tenantId: 'acme-dist', retentionDays: 30, batchId: 'bench', receivedMs: 0 };

const CASES: Record<string, [() => unknown, number]> = {
  'ours, protobuf': [() => decodeOtlp('traces', pbBody, 'protobuf'), pbBody.length],
  'protobuf → Native block': [() => toColumns(pbBody, 'protobuf'), pbBody.length],
  'rows → columns only': [() => spanRows(ROWS_ONLY, ours.groups).chunk, pbBody.length],
  'protobufjs decode + rows': [() => protobufjsDecode(pbBody), pbBody.length],
  'protobufjs decode only': [() => RequestType.decode(pbBody), pbBody.length],
  'ours, JSON': [() => decodeOtlp('traces', jsonBody, 'json'), jsonBody.length],
  'JSON → Native block': [() => toColumns(jsonBody, 'json'), jsonBody.length],
  'JSON.parse only': [() => JSON.parse(jsonBody.toString('utf8')), jsonBody.length],
};

// The request's own strings (keys, values, names) laid out back to back, for the
// string-decoding strategies the protobuf decoder chose between.
const strings: string[] = [];
for (const g of ours.groups) {
  for (const k in g.resource.attributes) strings.push(k, g.resource.attributes[k]!);
  for (const s of g.items) {
    strings.push(s.name);
    for (const k in s.attributes) strings.push(k, s.attributes[k]!);
    for (const e of s.events) {
      strings.push(e.name);
      for (const k in e.attributes) strings.push(k, e.attributes[k]!);
    }
  }
}
const strBuf = Buffer.from(strings.join(''), 'utf8');
const bounds: number[] = [];
{
  let at = 0;
  for (const s of strings) {
    const n = Buffer.byteLength(s);
    bounds.push(at, at + n);
    at += n;
  }
}
const decoder = new TextDecoder();
function shortLoop(a: number, b: number, limit: number): string {
  if (b - a < limit) {
    let s = '';
    for (let i = a; i < b; i++) {
      const c = strBuf[i]!;
      if (c >= 0x80) return strBuf.toString('utf8', a, b);
      s += String.fromCharCode(c);
    }
    return s;
  }
  return strBuf.toString('utf8', a, b);
}
const STRATEGIES: Record<string, (a: number, b: number) => string> = {
  'Buffer#toString(utf8, a, b)': (a, b) => strBuf.toString('utf8', a, b),
  'TextDecoder#decode(subarray)': (a, b) => decoder.decode(strBuf.subarray(a, b)),
  'JS loop below 8 bytes': (a, b) => shortLoop(a, b, 8),
  'JS loop below 16 bytes': (a, b) => shortLoop(a, b, 16),
  'JS loop below 32 bytes': (a, b) => shortLoop(a, b, 32),
};

if (args.child !== undefined) {
  // Child: time exactly one case and report it on stdout.
  const c = CASES[args.child];
  const st = STRATEGIES[args.child];
  let r: Result;
  if (c) r = time(args.child, c[0]);
  else if (st) {
    r = time(args.child, () => {
      let n = 0;
      for (let i = 0; i < bounds.length; i += 2) n += st(bounds[i]!, bounds[i + 1]!).length;
      return n;
    });
  } else throw new Error(`no case ${args.child}`);
  process.stdout.write(JSON.stringify(r) + '\n');
  process.exit(0);
}

// Each case runs in a fresh process: in one process the JIT's inline caches and the heap
// carry over from case to case (protobufjs's conversion calls the same flatten helpers), which
// made the order of cases change the figures.
function runChild(name: string): Result {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', name, '--seconds', String(SECONDS)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out.trim().split('\n').pop()!) as Result;
}

const oursJson = decodeOtlp('traces', jsonBody, 'json');
if (!isDeepStrictEqual(ours, oursJson)) throw new Error('protobuf and JSON decoders disagree');
if (!isDeepStrictEqual(ours, protobufjsDecode(pbBody))) throw new Error('our decoder and protobufjs + conversion disagree');

console.log(`Node ${process.version}, ${process.arch}, ${availableParallelism()} CPUs; request: ${spanCount} spans, protobuf ${fmt(pbBody.length / 1024, 1)} KiB, JSON ${fmt(jsonBody.length / 1024, 1)} KiB`);
console.log(`(all three decoders produce identical rows; each case in its own process, ${SECONDS} s, median of 5 slices)\n`);

const pad = (s: string, n: number) => s.padEnd(n);
const results: Array<Result & { bytes: number }> = [];
console.log(`${pad('decoder', 28)}${'ops/s'.padStart(10)}${'ms/op'.padStart(9)}${'spans/s'.padStart(13)}${'MB/s'.padStart(9)}`);
for (const [name, [, bytes]] of Object.entries(CASES)) {
  if (args.only !== undefined && !name.includes(args.only)) continue;
  const r = { ...runChild(name), bytes };
  results.push(r);
  console.log(
    `${pad(r.name, 28)}${fmt(r.opsPerSec, 1).padStart(10)}${fmt(r.msPerOp, 2).padStart(9)}${fmt(r.opsPerSec * spanCount).padStart(13)}${fmt((r.opsPerSec * r.bytes) / 1e6, 1).padStart(9)}`,
  );
}
const ops = (name: string) => results.find((r) => r.name === name)?.opsPerSec ?? NaN;
const ratio = (label: string, a: string, b: string) => {
  if (!Number.isNaN(ops(a) / ops(b))) console.log(`${label.padEnd(45)}${fmt(ops(a) / ops(b), 2)}x`);
};
console.log('');
ratio('ours (protobuf) vs protobufjs decode + rows:', 'ours, protobuf', 'protobufjs decode + rows');
ratio('ours (protobuf) vs protobufjs decode only:', 'ours, protobuf', 'protobufjs decode only');
ratio('ours (protobuf) vs ours (JSON):', 'ours, protobuf', 'ours, JSON');
ratio('bytes → Native block, relative to decode alone:', 'protobuf → Native block', 'ours, protobuf');

if (args.only === undefined) {
  const lengths = strings.map((s) => Buffer.byteLength(s)).sort((a, b) => a - b);
  console.log(`\nstring decoding, ${strings.length} strings of this request (median ${lengths[lengths.length >> 1]} bytes):`);
  for (const name of Object.keys(STRATEGIES)) {
    const r = runChild(name);
    console.log(`  ${pad(name, 30)}${fmt((r.msPerOp * 1e6) / strings.length, 1).padStart(8)} ns/string`);
  }
}
