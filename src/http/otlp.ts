// The OTLP/HTTP receiver: POST /v1/traces, /v1/metrics, /v1/logs in protobuf or JSON, gzip
// or identity, answered in the request's own encoding (PROTOCOL.md §4): an Export*Response
// (with partial_success when some records were refused) or a google.rpc.Status for errors.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Registry } from '../config/index.js';
import { decodeOtlp, encodeExportResponse, encodeStatus } from '../ingest/otlp/index.js';
import type { DecodeLimits, Signal } from '../ingest/otlp/types.js';
import type { Encoding, IngestPipeline, IngestResult } from '../ingest/pipeline.js';
import { isTenantscopeError, tsError, type TenantscopeError } from '../errors.js';
import { authenticate, requireKind } from './auth.js';
import { inflate } from './body.js';
import { registerAuditRoute } from './audit.js';
import type { AuditIngest } from '../ingest/audit/ingest.js';
import type { Logger } from '../log.js';

export interface OtlpHttpOptions {
  registry: Registry;
  pipeline: IngestPipeline;
  log: Logger;
  /** Largest body accepted as received, compressed or not. */
  maxRequestBytes: number;
  /** Largest body after gzip is undone. */
  maxDecompressedBytes: number;
  /** Nesting, attribute and string limits applied while decoding. */
  limits: DecodeLimits;
  /** Audit event ingest, served as POST /v1/audit on the same port. */
  audit?: AuditIngest;
  /** Called after each request, for self-metrics. */
  onRequest?: (signal: Signal, encoding: Encoding | 'unknown', status: number, ms: number, result?: IngestResult) => void;
}

const PATHS: Record<string, Signal> = { '/v1/traces': 'traces', '/v1/metrics': 'metrics', '/v1/logs': 'logs' };

/** The request's OTLP encoding from its Content-Type media type (parameters ignored), if supported. */
export function mediaEncoding(contentType: string | undefined): Encoding | undefined {
  if (!contentType) return undefined;
  const media = contentType.split(';')[0]!.trim().toLowerCase();
  if (media === 'application/x-protobuf') return 'protobuf';
  if (media === 'application/json') return 'json';
  return undefined;
}

const CONTENT_TYPE: Record<Encoding, string> = { protobuf: 'application/x-protobuf', json: 'application/json' };

// gRPC status numbers for Status.code (OTLP/HTTP does not require it; it helps debugging).
function grpcCode(status: number): number {
  switch (status) {
    case 400:
    case 415:
      return 3;
    case 401:
      return 16;
    case 403:
      return 7;
    case 404:
      return 5;
    case 413:
    case 429:
      return 8;
    case 503:
      return 14;
    default:
      return 13;
  }
}

/** Send a google.rpc.Status body in the request's encoding (JSON when it has none we know). */
function sendStatus(reply: FastifyReply, req: FastifyRequest, err: TenantscopeError, retryAfterSeconds?: number): FastifyReply {
  const encoding = mediaEncoding(req.headers['content-type']) ?? 'json';
  const details: Parameters<typeof encodeStatus>[1]['details'] = [];
  if (err.status === 400) details.push({ type: 'BadRequest', violations: [{ field: String(err.context.field ?? 'body'), description: err.message }] });
  if (retryAfterSeconds !== undefined) {
    details.push({ type: 'RetryInfo', retryDelaySeconds: retryAfterSeconds });
    void reply.header('retry-after', String(retryAfterSeconds));
  }
  void reply.header('x-tenantscope-error', err.code);
  return reply
    .code(err.status)
    .type(CONTENT_TYPE[encoding])
    .send(encodeStatus(encoding, { code: grpcCode(err.status), message: `${err.code}: ${err.message}`, details }));
}


/** Build the OTLP/HTTP receiver app (not yet listening). */
export function buildOtlpHttpApp(opts: OtlpHttpOptions): FastifyInstance {
  const { registry, pipeline, log, maxRequestBytes, maxDecompressedBytes, limits } = opts;
  const app = Fastify({ bodyLimit: maxRequestBytes, logger: false, return503OnClosing: true });

  // Every body arrives as raw bytes: the route decides by Content-Type, so an unsupported
  // type gets a proper 415 Status instead of Fastify's generic answer.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((error, req, reply) => {
    if (isTenantscopeError(error)) return sendStatus(reply, req, error);
    const fe = error as { code?: string; statusCode?: number; message: string };
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendStatus(reply, req, tsError('TS_ERR_BODY_TOO_LARGE', [maxRequestBytes, '(as sent)']));
    if (fe.statusCode === 415 || fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      return sendStatus(reply, req, tsError('TS_ERR_CONTENT_TYPE', [JSON.stringify(req.headers['content-type'] ?? '')]));
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500)
      return sendStatus(reply, req, tsError('TS_ERR_OTLP_DECODE', ['HTTP', fe.message]));
    log.error({ err: fe.message, url: req.url }, 'unexpected error in OTLP receiver');
    return sendStatus(reply, req, tsError('TS_ERR_INTERNAL', [fe.message]));
  });

  app.setNotFoundHandler((req, reply) => sendStatus(reply, req, tsError('TS_ERR_NOT_FOUND', [req.method, req.url.split('?')[0]!.slice(0, 200)])));

  if (opts.audit) registerAuditRoute(app, { registry, audit: opts.audit, log, maxDecompressedBytes });

  for (const [path, signal] of Object.entries(PATHS)) {
    app.route({
      method: ['GET', 'PUT', 'DELETE', 'PATCH'],
      url: path,
      handler: (req, reply) => sendStatus(reply, req, tsError('TS_ERR_METHOD', [req.method, path])),
    });
    app.post(path, async (req, reply) => {
      const started = performance.now();
      const encoding = mediaEncoding(req.headers['content-type']);
      let status = 200;
      let result: IngestResult | undefined;
      try {
        const principal = authenticate(registry, req);
        requireKind(principal, ['ingest'], `send ${signal}`);
        if (!encoding) throw tsError('TS_ERR_CONTENT_TYPE', [JSON.stringify(String(req.headers['content-type'] ?? '(none)').slice(0, 100))]);
        const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const body = await inflate(raw, req.headers['content-encoding'], maxDecompressedBytes);
        const decoded = decodeOtlp(signal, body, encoding, limits);
        try {
          result = await pipeline.ingest({ principal, decoded, encoding });
        } catch (e) {
          if (isTenantscopeError(e)) throw e;
          throw tsError('TS_ERR_STORE', [e instanceof Error ? e.message : String(e)]);
        }
        return reply
          .code(200)
          .type(CONTENT_TYPE[encoding])
          .send(encodeExportResponse(signal, { rejected: result.rejected, errorMessage: result.errorMessage }, encoding));
      } catch (e) {
        if (!isTenantscopeError(e)) throw e;
        status = e.status;
        if (e.status >= 500) log.error({ signal, code: e.code, err: e.message }, 'ingest failed');
        return sendStatus(reply, req, e, e.code === 'TS_ERR_STORE' ? 5 : undefined);
      } finally {
        opts.onRequest?.(signal, encoding ?? 'unknown', status, performance.now() - started, result);
      }
    });
  }
  return app;
}
