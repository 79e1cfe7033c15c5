// GET /metrics: the Prometheus exposition. The series name tenants and their volumes, so the
// route is not open: an admin token (what a Prometheus scrape config carries) gets everything;
// a read or auditor token gets only the series labelled with tenants it may read, which lets a
// tenant scrape its own figures and nobody else's. Filtering is by the exposition's lines:
// every sample line carries its labels, and HELP/TYPE lines stay only for families with a
// sample left.
import type { FastifyInstance } from 'fastify';
import type { Principal, Registry } from '../config/index.js';
import type { TenantscopeMetrics } from '../telemetry/metrics.js';
import { principalOf } from './access.js';

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Mount GET /metrics on an app. */
export function registerMetricsRoute(app: FastifyInstance, registry: Registry, metrics: TenantscopeMetrics): void {
  app.get('/metrics', { config: { access: { scope: 'caller', kinds: ['admin', 'read', 'auditor'] } } }, async (req, reply) => {
    const principal = principalOf(req);
    const text = await metrics.text();
    return reply.code(200).type(CONTENT_TYPE).send(principal.tenants === 'all' ? text : onlyTenants(text, registry, principal));
  });
}

/** The exposition restricted to series of tenants the principal may read. */
export function onlyTenants(text: string, registry: Registry, p: Principal): string {
  const out: string[] = [];
  let header: string[] = [];
  let kept = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('# HELP ')) {
      header = [line];
      kept = false;
      continue;
    }
    if (line.startsWith('#')) {
      header.push(line);
      continue;
    }
    const m = /[{,]tenant="((?:[^"\\]|\\.)*)"/.exec(line);
    if (!m || !registry.canRead(p, m[1]!)) continue;
    if (!kept) {
      out.push(...header);
      kept = true;
    }
    out.push(line);
  }
  return out.length ? `${out.join('\n')}\n` : '';
}
