// POST /v1/audit on the OTLP port: audit events as JSON (one object or an array) or NDJSON,
// with an ingest token. Answers per event (stored with its chain position, or rejected with
// every schema error); errors use the API's JSON error shape, since this is not OTLP.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Registry } from '../config/index.js';
import type { AuditIngest } from '../ingest/audit/ingest.js';
import type { AuditBodyFormat } from '../ingest/audit/parse.js';
import { isTenantscopeError, tsError, type TenantscopeError } from '../errors.js';
import { authenticate, requireKind } from './auth.js';
import { inflate } from './body.js';
import type { Logger } from '../log.js';

export interface AuditRouteOptions {
  registry: Registry;
  audit: AuditIngest;
  log: Logger;
  /** Largest body after gzip is undone. */
  maxDecompressedBytes: number;
}

function auditFormat(contentType: string | undefined): AuditBodyFormat | undefined {
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (media === 'application/json') return 'json';
  if (media === 'application/x-ndjson' || media === 'application/jsonl' || media === 'application/jsonlines') return 'ndjson';
  return undefined;
}

function sendError(reply: FastifyReply, err: TenantscopeError): FastifyReply {
  void reply.header('x-tenantscope-error', err.code);
  const extra = err.context.results ? { events: err.context.results } : {};
  return reply.code(err.status).type('application/json').send({ error: { code: err.code, status: err.status, message: err.message }, ...extra });
}

/** Add POST /v1/audit to the OTLP receiver app. */
export function registerAuditRoute(app: FastifyInstance, opts: AuditRouteOptions): void {
  const { registry, audit, log, maxDecompressedBytes } = opts;
  app.post('/v1/audit', async (req, reply) => {
    try {
      const principal = authenticate(registry, req);
      // Admin tokens may send backup and recovery facts only (AuditIngest says so per event).
      requireKind(principal, ['ingest', 'admin'], 'send audit events');
      const format = auditFormat(req.headers['content-type']);
      if (!format) {
        throw tsError('TS_ERR_CONTENT_TYPE', [JSON.stringify(String(req.headers['content-type'] ?? '(none)').slice(0, 100))]);
      }
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const body = await inflate(raw, req.headers['content-encoding'], maxDecompressedBytes);
      let result;
      try {
        result = await audit.ingest(principal, body, format);
      } catch (e) {
        if (isTenantscopeError(e)) throw e;
        throw tsError('TS_ERR_STORE', [e instanceof Error ? e.message : String(e)]);
      }
      return reply.code(200).type('application/json').send(result);
    } catch (e) {
      if (!isTenantscopeError(e)) throw e;
      if (e.status >= 500) log.error({ code: e.code, err: e.message }, 'audit ingest failed');
      if (e.code === 'TS_ERR_STORE') void reply.header('retry-after', '5');
      return sendError(reply, e);
    }
  });
}
