// The OTLP/HTTP receiver as a client sees it: the OTLP project's example payloads are
// accepted and stored field for field; every kind of bad or hostile request gets the right
// status with a google.rpc.Status body that says what is wrong, and the server keeps serving.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { decodeStatus, decodeExportResponse } from '../src/ingest/otlp/index.js';
import { startTestServer, bearer, SHARED_DIR, type TestServer } from './support/server.js';
import { protobufTraces, jsonTraces, jsonNestedSpan, protobufNestedSpan } from './support/otlp.js';

const EXAMPLES = join(SHARED_DIR, 'otlp-examples');
const haveExamples = existsSync(EXAMPLES);
if (!haveExamples) console.log(`skip: ${EXAMPLES} not found; the example-payload tests are skipped`);

let server: TestServer;
test.before(async () => {
  server = await startTestServer();
});
test.after(async () => {
  await server.stop();
});

const PROTO = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

async function post(path: string, body: Buffer | string, headers: Record<string, string>): Promise<{ status: number; type: string; body: Buffer; headers: Headers }> {
  const res = await fetch(`${server.otlpHttpUrl}${path}`, { method: 'POST', body, headers });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

function statusOf(r: { type: string; body: Buffer }) {
  return decodeStatus(r.body, r.type.startsWith(JSON_TYPE) ? 'json' : 'protobuf');
}

// Reads what acknowledged requests left, as the API does: deferred rows stored first.
async function q<T>(sql: string, params: Record<string, string> = {}): Promise<T[]> {
  await server.settle();
  return server.store.query<T>(sql, params);
}

const exampleTest = haveExamples ? test : test.skip;

exampleTest('the OTLP example trace is accepted with an empty success body and stored field for field', async () => {
  const r = await post('/v1/traces', readFileSync(join(EXAMPLES, 'trace.json')), { 'content-type': JSON_TYPE, ...bearer('demo-ingest-acme-dist') });
  assert.is(r.status, 200);
  assert.is(r.type, JSON_TYPE);
  assert.is(r.body.toString(), '{}');
  const [s] = await q<Record<string, unknown>>(
    `SELECT *, toString(toUnixTimestamp64Nano(start_time)) AS s_ns, toString(toUnixTimestamp64Nano(end_time)) AS e_ns
       FROM spans WHERE tenant_id = 'acme-dist' AND service_name = 'my.service'`,
  );
  assert.ok(s, 'span stored');
  assert.is(s!.trace_id, '5b8efff798038103d269b633813fc60c');
  assert.is(s!.span_id, 'eee19b7ec3c1b174');
  assert.is(s!.parent_span_id, 'eee19b7ec3c1b173');
  assert.is(s!.name, "I'm a server span");
  assert.is(s!.kind, 2);
  assert.is(s!.s_ns, '1544712660000000000');
  assert.is(s!.e_ns, '1544712661000000000');
  assert.is(s!.duration_ns, '1000000000');
  assert.equal(s!.attributes, { 'my.span.attr': 'some value' });
  assert.equal(s!.resource_attributes, { 'service.name': 'my.service' });
  assert.is(s!.scope_name, 'my.library');
  assert.is(s!.scope_version, '1.0.0');
  assert.equal(s!.scope_attributes, { 'my.scope.attribute': 'some scope attribute' });
  assert.is(s!.retention_days, 30, "acme-dist keeps spans 30 days");
});

exampleTest('the OTLP example metrics are stored as one point per data point with every value', async () => {
  const r = await post('/v1/metrics', readFileSync(join(EXAMPLES, 'metrics.json')), { 'content-type': JSON_TYPE, ...bearer('demo-ingest-hooli-wholesale') });
  assert.is(r.status, 200);
  assert.is(r.body.toString(), '{}');
  const points = await q<Record<string, unknown>>(
    "SELECT *, toString(toUnixTimestamp64Nano(time)) AS t_ns FROM metric_points WHERE tenant_id = 'hooli-wholesale' AND service_name = 'my.service' ORDER BY metric_name",
  );
  const by = new Map(points.map((p) => [p.metric_name as string, p]));
  assert.is(points.length, 4);
  const counter = by.get('my.counter')!;
  assert.is(counter.metric_type, 'sum');
  assert.is(counter.temporality, 1);
  assert.is(counter.is_monotonic, true);
  assert.is(counter.value, 5);
  assert.is(counter.metric_description, 'I am a Counter');
  assert.is(counter.metric_unit, '1');
  assert.is(counter.t_ns, '1544712660300000000');
  assert.equal(counter.attributes, { 'my.counter.attr': 'some value' });
  const gauge = by.get('my.gauge')!;
  assert.is(gauge.metric_type, 'gauge');
  assert.is(gauge.value, 10);
  const hist = by.get('my.histogram')!;
  assert.is(hist.metric_type, 'histogram');
  assert.is(hist.count, '2');
  assert.is(hist.sum, 2);
  assert.is(hist.min, 0);
  assert.is(hist.max, 2);
  assert.equal(hist.bucket_counts, ['1', '1']);
  assert.equal(hist.explicit_bounds, [1]);
  const exp = by.get('my.exponential.histogram')!;
  assert.is(exp.metric_type, 'exponential_histogram');
  assert.is(exp.count, '3');
  assert.is(exp.sum, 10);
  assert.is(exp.scale, 0);
  assert.is(exp.zero_count, '1');
  assert.is(exp.positive_offset, 1);
  assert.equal(exp.positive_bucket_counts, ['0', '2']);
  assert.is(exp.max, 5);
  assert.is(counter.retention_days, 30, 'hooli-wholesale sets no metric retention: the shared tier minimum applies');
});

exampleTest('the OTLP example log keeps every AnyValue kind of its attributes', async () => {
  const r = await post('/v1/logs', readFileSync(join(EXAMPLES, 'logs.json')), { 'content-type': JSON_TYPE, ...bearer('demo-ingest-initech-retail') });
  assert.is(r.status, 200);
  const [l] = await q<Record<string, unknown>>("SELECT *, toString(toUnixTimestamp64Nano(time)) AS t_ns FROM logs WHERE tenant_id = 'initech-retail' AND service_name = 'my.service'");
  assert.ok(l);
  assert.is(l!.body, 'Example log record');
  assert.is(l!.body_kind, 'string');
  assert.is(l!.severity_number, 10);
  assert.is(l!.severity_text, 'Information');
  assert.is(l!.trace_id, '5b8efff798038103d269b633813fc60c');
  assert.is(l!.span_id, 'eee19b7ec3c1b174');
  assert.is(l!.t_ns, '1544712660300000000');
  assert.equal(l!.attributes, {
    'string.attribute': 'some string',
    'boolean.attribute': 'true',
    'int.attribute': '10',
    'double.attribute': '637.704',
    'array.attribute': '["many","values"]',
    'map.attribute': '{"some.map.key":"some value"}',
  });
});

exampleTest('the OTLP example event keeps its event name and structured body', async () => {
  const r = await post('/v1/logs', readFileSync(join(EXAMPLES, 'events.json')), { 'content-type': JSON_TYPE, ...bearer('demo-ingest-umbrella-pharma') });
  assert.is(r.status, 200);
  const [e] = await q<Record<string, unknown>>("SELECT * FROM logs WHERE tenant_id = 'umbrella-pharma' AND service_name = 'my.service'");
  assert.ok(e);
  assert.is(e!.event_name, 'browser.page_view');
  assert.is(e!.body_kind, 'kvlist');
  assert.equal(JSON.parse(e!.body as string), {
    type: '0',
    url: 'https://www.guidgenerator.com/online-guid-generator.aspx',
    referrer: 'https://wwww.google.com',
    title: 'Free Online GUID Generator',
  });
  assert.equal(e!.attributes, { 'event.attribute': 'some event attribute' });
});

test('a protobuf request gets a protobuf reply, and gzip bodies are inflated', async () => {
  const body = gzipSync(protobufTraces({ spans: 3, resource: { 'service.name': 'gzip-check' } }));
  const r = await post('/v1/traces', body, { 'content-type': PROTO, 'content-encoding': 'gzip', ...bearer('demo-ingest-acme-dist') });
  assert.is(r.status, 200);
  assert.is(r.type, PROTO);
  assert.is(r.body.length, 0, 'full success is an empty message');
  const [n] = await q<{ n: string }>("SELECT count() AS n FROM spans WHERE service_name = 'gzip-check'");
  assert.is(n!.n, '3');
});

test('a request sent again after it was acknowledged is acknowledged without being stored twice', async () => {
  const body = protobufTraces({ spans: 4, resource: { 'service.name': 'resend-check' } });
  const first = await post('/v1/traces', body, { 'content-type': PROTO, ...bearer('demo-ingest-acme-dist') });
  assert.is(first.status, 200);
  // The exporter never saw that answer and sends the same bytes again.
  const again = await post('/v1/traces', body, { 'content-type': PROTO, ...bearer('demo-ingest-acme-dist') });
  assert.is(again.status, 200);
  const reply = decodeExportResponse('traces', again.body, 'protobuf');
  assert.is(reply.rejected, 0);
  assert.match(reply.errorMessage, /already accepted; not stored again/);
  const [n] = await q<{ n: string }>("SELECT count() AS n FROM spans WHERE service_name = 'resend-check'");
  assert.is(n!.n, '4');
});

test('media type parameters such as charset are ignored', async () => {
  const r = await post('/v1/traces', jsonTraces({ resource: { 'service.name': 'charset-check' } }), { 'content-type': 'application/json; charset=utf-8', ...bearer('demo-ingest-acme-dist') });
  assert.is(r.status, 200);
});

test('a resource naming another tenant is rejected in partial success while the rest of the request is stored', async () => {
  const mine = JSON.parse(jsonTraces({ spans: 2, resource: { 'service.name': 'mixed-own' } }).toString());
  const theirs = JSON.parse(jsonTraces({ spans: 3, resource: { 'service.name': 'mixed-theirs', 'tenant.id': 'globex-3pl' } }).toString());
  const body = JSON.stringify({ resourceSpans: [...mine.resourceSpans, ...theirs.resourceSpans] });
  const r = await post('/v1/traces', body, { 'content-type': JSON_TYPE, ...bearer('demo-ingest-initech-retail') });
  assert.is(r.status, 200);
  const reply = decodeExportResponse('traces', r.body, 'json');
  assert.is(reply.rejected, 3);
  assert.match(reply.errorMessage, /globex-3pl/);
  const rows = await q<{ service_name: string; tenant_id: string; n: string }>(
    "SELECT service_name, tenant_id, count() AS n FROM spans WHERE service_name LIKE 'mixed-%' GROUP BY service_name, tenant_id",
  );
  assert.equal(rows, [{ service_name: 'mixed-own', tenant_id: 'initech-retail', n: '2' }]);
  const [u] = await q<{ records: string }>(
    "SELECT sum(records) AS records FROM ingest_usage WHERE tenant_id = 'initech-retail' AND reason = 'tenant_mismatch' AND claimed_tenant = 'globex-3pl'",
  );
  assert.is(u!.records, '3', 'the rejection is recorded for the sending tenant');
});

// --- bad and hostile input ------------------------------------------------------------

interface Case {
  name: string;
  path?: string;
  body: Buffer | string;
  headers: Record<string, string>;
  status: number;
  message: RegExp;
  code?: string;
}

const acme = bearer('demo-ingest-acme-dist');
const validProto = protobufTraces({ spans: 5 });

function withAttribute(value: unknown): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'hostile' } }] },
        scopeSpans: [
          {
            spans: [
              {
                traceId: '5b8efff798038103d269b633813fc60c',
                spanId: 'eee19b7ec3c1b174',
                name: 'x',
                startTimeUnixNano: '1',
                endTimeUnixNano: '2',
                attributes: [{ key: 'big', value }],
              },
            ],
          },
        ],
      },
    ],
  });
}

const CASES: Case[] = [
  { name: 'truncated protobuf', body: validProto.subarray(0, Math.floor(validProto.length / 2)), headers: { 'content-type': PROTO, ...acme }, status: 400, message: /cannot decode/i, code: 'TS_ERR_OTLP_DECODE' },
  { name: 'a wrong wire type for a known protobuf field', body: Buffer.from([0x08, 0x01]), headers: { 'content-type': PROTO, ...acme }, status: 400, message: /wire type/i, code: 'TS_ERR_OTLP_DECODE' },
  { name: 'invalid JSON', body: '{"resourceSpans": [', headers: { 'content-type': JSON_TYPE, ...acme }, status: 400, message: /JSON/, code: 'TS_ERR_OTLP_DECODE' },
  { name: 'a JSON field of the wrong type', body: '{"resourceSpans": 5}', headers: { 'content-type': JSON_TYPE, ...acme }, status: 400, message: /resourceSpans/, code: 'TS_ERR_OTLP_DECODE' },
  { name: '1,000-deep AnyValue nesting in JSON', body: jsonNestedSpan('hostile', 1000), headers: { 'content-type': JSON_TYPE, ...acme }, status: 400, message: /nested deeper than 64 levels/, code: 'TS_ERR_OTLP_NESTING' },
  { name: '1,000-deep AnyValue nesting in protobuf', body: protobufNestedSpan('hostile', 1000), headers: { 'content-type': PROTO, ...acme }, status: 400, message: /nested deeper than 64 levels/, code: 'TS_ERR_OTLP_NESTING' },
  { name: 'gzip that does not inflate', body: Buffer.from('definitely not gzip'), headers: { 'content-type': PROTO, 'content-encoding': 'gzip', ...acme }, status: 400, message: /gzip/, code: 'TS_ERR_GZIP' },
  { name: 'an unsupported content encoding', body: validProto, headers: { 'content-type': PROTO, 'content-encoding': 'br', ...acme }, status: 415, message: /Content-Encoding/, code: 'TS_ERR_CONTENT_ENCODING' },
  { name: 'an unknown content type', body: 'hello', headers: { 'content-type': 'text/plain', ...acme }, status: 415, message: /application\/x-protobuf or application\/json/, code: 'TS_ERR_CONTENT_TYPE' },
  { name: 'a gzip bomb inflating past the size limit', body: gzipSync(Buffer.alloc(70 * 1024 * 1024)), headers: { 'content-type': PROTO, 'content-encoding': 'gzip', ...acme }, status: 413, message: /exceeds 67108864 bytes \(after decompression\)/, code: 'TS_ERR_BODY_TOO_LARGE' },
  { name: 'a missing token', body: validProto, headers: { 'content-type': PROTO }, status: 401, message: /no Authorization header/, code: 'TS_ERR_UNAUTHENTICATED' },
  { name: 'an invalid token', body: validProto, headers: { 'content-type': PROTO, ...bearer('demo-ingest-nobody') }, status: 401, message: /not recognised/, code: 'TS_ERR_UNAUTHENTICATED' },
  { name: 'a malformed Authorization header', body: validProto, headers: { 'content-type': PROTO, authorization: 'Basic YWxhZGRpbjpvcGVuc2VzYW1l' }, status: 401, message: /Bearer/, code: 'TS_ERR_UNAUTHENTICATED' },
  { name: 'a gzip bomb without a token (refused before anything is inflated)', body: gzipSync(Buffer.alloc(70 * 1024 * 1024)), headers: { 'content-type': PROTO, 'content-encoding': 'gzip' }, status: 401, message: /no Authorization header/, code: 'TS_ERR_UNAUTHENTICATED' },
  { name: 'an unknown content type from a read token (the token kind is checked first)', body: 'hello', headers: { 'content-type': 'text/plain', ...bearer('demo-read-acme-dist') }, status: 403, message: /read token cannot be used/, code: 'TS_ERR_TOKEN_KIND' },
  { name: 'a read token used to ingest', body: validProto, headers: { 'content-type': PROTO, ...bearer('demo-read-acme-dist') }, status: 403, message: /read token cannot be used/, code: 'TS_ERR_TOKEN_KIND' },
  { name: 'an unknown OTLP path', path: '/v1/profiles', body: validProto, headers: { 'content-type': PROTO, ...acme }, status: 404, message: /no route/, code: 'TS_ERR_NOT_FOUND' },
];

for (const c of CASES) {
  test(`${c.name} gets ${c.status} with a Status body that says why`, async () => {
    const r = await post(c.path ?? '/v1/traces', c.body, c.headers);
    assert.is(r.status, c.status);
    const st = statusOf(r);
    assert.match(st.message, c.message);
    if (c.code) {
      assert.is(r.headers.get('x-tenantscope-error'), c.code);
      assert.ok(st.message.startsWith(c.code));
    }
  });
}

test('GET on an OTLP path is answered 405', async () => {
  const res = await fetch(`${server.otlpHttpUrl}/v1/traces`);
  assert.is(res.status, 405);
});

test('a 10 MB attribute value is stored cut to the default 65,536 characters, and the reply says so', async () => {
  const big = 'x'.repeat(10 * 1024 * 1024);
  const r = await post('/v1/traces', withAttribute({ stringValue: big }), { 'content-type': JSON_TYPE, ...acme });
  assert.is(r.status, 200);
  assert.equal(decodeExportResponse('traces', r.body, 'json'), { rejected: 0, errorMessage: '1 value(s) truncated to 65536 characters' });
  const [row] = await q<{ n: string }>("SELECT length(attributes['big']) AS n FROM spans WHERE service_name = 'hostile'");
  assert.is(row!.n, '65536');
});

test('under the default limits 128 attributes and a 65,536-character value are stored whole, without a warning', async () => {
  const attributes = Array.from({ length: 128 }, (_, i) => ({ key: `attr.${i}`, value: { stringValue: i === 0 ? 'é'.repeat(65536) : String(i) } }));
  const body = JSON.stringify({
    resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'default-limits' } }] }, scopeSpans: [{ spans: [{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203332', name: 'x', attributes }] }] }],
  });
  const r = await post('/v1/traces', body, { 'content-type': JSON_TYPE, ...acme });
  assert.is(r.status, 200);
  assert.is(r.body.toString(), '{}');
  const [row] = await q<{ n: string; chars: string; dropped: number }>(
    "SELECT length(attributes) AS n, lengthUTF8(attributes['attr.0']) AS chars, dropped_attributes_count AS dropped FROM spans WHERE service_name = 'default-limits'",
  );
  assert.equal(row, { n: '128', chars: '65536', dropped: 0 });
});

test('injection attempts in attribute keys and values are stored as plain data', async () => {
  const evil = "'); DROP TABLE spans; --";
  const body = JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'injection-check' } }, { key: evil, value: { stringValue: evil } }] },
        scopeSpans: [{ spans: [{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', name: `{tenant:String} ${evil}`, startTimeUnixNano: '1', endTimeUnixNano: '2' }] }],
      },
    ],
  });
  const r = await post('/v1/traces', body, { 'content-type': JSON_TYPE, ...acme });
  assert.is(r.status, 200);
  const [row] = await q<{ name: string; v: string }>("SELECT name, resource_attributes[{k:String}] AS v FROM spans WHERE service_name = 'injection-check'", { k: evil });
  assert.is(row!.v, evil);
  assert.is(row!.name, `{tenant:String} ${evil}`);
});

test('after all the hostile requests the server still stores good data', async () => {
  const r = await post('/v1/traces', protobufTraces({ spans: 4, resource: { 'service.name': 'still-alive' } }), { 'content-type': PROTO, ...acme });
  assert.is(r.status, 200);
  const [n] = await q<{ n: string }>("SELECT count() AS n FROM spans WHERE service_name = 'still-alive'");
  assert.is(n!.n, '4');
  const health = await fetch(`${server.apiUrl}/healthz`);
  assert.is(health.status, 200);
});

test.run();
