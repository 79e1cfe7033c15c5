// The one receive step of OTLP ingest, shared by OTLP/HTTP and OTLP/gRPC: who is sending
// (bearer token -> principal), may it ingest, decode, run the pipeline. A transport only turns
// its framing into a ReceiveRequest and the outcome (an IngestResult or a TenantscopeError)
// back into its own reply, so authentication, token scope and error classification exist
// once. Admission control sits here too, where both transports pass, in order of cost: the
// memory limit (503) and the tenant's quota (429) before decoding, then fair turns between
// tenants for the decoding and storing itself.
import type { Registry } from '../config/index.js';
import { authenticateAuthorization, requireKind } from '../credentials.js';
import { isTenantscopeError, tsError, type TenantscopeError } from '../errors.js';
import type { StatusBody, StatusDetail } from './otlp/index.js';
import type { DecodeLimits, Signal } from './otlp/types.js';
import type { Encoding, IngestPipeline, IngestResult } from './pipeline.js';
import type { FairScheduler } from './fair.js';
import type { MemoryGuard } from './memory.js';
import type { Principal } from '../config/index.js';
import { SpanStatusCode, trace } from '@opentelemetry/api';

// Spans of tenantscope's own pipeline; a no-op unless self-tracing is switched on.
const tracer = trace.getTracer('tenantscope');

/** An OTLP request body as the transport delivers it: decompressed, in a known encoding. */
export interface OtlpPayload {
  body: Uint8Array;
  encoding: Encoding;
}

export interface ReceiveRequest {
  signal: Signal;
  /** The presented credentials: an `Authorization` header value or gRPC `authorization` metadata. */
  authorization: string | undefined;
  /**
   * The body, or the transport's own preparation of it (media type check, gunzip). A function is
   * called only once the caller is known to hold an ingest token, so an unauthenticated caller
   * gets its 401 without making the server inflate anything.
   */
  payload: OtlpPayload | (() => Promise<OtlpPayload>);
}

/** Receive one OTLP export: resolves with what was stored and refused, or throws a TenantscopeError. */
export type ReceiveOtlp = (req: ReceiveRequest) => Promise<IngestResult>;

/** How long a client is told to wait before retrying when the error itself does not say. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

/**
 * A check a transport may run as soon as it has the request's headers, before reading its
 * body: a single-tenant ingest token over its tenant's quota is refused (throws the 429)
 * without its body being read. Anything else passes; the receive step decides it.
 */
export type QuotaGate = (signal: Signal, authorization: string | undefined, bytes: number, encoding: Encoding | 'unknown') => void;

/** The quota gate over a registry and a pipeline. */
export function createQuotaGate(registry: Registry, pipeline: IngestPipeline): QuotaGate {
  return (signal, authorization, bytes, encoding) => {
    let principal: Principal;
    try {
      principal = authenticateAuthorization(registry, authorization);
    } catch {
      return; // the receive step answers 401 with its reasons
    }
    if (principal.kind !== 'ingest') return;
    const wait = pipeline.retryAfterSeconds(principal);
    if (wait > 0) pipeline.refuseEarly(principal, signal, encoding, bytes, wait);
  };
}

/** Admission control; each part is optional (absent: not applied). */
export interface Admission {
  memory?: MemoryGuard;
  fair?: FairScheduler;
}

/** The shared receive step over a registry and a pipeline. */
export function createOtlpReceiver(registry: Registry, pipeline: IngestPipeline, admission: Admission = {}, limits?: DecodeLimits): ReceiveOtlp {
  return async ({ signal, authorization, payload }) => {
    const principal = authenticateAuthorization(registry, authorization);
    requireKind(principal, ['ingest'], `send ${signal}`);
    const { body, encoding } = typeof payload === 'function' ? await payload() : payload;
    const release = admission.memory?.admit(body.length);
    try {
      const wait = pipeline.retryAfterSeconds(principal);
      if (wait > 0) pipeline.refuseEarly(principal, signal, encoding, body.length, wait);
      const work = () =>
        tracer.startActiveSpan('tenantscope.ingest', { attributes: { 'tenantscope.signal': signal, 'tenantscope.encoding': encoding, 'tenantscope.token': principal.name, 'tenantscope.bytes': body.length } }, async (span) => {
          try {
            const result = await pipeline.ingest({ principal, signal, body, encoding, ...(limits ? { limits } : {}) });
            span.setAttributes({ 'tenantscope.accepted': result.accepted, 'tenantscope.rejected': result.rejected });
            return result;
          } catch (e) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: isTenantscopeError(e) ? e.code : 'TS_ERR_STORE' });
            if (isTenantscopeError(e)) throw e;
            // What the pipeline throws on its own is the writer giving up on the store: transient.
            throw tsError('TS_ERR_STORE', [e instanceof Error ? e.message : String(e)]);
          } finally {
            span.end();
          }
        });
      if (!admission.fair) return await work();
      try {
        return await admission.fair.run(fairKey(principal), work);
      } catch (e) {
        if (isTenantscopeError(e) && e.context.queueFull === true) pipeline.recordRefusal(principal, signal, encoding, body.length, 'queue_full');
        throw e;
      }
    } finally {
      release?.();
    }
  };
}

// Turns are per tenant for a single-tenant token, per token for a shared collector.
function fairKey(p: Principal): string {
  return p.tenants !== 'all' && p.tenants.size === 1 ? [...p.tenants][0]! : `token:${p.name}`;
}

/**
 * Seconds a client should wait before retrying, for the errors OTLP clients retry (429, 503);
 * undefined for the others. An error may carry its own delay as `context.retryAfterSeconds`.
 */
export function retryDelaySeconds(err: TenantscopeError): number | undefined {
  if (err.status !== 429 && err.status !== 503) return undefined;
  const own = err.context.retryAfterSeconds;
  return typeof own === 'number' && Number.isFinite(own) && own > 0 ? own : DEFAULT_RETRY_AFTER_SECONDS;
}

/**
 * The gRPC status code of an error. OTLP clients retry RESOURCE_EXHAUSTED only with RetryInfo
 * attached, so 413 (too large, permanent) and 429 (throttled, retried) share code 8 and differ
 * by the RetryInfo that failureStatus adds to 429 alone.
 */
export function grpcStatusCode(err: TenantscopeError): number {
  switch (err.status) {
    case 400:
    case 415:
      return 3; // INVALID_ARGUMENT
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 404:
      return 5; // NOT_FOUND
    case 413:
    case 429:
      return 8; // RESOURCE_EXHAUSTED
    case 503:
      return 14; // UNAVAILABLE
    default:
      return 13; // INTERNAL
  }
}

/** The google.rpc.Status both transports send for an error, and its retry delay if retryable. */
export function failureStatus(err: TenantscopeError): { status: StatusBody; retryAfterSeconds?: number } {
  const details: StatusDetail[] = [];
  if (err.status === 400) details.push({ type: 'BadRequest', violations: [{ field: String(err.context.field ?? 'body'), description: err.message }] });
  const retryAfterSeconds = retryDelaySeconds(err);
  if (retryAfterSeconds !== undefined) details.push({ type: 'RetryInfo', retryDelaySeconds: retryAfterSeconds });
  return { status: { code: grpcStatusCode(err), message: `${err.code}: ${err.message}`, details }, retryAfterSeconds };
}
