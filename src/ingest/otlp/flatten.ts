// AnyValue flattening shared by the protobuf and the JSON decoder, so that a value yields the
// same string whichever encoding carried it (conventions in types.ts).
//
// The decoders walk their own input (bytes or parsed JSON) and call these helpers for the leaf
// formatting and for assembling arrays/kvlists. Both walkers recurse once per nesting level, and
// both check `depth > maxDepth` *before* descending, so the recursion depth is bounded by the
// limit rather than by the input: each protobuf level costs only a few bytes (two keys and two
// lengths), so a request well under the size limit can nest 100,000 levels.

import type { LogBodyKind, MetricPoint, MetricType, Scope, SpanRecord } from './types.js';
import { tsError, type TenantscopeError } from '../../errors.js';

/** Deepest AnyValue nesting accepted; an attribute's own value is level 1. */
export const MAX_ANYVALUE_DEPTH = 64;

/** The TS_ERR_OTLP_NESTING error for a value nested past `maxDepth` at `path`. */
export function nestingError(path: string, maxDepth: number = MAX_ANYVALUE_DEPTH): TenantscopeError {
  return tsError('TS_ERR_OTLP_NESTING', [maxDepth, path || '(root)'], { path, maxDepth });
}

/** Flatten a bool the way types.ts prescribes. */
export function flattenBool(b: boolean): string {
  return b ? 'true' : 'false';
}

/** Flatten a double: JS `String(n)`, which also yields "NaN", "Infinity" and "-Infinity". */
export function flattenDouble(n: number): string {
  return String(n);
}

const TWO_32 = 4294967296;

/** Exact decimal of the unsigned 64-bit integer `hi * 2^32 + lo` (both halves as uint32). */
export function uint64Decimal(lo: number, hi: number): string {
  // Below 2^53 a double is exact, which covers every count and most ints.
  if (hi < 0x200000) return String(hi * TWO_32 + lo);
  // Otherwise split into base-1e9 limbs using only exact double arithmetic: every product
  // below stays under 2^53. This is about twice as fast as going through BigInt, and
  // nanosecond timestamps (~1.7e18) always take this path.
  const hh = hi >>> 16;
  const hl = hi & 0xffff;
  // 2^48 = 281474 * 1e9 + 976710656 and 2^32 = 4 * 1e9 + 294967296
  const low = hh * 976710656 + hl * 294967296 + lo;
  const rem = low % 1e9;
  const high = hh * 281474 + hl * 4 + (low - rem) / 1e9;
  const r = String(rem);
  return String(high) + '000000000'.slice(r.length) + r;
}

/** Exact decimal of the signed (two's complement) 64-bit integer `hi * 2^32 + lo`. */
export function int64Decimal(lo: number, hi: number): string {
  if (hi < 0x80000000) return uint64Decimal(lo, hi);
  // Small negatives stay exact as doubles; this is the common case for negative ints.
  if (hi >= 0xffe00000) return String((hi - TWO_32) * TWO_32 + lo);
  const nlo = (~lo + 1) >>> 0;
  const nhi = (~hi + (nlo === 0 ? 1 : 0)) >>> 0;
  return '-' + uint64Decimal(nlo, nhi);
}

/** The JS number nearest to the signed 64-bit integer `hi * 2^32 + lo` (may round). */
export function int64Number(lo: number, hi: number): number {
  return (hi | 0) * TWO_32 + lo;
}

/** Standard base64 of `bytes[start, end)`, the flattened form of a bytes value. */
export function flattenBytes(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return b.toString('base64', start, end);
}

/** How a flattened value appears inside an enclosing array/kvlist: scalars quoted, composites raw. */
export function jsonElement(flat: string, kind: LogBodyKind): string {
  return kind === 'array' || kind === 'kvlist' ? flat : JSON.stringify(flat);
}

/** Flattened array: compact JSON of elements already passed through `jsonElement`. */
export function arrayJson(elements: readonly string[], count: number = elements.length): string {
  if (count === 0) return '[]';
  let s = '[' + elements[0];
  for (let i = 1; i < count; i++) s += ',' + elements[i];
  return s + ']';
}

/**
 * Flattened kvlist: compact JSON object of `keys[i]` → `elements[i]` (already `jsonElement`s).
 * A repeated key keeps its last value at its first position, like attributes (types.ts).
 */
export function kvlistJson(keys: readonly string[], elements: readonly string[], count: number = keys.length): string {
  if (count === 0) return '{}';
  // Repeated keys are rare: small lists are checked pairwise and only get a Map if one is found.
  let dup: Map<string, number> | null = count > 32 ? new Map() : null;
  for (let i = 1; i < count && dup === null; i++) {
    for (let j = 0; j < i; j++) {
      if (keys[j] === keys[i]) {
        dup = new Map();
        break;
      }
    }
  }
  if (dup === null) {
    let s = '{' + JSON.stringify(keys[0]) + ':' + elements[0];
    for (let i = 1; i < count; i++) s += ',' + JSON.stringify(keys[i]) + ':' + elements[i];
    return s + '}';
  }
  const order: string[] = [];
  for (let i = 0; i < count; i++) {
    const k = keys[i]!;
    if (!dup.has(k)) order.push(k);
    dup.set(k, i);
  }
  let s = '{';
  for (let i = 0; i < order.length; i++) {
    const k = order[i]!;
    if (i > 0) s += ',';
    s += JSON.stringify(k) + ':' + elements[dup.get(k)!];
  }
  return s + '}';
}

/** Store a flattened attribute; `__proto__` is defined as an own key instead of hitting the setter. */
export function setAttribute(attrs: Record<string, string>, key: string, value: string): void {
  if (key === '__proto__') {
    Object.defineProperty(attrs, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    attrs[key] = value;
  }
}

// Id rules, shared so that both encodings reject the same ids with the same reason.

/** Why a span/link id of `len` bytes is unacceptable where it is required, or "" if it is fine. */
export function requiredIdProblem(field: string, expected: number, len: number, allZero: boolean): string {
  if (len === 0) return `${field} is missing (must be ${expected} bytes)`;
  if (len !== expected) return `${field} must be ${expected} bytes, got ${len}`;
  if (allZero) return `${field} must not be all zeros`;
  return '';
}

/** Why an optional id (log record, exemplar, parent span) of `len` bytes is unacceptable, or "". */
export function optionalIdProblem(field: string, expected: number, len: number): string {
  if (len === 0 || len === expected) return '';
  return `${field} must be ${expected} bytes or empty, got ${len}`;
}

/** A metric point with every field at its OTLP default, for both decoders to fill in. */
export function emptyMetricPoint(scope: Scope, type: MetricType): MetricPoint {
  return {
    scope,
    metricName: '',
    metricDescription: '',
    metricUnit: '',
    metricType: type,
    temporality: 0,
    isMonotonic: false,
    attributes: {},
    startTimeUnixNano: '0',
    timeUnixNano: '0',
    flags: 0,
    value: 0,
    intValue: '',
    count: '0',
    sum: type === 'summary' ? 0 : null,
    min: null,
    max: null,
    bucketCounts: [],
    explicitBounds: [],
    scale: 0,
    zeroCount: '0',
    zeroThreshold: 0,
    positiveOffset: 0,
    positiveBucketCounts: [],
    negativeOffset: 0,
    negativeBucketCounts: [],
    quantiles: [],
    quantileValues: [],
    exemplars: [],
  };
}

/** A span with every field at its OTLP default, for both decoders to fill in. */
export function emptySpan(scope: Scope): SpanRecord {
  return {
    scope,
    traceId: '',
    spanId: '',
    parentSpanId: '',
    traceState: '',
    flags: 0,
    name: '',
    kind: 0,
    startTimeUnixNano: '0',
    endTimeUnixNano: '0',
    attributes: {},
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    statusCode: 0,
    statusMessage: '',
  };
}
