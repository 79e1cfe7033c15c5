// OTLP/JSON decoder: ProtoJSON with the OTLP deviations (PROTOCOL.md §3) → types.ts rows, the
// same rows the protobuf decoder produces for the same data.
//
// Leniency, chosen to match what the Collector accepts: snake_case keys as well as
// lowerCamelCase, ids in either hex case or (from non-compliant senders) base64 recognised by
// length, 64-bit integers as strings or numbers, numeric strings for 32-bit integers and
// doubles. Unknown keys are ignored and `null` means "default". What stays strict: a known key
// holding the wrong JSON type is an error naming the path and the expected type, because
// guessing there would silently store wrong data.
//
// Objects are walked with `for…in` and a `switch` on the key, which visits each present key
// once (unknown ones fall through) instead of probing every known spelling.

import { tsError } from '../../errors.js';
import {
  MAX_ANYVALUE_DEPTH,
  arrayJson,
  emptyMetricPoint,
  emptySpan,
  flattenBool,
  flattenBytes,
  flattenDouble,
  jsonElement,
  kvlistJson,
  nestingError,
  optionalIdProblem,
  requiredIdProblem,
  setAttribute,
} from './flatten.js';
import { DEFAULT_DECODE_LIMITS, LeafLimiter, RecordLimits, emptyLimitReport } from './limits.js';
import { GroupCollector } from './collect.js';
import type {
  AnyDecoded,
  DecodeLimits,
  DecodeOutcome,
  DecodeSink,
  Attributes,
  Exemplar,
  InvalidItem,
  LogBodyKind,
  LogRecord,
  MetricPoint,
  MetricType,
  Resource,
  Scope,
  Signal,
  SpanEvent,
  SpanLink,
} from './types.js';

type Obj = Record<string, unknown>;

const SIGNALS: Record<
  Signal,
  { request: string; groups: string; groupsSnake: string; scopes: string; scopesSnake: string; items: string; itemsSnake: string }
> = {
  traces: {
    request: 'ExportTraceServiceRequest',
    groups: 'resourceSpans',
    groupsSnake: 'resource_spans',
    scopes: 'scopeSpans',
    scopesSnake: 'scope_spans',
    items: 'spans',
    itemsSnake: 'spans',
  },
  metrics: {
    request: 'ExportMetricsServiceRequest',
    groups: 'resourceMetrics',
    groupsSnake: 'resource_metrics',
    scopes: 'scopeMetrics',
    scopesSnake: 'scope_metrics',
    items: 'metrics',
    itemsSnake: 'metrics',
  },
  logs: {
    request: 'ExportLogsServiceRequest',
    groups: 'resourceLogs',
    groupsSnake: 'resource_logs',
    scopes: 'scopeLogs',
    scopesSnake: 'scope_logs',
    items: 'logRecords',
    itemsSnake: 'log_records',
  },
};

// ---------------------------------------------------------------------------------------------
// State and errors. As in the protobuf decoder, the path is a stack of (name, index) that is only
// rendered when something has to be reported.

let requestName = '';
let invalid: InvalidItem[] = [];
/** Where the request's groups and items go, and the limits applied before they go there. */
let sink: DecodeSink<unknown> = new GroupCollector();
let recordLimits = new RecordLimits(DEFAULT_DECODE_LIMITS, emptyLimitReport(DEFAULT_DECODE_LIMITS));
const stName: string[] = [];
const stIdx: number[] = [];
let sp = 0;

function enter(name: string, index: number): void {
  stName[sp] = name;
  stIdx[sp] = index;
  sp++;
}

function pathString(): string {
  let s = '';
  for (let i = 0; i < sp; i++) {
    if (i > 0) s += '.';
    s += stName[i];
    if (stIdx[i]! >= 0) s += '[' + stIdx[i] + ']';
  }
  return s;
}

function pathOf(leaf: string): string {
  const p = pathString();
  return p ? p + '.' + leaf : leaf;
}

function fail(path: string, detail: string): never {
  throw tsError('TS_ERR_OTLP_DECODE', [requestName + ' (JSON)', `${path || '(root)'}: ${detail}`], {
    path,
    field: path || 'body',
    encoding: 'json',
  });
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return `a string (${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)})`;
    case 'number':
      return `a number (${v})`;
    case 'boolean':
      return `a boolean (${v})`;
    case 'object':
      return 'an object';
    default:
      return typeof v;
  }
}

function typeFail(leaf: string, expected: string, v: unknown): never {
  fail(pathOf(leaf), `expected ${expected}, got ${describe(v)}`);
}

// ---------------------------------------------------------------------------------------------
// Scalars

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown, leaf: string): Obj {
  if (!isObj(v)) typeFail(leaf, 'an object', v);
  return v;
}

function arr(v: unknown, leaf: string): unknown[] {
  if (!Array.isArray(v)) typeFail(leaf, 'an array', v);
  return v;
}

function str(v: unknown, leaf: string): string {
  if (typeof v !== 'string') typeFail(leaf, 'a string', v);
  return v;
}

function bool(v: unknown, leaf: string): boolean {
  if (typeof v !== 'boolean') typeFail(leaf, 'true or false', v);
  return v;
}

const SAFE_UINT = /^(?:0|[1-9]\d{0,14})$/;
const INT_TEXT = /^[-+]?\d+$/;
const TWO_63 = 1n << 63n;
const TWO_64 = 1n << 64n;

/** A 64-bit integer (string or number) as its canonical decimal; `signed` selects int64 vs uint64. */
function int64(v: unknown, leaf: string, signed: boolean): string {
  const expected = signed ? 'an int64 (decimal string or integer)' : 'a uint64 (decimal string or non-negative integer)';
  let big: bigint;
  if (typeof v === 'string') {
    if (SAFE_UINT.test(v)) return v;
    if (INT_TEXT.test(v)) {
      big = BigInt(v);
    } else {
      // ProtoJSON also allows exponent/fraction notation when the value is integral ("1e3").
      const n = v.trim() === '' ? NaN : Number(v);
      if (!Number.isInteger(n)) typeFail(leaf, expected, v);
      big = BigInt(n);
    }
  } else if (typeof v === 'number') {
    if (!Number.isInteger(v)) typeFail(leaf, expected, v);
    if (Number.isSafeInteger(v) && (signed || v >= 0)) return String(v);
    big = BigInt(v);
  } else {
    typeFail(leaf, expected, v);
  }
  if (signed ? big < -TWO_63 || big >= TWO_63 : big < 0n || big >= TWO_64) {
    fail(pathOf(leaf), `${String(v)} is out of range for ${signed ? 'int64' : 'uint64'}`);
  }
  return big.toString();
}

function time(v: unknown, leaf: string): string {
  // The usual form is a decimal string of 19 digits; it is canonical unless it has leading zeros.
  if (typeof v === 'string' && v.length > 0 && v.length < 20 && v.charCodeAt(0) !== 0x30 && INT_DIGITS.test(v)) return v;
  return int64(v, leaf, false);
}

const INT_DIGITS = /^\d+$/;

function int32Range(v: unknown, leaf: string, min: number, max: number, expected: string): number {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && INT_TEXT.test(v)) n = Number(v);
  else typeFail(leaf, expected, v);
  if (!Number.isInteger(n)) typeFail(leaf, expected, v);
  if (n < min || n > max) fail(pathOf(leaf), `${n} is out of range for ${expected}`);
  return n;
}

function uint32(v: unknown, leaf: string): number {
  return int32Range(v, leaf, 0, 0xffffffff, 'a uint32');
}

function int32(v: unknown, leaf: string): number {
  return int32Range(v, leaf, -0x80000000, 0x7fffffff, 'an int32');
}

function enumNumber(v: unknown, leaf: string): number {
  if (typeof v === 'string' && !INT_TEXT.test(v)) {
    fail(pathOf(leaf), `expected an integer enum value (OTLP/JSON sends enums as numbers, not names), got ${describe(v)}`);
  }
  return int32Range(v, leaf, -0x80000000, 0x7fffffff, 'an integer enum value');
}

function double(v: unknown, leaf: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    const n = v.trim() === '' ? NaN : Number(v);
    if (!Number.isNaN(n)) return n;
  }
  typeFail(leaf, 'a double (number, or "NaN", "Infinity", "-Infinity")', v);
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** An AnyValue bytes value (standard or URL-safe base64, padding optional) as standard padded base64, cut to the limit. */
function bytesBase64(v: unknown, leaf: string): string {
  const s = str(v, leaf);
  if (!BASE64.test(s) || s.length % 4 === 1) fail(pathOf(leaf), `expected base64, got ${describe(v)}`);
  const bytes = Buffer.from(s, 'base64');
  return flattenBytes(bytes, 0, leaves.bytes(bytes.length));
}

// ---------------------------------------------------------------------------------------------
// Ids. `parseId` leaves the lowercase hex in `idHex` and returns the byte length, or -1 when the
// text is neither hex nor base64 of the expected size.

const HEX = /^[0-9a-fA-F]*$/;
const ZEROS = /^0*$/;
let idHex = '';
let idZero = false;

function parseId(s: string, expected: number): number {
  if (s.length === expected * 2 && HEX.test(s)) {
    idHex = s.toLowerCase();
    idZero = ZEROS.test(s);
    return expected;
  }
  // base64 of 16 bytes is 24 characters padded or 22 bare; of 8 bytes, 12 or 11.
  const padded = Math.ceil(expected / 3) * 4;
  const bare = Math.ceil((expected * 4) / 3);
  if ((s.length === padded || s.length === bare) && BASE64.test(s)) {
    const b = Buffer.from(s, 'base64');
    if (b.length === expected) {
      idHex = b.toString('hex');
      idZero = ZEROS.test(idHex);
      return expected;
    }
  }
  if (s.length % 2 === 0 && HEX.test(s)) {
    idHex = s.toLowerCase();
    idZero = ZEROS.test(s);
    return s.length / 2;
  }
  idHex = '';
  return -1;
}

function notHex(field: string, s: string, expected: number): string {
  return `${field} is not ${expected * 2} hex characters (or base64 of ${expected} bytes): ${JSON.stringify(
    s.length > 48 ? s.slice(0, 48) + '…' : s,
  )}`;
}

/** Why a required id is unusable ("" if fine; then its hex is in idHex). */
function requiredId(s: string, field: string, expected: number): string {
  const n = parseId(s, expected);
  if (n < 0) return notHex(field, s, expected);
  return requiredIdProblem(field, expected, n, n === expected && idZero);
}

/** Why an optional id is unusable ("" if fine; then its hex, "" when absent or zero, is in idHex). */
function optionalId(s: string, field: string, expected: number): string {
  if (s === '') {
    idHex = '';
    return '';
  }
  const n = parseId(s, expected);
  if (n < 0) return notHex(field, s, expected);
  const problem = optionalIdProblem(field, expected, n);
  if (problem === '' && idZero) idHex = '';
  return problem;
}

// ---------------------------------------------------------------------------------------------
// AnyValue and attributes

/** Kind of the value most recently flattened by anyValue. */
let lastKind: LogBodyKind = 'empty';
/** The request's nesting limit and its leaf cutter (limits.ts). */
let maxDepth = MAX_ANYVALUE_DEPTH;
const leaves = new LeafLimiter();

function anyValue(v: unknown, depth: number): string {
  if (depth > maxDepth) throw nestingError(pathString(), maxDepth);
  if (v === null || v === undefined) {
    lastKind = 'empty';
    return '';
  }
  if (!isObj(v)) {
    const p = pathString();
    fail(p, `expected an AnyValue object, got ${describe(v)}`);
  }
  let kind: LogBodyKind = 'empty';
  let out = '';
  for (const k in v) {
    const x = v[k];
    if (x === null) continue;
    switch (k) {
      case 'stringValue':
      case 'string_value':
        out = leaves.string(str(x, 'stringValue'));
        kind = 'string';
        break;
      case 'boolValue':
      case 'bool_value':
        out = flattenBool(bool(x, 'boolValue'));
        kind = 'bool';
        break;
      case 'intValue':
      case 'int_value':
        out = int64(x, 'intValue', true);
        kind = 'int';
        break;
      case 'doubleValue':
      case 'double_value':
        out = flattenDouble(double(x, 'doubleValue'));
        kind = 'double';
        break;
      case 'bytesValue':
      case 'bytes_value':
        out = bytesBase64(x, 'bytesValue');
        kind = 'bytes';
        break;
      case 'arrayValue':
      case 'array_value': {
        const o = obj(x, 'arrayValue');
        enter('arrayValue', -1);
        out = arrayValue(o, depth);
        sp--;
        kind = 'array';
        break;
      }
      case 'kvlistValue':
      case 'kvlist_value': {
        const o = obj(x, 'kvlistValue');
        enter('kvlistValue', -1);
        out = kvlistValue(o, depth);
        sp--;
        kind = 'kvlist';
        break;
      }
      default:
      // stringValueStrindex and anything newer: not for these signals, ignored
    }
  }
  lastKind = kind;
  return out;
}

function arrayValue(o: Obj, depth: number): string {
  const values = o.values;
  if (values === null || values === undefined) return '[]';
  const list = arr(values, 'values');
  const parts: string[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    enter('values', i);
    const flat = anyValue(list[i], depth + 1);
    sp--;
    parts[i] = jsonElement(flat, lastKind);
  }
  return arrayJson(parts);
}

function kvlistValue(o: Obj, depth: number): string {
  const values = o.values;
  if (values === null || values === undefined) return '{}';
  const list = arr(values, 'values');
  const keys: string[] = new Array(list.length);
  const parts: string[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    enter('values', i);
    const flat = keyValue(list[i], depth + 1);
    sp--;
    keys[i] = kvKey;
    parts[i] = jsonElement(flat, lastKind);
  }
  return kvlistJson(keys, parts);
}

let kvKey = '';

/** A KeyValue whose value sits at `depth`; the key is left in kvKey, the kind in lastKind. */
function keyValue(v: unknown, depth: number): string {
  let key = '';
  let value: unknown = undefined;
  if (v !== null) {
    if (!isObj(v)) fail(pathString(), `expected a KeyValue object, got ${describe(v)}`);
    for (const k in v) {
      if (k === 'key') {
        const x = v[k];
        if (x !== null) key = str(x, 'key');
      } else if (k === 'value') {
        value = v[k];
      }
    }
  }
  enter('value', -1);
  const flat = anyValue(value, depth);
  sp--;
  // set after the value: a nested kvlist reuses kvKey for its own entries. An attribute's own
  // key is dropped whole when too long (limits.ts); a nested one is a leaf.
  kvKey = depth > 1 ? leaves.string(key) : key;
  return flat;
}

function attributes(v: unknown, attrs: Attributes, leaf: string): void {
  const list = arr(v, leaf);
  for (let i = 0; i < list.length; i++) {
    enter(leaf, i);
    const flat = keyValue(list[i], 1);
    sp--;
    setAttribute(attrs, kvKey, flat);
  }
}

// ---------------------------------------------------------------------------------------------
// Envelopes

/** Elements of a repeated message field; a null element stands for an empty message. */
function messages(v: unknown, leaf: string): unknown[] {
  return arr(v, leaf);
}

function element(v: unknown, leaf: string): Obj {
  if (v === null) return {};
  if (!isObj(v)) fail(pathString(), `expected ${leaf} to hold objects, got ${describe(v)}`);
  return v;
}

function resource(o: Obj, r: Resource): void {
  for (const k in o) {
    const v = o[k];
    if (v === null) continue;
    switch (k) {
      case 'attributes':
        attributes(v, r.attributes, 'attributes');
        break;
      case 'droppedAttributesCount':
      case 'dropped_attributes_count':
        r.droppedAttributesCount = uint32(v, 'droppedAttributesCount');
        break;
      default:
    }
  }
}

function scope(o: Obj, s: Scope): void {
  for (const k in o) {
    const v = o[k];
    if (v === null) continue;
    switch (k) {
      case 'name':
        s.name = str(v, 'name');
        break;
      case 'version':
        s.version = str(v, 'version');
        break;
      case 'attributes':
        attributes(v, s.attributes, 'attributes');
        break;
      case 'droppedAttributesCount':
      case 'dropped_attributes_count':
        s.droppedAttributesCount = uint32(v, 'droppedAttributesCount');
        break;
      default:
    }
  }
}

// An envelope's resource (or scope) and schema URL are read before its items, wherever their
// keys sit, so the sink knows whose items follow before the first one arrives.
function resourceGroup(o: Obj, signal: Signal): void {
  const info = SIGNALS[signal];
  const r: Resource = { attributes: {}, droppedAttributesCount: 0, schemaUrl: '' };
  for (const k in o) {
    const v = o[k];
    if (v === null) continue;
    if (k === 'resource') {
      const ro = obj(v, 'resource');
      enter('resource', -1);
      resource(ro, r);
      sp--;
    } else if (k === 'schemaUrl' || k === 'schema_url') {
      r.schemaUrl = str(v, 'schemaUrl');
    }
  }
  recordLimits.resource(r);
  sink.group(r);
  for (const k in o) {
    const v = o[k];
    if (v === null || (k !== info.scopes && k !== info.scopesSnake)) continue;
    const list = messages(v, info.scopes);
    for (let i = 0; i < list.length; i++) {
      enter(info.scopes, i);
      scopeGroup(element(list[i], info.scopes), signal);
      sp--;
    }
  }
  sink.groupEnd();
}

function scopeGroup(o: Obj, signal: Signal): void {
  const info = SIGNALS[signal];
  const s: Scope = { name: '', version: '', attributes: {}, droppedAttributesCount: 0, schemaUrl: '' };
  for (const k in o) {
    const v = o[k];
    if (v === null) continue;
    if (k === 'scope') {
      const so = obj(v, 'scope');
      enter('scope', -1);
      scope(so, s);
      sp--;
    } else if (k === 'schemaUrl' || k === 'schema_url') {
      s.schemaUrl = str(v, 'schemaUrl');
    }
  }
  recordLimits.scope(s);
  for (const k in o) {
    const v = o[k];
    if (v === null || (k !== info.items && k !== info.itemsSnake)) continue;
    const list = messages(v, info.items);
    for (let i = 0; i < list.length; i++) {
      enter(info.items, i);
      const el = element(list[i], info.items);
      if (signal === 'traces') span(el, s);
      else if (signal === 'metrics') metric(el, s);
      else logRecord(el, s);
      sp--;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Traces

function span(o: Obj, sc: Scope): void {
  const s = emptySpan(sc);

  let traceId = '';
  let spanId = '';
  let parentId = '';
  let problem = '';
  let problemPath = '';
  for (const k in o) {
    const v = o[k];
    if (v === null) continue;
    switch (k) {
      case 'traceId':
      case 'trace_id':
        traceId = str(v, 'traceId');
        break;
      case 'spanId':
      case 'span_id':
        spanId = str(v, 'spanId');
        break;
      case 'parentSpanId':
      case 'parent_span_id':
        parentId = str(v, 'parentSpanId');
        break;
      case 'traceState':
      case 'trace_state':
        s.traceState = str(v, 'traceState');
        break;
      case 'flags':
        s.flags = uint32(v, 'flags');
        break;
      case 'name':
        s.name = str(v, 'name');
        break;
      case 'kind':
        s.kind = enumNumber(v, 'kind');
        break;
      case 'startTimeUnixNano':
      case 'start_time_unix_nano':
        s.startTimeUnixNano = time(v, 'startTimeUnixNano');
        break;
      case 'endTimeUnixNano':
      case 'end_time_unix_nano':
        s.endTimeUnixNano = time(v, 'endTimeUnixNano');
        break;
      case 'attributes':
        attributes(v, s.attributes, 'attributes');
        break;
      case 'droppedAttributesCount':
      case 'dropped_attributes_count':
        s.droppedAttributesCount = uint32(v, 'droppedAttributesCount');
        break;
      case 'events': {
        const list = messages(v, 'events');
        for (let i = 0; i < list.length; i++) {
          enter('events', i);
          s.events.push(event(element(list[i], 'events')));
          sp--;
        }
        break;
      }
      case 'droppedEventsCount':
      case 'dropped_events_count':
        s.droppedEventsCount = uint32(v, 'droppedEventsCount');
        break;
      case 'links': {
        const list = messages(v, 'links');
        for (let i = 0; i < list.length; i++) {
          enter('links', i);
          s.links.push(link(element(list[i], 'links')));
          if (linkProblem !== '' && problem === '') {
            problem = linkProblem;
            problemPath = pathOf(linkProblemField);
          }
          sp--;
        }
        break;
      }
      case 'droppedLinksCount':
      case 'dropped_links_count':
        s.droppedLinksCount = uint32(v, 'droppedLinksCount');
        break;
      case 'status': {
        const so = obj(v, 'status');
        enter('status', -1);
        for (const sk in so) {
          const sv = so[sk];
          if (sv === null) continue;
          if (sk === 'message') s.statusMessage = str(sv, 'message');
          else if (sk === 'code') s.statusCode = enumNumber(sv, 'code');
        }
        sp--;
        break;
      }
      default:
    }
  }
  let field = 'traceId';
  let reason = requiredId(traceId, 'traceId', 16);
  if (reason === '') {
    s.traceId = idHex;
    field = 'spanId';
    reason = requiredId(spanId, 'spanId', 8);
    if (reason === '') {
      s.spanId = idHex;
      field = 'parentSpanId';
      reason = optionalId(parentId, 'parentSpanId', 8);
      s.parentSpanId = idHex;
    }
  }
  if (reason !== '') {
    invalid.push({ path: pathOf(field), reason });
    return;
  }
  if (problem !== '') {
    invalid.push({ path: problemPath, reason: problem });
    return;
  }
  recordLimits.span(s);
  sink.item(s);
}

function event(o: Obj): SpanEvent {
  const e: SpanEvent = { timeUnixNano: '0', name: '', attributes: {}, droppedAttributesCount: 0 };
  for (const k in o) {
    const v = o[k];
    if (v === null) continue;
    switch (k) {
      case 'timeUnixNano':
      case 'time_unix_nano':
        e.timeUnixNano = time(v, 'timeUnixNano');
        break;
      case 'name':
        e.name = str(v, 'name');
        break;
      case 'attributes':
        attributes(v, e.attributes, 'attributes');
        break;
      case 'droppedAttributesCount':
      case 'dropped_attributes_count':
        e.droppedAttributesCount = uint32(v, 'droppedAttributesCount');
        break;
      default:
    }
  }
  return e;
}

let linkProblem = '';
let linkProblemField = '';

function link(o: Obj): SpanLink {
  const l: SpanLink = { traceId: '', spanId: '', traceState: '', attributes: {}, droppedAttributesCount: 0, flags: 0 };
  let traceId = '';
  let spanId = '';
  for (const k in o) {
    const v = o[k];
    if (v === null) continue;
    switch (k) {
      case 'traceId':
      case 'trace_id':
        traceId = str(v, 'traceId');
        break;
      case 'spanId':
      case 'span_id':
        spanId = str(v, 'spanId');
        break;
      case 'traceState':
      case 'trace_state':
        l.traceState = str(v, 'traceState');
        break;
      case 'attributes':
        attributes(v, l.attributes, 'attributes');
        break;
      case 'droppedAttributesCount':
      case 'dropped_attributes_count':
        l.droppedAttributesCount = uint32(v, 'droppedAttributesCount');
        break;
      case 'flags':
        l.flags = uint32(v, 'flags');
        break;
      default:
    }
  }
  linkProblemField = 'traceId';
  linkProblem = requiredId(traceId, 'traceId', 16);
  if (linkProblem === '') {
    const t = idHex;
    linkProblemField = 'spanId';
    linkProblem = requiredId(spanId, 'spanId', 8);
    if (linkProblem === '') {
      l.traceId = t;
      l.spanId = idHex;
    }
  }
  return l;
}

// ---------------------------------------------------------------------------------------------
// Metrics


const METRIC_DATA: Record<string, { type: MetricType; field: string }> = {
  gauge: { type: 'gauge', field: 'gauge' },
  sum: { type: 'sum', field: 'sum' },
  histogram: { type: 'histogram', field: 'histogram' },
  exponentialHistogram: { type: 'exponential_histogram', field: 'exponentialHistogram' },
  exponential_histogram: { type: 'exponential_histogram', field: 'exponentialHistogram' },
  summary: { type: 'summary', field: 'summary' },
};

function metric(o: Obj, sc: Scope): void {
  let name = '';
  let description = '';
  let unit = '';
  let points: MetricPoint[] = [];
  let temporality = 0;
  let monotonic = false;
  const invalidMark = invalid.length;
  for (const k in o) {
    const v = o[k];
    if (v === null) continue;
    if (k === 'name') name = str(v, 'name');
    else if (k === 'description') description = str(v, 'description');
    else if (k === 'unit') unit = str(v, 'unit');
    else {
      const d = METRIC_DATA[k];
      if (d === undefined || !Object.hasOwn(METRIC_DATA, k)) continue;
      // oneof: a later member replaces an earlier one, as in protobuf
      points = [];
      invalid.length = invalidMark;
      temporality = 0;
      monotonic = false;
      const data = obj(v, d.field);
      enter(d.field, -1);
      for (const dk in data) {
        const dv = data[dk];
        if (dv === null) continue;
        if (dk === 'dataPoints' || dk === 'data_points') {
          const list = messages(dv, 'dataPoints');
          for (let i = 0; i < list.length; i++) {
            enter('dataPoints', i);
            const p = emptyMetricPoint(sc, d.type);
            if (dataPoint(element(list[i], 'dataPoints'), p)) points.push(p);
            sp--;
          }
        } else if ((dk === 'aggregationTemporality' || dk === 'aggregation_temporality') && d.type !== 'gauge' && d.type !== 'summary') {
          temporality = enumNumber(dv, 'aggregationTemporality');
        } else if ((dk === 'isMonotonic' || dk === 'is_monotonic') && d.type === 'sum') {
          monotonic = bool(dv, 'isMonotonic');
        }
      }
      sp--;
    }
  }
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    p.metricName = name;
    p.metricDescription = description;
    p.metricUnit = unit;
    p.temporality = temporality;
    p.isMonotonic = monotonic;
    recordLimits.point(p);
    sink.item(p);
  }
}

function uint64List(v: unknown, leaf: string, out: string[]): void {
  const list = arr(v, leaf);
  for (let i = 0; i < list.length; i++) out.push(int64(list[i], `${leaf}[${i}]`, false));
}

function buckets(v: unknown, leaf: string, p: MetricPoint, positive: boolean): void {
  const o = obj(v, leaf);
  enter(leaf, -1);
  for (const k in o) {
    const x = o[k];
    if (x === null) continue;
    if (k === 'offset') {
      if (positive) p.positiveOffset = int32(x, 'offset');
      else p.negativeOffset = int32(x, 'offset');
    } else if (k === 'bucketCounts' || k === 'bucket_counts') {
      uint64List(x, 'bucketCounts', positive ? p.positiveBucketCounts : p.negativeBucketCounts);
    }
  }
  sp--;
}

/** Fills `p` from a data point of any type; false (with an invalid entry) if an exemplar id is bad. */
function dataPoint(o: Obj, p: MetricPoint): boolean {
  const type = p.metricType;
  const numeric = type === 'gauge' || type === 'sum';
  let problem = '';
  let problemPath = '';
  for (const k in o) {
    const v = o[k];
    if (v === null) continue;
    switch (k) {
      case 'attributes':
        attributes(v, p.attributes, 'attributes');
        break;
      case 'startTimeUnixNano':
      case 'start_time_unix_nano':
        p.startTimeUnixNano = time(v, 'startTimeUnixNano');
        break;
      case 'timeUnixNano':
      case 'time_unix_nano':
        p.timeUnixNano = time(v, 'timeUnixNano');
        break;
      case 'flags':
        p.flags = uint32(v, 'flags');
        break;
      case 'exemplars': {
        if (type === 'summary') break;
        const list = messages(v, 'exemplars');
        for (let i = 0; i < list.length; i++) {
          enter('exemplars', i);
          const reason = exemplar(element(list[i], 'exemplars'), p.exemplars);
          if (reason !== '' && problem === '') {
            problem = reason;
            problemPath = exemplarProblemPath;
          }
          sp--;
        }
        break;
      }
      case 'asDouble':
      case 'as_double':
        if (!numeric) break;
        p.value = double(v, 'asDouble');
        p.intValue = '';
        break;
      case 'asInt':
      case 'as_int':
        if (!numeric) break;
        p.intValue = int64(v, 'asInt', true);
        p.value = Number(p.intValue);
        break;
      case 'count':
        if (numeric) break;
        p.count = int64(v, 'count', false);
        break;
      case 'sum':
        if (numeric) break;
        p.sum = double(v, 'sum');
        break;
      case 'min':
        if (type === 'histogram' || type === 'exponential_histogram') p.min = double(v, 'min');
        break;
      case 'max':
        if (type === 'histogram' || type === 'exponential_histogram') p.max = double(v, 'max');
        break;
      case 'bucketCounts':
      case 'bucket_counts':
        if (type === 'histogram') uint64List(v, 'bucketCounts', p.bucketCounts);
        break;
      case 'explicitBounds':
      case 'explicit_bounds':
        if (type === 'histogram') {
          const list = arr(v, 'explicitBounds');
          for (let i = 0; i < list.length; i++) p.explicitBounds.push(double(list[i], `explicitBounds[${i}]`));
        }
        break;
      case 'scale':
        if (type === 'exponential_histogram') p.scale = int32(v, 'scale');
        break;
      case 'zeroCount':
      case 'zero_count':
        if (type === 'exponential_histogram') p.zeroCount = int64(v, 'zeroCount', false);
        break;
      case 'zeroThreshold':
      case 'zero_threshold':
        if (type === 'exponential_histogram') p.zeroThreshold = double(v, 'zeroThreshold');
        break;
      case 'positive':
        if (type === 'exponential_histogram') buckets(v, 'positive', p, true);
        break;
      case 'negative':
        if (type === 'exponential_histogram') buckets(v, 'negative', p, false);
        break;
      case 'quantileValues':
      case 'quantile_values':
        if (type === 'summary') {
          const list = messages(v, 'quantileValues');
          for (let i = 0; i < list.length; i++) {
            enter('quantileValues', i);
            const q = element(list[i], 'quantileValues');
            let quantile = 0;
            let value = 0;
            for (const qk in q) {
              const qv = q[qk];
              if (qv === null) continue;
              if (qk === 'quantile') quantile = double(qv, 'quantile');
              else if (qk === 'value') value = double(qv, 'value');
            }
            sp--;
            p.quantiles.push(quantile);
            p.quantileValues.push(value);
          }
        }
        break;
      default:
    }
  }
  if (problem !== '') {
    invalid.push({ path: problemPath, reason: problem });
    return false;
  }
  return true;
}

let exemplarProblemPath = '';

/** Appends an exemplar to `list`; returns why its ids are malformed ("" if fine). */
function exemplar(o: Obj, list: Exemplar[]): string {
  const x: Exemplar = { timeUnixNano: '0', value: 0, traceId: '', spanId: '', filteredAttributes: {} };
  let traceId = '';
  let spanId = '';
  for (const k in o) {
    const v = o[k];
    if (v === null) continue;
    switch (k) {
      case 'filteredAttributes':
      case 'filtered_attributes':
        attributes(v, x.filteredAttributes, 'filteredAttributes');
        break;
      case 'timeUnixNano':
      case 'time_unix_nano':
        x.timeUnixNano = time(v, 'timeUnixNano');
        break;
      case 'asDouble':
      case 'as_double':
        x.value = double(v, 'asDouble');
        break;
      case 'asInt':
      case 'as_int':
        x.value = Number(int64(v, 'asInt', true));
        break;
      case 'traceId':
      case 'trace_id':
        traceId = str(v, 'traceId');
        break;
      case 'spanId':
      case 'span_id':
        spanId = str(v, 'spanId');
        break;
      default:
    }
  }
  let reason = optionalId(traceId, 'traceId', 16);
  if (reason !== '') {
    exemplarProblemPath = pathOf('traceId');
    return reason;
  }
  x.traceId = idHex;
  reason = optionalId(spanId, 'spanId', 8);
  if (reason !== '') {
    exemplarProblemPath = pathOf('spanId');
    return reason;
  }
  x.spanId = idHex;
  list.push(x);
  return '';
}

// ---------------------------------------------------------------------------------------------
// Logs

function logRecord(o: Obj, sc: Scope): void {
  const r: LogRecord = {
    scope: sc,
    timeUnixNano: '0',
    observedTimeUnixNano: '0',
    severityNumber: 0,
    severityText: '',
    body: '',
    bodyKind: 'empty',
    attributes: {},
    droppedAttributesCount: 0,
    flags: 0,
    traceId: '',
    spanId: '',
    eventName: '',
  };
  let traceId = '';
  let spanId = '';
  for (const k in o) {
    const v = o[k];
    if (v === null) continue;
    switch (k) {
      case 'timeUnixNano':
      case 'time_unix_nano':
        r.timeUnixNano = time(v, 'timeUnixNano');
        break;
      case 'observedTimeUnixNano':
      case 'observed_time_unix_nano':
        r.observedTimeUnixNano = time(v, 'observedTimeUnixNano');
        break;
      case 'severityNumber':
      case 'severity_number':
        r.severityNumber = enumNumber(v, 'severityNumber');
        break;
      case 'severityText':
      case 'severity_text':
        r.severityText = str(v, 'severityText');
        break;
      case 'body':
        enter('body', -1);
        r.body = anyValue(v, 1);
        r.bodyKind = lastKind;
        sp--;
        break;
      case 'attributes':
        attributes(v, r.attributes, 'attributes');
        break;
      case 'droppedAttributesCount':
      case 'dropped_attributes_count':
        r.droppedAttributesCount = uint32(v, 'droppedAttributesCount');
        break;
      case 'flags':
        r.flags = uint32(v, 'flags');
        break;
      case 'traceId':
      case 'trace_id':
        traceId = str(v, 'traceId');
        break;
      case 'spanId':
      case 'span_id':
        spanId = str(v, 'spanId');
        break;
      case 'eventName':
      case 'event_name':
        r.eventName = str(v, 'eventName');
        break;
      default:
    }
  }
  let reason = optionalId(traceId, 'traceId', 16);
  let field = 'traceId';
  if (reason === '') {
    r.traceId = idHex;
    reason = optionalId(spanId, 'spanId', 8);
    field = 'spanId';
    r.spanId = idHex;
  }
  if (reason !== '') {
    invalid.push({ path: pathOf(field), reason });
    return;
  }
  recordLimits.log(r);
  sink.item(r);
}

// ---------------------------------------------------------------------------------------------

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** End of the JSON string starting at `i` (a quote), or -(offset of the fault) - 1. */
function scanString(t: string, i: number): number {
  for (i++; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c < 0x20) return -i - 1;
    if (c === 0x5c) {
      const e = t[i + 1];
      if (e === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(t.slice(i + 2, i + 6))) return -i - 1;
        i += 5;
      } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i++;
      else return -i - 1;
    }
  }
  return -t.length - 1;
}

const JSON_SCALAR = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;

/**
 * Offset of the first JSON syntax error in `t` (-1 if none is found). V8 reports a position for
 * some errors only; this runs on the error path alone, iteratively, so deep input is fine.
 */
function jsonErrorOffset(t: string): number {
  const stack: number[] = []; // 0 = object, 1 = array
  let i = 0;
  let wantValue = true;
  const n = t.length;
  for (;;) {
    while (i < n && isWs(t.charCodeAt(i))) i++;
    if (wantValue) {
      if (i >= n) return i;
      const c = t[i];
      if (c === '{' || c === '[') {
        i++;
        while (i < n && isWs(t.charCodeAt(i))) i++;
        if (t[i] === (c === '{' ? '}' : ']')) {
          i++;
          wantValue = false;
          continue;
        }
        stack.push(c === '{' ? 0 : 1);
        if (c === '[') continue;
      } else if (c === '"') {
        const e = scanString(t, i);
        if (e < 0) return -e - 1;
        i = e;
        wantValue = false;
        continue;
      } else {
        JSON_SCALAR.lastIndex = i;
        const m = JSON_SCALAR.exec(t);
        if (!m || m[0].length === 0) return i;
        i += m[0].length;
        wantValue = false;
        continue;
      }
    } else {
      if (stack.length === 0) return i < n ? i : -1;
      const top = stack[stack.length - 1];
      const c = t[i];
      if ((top === 0 && c === '}') || (top === 1 && c === ']')) {
        stack.pop();
        i++;
        continue;
      }
      if (c !== ',') return i;
      i++;
      wantValue = true;
      if (top === 1) continue;
      while (i < n && isWs(t.charCodeAt(i))) i++;
    }
    // an object member: "key" then ':'
    if (t[i] !== '"') return i;
    const e = scanString(t, i);
    if (e < 0) return -e - 1;
    i = e;
    while (i < n && isWs(t.charCodeAt(i))) i++;
    if (t[i] !== ':') return i;
    i++;
    wantValue = true;
  }
}

function parseBody(body: Uint8Array): unknown {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  let text = b.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let i = 0;
  while (i < text.length && isWs(text.charCodeAt(i))) i++;
  // An empty body is an empty request, which PROTOCOL.md §2.5 says to accept.
  if (i === text.length) return {};
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const m = /position (\d+)/.exec(msg);
    const at = m ? Number(m[1]) : jsonErrorOffset(text);
    let where = '';
    if (at >= 0) {
      let line = 1;
      let col = 1;
      for (let j = 0; j < at && j < text.length; j++) {
        if (text.charCodeAt(j) === 10) {
          line++;
          col = 1;
        } else col++;
      }
      where = ` at character ${at} (line ${line}, column ${col})`;
    }
    fail('', `invalid JSON${where}: ${msg}`);
  }
}

/** Decode an OTLP/JSON Export*ServiceRequest body for `signal` into grouped rows, within `limits`. */
export function decodeJson(signal: Signal, body: Uint8Array, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): AnyDecoded {
  const into = new GroupCollector();
  return into.decoded(decodeJsonInto(signal, body, into, limits));
}

/** Decode an OTLP/JSON Export*ServiceRequest body for `signal` into `into`, item by item, within `limits`. */
export function decodeJsonInto(signal: Signal, body: Uint8Array, into: DecodeSink<unknown>, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): DecodeOutcome {
  const info = SIGNALS[signal];
  requestName = info.request;
  maxDepth = limits.maxDepth;
  leaves.reset(limits.maxStringLength);
  sp = 0;
  invalid = [];
  const report = emptyLimitReport(limits);
  sink = into;
  recordLimits = new RecordLimits(limits, report);
  const found = invalid;
  try {
    const root = parseBody(body);
    if (!isObj(root)) fail('', `expected a JSON object with "${info.groups}", got ${describe(root)}`);
    for (const k in root) {
      const v = root[k];
      if (v === null || (k !== info.groups && k !== info.groupsSnake)) continue;
      const list = messages(v, info.groups);
      for (let i = 0; i < list.length; i++) {
        enter(info.groups, i);
        resourceGroup(element(list[i], info.groups), signal);
        sp--;
      }
    }
  } finally {
    report.truncated += leaves.truncated;
    sp = 0;
    invalid = [];
    sink = idle;
  }
  return { signal, invalid: found, limits: report };
}

const idle = new GroupCollector();
