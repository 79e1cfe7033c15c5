// Who may call which API route, declared on the route itself and enforced in one hook.
// Every route states an access rule in its config (`{ config: { access } }`); an app refuses a
// route registered without one, so a new route cannot ship unguarded, and the access-matrix
// test reads the same declarations to know what to expect of every route and token.
//
// Scopes:
//  - public:   no token; answers hold no tenant data (health, the evidence public key, UI files).
//  - tenant:   the route names a tenant in `:id`; the caller must be one of `kinds` and able to
//              read that tenant. Other tenants answer 403 whether or not they exist.
//  - caller:   one of `kinds`; the handler answers only with the caller's own tenants.
//  - platform: data across tenants, for `kinds` (admin only in practice).
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import type { Principal, Registry, TokenKind } from '../config/index.js';
import { tsError } from '../errors.js';
import { authenticate, requireKind, requireTenantRead } from './auth.js';

export type RouteAccess =
  | { scope: 'public' }
  | { scope: 'tenant'; kinds: readonly TokenKind[] }
  | { scope: 'caller'; kinds: readonly TokenKind[] }
  | { scope: 'platform'; kinds: readonly TokenKind[] };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
    /** false: the route records its own audit event instead of the read event (read-audit.ts). */
    readAudit?: false;
  }
  interface FastifyRequest {
    /** The authenticated caller of a non-public route (set before the handler runs). */
    principal?: Principal;
  }
}

/** A route as the access matrix sees it. */
export interface DeclaredRoute {
  method: string;
  url: string;
  access: RouteAccess;
}

/**
 * Enforce declared access on every route of `app` (call before registering routes); returns
 * the list the routes are recorded in, for the access-matrix test and the route listing.
 */
export function enforceAccess(app: FastifyInstance, registry: Registry): DeclaredRoute[] {
  const routes: DeclaredRoute[] = [];
  app.decorateRequest('principal', undefined);
  app.addHook('onRoute', (route: RouteOptions) => {
    const access = (route.config as { access?: RouteAccess } | undefined)?.access;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!access) throw new Error(`route ${methods.join(',')} ${route.url} has no access rule: add { config: { access } } (src/http/access.ts)`);
    if (access.scope === 'tenant' && !route.url.includes('/:id')) throw new Error(`route ${route.url} is tenant-scoped but names no tenant (:id)`);
    // HEAD is registered alongside GET by fastify and answers the same way.
    for (const method of methods) if (method !== 'HEAD') routes.push({ method, url: route.url, access });
  });
  app.addHook('preHandler', async (req) => {
    const access = req.routeOptions.config.access;
    if (!access || access.scope === 'public') return;
    const principal = authenticate(registry, req);
    req.principal = principal;
    if (access.scope === 'tenant') {
      requireTenantRead(registry, principal, (req.params as { id: string }).id, access.kinds);
    } else {
      requireKind(principal, access.kinds, `call ${req.method} ${req.routeOptions.url}`);
    }
  });
  return routes;
}

/** The caller of a non-public route (the access hook has authenticated it). */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw tsError('TS_ERR_INTERNAL', [`no principal on ${req.method} ${req.routeOptions.url}: the route is declared public`]);
  return req.principal;
}
