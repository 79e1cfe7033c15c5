// Audit request bodies: one JSON object, a JSON array of them, or NDJSON, each event checked
// against event.schema.json on its own, so one bad event costs only itself.
import { randomUUID } from 'node:crypto';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import schema from './event.schema.json' with { type: 'json' };
import { tsError } from '../../errors.js';
import type { AuditEvent, AuditEventInput, AuditFlag } from './types.js';

// ajv-formats ships CommonJS with the plugin as its default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validate = ajv.compile<AuditEventInput>(schema);

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

/** Every schema error of one event, as `path: message` lines. */
export function schemaErrors(value: unknown): string[] | undefined {
  if (validate(value)) return undefined;
  return (validate.errors ?? []).map(describe);
}

function describe(e: ErrorObject): string {
  const where = e.instancePath === '' ? '(event)' : e.instancePath;
  const p = e.params as Record<string, unknown>;
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
