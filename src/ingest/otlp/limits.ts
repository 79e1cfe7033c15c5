// Input limits on decoded OTLP, following OpenTelemetry's attribute-limit rules: a record keeps
// at most `maxAttributes` attributes per attribute set (resource, scope, span, event, link, log
// record, data point, exemplar), the rest are dropped and added to the set's
// dropped_attributes_count; an attribute whose key is longer than `maxStringLength` characters
// is dropped and counted the same way; string values longer than the limit are cut to it. The
// request is still stored (rejected stays 0) and the reply's partial success carries a warning.
// Only nesting past `maxDepth` refuses a request, because the decoders must stop recursing.
//
// Where each rule runs, and why in two places:
// - string and bytes leaves of an AnyValue (attribute values at any depth, log bodies) and
//   nested kvlist keys are cut by the decoders as they read them, through `LeafLimiter`: after
//   decoding, an array or kvlist is flattened to JSON text and a string that happens to look
//   like JSON could not be told from it, so a leaf can only be cut while its kind is known;
// - everything else (attribute counts, over-long keys, names and other free-text fields) is
//   applied by `RecordLimits`, which both decoders call on each resource, scope and item as it
//   is complete, before handing it on.
//
// "Characters" are Unicode code points, as the OTel spec counts them ("counting any character
// as 1"); a cut never splits a surrogate pair, so it always falls on a UTF-8 character
// boundary. Bytes values are cut to `maxStringLength` bytes before their base64 flattening.
//
// Limits run before redaction, so a secret that straddles a cut keeps only its prefix; a PEM
// key is matched without its END line, and a prefix of any other credential is not usable.

import { MAX_ANYVALUE_DEPTH, setAttribute } from './flatten.js';
import type {
  Attributes,
  DecodeLimits,
  LimitReport,
  LogRecord,
  MetricPoint,
  Resource,
  Scope,
  SpanRecord,
} from './types.js';

/** Deepest AnyValue nesting accepted by default; an attribute's own value is level 1. */
export const DEFAULT_MAX_DEPTH = MAX_ANYVALUE_DEPTH;
/** OpenTelemetry SDKs' default attribute count limit (OTEL_ATTRIBUTE_COUNT_LIMIT). */
export const DEFAULT_MAX_ATTRIBUTES = 128;
/**
 * 64 Ki characters: above the long legitimate values (a deep Java stack trace in
 * exception.stacktrace, a generated SQL statement, a JSON log line) and equal to the longest
 * audit attribute value the audit schema always allowed, while one value can no longer take a
 * whole request's budget into a Map column.
 */
export const DEFAULT_MAX_STRING_LENGTH = 65_536;

/**
 * Resource attributes kept whatever their position when a resource is thinned: tenancy decides
 * the owner and checks a claimed tenant by `tenant.id` (tenancy.ts), and every report groups by
 * `service.name`. Dropping `tenant.id` from behind 128 others would hide a mismatch from the
 * isolation checks.
 */
const KEPT_RESOURCE_KEYS: readonly string[] = ['tenant.id', 'service.name'];

/** The limits used when a caller gives none. */
export const DEFAULT_DECODE_LIMITS: DecodeLimits = Object.freeze({
  maxDepth: DEFAULT_MAX_DEPTH,
  maxAttributes: DEFAULT_MAX_ATTRIBUTES,
  maxStringLength: DEFAULT_MAX_STRING_LENGTH,
});

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** UTF-16 length of the first `max` code points of `s` (all of `s` when it has no more). */
function prefixUnits(s: string, max: number): number {
  const n = s.length;
  let i = 0;
  for (let k = 0; k < max && i < n; k++) {
    i += isHigh(s.charCodeAt(i)) && i + 1 < n && isLow(s.charCodeAt(i + 1)) ? 2 : 1;
  }
  return i;
}

/** Whether `s` has more than `max` code points. */
export function longerThan(s: string, max: number): boolean {
  // A code point is one or two UTF-16 units, so the common short string needs no counting.
  if (s.length <= max) return false;
  return prefixUnits(s, max) < s.length;
}

/** The first `max` code points of `s` (`s` itself when it is not longer). */
export function truncateChars(s: string, max: number): string {
  if (s.length <= max) return s;
  const end = prefixUnits(s, max);
  return end < s.length ? s.slice(0, end) : s;
}

/**
 * Cuts AnyValue leaves during one decode and counts the cuts. The decoders are synchronous and
 * hold one instance each, reset at the start of every request.
 */
export class LeafLimiter {
  max = DEFAULT_MAX_STRING_LENGTH;
  truncated = 0;

  reset(max: number): void {
    this.max = max;
    this.truncated = 0;
  }

  /** A string leaf or nested key, cut to the limit. */
  string(s: string): string {
    if (s.length <= this.max) return s;
    const t = truncateChars(s, this.max);
    if (t.length !== s.length) this.truncated++;
    return t;
  }

  /** Length in bytes to keep of a bytes leaf of `len` bytes. */
  bytes(len: number): number {
    if (len <= this.max) return len;
    this.truncated++;
    return this.max;
  }
}

/**
 * Applies the count, key and free-text limits to each decoded envelope and item in place and
 * records what was dropped or cut in a request's report (whose `truncated` the decoder's leaf
 * cuts also count).
 */
export class RecordLimits {
  readonly #maxAttrs: number;
  readonly #maxLen: number;
  readonly #report: LimitReport;
  /** Metric identity strings are copied into every point; each distinct one is cut and counted once. */
  readonly #metricText = new Map<string, string>();

  constructor(limits: DecodeLimits, report: LimitReport) {
    this.#maxAttrs = limits.maxAttributes;
    this.#maxLen = limits.maxStringLength;
    this.#report = report;
  }

  /** A free-text field cut to the limit. */
  text(s: string): string {
    if (s.length <= this.#maxLen) return s;
    const t = truncateChars(s, this.#maxLen);
    if (t.length !== s.length) this.#report.truncated++;
    return t;
  }

  /**
   * Limit one attribute set; returns how many attributes it lost. `replace` receives the new
   * object when something was dropped (records keep their own reference to the set); `keep`
   * names keys that take their slots first.
   */
  attributes(attrs: Attributes, replace: (a: Attributes) => void, keep: readonly string[] = []): number {
    const maxLen = this.#maxLen;
    let n = 0;
    let longKey = false;
    for (const k in attrs) {
      n++;
      if (k.length > maxLen) longKey = true;
    }
    if (n <= this.#maxAttrs && !longKey) return 0;
    // The first attributes are kept, as an SDK keeps the first ones added. Object key order is
    // insertion order except that integer-like keys come first; no real attribute key is one.
    const kept: Attributes = {};
    let keptN = 0;
    let dropped = 0;
    for (const k of keep) {
      if (Object.hasOwn(attrs, k) && !longerThan(k, maxLen) && keptN < this.#maxAttrs) {
        setAttribute(kept, k, attrs[k]!);
        keptN++;
      }
    }
    for (const k in attrs) {
      if (Object.hasOwn(kept, k)) continue;
      if (longerThan(k, maxLen)) {
        this.#report.longKeys++;
        dropped++;
      } else if (keptN >= this.#maxAttrs) {
        this.#report.overCount++;
        dropped++;
      } else {
        setAttribute(kept, k, attrs[k]!);
        keptN++;
      }
    }
    if (dropped > 0) replace(kept);
    return dropped;
  }

  resource(r: Resource): void {
    r.droppedAttributesCount += this.attributes(r.attributes, (a) => (r.attributes = a), KEPT_RESOURCE_KEYS);
    r.schemaUrl = this.text(r.schemaUrl);
  }

  scope(s: Scope): void {
    s.droppedAttributesCount += this.attributes(s.attributes, (a) => (s.attributes = a));
    s.name = this.text(s.name);
    s.version = this.text(s.version);
    s.schemaUrl = this.text(s.schemaUrl);
  }

  span(s: SpanRecord): void {
    s.droppedAttributesCount += this.attributes(s.attributes, (a) => (s.attributes = a));
    s.name = this.text(s.name);
    s.statusMessage = this.text(s.statusMessage);
    s.traceState = this.text(s.traceState);
    for (const e of s.events) {
      e.droppedAttributesCount += this.attributes(e.attributes, (a) => (e.attributes = a));
      e.name = this.text(e.name);
    }
    for (const k of s.links) {
      k.droppedAttributesCount += this.attributes(k.attributes, (a) => (k.attributes = a));
      k.traceState = this.text(k.traceState);
    }
  }

  log(r: LogRecord): void {
    r.droppedAttributesCount += this.attributes(r.attributes, (a) => (r.attributes = a));
    r.severityText = this.text(r.severityText);
    r.eventName = this.text(r.eventName);
  }

  // Data points and exemplars have no dropped_attributes_count in OTLP: what they lose is
  // reported only in the reply's warning.
  point(p: MetricPoint): void {
    this.attributes(p.attributes, (a) => (p.attributes = a));
    for (const x of p.exemplars) this.attributes(x.filteredAttributes, (a) => (x.filteredAttributes = a));
    p.metricName = this.metricText(p.metricName);
    p.metricDescription = this.metricText(p.metricDescription);
    p.metricUnit = this.metricText(p.metricUnit);
  }

  metricText(s: string): string {
    if (s.length <= this.#maxLen) return s;
    let t = this.#metricText.get(s);
    if (t === undefined) this.#metricText.set(s, (t = this.text(s)));
    return t;
  }
}

/** A fresh report for a decode under `limits`. */
export function emptyLimitReport(limits: DecodeLimits): LimitReport {
  return { limits, overCount: 0, longKeys: 0, truncated: 0 };
}

/**
 * The warning for a reply's partial success, e.g. "3 attribute(s) dropped over the
 * 128-attribute limit; 2 value(s) truncated to 65536 characters", or "" when nothing was.
 */
export function limitWarning(r: LimitReport): string {
  const parts: string[] = [];
  if (r.overCount > 0) parts.push(`${r.overCount} attribute(s) dropped over the ${r.limits.maxAttributes}-attribute limit`);
  if (r.longKeys > 0) parts.push(`${r.longKeys} attribute(s) dropped for a key longer than ${r.limits.maxStringLength} characters`);
  if (r.truncated > 0) parts.push(`${r.truncated} value(s) truncated to ${r.limits.maxStringLength} characters`);
  return parts.join('; ');
}
