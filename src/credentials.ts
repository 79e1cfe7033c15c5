// Bearer credentials, whatever carries them: the Authorization value of an HTTP request or
// the `authorization` metadata of a gRPC call becomes a principal here, and only here, so
// every transport and route applies the same parsing, the same refusals and the same kind
// checks.
import type { Principal, Registry, TokenKind } from './config/index.js';
import { tsError } from './errors.js';

/** The token of an `Authorization: Bearer <token>` value, if the value is well formed. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (typeof authorization !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return m ? m[1] : undefined;
}

/** The principal behind an Authorization value; throws TS_ERR_UNAUTHENTICATED without a known token. */
export function authenticateAuthorization(registry: Registry, authorization: string | undefined): Principal {
  const token = bearerToken(authorization);
  if (token === undefined) {
    throw tsError('TS_ERR_UNAUTHENTICATED', [authorization ? 'Authorization is not "Bearer <token>"' : 'no Authorization header']);
  }
  const p = registry.authenticate(token);
  if (!p) throw tsError('TS_ERR_UNAUTHENTICATED', ['token not recognised']);
  return p;
}

/** Require one of the token kinds for an action. */
export function requireKind(p: Principal, kinds: readonly TokenKind[], action: string): void {
  if (!kinds.includes(p.kind)) throw tsError('TS_ERR_TOKEN_KIND', [p.kind, action]);
}
