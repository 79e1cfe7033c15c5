// The OTLP/gRPC receiver: the unary Export method of the trace, metrics and logs collector
// services (PROTOCOL.md §5), served by @grpc/grpc-js. The service definitions are written by
// hand with pass-through serializers, so a request reaches the shared receive step as the
// raw protobuf bytes and is decoded by the same decoder as OTLP/HTTP, and the reply is the
// same Export*ServiceResponse encoder's output; no protobuf runtime sits in the path.
// grpc-js itself handles framing, `grpc-encoding: gzip` (and deflate) and the message size
// limit, which it applies to the decompressed message too.
import { Metadata, Server, ServerCredentials, status as GrpcStatus, type ServiceDefinition, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { encodeExportResponse, encodeStatus } from '../ingest/otlp/index.js';
import type { Signal } from '../ingest/otlp/types.js';
import type { IngestResult } from '../ingest/pipeline.js';
import { failureStatus, type ReceiveOtlp } from '../ingest/receive.js';
import { isTenantscopeError, tsError, type TenantscopeError } from '../errors.js';
import type { Logger } from '../log.js';

export interface OtlpGrpcOptions {
  /** The receive step shared with OTLP/HTTP (auth, token kind, decode, pipeline). */
  receive: ReceiveOtlp;
  log: Logger;
  /** Largest message accepted, after decompression (the same limit as OTLP/HTTP bodies). */
  maxRequestBytes: number;
  /** Called after each Export call that reached the receiver, with its gRPC status code, for self-metrics. */
  onRequest?: (signal: Signal, transport: 'grpc', code: number, ms: number, result?: IngestResult, error?: TenantscopeError) => void;
}

export interface OtlpGrpcListener {
  /** `host:port` as bound (the real port when 0 was asked for). */
  address: string;
  port: number;
  /** Stop accepting calls, let running ones finish for up to `graceMs`, then cut the rest. */
  close(graceMs?: number): Promise<void>;
}

/** Fully qualified service names of the OTLP collector services, by signal. */
export const OTLP_GRPC_SERVICES: Readonly<Record<Signal, string>> = {
  traces: 'opentelemetry.proto.collector.trace.v1.TraceService',
  metrics: 'opentelemetry.proto.collector.metrics.v1.MetricsService',
  logs: 'opentelemetry.proto.collector.logs.v1.LogsService',
};

/** How long close() lets running calls finish before it cuts them. */
export const DEFAULT_GRPC_SHUTDOWN_GRACE_MS = 5_000;

// Long trailers can exceed a client's header list limit and turn the answer into a transport
// error; the full text of a partial success travels in the response body instead.
const MAX_TRAILER_MESSAGE_CHARS = 2_000;

const passThrough = (b: Buffer): Buffer => b;

/** A hand-built definition of one collector service: Export, unary, bytes in and bytes out. */
export function otlpServiceDefinition(signal: Signal): ServiceDefinition {
  return {
    Export: {
      path: `/${OTLP_GRPC_SERVICES[signal]}/Export`,
      requestStream: false,
      responseStream: false,
      requestSerialize: passThrough,
      requestDeserialize: passThrough,
      responseSerialize: passThrough,
      responseDeserialize: passThrough,
      originalName: 'export',
    },
  };
}

function capped(s: string): string {
  return s.length <= MAX_TRAILER_MESSAGE_CHARS ? s : `${s.slice(0, MAX_TRAILER_MESSAGE_CHARS)}… (truncated)`;
}

/**
 * A gRPC error status for a TenantscopeError: the code from the shared classification, the
 * message as `<error code>: <reason>`, and a google.rpc.Status (with RetryInfo when the client
 * should retry, BadRequest for bad data) in `grpc-status-details-bin`, where gRPC clients and
 * OTLP exporters look for rich error details.
 */
export function grpcErrorStatus(err: TenantscopeError): { code: number; details: string; metadata: Metadata } {
  const { status } = failureStatus(err);
  const message = capped(status.message);
  const metadata = new Metadata();
  metadata.set('grpc-status-details-bin', encodeStatus('protobuf', { ...status, message }));
  metadata.set('x-tenantscope-error', err.code);
  return { code: status.code ?? GrpcStatus.INTERNAL, details: message, metadata };
}

function authorizationOf(md: Metadata): string | undefined {
  const v = md.get('authorization')[0];
  return typeof v === 'string' ? v : undefined;
}

function exportHandler(signal: Signal, opts: OtlpGrpcOptions) {
  const { receive, log, onRequest } = opts;
  return async (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): Promise<void> => {
    const started = performance.now();
    let code: number = GrpcStatus.OK;
    let result: IngestResult | undefined;
    let failure: TenantscopeError | undefined;
    try {
      result = await receive({ signal, authorization: authorizationOf(call.metadata), payload: { body: call.request, encoding: 'protobuf' } });
      callback(null, encodeExportResponse(signal, { rejected: result.rejected, errorMessage: result.errorMessage }, 'protobuf'));
    } catch (e) {
      let err: TenantscopeError;
      if (isTenantscopeError(e)) {
        err = e;
        if (err.status >= 500) log.error({ signal, code: err.code, err: err.message }, 'ingest failed');
      } else {
        log.error({ signal, err: e instanceof Error ? e.message : String(e) }, 'unexpected error in OTLP/gRPC receiver');
        err = tsError('TS_ERR_INTERNAL', [e instanceof Error ? e.message : String(e)]);
      }
      const answer = grpcErrorStatus(err);
      code = answer.code;
      failure = err;
      callback(answer);
    } finally {
      const ms = performance.now() - started;
      log.debug({ signal, code, ms: Math.round(ms), accepted: result?.accepted, rejected: result?.rejected }, 'OTLP/gRPC export');
      onRequest?.(signal, 'grpc', code, ms, result, failure);
    }
  };
}

/** Build the OTLP/gRPC server with the three Export services (not yet bound). */
export function buildOtlpGrpcServer(opts: OtlpGrpcOptions): Server {
  const server = new Server({
    'grpc.max_receive_message_length': opts.maxRequestBytes,
  });
  for (const signal of Object.keys(OTLP_GRPC_SERVICES) as Signal[]) {
    const handler = exportHandler(signal, opts);
    server.addService(otlpServiceDefinition(signal), {
      Export: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => void handler(call, callback),
    });
  }
  return server;
}

/** Start the OTLP/gRPC receiver on `host:port` (plaintext; port 0 picks a free one). */
export async function listenOtlpGrpc(opts: OtlpGrpcOptions & { host: string; port: number }): Promise<OtlpGrpcListener> {
  const server = buildOtlpGrpcServer(opts);
  const hostPart = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${hostPart}:${opts.port}`, ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
  });
  const address = `${hostPart === '0.0.0.0' ? '127.0.0.1' : hostPart}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    address,
    port,
    close(graceMs = DEFAULT_GRPC_SHUTDOWN_GRACE_MS) {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          opts.log.warn({ graceMs }, 'OTLP/gRPC calls still running after the grace period; cutting them');
          server.forceShutdown();
          resolve();
        }, graceMs);
        timer.unref();
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return closing;
    },
  };
}
