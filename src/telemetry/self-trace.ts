// Self-instrumentation: traces of tenantscope's own pipeline (receive, decode, store, insert),
// exported over OTLP/HTTP (protobuf) to an endpoint the operator chooses, e.g. another
// tenantscope or any collector. Off unless an endpoint is given; the pipeline's spans come from
// @opentelemetry/api, which is a no-op until this starts the SDK, so switched off it costs
// nothing but a function call. No automatic instrumentation: the pipeline's own spans say
// more than generic HTTP spans, and patching modules would trace the export requests too.
import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';

export interface SelfTraceOptions {
  /** OTLP/HTTP traces URL, e.g. http://collector:4318/v1/traces. */
  endpoint: string;
  /** Extra request headers, e.g. an Authorization header for a tenantscope receiver. */
  headers?: Record<string, string>;
  /** service.name of the exported spans (default tenantscope). */
  serviceName?: string;
}

export interface SelfTracing {
  shutdown(): Promise<void>;
}

/** Start exporting tenantscope's own spans. */
export function startSelfTracing(opts: SelfTraceOptions): SelfTracing {
  const sdk = new NodeSDK({
    serviceName: opts.serviceName ?? 'tenantscope',
    traceExporter: new OTLPTraceExporter({ url: opts.endpoint, headers: opts.headers }),
    instrumentations: [],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
