// Who is calling, and may they do this? The one place that turns a bearer token into a
// principal and decides tenant scope for every route, so no route re-implements it.
// A tenant-scoped caller asking for another tenant gets the same 403 whether or not that
// tenant exists: the answer must not reveal which tenants are on the platform.
import type { FastifyRequest } from 'fastify';
import type { Principal, Registry, TokenKind } from '../config/index.js';
import { tsError } from '../errors.js';

/** The bearer token of a request, if it has a well-formed Authorization header. */
export function bearerToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : undefined;
}

/** The caller's principal; throws 401 without a valid token. */
export function authenticate(registry: Registry, req: FastifyRequest): Principal {
  const token = bearerToken(req);
  if (token === undefined) {
    throw tsError('TS_ERR_UNAUTHENTICATED', [req.headers.authorization ? 'Authorization is not "Bearer <token>"' : 'no Authorization header']);
  }
  const p = registry.authenticate(token);
  if (!p) throw tsError('TS_ERR_UNAUTHENTICATED', ['token not recognised']);
  return p;
}

/** Require one of the token kinds for an action. */
export function requireKind(p: Principal, kinds: readonly TokenKind[], action: string): void {
  if (!kinds.includes(p.kind)) throw tsError('TS_ERR_TOKEN_KIND', [p.kind, action]);
}

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
