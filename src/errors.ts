// The one catalogue of errors tenantscope raises to a caller. Each entry has a stable code
// (tests and users match on the code, never on message text), an HTTP status, and a message
// template. Code that fails throws `tsError(...)`; the HTTP layer turns it into the same
// shape on every route (an OTLP `Status` body on the OTLP port, JSON on the API port).

export interface ErrorSpec {
  status: number;
  /** Message template; `%s` placeholders are filled in order. */
  message: string;
}

export const ERRORS = {
  TS_ERR_UNAUTHENTICATED: { status: 401, message: 'missing or invalid bearer token: %s' },
  TS_ERR_FORBIDDEN: { status: 403, message: 'this token may not access the requested tenant' },
  TS_ERR_TOKEN_KIND: { status: 403, message: 'a %s token cannot be used to %s' },
  TS_ERR_TENANT_MISMATCH: { status: 403, message: 'resource names tenant %s but the token writes for %s' },
  TS_ERR_TENANT_MISSING: { status: 400, message: 'no tenant context: %s' },
  TS_ERR_OTLP_DECODE: { status: 400, message: 'cannot decode %s request: %s' },
  TS_ERR_OTLP_NESTING: { status: 400, message: 'AnyValue nested deeper than %s levels at %s' },
  TS_ERR_GZIP: { status: 400, message: 'request body does not inflate as gzip: %s' },
  TS_ERR_CONTENT_ENCODING: { status: 415, message: 'unsupported Content-Encoding %s; use gzip or identity' },
  TS_ERR_CONTENT_TYPE: {
    status: 415,
    message: 'unsupported Content-Type %s; use application/x-protobuf or application/json',
  },
  TS_ERR_BODY_TOO_LARGE: { status: 413, message: 'request body exceeds %s bytes %s' },
  TS_ERR_AUDIT_BODY: { status: 400, message: 'invalid audit request: %s' },
  TS_ERR_AUDIT_INVALID: { status: 400, message: 'no valid audit event in the request: %s' },
  // Logged, not answered: a checkpoint that could not be written is taken again next interval.
  TS_ERR_CHECKPOINT: { status: 500, message: 'checkpoint %s not written to %s: %s' },
  TS_ERR_STORE_LOCKED: { status: 503, message: 'the data directory %s is in use by another tenantscope process; stop it or use --api to ask it' },
  TS_ERR_BAD_QUERY: { status: 400, message: 'invalid query parameter %s: %s' },
  TS_ERR_NOT_FOUND: { status: 404, message: 'no route %s %s' },
  TS_ERR_TENANT_NOT_FOUND: { status: 404, message: 'tenant %s is not in the registry' },
  TS_ERR_METHOD: { status: 405, message: 'method %s not allowed on %s; use POST' },
  // Per-tenant admission control; `context.retryAfterSeconds` tells the client when to retry.
  TS_ERR_STORE: { status: 503, message: 'storage is unavailable, retry later: %s' },
  TS_ERR_RATE_LIMITED: { status: 429, message: 'tenant %s is over its ingest quota (%s); retry in %s s' },
  TS_ERR_OVERLOADED: { status: 503, message: 'tenantscope is at its memory limit (%s); retry in %s s' },
  TS_ERR_READ_NOT_AUDITED: { status: 503, message: "the read of tenant %s could not be written to its audit chain, so it is not answered: %s" },
  // Tenant lifecycle (src/lifecycle): a bundle that fails its checks is refused before anything is stored.
  TS_ERR_BUNDLE: { status: 400, message: 'export bundle %s refused: %s' },
  TS_ERR_LEGAL_HOLD: { status: 409, message: 'tenant %s is under a legal hold; its data cannot be erased (%s)' },
  TS_ERR_CONFIRM: { status: 400, message: 'erasing tenant %s needs --confirm %s (the same id again)' },
  TS_ERR_INTERNAL: { status: 500, message: 'internal error: %s' },
  TS_ERR_POLICY_FAILED: { status: 500, message: 'policy %s could not be evaluated on the %s input: %s' },
  TS_ERR_CONFIG: { status: 500, message: 'invalid configuration: %s' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** An error from the catalogue: stable code, HTTP status, formatted message, optional context. */
export class TenantscopeError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly context: Record<string, unknown>;

  constructor(code: ErrorCode, args: ReadonlyArray<string | number>, context: Record<string, unknown> = {}) {
    let i = 0;
    const message = ERRORS[code].message.replace(/%s/g, () => String(args[i++] ?? ''));
    super(message);
    this.name = 'TenantscopeError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.context = context;
  }
}

/** Build a catalogue error; `args` fill the message template in order. */
export function tsError(
  code: ErrorCode,
  args: ReadonlyArray<string | number> = [],
  context: Record<string, unknown> = {},
): TenantscopeError {
  return new TenantscopeError(code, args, context);
}

/** True for errors raised from the catalogue (as opposed to bugs). */
export function isTenantscopeError(e: unknown): e is TenantscopeError {
  return e instanceof TenantscopeError;
}
