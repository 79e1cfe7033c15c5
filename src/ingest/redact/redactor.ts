// Redaction of decoded telemetry before it is stored: other tenants' identifiers, secrets and
// the PII classes a tenant enables become `[REDACTED:<class>:<hmac8>]`, where hmac8 is the first
// 8 hex digits of HMAC-SHA256 over the raw hit under a key derived per tenant from the master
// key. Equal values stay joinable within a tenant and differ across tenants; the raw value is
// never kept, logged, counted or put in an error.
//
// Hand-written around two single-pass scanners (identifiers.ts, patterns.ts) because the work
// that matters here is specific to OTLP rows: decoders share Scope/Resource objects between
// items (each attributes object is redacted and counted once per call), flattened arrays and
// kvlists are JSON text that must stay valid JSON (string literals are decoded, scanned and
// re-encoded, and a value under a secret-looking key is replaced whole), and field paths must
// have bounded cardinality.
//
// Per value, cheapest first: a per-tenant set of values already found clean (telemetry repeats
// itself); then one DFA walk over all identifiers plus a one-pass literal pre-check, which
// settle the common clean value; only values that fail the pre-check get the combined pattern
// scan. Overlapping hits of different classes merge into one marker whose class is the most
// severe of them (REDACTION_CLASSES order: secrets, then other tenants' identifiers, then PII),
// so no fragment of any hit survives.

import { createHmac, randomInt } from 'node:crypto';
import type { Registry, TenantRecord } from '../../config/types.js';
import { tsError } from '../../errors.js';
import { setAttribute } from '../otlp/flatten.js';
import type { Attributes, LogRecord, MetricPoint, ResourceGroup, SpanRecord } from '../otlp/types.js';
import { IdentifierMatcher, type IdentifierHit } from './identifiers.js';
import { mayContainPattern, patternSetFor, type PatternSet } from './patterns.js';

/** What a redaction hid; ordered from most to least severe (the merge priority). */
export const REDACTION_CLASSES = [
  'private_key',
  'secret_attribute',
  'jwt',
  'bearer_token',
  'cloud_key',
  'api_key',
  'password',
  'card_number',
  'tenant_identifier',
  'iban',
  'email',
  'phone',
  'ip_address',
] as const;
/** A redaction class (the `class` column of the `redactions` table). */
export type RedactionClass = (typeof REDACTION_CLASSES)[number];

/** The data classes whose rows are redacted. */
export type RedactedDataClass = 'spans' | 'logs' | 'metric_points' | 'audit_events';

/** How many values of one class were redacted in one field; never the values themselves. */
export interface RedactionCount {
  dataClass: RedactedDataClass;
  field: string;
  cls: RedactionClass;
  count: number;
}

/** Redaction counts of one tenant, keyed by data class, field and class. */
export class RedactionTally {
  readonly #counts = new Map<string, RedactionCount>();
  readonly #owners = new Map<string, number>();
  #total = 0;

  /** Count `n` redactions of `cls` in `field` of `dataClass`. */
  add(dataClass: RedactedDataClass, field: string, cls: RedactionClass, n = 1): void {
    if (!(n > 0)) return;
    const key = `${dataClass}\u0000${cls}\u0000${field}`;
    const c = this.#counts.get(key);
    if (c === undefined) this.#counts.set(key, { dataClass, field, cls, count: n });
    else c.count += n;
    this.#total += n;
  }

  /** Count `n` redacted identifiers owned by tenant `owner` (isolation policies read these). */
  addOwner(owner: string, n: number): void {
    this.#owners.set(owner, (this.#owners.get(owner) ?? 0) + n);
  }

  /** Redacted identifiers per owning tenant. */
  owners(): Record<string, number> {
    return Object.fromEntries(this.#owners);
  }

  /** Add every count of another tally to this one. */
  merge(other: RedactionTally): void {
    for (const c of other.entries()) this.add(c.dataClass, c.field, c.cls, c.count);
    for (const [o, n] of other.#owners) this.addOwner(o, n);
  }

  /** The counts, as copies, in first-counted order. */
  entries(): RedactionCount[] {
    return [...this.#counts.values()].map((c) => ({ ...c }));
  }

  /** All redactions counted. */
  total(): number {
    return this.#total;
  }
}

/** Longest attribute-key part of a field path, so paths stay bounded. */
export const MAX_FIELD_KEY = 64;

/** `prefix.key` with the key cut to MAX_FIELD_KEY code units (never inside a surrogate pair). */
export function fieldPath(prefix: string, key: string): string {
  if (key.length <= MAX_FIELD_KEY) return `${prefix}.${key}`;
  let end = MAX_FIELD_KEY;
  const c = key.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return `${prefix}.${key.slice(0, end)}`;
}

const SECRET_KEY_NAMES = [
  'password',
  'passwd',
  'secret',
  'token',
  'authorization',
  'api_key',
  'apikey',
  'api-key',
  'cookie',
  'set-cookie',
  'credential',
  'credentials',
  'private_key',
  'private-key',
];
const SECRET_KEYS = new Set(SECRET_KEY_NAMES);
const secretKeyCache = new Map<string, boolean>();

/**
 * Whether an attribute key names a secret: its last dotted segment (case-insensitive) is one
 * of SECRET_KEY_NAMES, or ends with one after `_` or `-` (`db_password`, `x-api-key`).
 */
export function isSecretKey(key: string): boolean {
  let v = secretKeyCache.get(key);
  if (v !== undefined) return v;
  const seg = key.slice(key.lastIndexOf('.') + 1).toLowerCase();
  v = SECRET_KEYS.has(seg);
  for (let i = 0; !v && i < SECRET_KEY_NAMES.length; i++) {
    const name = SECRET_KEY_NAMES[i]!;
    const sep = seg.charCodeAt(seg.length - name.length - 1);
    v = seg.length > name.length && seg.endsWith(name) && (sep === 0x5f || sep === 0x2d);
  }
  if (secretKeyCache.size >= 10_000) secretKeyCache.clear();
  secretKeyCache.set(key, v);
  return v;
}

const MARKER = /\[REDACTED:[a-z_]+:[0-9a-f]{8}\]/g;
const WHOLE_MARKER = /^\[REDACTED:[a-z_]+:[0-9a-f]{8}\]$/;
/** JSON text nested inside JSON string values is followed this deep, then scanned as text. */
const MAX_JSON_DEPTH = 3;
const CLASS_INDEX = new Map<RedactionClass, number>(REDACTION_CLASSES.map((c, i) => [c, i]));

interface TenantState {
  readonly id: string;
  readonly key: Buffer;
  readonly patterns: PatternSet;
  /**
   * Recent markers by a seeded 53-bit hash of the raw hit: one HMAC costs microseconds, and the
   * same leaked value (a client address, a customer code) tends to repeat across a batch. Keyed
   * by hash so that no raw value is retained.
   */
  readonly memo: Map<number, string>;
  /**
   * Values recently found clean for this tenant. Telemetry repeats itself (methods, routes,
   * host names, user agents, SQL text) and the decoders intern repeated strings, so a lookup
   * usually hits a string whose hash V8 has cached, far cheaper than scanning it again.
   */
  readonly clean: Set<string>;
}

interface Hit {
  start: number;
  end: number;
  rank: number;
  /** The tenant a tenant-identifier hit names. */
  owner?: string;
}

interface Frame {
  obj: boolean;
  /** Every value in this container is a secret (it sits under a secret-looking key). */
  secret: boolean;
  expectKey: boolean;
  keySecret: boolean;
}

/** Redacts one registry's tenants' records in place and counts what it hid. */
export class Redactor {
  readonly #matcher: IdentifierMatcher;
  readonly #master: Buffer;
  readonly #keys = new Map<string, Buffer>();
  readonly #states = new WeakMap<TenantRecord, TenantState>();
  /** Redactions per class for the value being processed (flushed into a tally per field). */
  readonly #counts = new Int32Array(REDACTION_CLASSES.length);
  #counted = 0;
  /** Owners of the tenant identifiers redacted in the value being processed. */
  readonly #owners = new Map<string, number>();
  readonly #seed = randomInt(0x7fffffff);

  constructor(registry: Registry, masterKey: Buffer) {
    if (!Buffer.isBuffer(masterKey) || masterKey.length < 16) {
      throw tsError('TS_ERR_CONFIG', ['the redaction master key must be at least 16 bytes']);
    }
    this.#matcher = IdentifierMatcher.forRegistry(registry);
    this.#master = Buffer.from(masterKey);
  }

  /** The marker for `raw` of class `cls` in `tenant`'s data. */
  marker(tenant: TenantRecord, cls: RedactionClass, raw: string): string {
    return markerFor(this.#keyOf(tenant.id), cls, raw);
  }

  /** `value` with every hit replaced by its marker; counts go to `field` in `tally`. */
  redactString(tenant: TenantRecord, value: string, dataClass: RedactedDataClass, field: string, tally: RedactionTally): string {
    const out = this.#value(this.#state(tenant), value, 0);
    this.#flush(tally, dataClass, field, '');
    return out;
  }

  /** Redact every value of `attrs` in place; fields are `<fieldPrefix>.<key>`. */
  redactAttributes(tenant: TenantRecord, attrs: Attributes, dataClass: RedactedDataClass, fieldPrefix: string, tally: RedactionTally): void {
    this.#attrs(this.#state(tenant), attrs, dataClass, fieldPrefix, tally, undefined);
  }

  /** Redact an audit event's attributes in place (fields `audit.attributes.<key>`). */
  redactAuditAttributes(tenant: TenantRecord, attrs: Attributes, tally: RedactionTally): void {
    this.redactAttributes(tenant, attrs, 'audit_events', 'audit.attributes', tally);
  }

  /**
   * Redact a resource's attributes in place. `seen` holds the attribute sets already redacted
   * in this request (resource and scope sets are shared by every item under them).
   */
  redactResource(tenant: TenantRecord, dataClass: 'spans' | 'logs' | 'metric_points', attrs: Attributes, tally: RedactionTally, seen: Set<Attributes>): void {
    this.#attrs(this.#state(tenant), attrs, dataClass, 'resource.attributes', tally, seen);
  }

  /** Redact one span in place: its scope's attributes (once, see redactResource), attributes, events, links, name, status. */
  redactSpan(tenant: TenantRecord, span: SpanRecord, tally: RedactionTally, seen: Set<Attributes>): void {
    const st = this.#state(tenant);
    this.#attrs(st, span.scope.attributes, 'spans', 'scope.attributes', tally, seen);
    span.name = this.#field(st, span.name, 'spans', 'span.name', tally);
    this.#attrs(st, span.attributes, 'spans', 'span.attributes', tally, undefined);
    for (const ev of span.events) {
      ev.name = this.#field(st, ev.name, 'spans', 'span.events.name', tally);
      this.#attrs(st, ev.attributes, 'spans', 'span.events.attributes', tally, undefined);
    }
    for (const link of span.links) this.#attrs(st, link.attributes, 'spans', 'span.links.attributes', tally, undefined);
    if (span.statusMessage.length > 0) span.statusMessage = this.#field(st, span.statusMessage, 'spans', 'span.status_message', tally);
  }

  /** Redact one log record in place: its scope's attributes (once), attributes and body. */
  redactLog(tenant: TenantRecord, rec: LogRecord, tally: RedactionTally, seen: Set<Attributes>): void {
    const st = this.#state(tenant);
    this.#attrs(st, rec.scope.attributes, 'logs', 'scope.attributes', tally, seen);
    // Bytes bodies are base64 of binary data: text patterns found there would be chance.
    if (rec.bodyKind !== 'bytes' && rec.bodyKind !== 'empty' && rec.bodyKind !== 'bool') {
      rec.body = this.#field(st, rec.body, 'logs', 'log.body', tally);
    }
    this.#attrs(st, rec.attributes, 'logs', 'log.attributes', tally, undefined);
  }

  /** Redact one metric point in place: its scope's attributes (once), point and exemplar attributes. */
  redactPoint(tenant: TenantRecord, p: MetricPoint, tally: RedactionTally, seen: Set<Attributes>): void {
    const st = this.#state(tenant);
    this.#attrs(st, p.scope.attributes, 'metric_points', 'scope.attributes', tally, seen);
    this.#attrs(st, p.attributes, 'metric_points', 'metric.attributes', tally, undefined);
    for (const ex of p.exemplars) this.#attrs(st, ex.filteredAttributes, 'metric_points', 'metric.exemplars.attributes', tally, undefined);
  }

  /** Redact spans in place, group by group (redactResource, then redactSpan). */
  redactSpans(tenant: TenantRecord, groups: ResourceGroup<SpanRecord>[], tally: RedactionTally): void {
    const seen = new Set<Attributes>();
    for (const g of groups) {
      this.redactResource(tenant, 'spans', g.resource.attributes, tally, seen);
      for (const span of g.items) this.redactSpan(tenant, span, tally, seen);
    }
  }

  /** Redact log records in place, group by group. */
  redactLogs(tenant: TenantRecord, groups: ResourceGroup<LogRecord>[], tally: RedactionTally): void {
    const seen = new Set<Attributes>();
    for (const g of groups) {
      this.redactResource(tenant, 'logs', g.resource.attributes, tally, seen);
      for (const rec of g.items) this.redactLog(tenant, rec, tally, seen);
    }
  }

  /** Redact metric points in place, group by group. */
  redactMetrics(tenant: TenantRecord, groups: ResourceGroup<MetricPoint>[], tally: RedactionTally): void {
    const seen = new Set<Attributes>();
    for (const g of groups) {
      this.redactResource(tenant, 'metric_points', g.resource.attributes, tally, seen);
      for (const p of g.items) this.redactPoint(tenant, p, tally, seen);
    }
  }

  // -------------------------------------------------------------------------------------------

  #keyOf(tenantId: string): Buffer {
    let key = this.#keys.get(tenantId);
    if (key === undefined) {
      key = createHmac('sha256', this.#master).update(`tenantscope/redaction/${tenantId}`).digest();
      this.#keys.set(tenantId, key);
    }
    return key;
  }

  #state(tenant: TenantRecord): TenantState {
    let st = this.#states.get(tenant);
    if (st === undefined) {
      st = { id: tenant.id, key: this.#keyOf(tenant.id), patterns: patternSetFor(tenant.piiClasses), memo: new Map(), clean: new Set() };
      this.#states.set(tenant, st);
    }
    return st;
  }

  #field(st: TenantState, value: string, dataClass: RedactedDataClass, field: string, tally: RedactionTally): string {
    if (value.length === 0 || st.clean.has(value)) return value;
    const out = this.#value(st, value, 0);
    if (this.#counted > 0) this.#flush(tally, dataClass, field, '');
    else this.#remember(st, value);
    return out;
  }

  #remember(st: TenantState, clean: string): void {
    if (clean.length > CLEAN_MAX_CHARS) return;
    if (st.clean.size >= CLEAN_ENTRIES) st.clean.clear();
    st.clean.add(clean);
  }

  #attrs(
    st: TenantState,
    attrs: Attributes,
    dataClass: RedactedDataClass,
    prefix: string,
    tally: RedactionTally,
    seen: Set<Attributes> | undefined,
  ): void {
    // Resource and scope attributes are shared by every item under them: once per call. Per-item
    // objects need no bookkeeping (a second pass would find only markers and count nothing).
    if (seen !== undefined) {
      if (seen.has(attrs)) return;
      seen.add(attrs);
    }
    // for-in, not Object.keys: no array per object (these are plain records from the decoders).
    for (const key in attrs) {
      const v = attrs[key]!;
      if (typeof v !== 'string' || v.length === 0) continue;
      if (isSecretKey(key)) {
        const out = this.#whole(st, v, 0);
        this.#flush(tally, dataClass, prefix, key);
        if (out !== v) setAttribute(attrs, key, out);
        continue;
      }
      if (st.clean.has(v)) continue;
      const out = this.#value(st, v, 0);
      if (this.#counted > 0) {
        this.#flush(tally, dataClass, prefix, key);
        if (out !== v) setAttribute(attrs, key, out);
      } else this.#remember(st, v);
    }
  }

  #flush(tally: RedactionTally, dataClass: RedactedDataClass, prefixOrField: string, key: string): void {
    if (this.#counted === 0) return;
    const field = key === '' ? prefixOrField : fieldPath(prefixOrField, key);
    const counts = this.#counts;
    for (let i = 0; i < counts.length; i++) {
      if (counts[i]! > 0) {
        tally.add(dataClass, field, REDACTION_CLASSES[i]!, counts[i]!);
        counts[i] = 0;
      }
    }
    if (this.#owners.size > 0) {
      for (const [o, n] of this.#owners) tally.addOwner(o, n);
      this.#owners.clear();
    }
    this.#counted = 0;
  }

  #mark(st: TenantState, rank: number, raw: string): string {
    this.#counts[rank]!++;
    this.#counted++;
    const cls = REDACTION_CLASSES[rank]!;
    if (raw.length > MEMO_MAX_CHARS) return markerFor(st.key, cls, raw);
    const h = hash53(raw, this.#seed);
    let hex = st.memo.get(h);
    if (hex === undefined) {
      hex = hmac8(st.key, raw);
      if (st.memo.size >= MEMO_ENTRIES) st.memo.clear();
      st.memo.set(h, hex);
    }
    return `[REDACTED:${cls}:${hex}]`;
  }

  /** A value under a secret-looking key: all of it (every scalar, if it is JSON). */
  #whole(st: TenantState, v: string, depth: number): string {
    if (WHOLE_MARKER.test(v)) return v;
    if (looksLikeJson(v)) {
      const out = this.#json(st, v, depth, true);
      if (out !== undefined) return out;
    }
    return this.#mark(st, SECRET_ATTRIBUTE, v);
  }

  #value(st: TenantState, s: string, depth: number): string {
    if (s.length === 0) return s;
    if (depth < MAX_JSON_DEPTH && looksLikeJson(s)) {
      // Raw JSON text is a superset of its decoded strings unless a \u escape hides a character.
      if (!mayContainPattern(s) && !this.#matcher.mayOccur(s) && !s.includes('\\u')) return s;
      const out = this.#json(st, s, depth, false);
      if (out !== undefined) return out;
    }
    return this.#plain(st, s);
  }

  #plain(st: TenantState, s: string): string {
    const ids = this.#matcher.find(s);
    const pats = mayContainPattern(s) ? st.patterns.scan(s) : undefined;
    let hits: Hit[] | undefined;
    if (ids.length > 0) hits = othersIdentifiers(ids, st.id);
    if (pats !== undefined) for (const h of pats) (hits ??= []).push({ start: h.start, end: h.end, rank: CLASS_INDEX.get(h.cls)! });
    if (hits === undefined) return s;
    hits.sort((a, b) => a.start - b.start || b.end - a.end);
    // Markers already in the text (a replayed or re-sent record) are never redacted again.
    if (s.includes('[REDACTED:')) {
      const kept: Hit[] = [];
      MARKER.lastIndex = 0;
      let mk = MARKER.exec(s);
      for (const h of hits) {
        while (mk !== null && mk.index + mk[0].length <= h.start) mk = MARKER.exec(s);
        if (mk === null || h.end <= mk.index) kept.push(h);
      }
      if (kept.length === 0) return s;
      hits = kept;
    }
    let out = '';
    let last = 0;
    for (let i = 0; i < hits.length; ) {
      const start = hits[i]!.start;
      let end = hits[i]!.end;
      let rank = hits[i]!.rank;
      let owner = hits[i]!.owner;
      // Overlapping hits become one marker: no fragment of any of them survives.
      for (i++; i < hits.length && hits[i]!.start < end; i++) {
        end = Math.max(end, hits[i]!.end);
        rank = Math.min(rank, hits[i]!.rank);
        owner ??= hits[i]!.owner;
      }
      if (rank === TENANT_IDENTIFIER && owner !== undefined) this.#owners.set(owner, (this.#owners.get(owner) ?? 0) + 1);
      out += s.slice(last, start) + this.#mark(st, rank, s.slice(start, end));
      last = end;
    }
    return out + s.slice(last);
  }

  /**
   * Redact the string literals of JSON text, keeping everything else byte for byte; undefined
   * when `text` is not JSON. Keys are scanned like values; values under a secret-looking key
   * (and, with `whole`, all values) are replaced whole, numbers included.
   */
  #json(st: TenantState, text: string, depth: number, whole: boolean): string | undefined {
    try {
      JSON.parse(text);
    } catch {
      return undefined;
    }
    const stack: Frame[] = [];
    let out = '';
    let last = 0;
    const n = text.length;
    const valueSecret = (): boolean => {
      const top = stack[stack.length - 1];
      return top === undefined ? whole : top.secret || (top.obj && top.keySecret);
    };
    let i = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x7b || c === 0x5b) {
        stack.push({ obj: c === 0x7b, secret: valueSecret(), expectKey: c === 0x7b, keySecret: false });
        i++;
      } else if (c === 0x7d || c === 0x5d) {
        stack.pop();
        i++;
      } else if (c === 0x3a) {
        stack[stack.length - 1]!.expectKey = false;
        i++;
      } else if (c === 0x2c) {
        const top = stack[stack.length - 1]!;
        if (top.obj) {
          top.expectKey = true;
          top.keySecret = false;
        }
        i++;
      } else if (c === 0x22) {
        let j = i + 1;
        let escaped = false;
        for (;;) {
          const d = text.charCodeAt(j);
          if (d === 0x22) break;
          if (d === 0x5c) {
            escaped = true;
            j += 2;
          } else j++;
        }
        const decoded = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j);
        const top = stack[stack.length - 1];
        let red: string;
        if (top !== undefined && top.obj && top.expectKey) {
          top.keySecret = isSecretKey(decoded);
          red = this.#value(st, decoded, depth + 1);
        } else if (valueSecret()) {
          red = decoded.length === 0 ? decoded : this.#whole(st, decoded, depth + 1);
        } else {
          red = this.#value(st, decoded, depth + 1);
        }
        if (red !== decoded) {
          out += text.slice(last, i) + JSON.stringify(red);
          last = j + 1;
        }
        i = j + 1;
      } else if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
        i++;
      } else {
        let j = i + 1;
        while (j < n) {
          const d = text.charCodeAt(j);
          if (d === 0x2c || d === 0x5d || d === 0x7d || d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09) break;
          j++;
        }
        // Numbers: a secret even when sent as a number (PINs); a card number is one too.
        if (c !== 0x74 && c !== 0x66 && c !== 0x6e) {
          const num = text.slice(i, j);
          const red = valueSecret() ? this.#mark(st, SECRET_ATTRIBUTE, num) : this.#plain(st, num);
          if (red !== num) {
            out += text.slice(last, i) + JSON.stringify(red);
            last = j;
          }
        }
        i = j;
      }
    }
    return last === 0 ? text : out + text.slice(last);
  }
}

const TENANT_IDENTIFIER = CLASS_INDEX.get('tenant_identifier')!;
const SECRET_ATTRIBUTE = CLASS_INDEX.get('secret_attribute')!;

/**
 * Hits of other tenants' identifiers, without those lying inside one of the tenant's own (its
 * "acme-dist.example.com" may contain someone's "example.com"). `ids` are ordered by end.
 */
function othersIdentifiers(ids: readonly IdentifierHit[], self: string): Hit[] | undefined {
  let hits: Hit[] | undefined;
  // Own hits ordered by end; minStart[j] = smallest start among own[j..]. A hit [a, e) lies in
  // an own one iff some own hit ending at or after e starts at or before a.
  const own = ids.filter((h) => h.owner === self);
  const minStart = new Array<number>(own.length);
  for (let j = own.length - 1, m = Infinity; j >= 0; j--) minStart[j] = m = Math.min(m, own[j]!.start);
  let j = 0;
  for (const h of ids) {
    if (h.owner === self) continue;
    while (j < own.length && own[j]!.end < h.end) j++;
    if (j < own.length && minStart[j]! <= h.start) continue;
    (hits ??= []).push({ start: h.start, end: h.end, rank: TENANT_IDENTIFIER, owner: h.owner });
  }
  return hits;
}

const MEMO_ENTRIES = 4096;
const CLEAN_ENTRIES = 16_384;
const CLEAN_MAX_CHARS = 512;
const MEMO_MAX_CHARS = 256;

function hmac8(key: Buffer, raw: string): string {
  return createHmac('sha256', key).update(raw, 'utf8').digest('hex').slice(0, 8);
}

function markerFor(key: Buffer, cls: RedactionClass, raw: string): string {
  return `[REDACTED:${cls}:${hmac8(key, raw)}]`;
}

/** cyrb53: a fast seeded 53-bit string hash (public domain, bryc); not cryptographic. */
function hash53(s: string, seed: number): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Whether `s` is shaped like a JSON array or object (whether it parses is checked later). */
function looksLikeJson(s: string): boolean {
  let a = 0;
  let b = s.length - 1;
  while (a < b && isBlank(s.charCodeAt(a))) a++;
  while (b > a && isBlank(s.charCodeAt(b))) b--;
  const c0 = s.charCodeAt(a);
  const c1 = s.charCodeAt(b);
  return (c0 === 0x7b && c1 === 0x7d) || (c0 === 0x5b && c1 === 0x5d);
}
