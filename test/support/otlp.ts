// Builds real OTLP request bodies with the official SDK and serializers, so tests send
// exactly what an OpenTelemetry exporter would.
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ProtobufTraceSerializer, JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { SpanKind, type Attributes } from '@opentelemetry/api';

export interface TraceSpec {
  resource?: Attributes;
  spans?: number;
  attributes?: Attributes;
  name?: string;
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
    tracer.startSpan(spec.name ?? 'GET /orders/{id}', { kind: SpanKind.SERVER, attributes: { 'http.route': '/orders/{id}', ...spec.attributes } }).end();
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
