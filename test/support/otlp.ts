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
