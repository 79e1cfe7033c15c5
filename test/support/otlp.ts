// Builds real OTLP request bodies with the official SDK and serializers, so tests send
// exactly what an OpenTelemetry exporter would; and by hand the nested values an SDK's span
// API cannot make.
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ProtobufTraceSerializer, JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { SpanKind, type Attributes } from '@opentelemetry/api';

export interface TraceSpec {
  resource?: Attributes;
  spans?: number;
  attributes?: Attributes;
  name?: string;
  /** Each span's duration; default: as long as the SDK takes to start and end it (microseconds). */
  durationMs?: number;
}

/** Make `spans` finished server spans with the given resource and attributes. */
export function makeSpans(spec: TraceSpec = {}) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'order-api', ...spec.resource }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('tenantscope-test');
  for (let i = 0; i < (spec.spans ?? 1); i++) {
    const end = Date.now();
    const startTime = spec.durationMs === undefined ? undefined : end - spec.durationMs;
    const span = tracer.startSpan(spec.name ?? 'GET /orders/{id}', { kind: SpanKind.SERVER, attributes: { 'http.route': '/orders/{id}', ...spec.attributes }, ...(startTime === undefined ? {} : { startTime }) });
    span.end(startTime === undefined ? undefined : end);
  }
  return exporter.getFinishedSpans();
}

/** An ExportTraceServiceRequest in protobuf. */
export function protobufTraces(spec: TraceSpec = {}): Buffer {
  return Buffer.from(ProtobufTraceSerializer.serializeRequest(makeSpans(spec))!);
}

/** An ExportTraceServiceRequest in OTLP/JSON. */
export function jsonTraces(spec: TraceSpec = {}): Buffer {
  return Buffer.from(JsonTraceSerializer.serializeRequest(makeSpans(spec))!);
}

// Hand-built requests for what the SDK cannot produce: span attributes nested as deep as asked.

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

/** A length-delimited protobuf field. */
function field(no: number, body: Buffer | string): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  return Buffer.concat([varint((no << 3) | 2), varint(b.length), b]);
}

function fixed64(no: number, n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return Buffer.concat([varint((no << 3) | 1), b]);
}

/**
 * An ExportTraceServiceRequest in protobuf: one span of service `service` whose attribute
 * "deep" is an array nested so that its innermost value sits at level `depth` (an attribute's
 * own value is level 1). Each level costs a few bytes; the level headers are computed from the
 * sizes inside out and joined once, so 100,000 levels take linear time.
 */
export function protobufNestedSpan(service: string, depth: number): Buffer {
  const leaf = field(1, 'bottom'); // AnyValue{string_value}
  const headers: Buffer[] = [];
  let size = leaf.length;
  for (let i = 1; i < depth; i++) {
    // AnyValue{array_value (5): ArrayValue{values (1): [the level inside]}}
    const values = Buffer.concat([varint(0x0a), varint(size)]);
    const header = Buffer.concat([varint(0x2a), varint(values.length + size), values]);
    headers.push(header);
    size += header.length;
  }
  const value = Buffer.concat([...headers.reverse(), leaf]);
  const kv = (key: string, v: Buffer) => Buffer.concat([field(1, key), field(2, v)]);
  const span = Buffer.concat([
    field(1, Buffer.from('5b8efff798038103d269b633813fc60c', 'hex')),
    field(2, Buffer.from('eee19b7ec3c1b174', 'hex')),
    field(5, 'nested'),
    fixed64(7, 1_700_000_000_000_000_000n),
    fixed64(8, 1_700_000_000_100_000_000n),
    field(9, kv('deep', value)),
  ]);
  const resource = field(1, kv('service.name', field(1, service)));
  return field(1, Buffer.concat([field(1, resource), field(2, field(2, span))]));
}

/** The OTLP/JSON twin of protobufNestedSpan; written as text, since JSON.stringify recurses. */
export function jsonNestedSpan(service: string, depth: number): string {
  const value = `${'{"arrayValue":{"values":['.repeat(depth - 1)}{"stringValue":"bottom"}${']}}'.repeat(depth - 1)}`;
  const text = JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [
          {
            spans: [
              {
                traceId: '5b8efff798038103d269b633813fc60c',
                spanId: 'eee19b7ec3c1b174',
                name: 'nested',
                startTimeUnixNano: '1700000000000000000',
                endTimeUnixNano: '1700000000100000000',
                attributes: [{ key: 'deep', value: 'VALUE' }],
              },
            ],
          },
        ],
      },
    ],
  });
  return text.replace('"VALUE"', value);
}

/**
 * Batch number `b` of a numbered series, as OTLP/JSON: `spans` server spans of `service`
 * whose trace id is the batch and whose span ids are unique across the series (so stored rows
 * can be counted per batch and per span), each with a `batch` attribute. Same `b`, same bytes:
 * a resend of a batch is the very request a client would retry.
 */
export function numberedBatchJson(b: number, spans: number, service: string, startNs: bigint, resource: Record<string, string> = {}): string {
  const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
  const attrs = Object.entries({ 'service.name': service, ...resource }).map(([key, v]) => ({ key, value: { stringValue: v } }));
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: attrs },
        scopeSpans: [
          {
            scope: { name: 'tenantscope-test' },
            spans: Array.from({ length: spans }, (_, i) => ({
              traceId: hex(b + 1, 32),
              spanId: hex(b * 1000 + i + 1, 16),
              name: 'GET /orders',
              kind: 2,
              startTimeUnixNano: String(startNs),
              endTimeUnixNano: String(startNs + 5_000_000n),
              attributes: [{ key: 'batch', value: { intValue: String(b) } }],
            })),
          },
        ],
      },
    ],
  });
}
