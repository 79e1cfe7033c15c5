// The OTLP/HTTP receiver: POST /v1/traces, /v1/metrics, /v1/logs in protobuf or JSON, gzip
// or identity, answered in the request's own encoding (PROTOCOL.md §4): an Export*Response
// (with partial_success when some records were refused) or a google.rpc.Status for errors.
// Authentication, token kind, decoding and ingest are the receive step it shares with
// OTLP/gRPC (src/ingest/receive.ts); this module only does HTTP: media type, gzip, replies.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Registry } from '../config/index.js';
import { encodeExportResponse, encodeStatus } from '../ingest/otlp/index.js';
import type { Signal } from '../ingest/otlp/types.js';
import type { Encoding, IngestResult } from '../ingest/pipeline.js';
import { failureStatus, type QuotaGate, type ReceiveOtlp } from '../ingest/receive.js';
import { isTenantscopeError, tsError, type TenantscopeError } from '../errors.js';
import { inflate } from './body.js';
import { registerAuditRoute } from './audit.js';
import type { AuditIngest } from '../ingest/audit/ingest.js';
import type { Logger } from '../log.js';

export interface OtlpHttpOptions {
  registry: Registry;
  /** The receive step shared with OTLP/gRPC (auth, token kind, decode, pipeline). */
  receive: ReceiveOtlp;
  log: Logger;
  /** Largest body accepted as received, compressed or not. */
  maxRequestBytes: number;
  /** Largest body after gzip is undone. */
  maxDecompressedBytes: number;
  /** Refuses a tenant over its quota from the headers alone, before its body is read. */
  quotaGate?: QuotaGate;
  /** Audit event ingest, served as POST /v1/audit on the same port. */
  audit?: AuditIngest;
  /** Called after each request, for self-metrics. */
  onRequest?: (signal: Signal, encoding: Encoding | 'unknown', status: number, ms: number, result?: IngestResult, errorCode?: string) => void;
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

/** Send a google.rpc.Status body in the request's encoding (JSON when it has none we know). */
function sendStatus(reply: FastifyReply, req: FastifyRequest, err: TenantscopeError): FastifyReply {
  const encoding = mediaEncoding(req.headers['content-type']) ?? 'json';
  const { status, retryAfterSeconds } = failureStatus(err);
  if (retryAfterSeconds !== undefined) void reply.header('retry-after', String(Math.ceil(retryAfterSeconds)));
  void reply.header('x-tenantscope-error', err.code);
  return reply.code(err.status).type(CONTENT_TYPE[encoding]).send(encodeStatus(encoding, status));
}

/** Build the OTLP/HTTP receiver app (not yet listening). */
export function buildOtlpHttpApp(opts: OtlpHttpOptions): FastifyInstance {
  const { registry, receive, log, maxRequestBytes, maxDecompressedBytes } = opts;
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
    // A tenant over its quota is refused before its body is read: a flood costs the headers.
    const onRequest = async (req: FastifyRequest, reply: FastifyReply) => {
      if (!opts.quotaGate) return;
      const started = performance.now();
      const encoding = mediaEncoding(req.headers['content-type']);
      try {
        opts.quotaGate(signal, req.headers.authorization, Number(req.headers['content-length'] ?? 0) || 0, encoding ?? 'unknown');
      } catch (e) {
        if (!isTenantscopeError(e)) throw e;
        opts.onRequest?.(signal, encoding ?? 'unknown', e.status, performance.now() - started, undefined, e.code);
        return sendStatus(reply, req, e);
      }
    };
    app.post(path, { onRequest }, async (req, reply) => {
      const started = performance.now();
      const encoding = mediaEncoding(req.headers['content-type']);
      let status = 200;
      let errorCode: string | undefined;
      let result: IngestResult | undefined;
      try {
        result = await receive({
          signal,
          authorization: req.headers.authorization,
          payload: async () => {
            if (!encoding) throw tsError('TS_ERR_CONTENT_TYPE', [JSON.stringify(String(req.headers['content-type'] ?? '(none)').slice(0, 100))]);
            const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
            return { body: await inflate(raw, req.headers['content-encoding'], maxDecompressedBytes), encoding };
          },
        });
        // receive() resolves only after the payload step above accepted the media type.
        return reply
          .code(200)
          .type(CONTENT_TYPE[encoding!])
          .send(encodeExportResponse(signal, { rejected: result.rejected, errorMessage: result.errorMessage }, encoding!));
      } catch (e) {
        if (!isTenantscopeError(e)) throw e;
        status = e.status;
        errorCode = e.code;
        if (e.status >= 500) log.error({ signal, code: e.code, err: e.message }, 'ingest failed');
        return sendStatus(reply, req, e);
      } finally {
        opts.onRequest?.(signal, encoding ?? 'unknown', status, performance.now() - started, result, errorCode);
      }
    });
  }
  return app;
}
