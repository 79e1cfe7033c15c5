// Input limits as a client meets them, on a service whose registry file sets small ones
// (settings.limits): a body over the body limit and a gzip body inflating past the
// decompressed limit are 413s, nesting past max_depth is a 400, and nothing of those requests
// is stored; attributes over max_attributes or with over-long keys are dropped and counted,
// long strings are cut, and the reply warns; audit events over any limit are refused with the
// field named. Every number asserted comes from the file, not from a default: together with
// the default-limit tests in otlp-http.test.ts this is what shows the limits are configurable.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { decodeExportResponse, decodeStatus } from '../src/ingest/otlp/index.js';
import { DEMO_CONFIG, bearer, startTestServer, type TestServer } from './support/server.js';
import { jsonNestedSpan, protobufNestedSpan, protobufTraces } from './support/otlp.js';
import { auditEvent } from './support/audit.js';

const LIMITS = { max_request_bytes: 65_536, max_decompressed_bytes: 262_144, max_depth: 4, max_attributes: 3, max_string_length: 32 };

let server: TestServer;
let configDir: string;

test.before(async () => {
  configDir = mkdtempSync(join(tmpdir(), 'tenantscope-limits-'));
  const demo = readFileSync(DEMO_CONFIG, 'utf8');
  const limits = Object.entries(LIMITS).map(([k, v]) => `    ${k}: ${v}\n`).join('');
  // The body limit moves under limits: the other spelling of the same setting.
  const text = demo.replace(/^ {2}max_request_bytes: \d+\n/m, '').replace(/^ {2}limits:\n(?: {4}.*\n)+/m, `  limits:\n${limits}`);
  assert.ok(!text.includes('67108864') && text.includes('max_string_length: 32'), 'the demo registry has the limits to replace');
  const configPath = join(configDir, 'tenants.yaml');
  writeFileSync(configPath, text);
  server = await startTestServer({ configPath, policies: 'off' });
});
test.after(async () => {
  await server.stop();
  rmSync(configDir, { recursive: true, force: true });
});

const PROTO = 'application/x-protobuf';
const JSON_TYPE = 'application/json';
const acme = bearer('demo-ingest-acme-dist');
const ENCODINGS = [
  { name: 'protobuf', type: PROTO, encoding: 'protobuf' as const },
  { name: 'JSON', type: JSON_TYPE, encoding: 'json' as const },
];

async function post(path: string, body: Buffer | string, headers: Record<string, string>) {
  const res = await fetch(`${server.otlpHttpUrl}${path}`, { method: 'POST', body, headers: { ...acme, ...headers } });
  return { status: res.status, type: res.headers.get('content-type') ?? '', code: res.headers.get('x-tenantscope-error'), body: Buffer.from(await res.arrayBuffer()) };
}

function statusMessage(r: { type: string; body: Buffer }): string {
  return decodeStatus(r.body, r.type.startsWith(JSON_TYPE) ? 'json' : 'protobuf').message;
}

async function spanCount(service: string): Promise<number> {
  const [row] = await server.store.query<{ n: string }>('SELECT count() AS n FROM spans WHERE service_name = {s:String}', { s: service });
  return Number(row!.n);
}

/** An OTLP/JSON trace request of one span; `span` fields replace the defaults. */
function jsonSpan(service: string, span: Record<string, unknown>): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [{ spans: [{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', name: 'op', startTimeUnixNano: '1', endTimeUnixNano: '2', ...span }] }],
      },
    ],
  });
}

/** A trace request of `service` in `encoding` carrying an attribute of about `bytes` bytes. */
function bigRequest(encoding: 'protobuf' | 'json', service: string, bytes: number): Buffer {
  const filler = 'x'.repeat(bytes);
  if (encoding === 'protobuf') return protobufTraces({ resource: { 'service.name': service }, attributes: { filler } });
  return Buffer.from(jsonSpan(service, { attributes: [{ key: 'filler', value: { stringValue: filler } }] }));
}

// ---------------------------------------------------------------------------------------------
// Sizes

for (const e of ENCODINGS) {
  test(`${e.name}: a body over settings.limits.max_request_bytes gets 413 with a Status, and nothing is stored`, async () => {
    const service = `too-big-${e.encoding}`;
    const r = await post('/v1/traces', bigRequest(e.encoding, service, 70_000), { 'content-type': e.type });
    assert.is(r.status, 413);
    assert.is(r.code, 'TS_ERR_BODY_TOO_LARGE');
    assert.match(statusMessage(r), /^TS_ERR_BODY_TOO_LARGE: request body exceeds 65536 bytes \(as sent\)$/);
    assert.is(await spanCount(service), 0);
  });

  test(`${e.name}: a small gzip body inflating past settings.limits.max_decompressed_bytes gets 413 with a Status, and nothing is stored`, async () => {
    const service = `bomb-${e.encoding}`;
    const bomb = gzipSync(bigRequest(e.encoding, service, 4 * 1024 * 1024));
    assert.ok(bomb.length < 65_536, `the bomb itself is under the body limit (${bomb.length} bytes)`);
    const r = await post('/v1/traces', bomb, { 'content-type': e.type, 'content-encoding': 'gzip' });
    assert.is(r.status, 413);
    assert.is(r.code, 'TS_ERR_BODY_TOO_LARGE');
    assert.match(statusMessage(r), /request body exceeds 262144 bytes \(after decompression\)/);
    assert.is(await spanCount(service), 0);
  });

  test(`${e.name}: a gzip body over the body limit once inflated but within the decompressed limit is stored`, async () => {
    const service = `inflates-${e.encoding}`;
    const body = bigRequest(e.encoding, service, 200_000);
    assert.ok(body.length > 65_536 && body.length < 262_144);
    const r = await post('/v1/traces', gzipSync(body), { 'content-type': e.type, 'content-encoding': 'gzip' });
    assert.is(r.status, 200);
    assert.is(await spanCount(service), 1);
  });
}

test('a gzip bomb on /v1/audit gets 413 too, and no event is stored', async () => {
  const events = Array.from({ length: 3000 }, (_, i) => auditEvent({ id: `bomb-${i}` }));
  const bomb = gzipSync(JSON.stringify(events));
  assert.ok(bomb.length < 65_536);
  const r = await post('/v1/audit', bomb, { 'content-type': JSON_TYPE, 'content-encoding': 'gzip' });
  assert.is(r.status, 413);
  assert.is(r.code, 'TS_ERR_BODY_TOO_LARGE');
  const [row] = await server.store.query<{ n: string }>("SELECT count() AS n FROM audit_events WHERE startsWith(event_id, 'bomb-')");
  assert.is(row!.n, '0');
});

// ---------------------------------------------------------------------------------------------
// Nesting

for (const e of ENCODINGS) {
  const build = e.encoding === 'protobuf' ? (s: string, d: number) => protobufNestedSpan(s, d) : (s: string, d: number) => Buffer.from(jsonNestedSpan(s, d));

  test(`${e.name}: an attribute nested past settings.limits.max_depth gets 400 naming the limit, and nothing is stored`, async () => {
    const service = `too-deep-${e.encoding}`;
    const r = await post('/v1/traces', build(service, 5), { 'content-type': e.type });
    assert.is(r.status, 400);
    assert.is(r.code, 'TS_ERR_OTLP_NESTING');
    assert.match(statusMessage(r), /AnyValue nested deeper than 4 levels at resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.attributes\[0\]\.value/);
    assert.is(await spanCount(service), 0);
  });

  test(`${e.name}: an attribute nested exactly settings.limits.max_depth deep is stored`, async () => {
    const service = `deep-enough-${e.encoding}`;
    const r = await post('/v1/traces', build(service, 4), { 'content-type': e.type });
    assert.is(r.status, 200);
    const [row] = await server.store.query<{ deep: string }>("SELECT attributes['deep'] AS deep FROM spans WHERE service_name = {s:String}", { s: service });
    assert.is(row!.deep, '[[["bottom"]]]');
  });
}

// ---------------------------------------------------------------------------------------------
// Attribute counts and string lengths: stored, thinned and cut, with a warning

test('protobuf from the SDK: a span and its resource keep their first 3 attributes, the span counts the rest in dropped_attributes_count, and the reply warns', async () => {
  const body = protobufTraces({ resource: { 'service.name': 'count-proto', r1: '1', r2: '2', r3: '3' }, attributes: { a1: '1', a2: '2', a3: '3', a4: '4' } });
  const r = await post('/v1/traces', body, { 'content-type': PROTO });
  assert.is(r.status, 200);
  const reply = decodeExportResponse('traces', r.body, 'protobuf');
  assert.is(reply.rejected, 0);
  // the span has http.route plus a1..a4: two dropped; the resource one
  assert.is(reply.errorMessage, '3 attribute(s) dropped over the 3-attribute limit');
  const [row] = await server.store.query<{ attributes: Record<string, string>; dropped: number; res: Record<string, string> }>(
    "SELECT attributes, dropped_attributes_count AS dropped, resource_attributes AS res FROM spans WHERE service_name = 'count-proto'",
  );
  assert.equal(row!.attributes, { 'http.route': '/orders/{id}', a1: '1', a2: '2' });
  assert.is(row!.dropped, 2);
  assert.equal(row!.res, { 'service.name': 'count-proto', r1: '1', r2: '2' });
});

test('JSON: attributes over the limit and a key longer than 32 characters are dropped and added to the sent dropped_attributes_count', async () => {
  const attributes = [
    { key: 'k'.repeat(33), value: { stringValue: 'long key' } },
    ...[1, 2, 3, 4, 5].map((i) => ({ key: `a${i}`, value: { intValue: String(i) } })),
  ];
  const r = await post('/v1/traces', jsonSpan('count-json', { attributes, droppedAttributesCount: 2 }), { 'content-type': JSON_TYPE });
  assert.is(r.status, 200);
  assert.equal(decodeExportResponse('traces', r.body, 'json'), {
    rejected: 0,
    errorMessage: '2 attribute(s) dropped over the 3-attribute limit; 1 attribute(s) dropped for a key longer than 32 characters',
  });
  const [row] = await server.store.query<{ attributes: Record<string, string>; dropped: number }>(
    "SELECT attributes, dropped_attributes_count AS dropped FROM spans WHERE service_name = 'count-json'",
  );
  assert.equal(row!.attributes, { a1: '1', a2: '2', a3: '3' });
  assert.is(row!.dropped, 2 + 3);
});

test('a resource thinned to the limit keeps tenant.id and service.name, so a tenant claim behind other attributes is still checked', async () => {
  const resource = (service: string, tenant: string) => ({
    attributes: [
      ...[1, 2, 3, 4, 5].map((i) => ({ key: `r${i}`, value: { stringValue: 'x' } })),
      { key: 'service.name', value: { stringValue: service } },
      { key: 'tenant.id', value: { stringValue: tenant } },
    ],
  });
  const request = (service: string, tenant: string) =>
    JSON.stringify({ resourceSpans: [{ resource: resource(service, tenant), scopeSpans: [{ spans: [{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', name: 'op' }] }] }] });
  const claim = await post('/v1/traces', request('claims-other', 'globex-3pl'), { 'content-type': JSON_TYPE });
  assert.is(claim.status, 200);
  const reply = decodeExportResponse('traces', claim.body, 'json');
  assert.is(reply.rejected, 1, 'the claim of another tenant is still seen and refused');
  assert.match(reply.errorMessage, /tenant\.id/);
  assert.is(await spanCount('claims-other'), 0);
  const shared = await fetch(`${server.otlpHttpUrl}/v1/traces`, {
    method: 'POST',
    body: request('shared-collector', 'hooli-wholesale'),
    headers: { 'content-type': JSON_TYPE, ...bearer('demo-ingest-shared-collector') },
  });
  assert.is(shared.status, 200);
  const [row] = await server.store.query<{ tenant: string; res: Record<string, string> }>("SELECT tenant_id AS tenant, resource_attributes AS res FROM spans WHERE service_name = 'shared-collector'");
  assert.equal(row, { tenant: 'hooli-wholesale', res: { 'tenant.id': 'hooli-wholesale', 'service.name': 'shared-collector', r1: 'x' } });
});

test('JSON logs: a log record keeps 3 attributes and counts the rest', async () => {
  const body = JSON.stringify({
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'count-logs' } }] },
        scopeLogs: [{ logRecords: [{ body: { stringValue: 'hello' }, attributes: [1, 2, 3, 4, 5, 6].map((i) => ({ key: `l${i}`, value: { boolValue: true } })) }] }],
      },
    ],
  });
  const r = await post('/v1/logs', body, { 'content-type': JSON_TYPE });
  assert.is(r.status, 200);
  assert.equal(decodeExportResponse('logs', r.body, 'json'), { rejected: 0, errorMessage: '3 attribute(s) dropped over the 3-attribute limit' });
  const [row] = await server.store.query<{ n: string; dropped: number }>("SELECT length(attributes) AS n, dropped_attributes_count AS dropped FROM logs WHERE service_name = 'count-logs'");
  assert.equal(row, { n: '3', dropped: 3 });
});

const EMOJI = '😀'.repeat(40);

test('protobuf from the SDK: a long span name and attribute value are cut to 32 characters without splitting a character, and the reply warns', async () => {
  const body = protobufTraces({ resource: { 'service.name': 'cut-proto' }, name: `GET /${'n'.repeat(60)}`, attributes: { emoji: EMOJI } });
  const r = await post('/v1/traces', body, { 'content-type': PROTO });
  assert.is(r.status, 200);
  assert.equal(decodeExportResponse('traces', r.body, 'protobuf'), { rejected: 0, errorMessage: '2 value(s) truncated to 32 characters' });
  const [row] = await server.store.query<{ name: string; emoji: string }>("SELECT name, attributes['emoji'] AS emoji FROM spans WHERE service_name = 'cut-proto'");
  assert.is(row!.name, `GET /${'n'.repeat(27)}`);
  assert.is(row!.emoji, '😀'.repeat(32));
});

test('JSON: event names, nested values and log bodies are cut to 32 characters, and the reply counts each cut', async () => {
  const span = {
    attributes: [{ key: 'list', value: { arrayValue: { values: [{ stringValue: 'ü'.repeat(50) }, { stringValue: 'short' }] } } }],
    events: [{ timeUnixNano: '1', name: 'e'.repeat(40) }],
  };
  const r = await post('/v1/traces', jsonSpan('cut-json', span), { 'content-type': JSON_TYPE });
  assert.is(r.status, 200);
  assert.equal(decodeExportResponse('traces', r.body, 'json'), { rejected: 0, errorMessage: '2 value(s) truncated to 32 characters' });
  const [row] = await server.store.query<{ list: string; events: string[] }>("SELECT attributes['list'] AS list, event_names AS events FROM spans WHERE service_name = 'cut-json'");
  assert.is(row!.list, JSON.stringify(['ü'.repeat(32), 'short']));
  assert.equal(row!.events, ['e'.repeat(32)]);

  const logs = JSON.stringify({
    resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'cut-logs' } }] }, scopeLogs: [{ logRecords: [{ body: { stringValue: `${'b'.repeat(31)}é and more` } }] }] }],
  });
  const l = await post('/v1/logs', logs, { 'content-type': JSON_TYPE });
  assert.equal(decodeExportResponse('logs', l.body, 'json'), { rejected: 0, errorMessage: '1 value(s) truncated to 32 characters' });
  const [log] = await server.store.query<{ body: string }>("SELECT body FROM logs WHERE service_name = 'cut-logs'");
  assert.is(log!.body, `${'b'.repeat(31)}é`);
});

// ---------------------------------------------------------------------------------------------
// Audit events: refused, never altered

async function auditCount(prefix: string): Promise<number> {
  const [row] = await server.store.query<{ n: string }>('SELECT count() AS n FROM audit_events WHERE startsWith(event_id, {p:String})', { p: prefix });
  return Number(row!.n);
}

const AUDIT_CASES: Array<{ name: string; event: Record<string, unknown>; error: string }> = [
  {
    name: 'more attributes than settings.limits.max_attributes',
    event: { attributes: { a: '1', b: '2', c: '3', d: '4' } },
    error: '/attributes: more than 3 attributes (settings.limits.max_attributes)',
  },
  {
    name: 'an attribute value longer than settings.limits.max_string_length',
    event: { attributes: { note: 'n'.repeat(33) } },
    error: '/attributes/note: value longer than 32 characters (settings.limits.max_string_length)',
  },
  {
    name: 'an attribute key longer than the string limit',
    event: { attributes: { ['k'.repeat(33)]: 'v' } },
    error: `/attributes: attribute key "${'k'.repeat(33)}" longer than 32 characters (settings.limits.max_string_length)`,
  },
  {
    name: 'a field the schema allows longer, held to the string limit',
    event: { target: { type: 'dataset', id: 't'.repeat(40) } },
    error: '/target/id: value longer than 32 characters (settings.limits.max_string_length)',
  },
  {
    name: 'JSON nested past settings.limits.max_depth',
    event: { attributes: { a: { b: { c: {} } } } },
    error: '/attributes/a/b/c: nested deeper than 4 levels (settings.limits.max_depth)',
  },
];

for (const [i, c] of AUDIT_CASES.entries()) {
  test(`an audit event with ${c.name} is refused with a 400 naming the field, and not stored`, async () => {
    const id = `over-limit-${i}`;
    const r = await post('/v1/audit', JSON.stringify(auditEvent({ id, ...c.event })), { 'content-type': JSON_TYPE });
    assert.is(r.status, 400);
    assert.is(r.code, 'TS_ERR_AUDIT_INVALID');
    const reply = JSON.parse(r.body.toString()) as { events: Array<{ status: string; errors: string[] }> };
    assert.is(reply.events[0]!.status, 'rejected');
    assert.ok(reply.events[0]!.errors.includes(c.error), `${JSON.stringify(reply.events[0]!.errors)} includes ${c.error}`);
    assert.is(await auditCount(id), 0);
  });
}

test('an audit event exactly at every limit is stored unchanged', async () => {
  const attributes = { a: 'a'.repeat(32), b: '€'.repeat(32), ['k'.repeat(32)]: 'v' };
  const r = await post('/v1/audit', JSON.stringify(auditEvent({ id: 'at-limit-1', attributes })), { 'content-type': JSON_TYPE });
  assert.is(r.status, 200);
  const [row] = await server.store.query<{ attributes: Record<string, string> }>("SELECT attributes FROM audit_events WHERE event_id = 'at-limit-1'");
  assert.equal(row!.attributes, attributes);
});

test.run();
