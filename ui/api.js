// The browser side of the tenantscope API. The token lives in sessionStorage only: it is gone
// when the tab closes, is never put in a URL (where history, logs and referrers would keep
// it), and travels only as a bearer header to this page's own origin.

const TOKEN_KEY = 'tenantscope.token';

/** The signed-in token, or null. */
export function storedToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** Keep the token for this tab. */
export function storeToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

/** Forget the token. */
export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** An API refusal or failure, with the API's stable error code when it sent one. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function errorOf(res) {
  let code = '';
  let message = res.statusText || `HTTP ${res.status}`;
  try {
    const body = await res.json();
    if (body && body.error) {
      code = String(body.error.code ?? '');
      message = String(body.error.message ?? message);
    }
  } catch {
    // Not the API's JSON error shape (a proxy's page, say): the status line is all there is.
  }
  return new ApiError(res.status, code, message);
}

async function call(path, token) {
  let res;
  try {
    res = await fetch(path, {
      headers: { authorization: `Bearer ${token}` },
      // Reports change as data arrives; a cached answer would show figures the API no longer gives.
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch (e) {
    throw new ApiError(0, 'NETWORK', `cannot reach tenantscope: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!res.ok) throw await errorOf(res);
  return res;
}

/** GET an API path as JSON with the token (default: the stored one). */
export async function getJson(path, token = storedToken() ?? '') {
  return (await call(path, token)).json();
}

/** The path of a tenant route, with query parameters. */
export function tenantPath(tenant, route, query = {}) {
  const q = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== ''));
  const qs = q.toString();
  return `/api/v1/tenants/${encodeURIComponent(tenant)}/${route}${qs ? `?${qs}` : ''}`;
}

/** The file name a content-disposition header gives, without any directory part. */
export function attachmentName(header) {
  if (!header) return null;
  const extended = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(header);
  let name = null;
  if (extended) {
    try {
      name = decodeURIComponent(extended[1].trim());
    } catch {
      name = null;
    }
  }
  if (!name) {
    const plain = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/.exec(header);
    if (plain) name = plain[1] !== undefined ? plain[1].replace(/\\(.)/g, '$1') : plain[2];
  }
  if (!name) return null;
  const base = name.split(/[\\/]/).pop().trim();
  return base && base !== '.' && base !== '..' ? base : null;
}

/**
 * Download a tenant's evidence for a period as `json` or `html`. It needs the bearer header, so
 * a plain link cannot fetch it: the answer becomes a Blob saved through an object URL.
 * Returns the file name; throws ApiError (404 when this server has no evidence route).
 */
export async function downloadEvidence(tenant, period, format) {
  const res = await call(tenantPath(tenant, 'evidence', { from: period.from, to: period.to, format }), storedToken() ?? '');
  const blob = await res.blob();
  const name = attachmentName(res.headers.get('content-disposition')) ?? `evidence-${tenant}.${format}`;
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  // The browser has taken the blob over once the click is handled; release it a little later.
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
  return name;
}
