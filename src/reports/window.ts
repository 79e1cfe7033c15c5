// Report windows as callers give them (API query strings, CLI flags).
import { tsError } from '../errors.js';

/** Parse a window bound: RFC 3339 time or integer milliseconds since the epoch. */
export function parseTimeParam(name: string, value: unknown): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw tsError('TS_ERR_BAD_QUERY', [name, 'give it once']);
  if (/^\d{1,16}$/.test(value)) return Number(value);
  if (/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(value)) {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return ms;
  }
  throw tsError('TS_ERR_BAD_QUERY', [name, `expected an RFC 3339 time (2026-11-01T00:00:00Z) or epoch milliseconds, got ${JSON.stringify(value.slice(0, 40))}`]);
}
