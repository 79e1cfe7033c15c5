// Every read of a tenant's data through the API becomes an audit event of that tenant, so the
// access review in its evidence is drawn from the same hash chain as everything else.
//  - A successful read is recorded before the answer leaves (onSend) and is not answered if it
//    cannot be recorded: an unrecorded read would be a hole in the evidence.
//  - A refused or failed attempt by a known token is recorded after the answer (onResponse), so
//    how long a refusal takes never reveals whether the tenant asked for exists.
//  - Tenant routes record in the named tenant's chain; platform routes (admin, every tenant's
//    data) in every tenant's chain. Caller-scoped routes (the tenant list, /metrics, which
//    Prometheus scrapes every few seconds) are operational reads and are not recorded.
// Unauthenticated requests are not recorded: anyone could otherwise fill a tenant's chain.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Registry } from '../config/index.js';
import type { AuditEventInput } from '../ingest/audit/types.js';
import type { Logger } from '../log.js';
import { tsError } from '../errors.js';

/** The audit action of an API read. */
export const READ_ACTION = 'tenantscope.api.read';

/** Chains and stores one event in a tenant's audit chain; resolves once durable. */
export type ReadRecorder = (tenantId: string, event: AuditEventInput, tokenName: string) => Promise<unknown>;

/** Record reads of tenant data made through the routes of `app` (call before routes are added). */
export function recordReads(app: FastifyInstance, registry: Registry, record: ReadRecorder, log: Logger): void {
  app.addHook('onSend', async (req, reply, payload) => {
    if (reply.statusCode >= 300 || !req.principal) return payload;
    const tenants = tenantsRead(req, registry);
    if (tenants.length === 0) return payload;
    try {
      await Promise.all(tenants.map((t) => record(t, readEvent(req, reply.statusCode, t), req.principal!.name)));
    } catch (e) {
      log.error({ route: req.routeOptions.url, tenants, err: (e as Error).message }, 'read not recorded in the audit chain; answer withheld');
      throw tsError('TS_ERR_READ_NOT_AUDITED', [tenants.join(', '), (e as Error).message]);
    }
    return payload;
  });
  app.addHook('onResponse', async (req, reply) => {
    if (reply.statusCode < 300 || !req.principal) return;
    for (const t of tenantsRead(req, registry)) {
      record(t, readEvent(req, reply.statusCode, t), req.principal.name).catch((e: Error) =>
        log.error({ tenant: t, route: req.routeOptions.url, status: reply.statusCode, err: e.message }, 'refused read not recorded in the audit chain'),
      );
    }
  });
}

// The registered tenants whose data the route reads.
function tenantsRead(req: FastifyRequest, registry: Registry): string[] {
  if (req.routeOptions.config?.readAudit === false) return [];
  const access = req.routeOptions.config?.access;
  if (access?.scope === 'platform') return registry.tenants().map((t) => t.id);
  if (access?.scope !== 'tenant') return [];
  const id = (req.params as { id?: unknown }).id;
  return typeof id === 'string' && registry.tenant(id) ? [id] : [];
}

function readEvent(req: FastifyRequest, status: number, tenantId: string): AuditEventInput {
  const p = req.principal!;
  return {
    time: new Date().toISOString(),
    actor: { id: p.name, type: 'user' },
    action: READ_ACTION,
    target: { type: 'api_route', id: req.routeOptions.url ?? req.url.split('?')[0]!, tenant_id: tenantId },
    outcome: status < 300 ? 'success' : status === 401 || status === 403 ? 'denied' : 'failure',
    source_ip: req.ip,
    attributes: { 'token.kind': p.kind, 'http.method': req.method, 'http.status_code': String(status) },
  };
}
