// Who is calling, and may they do this? Turns a request's bearer token into a principal (through
// src/credentials.ts, shared with gRPC) and decides tenant scope for every route, so no route
// re-implements it.
// A tenant-scoped caller asking for another tenant gets the same 403 whether or not that
// tenant exists: the answer must not reveal which tenants are on the platform.
import type { FastifyRequest } from 'fastify';
import type { Principal, Registry, TokenKind } from '../config/index.js';
import { tsError } from '../errors.js';
import { authenticateAuthorization, requireKind } from '../credentials.js';

/** The caller's principal; throws 401 without a valid token. */
export function authenticate(registry: Registry, req: FastifyRequest): Principal {
  const h = req.headers.authorization;
  return authenticateAuthorization(registry, typeof h === 'string' ? h : undefined);
}

export { requireKind };

/**
 * Require that the principal may read `tenantId` through a route open to `kinds`.
 * Unknown tenants answer 403 to scoped callers (no existence oracle) and 404 to admins.
 */
export function requireTenantRead(registry: Registry, p: Principal, tenantId: string, kinds: readonly TokenKind[]): void {
  if (!kinds.includes(p.kind)) throw tsError('TS_ERR_FORBIDDEN', [], { tenant: tenantId, kind: p.kind });
  if (p.tenants === 'all') {
    if (!registry.tenant(tenantId)) throw tsError('TS_ERR_TENANT_NOT_FOUND', [tenantId]);
    return;
  }
  if (!registry.canRead(p, tenantId)) throw tsError('TS_ERR_FORBIDDEN', [], { tenant: tenantId, kind: p.kind });
}
