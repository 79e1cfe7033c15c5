// Audit request bodies: one JSON object, a JSON array of them, or NDJSON, each event checked
// against event.schema.json and the configured input limits on its own, so one bad event
// costs only itself.
//
// Unlike telemetry, an audit event over a limit is refused, never cut or thinned: it is
// evidence, and evidence silently altered on the way in would be worse than none. The sender
// hears which field is over which limit and can fix it.
import { randomUUID } from 'node:crypto';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import schema from './event.schema.json' with { type: 'json' };
import { tsError } from '../../errors.js';
import type { AuditEvent, AuditEventInput, AuditFlag } from './types.js';
import { addRecoverySchema, describeRecoveryError, isRecoveryAction } from '../recovery/vocabulary.js';

// ajv-formats ships CommonJS with the plugin as its default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

/** The limits an audit event is held to (the registry's `settings.limits`). */
export interface AuditLimits {
  /** Deepest JSON nesting; the event object is level 1. */
  readonly maxDepth: number;
  /** Most entries in `attributes`. */
  readonly maxAttributes: number;
  /** Longest string anywhere in the event, in characters; the schema's own bounds still apply. */
  readonly maxStringLength: number;
}

/** Most events accepted in one request. */
export const MAX_EVENTS_PER_REQUEST = 10_000;

export type AuditBodyFormat = 'json' | 'ndjson';

/** One element of the body, parsed or not. */
export type RawEvent = { index: number; value: unknown } | { index: number; parseError: string };

/** Split a body into raw events; a body that is not JSON at all is a 400. */
export function splitBody(body: Buffer, format: AuditBodyFormat): RawEvent[] {
  const text = body.toString('utf8');
  if (format === 'ndjson') {
    const out: RawEvent[] = [];
    let index = 0;
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        out.push({ index, value: JSON.parse(line) as unknown });
      } catch (e) {
        out.push({ index, parseError: `line ${index + 1} is not JSON: ${(e as Error).message}` });
      }
      index++;
    }
    return limit(out);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw tsError('TS_ERR_AUDIT_BODY', [`body is not JSON: ${(e as Error).message}`]);
  }
  if (Array.isArray(parsed)) return limit(parsed.map((value, index) => ({ index, value })));
  if (parsed !== null && typeof parsed === 'object') return [{ index: 0, value: parsed }];
  throw tsError('TS_ERR_AUDIT_BODY', ['expected an event object, an array of events, or NDJSON']);
}

function limit(events: RawEvent[]): RawEvent[] {
  if (events.length > MAX_EVENTS_PER_REQUEST) {
    throw tsError('TS_ERR_AUDIT_BODY', [`${events.length} events in one request; send at most ${MAX_EVENTS_PER_REQUEST}`]);
  }
  return events;
}

/** Checks events against the schema with the configured limits applied to it. */
export class EventValidator {
  readonly #limits: AuditLimits;
  readonly #validate: ValidateFunction<AuditEventInput>;

  constructor(limits: AuditLimits) {
    this.#limits = limits;
    // verbose: an error carries the schema it broke, whose description says what was expected.
    // strictRequired off: the vocabulary's actions require attributes its shared definition declares.
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, verbose: true });
    addFormats(ajv);
    addRecoverySchema(ajv);
    this.#validate = ajv.compile<AuditEventInput>(limitedSchema(limits));
  }

  /** Every problem of one event, as `path: message` lines; undefined when it is valid. */
  errors(value: unknown): string[] | undefined {
    // Depth first: it needs no recursion, and a refused event is not walked any further.
    const deep = tooDeep(value, this.#limits.maxDepth);
    if (deep !== undefined) return [`${deep}: nested deeper than ${this.#limits.maxDepth} levels (settings.limits.max_depth)`];
    if (this.#validate(value)) return outcomeProblem(value as AuditEventInput);
    const out: string[] = [];
    for (const e of this.#validate.errors ?? []) {
      const d = describe(e, this.#limits);
      if (d !== undefined) out.push(d);
    }
    return out;
  }
}

// The shipped schema carries the default limits, so it documents them for clients; the
// configured ones replace them here. A string limit only ever tightens the schema's own bounds.
function limitedSchema(limits: AuditLimits): Record<string, unknown> {
  const copy = structuredClone(schema) as Record<string, unknown>;
  delete copy.$id;
  const walk = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (typeof o.maxLength === 'number') o.maxLength = Math.min(o.maxLength, limits.maxStringLength);
    for (const v of Object.values(o)) walk(v);
  };
  walk(copy);
  const attrs = (copy.properties as Record<string, Record<string, unknown>>).attributes!;
  attrs.maxProperties = limits.maxAttributes;
  (attrs.additionalProperties as Record<string, unknown>).maxLength = limits.maxStringLength;
  return copy;
}

/**
 * The JSON pointer of the first object or array nested deeper than `max` (the value itself is
 * level 1), or undefined. Iterative, so no input depth can exhaust the stack.
 */
export function tooDeep(value: unknown, max: number): string | undefined {
  const stack: Array<{ v: unknown; depth: number; path: string }> = [{ v: value, depth: 1, path: '' }];
  while (stack.length > 0) {
    const { v, depth, path } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return path === '' ? '(event)' : path.length > 200 ? `${path.slice(0, 200)}...` : path;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], depth: depth + 1, path: `${path}/${i}` });
    } else {
      for (const k of Object.keys(v)) stack.push({ v: (v as Record<string, unknown>)[k], depth: depth + 1, path: `${path}/${pointerKey(k)}` });
    }
  }
  return undefined;
}

function pointerKey(k: string): string {
  const short = k.length > 40 ? `${k.slice(0, 40)}...` : k;
  return short.replace(/~/g, '~0').replace(/\//g, '~1');
}

// A recovery fact says its outcome twice when the sender copies it into the attributes (as an
// OTLP record must): the two must agree.
function outcomeProblem(e: AuditEventInput): string[] | undefined {
  const said = e.attributes?.outcome;
  if (!isRecoveryAction(e.action) || said === undefined || said === e.outcome) return undefined;
  return [`/attributes/outcome: ${JSON.stringify(said)} disagrees with the event's outcome ${JSON.stringify(e.outcome)}`];
}

function describe(e: ErrorObject, limits: AuditLimits): string | undefined {
  const where = e.instancePath === '' ? '(event)' : e.instancePath;
  const p = e.params as Record<string, unknown>;
  // An if/then that failed is reported by what failed inside it.
  if (e.keyword === 'if' || e.keyword === 'allOf') return undefined;
  const recovery = describeRecoveryError(e, where);
  if (recovery !== undefined) return recovery;
  if (e.keyword === 'maxProperties' && e.instancePath === '/attributes') {
    return `${where}: more than ${limits.maxAttributes} attributes (settings.limits.max_attributes)`;
  }
  if (e.keyword === 'maxLength' && p.limit === limits.maxStringLength) {
    const what = e.propertyName !== undefined ? `attribute key ${JSON.stringify(e.propertyName.slice(0, 40))}` : 'value';
    return `${where}: ${what} longer than ${limits.maxStringLength} characters (settings.limits.max_string_length)`;
  }
  if (e.keyword === 'enum') return `${where}: must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  if (e.keyword === 'additionalProperties') return `${where}: unknown field ${JSON.stringify(p.additionalProperty)}`;
  if (e.keyword === 'required') return `${where}: missing required field ${JSON.stringify(p.missingProperty)}`;
  return `${where}: ${e.message ?? e.keyword}`;
}

/** RFC 3339 time (validated by the schema) to exact decimal nanoseconds; undefined if out of range. */
export function rfc3339ToNs(time: string): string | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/.exec(time);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}T${m[2]}${m[4]!.toUpperCase()}`);
  if (Number.isNaN(ms) || ms < 0) return undefined;
  const ns = BigInt(ms) * 1_000_000n + BigInt((m[3] ?? '').padEnd(9, '0'));
  if (ns > 9_223_372_036_854_775_807n) return undefined;
  return ns.toString();
}

/** Normalise a valid event for `tenantId`: id, time in ns, flags for other tenants named in it. */
export function normalize(input: AuditEventInput, tenantId: string): AuditEvent | string {
  const timeNs = rfc3339ToNs(input.time);
  if (timeNs === undefined) return `/time: ${JSON.stringify(input.time)} is not a valid time between 1970 and 2262`;
  const flags: AuditFlag[] = [];
  const targetTenant = input.target.tenant_id ?? '';
  const actorTenant = input.actor.tenant_id ?? '';
  if (targetTenant !== '' && targetTenant !== tenantId) flags.push('cross_tenant_target');
  if (actorTenant !== '' && actorTenant !== tenantId) flags.push('cross_tenant_actor');
  return {
    tenantId,
    eventId: input.id ?? randomUUID(),
    timeNs,
    actorId: input.actor.id,
    actorType: input.actor.type,
    actorTenantId: actorTenant,
    action: input.action,
    targetType: input.target.type,
    targetId: input.target.id,
    targetTenantId: targetTenant,
    outcome: input.outcome,
    region: input.region ?? '',
    sourceIp: input.source_ip ?? '',
    ticket: input.ticket ?? '',
    attributes: { ...(input.attributes ?? {}) },
    flags,
  };
}
