// The per-minute rollup as ingest fills it: tenantscope's own sums of a request's spans on
// shared resources (src/ingest/rollup.ts) must say exactly what the same spans, once stored,
// say through the store's own `shared_resource` column; a resent request is not counted twice.
// Failed spans and server spans slower than the tenant's latency threshold (acme-dist: 500 ms)
// are counted beside them, with the threshold they were judged by.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, bearer, type TestServer } from './support/server.js';
import { sharedResource } from '../src/ingest/rollup.js';

let server: TestServer;
test.before(async () => {
  server = await startTestServer();
});
test.after(async () => {
  await server.stop();
});

const MINUTE_NS = 60_000_000_000n;
const T0 = BigInt(Date.parse('2026-03-02T10:00:00Z')) * 1_000_000n;

interface SpanSpec {
  name: string;
  kind: number;
  minute: number;
  ms: number;
  trace: string;
  attributes?: Record<string, string>;
  error?: boolean;
}

let spanSeq = 0;

function body(service: string, spans: SpanSpec[]): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [
          {
            spans: spans.map((s) => {
              const start = T0 + BigInt(s.minute) * MINUTE_NS + BigInt(++spanSeq) * 1_000_000n;
              return {
                traceId: s.trace.padStart(32, '0'),
                spanId: String(spanSeq).padStart(16, '0'),
                name: s.name,
                kind: s.kind,
                startTimeUnixNano: String(start),
                endTimeUnixNano: String(start + BigInt(s.ms) * 1_000_000n),
                attributes: Object.entries(s.attributes ?? {}).map(([key, v]) => ({ key, value: { stringValue: v } })),
                ...(s.error ? { status: { code: 2, message: 'failed' } } : {}),
              };
            }),
          },
        ],
      },
    ],
  });
}

async function send(text: string): Promise<void> {
  const res = await fetch(`${server.otlpHttpUrl}/v1/traces`, { method: 'POST', body: text, headers: { 'content-type': 'application/json', ...bearer('demo-ingest-acme-dist') } });
  assert.is(res.status, 200, await res.text());
}

// Every branch of the resource rule, two minutes, several spans per key (sums and the slowest).
const SPANS: SpanSpec[] = [
  { name: 'GET /orders', kind: 2, minute: 0, ms: 10, trace: 'a1' },
  { name: 'GET /orders', kind: 2, minute: 0, ms: 40, trace: 'a2', error: true },
  { name: 'GET /orders', kind: 2, minute: 0, ms: 501, trace: 'a4' },
  { name: 'GET /orders', kind: 2, minute: 0, ms: 500, trace: 'a5' },
  { name: 'GET /orders', kind: 2, minute: 1, ms: 5, trace: 'a3' },
  { name: 'GET /orders', kind: 2, minute: 1, ms: 900, trace: 'a6', error: true },
  { name: 'SELECT orders', kind: 3, minute: 0, ms: 7, trace: 'b1', attributes: { 'db.client.connection.pool.name': 'pg-main', 'db.system': 'postgresql' } },
  { name: 'SELECT orders', kind: 3, minute: 0, ms: 800, trace: 'b2', error: true, attributes: { 'db.client.connection.pool.name': 'pg-main', 'db.system': 'postgresql' } },
  { name: 'publish', kind: 4, minute: 0, ms: 3, trace: 'c1', attributes: { 'messaging.destination.name': 'orders-q' } },
  { name: 'GET key', kind: 3, minute: 0, ms: 2, trace: 'd1', attributes: { 'db.system': 'redis', 'server.address': 'cache-1' } },
  { name: 'GET key', kind: 3, minute: 0, ms: 9, trace: 'd2', attributes: { 'db.system': 'redis', 'server.address': 'cache-1' } },
  { name: 'query', kind: 3, minute: 1, ms: 4, trace: 'e1', attributes: { 'db.system': 'mysql' } },
  { name: 'compute', kind: 1, minute: 0, ms: 50, trace: 'f1' },
  { name: 'call out', kind: 3, minute: 0, ms: 50, trace: 'g1', attributes: { 'http.url': 'https://x' } },
];

interface Rolled {
  minute: string;
  resource: string;
  name: string;
  requests: string;
  busy: string;
  slowest: string;
  errors: string;
  slow: string;
  failed: string;
}

const THRESHOLD_NS = 500_000_000;

async function fromSpans(): Promise<Rolled[]> {
  await server.settle();
  return server.store.query<Rolled>(
    `SELECT toString(toStartOfMinute(start_time)) AS minute, shared_resource AS resource, name, toString(count()) AS requests,
            toString(sum(duration_ns)) AS busy, argMax(trace_id, duration_ns) AS slowest,
            toString(countIf(status_code = 2)) AS errors, toString(countIf(kind = 2 AND duration_ns > ${THRESHOLD_NS})) AS slow,
            maxIf(trace_id, status_code = 2) AS failed
       FROM spans WHERE tenant_id = 'acme-dist' AND service_name = 'rollup-svc' AND shared_resource != ''
      GROUP BY minute, resource, name ORDER BY minute, resource, name`,
  );
}

async function fromRollup(): Promise<Rolled[]> {
  await server.settle();
  return server.store.query<Rolled>(
    `SELECT toString(minute) AS minute, resource, name, toString(sum(requests)) AS requests, toString(sum(busy_ns)) AS busy, argMaxMerge(slowest) AS slowest,
            toString(sum(errors)) AS errors, toString(sum(slow)) AS slow, max(failed_trace) AS failed
       FROM resource_minutes WHERE tenant_id = 'acme-dist' AND minute >= '2026-03-02 10:00:00' AND minute < '2026-03-02 10:05:00'
      GROUP BY minute, resource, name ORDER BY minute, resource, name`,
  );
}

test('the rollup holds what the stored spans say, resource by resource and minute by minute', async () => {
  await send(body('rollup-svc', SPANS));
  const spans = await fromSpans();
  assert.equal(
    spans.map((r) => r.resource).filter((r, i, all) => all.indexOf(r) === i).sort(),
    ['db:mysql', 'db:pg-main', 'db:redis@cache-1', 'queue:orders-q', 'service:rollup-svc'],
    'every branch of the rule is in the fixture',
  );
  assert.equal(await fromRollup(), spans);
  const orders = spans.find((r) => r.resource === 'service:rollup-svc' && r.minute.endsWith('10:00:00'))!;
  assert.equal([orders.requests, orders.busy, orders.slowest, orders.errors, orders.slow], ['4', '1051000000', 'a4'.padStart(32, '0'), '1', '1']);
  const pool = spans.find((r) => r.resource === 'db:pg-main')!;
  assert.equal([pool.errors, pool.slow], ['1', '0'], 'a slow client span is not a slow request');
  assert.is(orders.failed, 'a2'.padStart(32, '0'), "a failing request's trace is kept");
});

test('every rollup row records the latency threshold its slow count was judged by', async () => {
  await server.settle();
  const thresholds = await server.store.query<{ lo: string; hi: string }>(
    "SELECT toString(min(slow_threshold_min)) AS lo, toString(max(slow_threshold_max)) AS hi FROM resource_minutes WHERE tenant_id = 'acme-dist' AND minute >= '2026-03-02 10:00:00' AND minute < '2026-03-02 10:05:00'",
  );
  assert.equal(thresholds, [{ lo: String(THRESHOLD_NS), hi: String(THRESHOLD_NS) }]);
});

test('a second request in the same minutes adds to the rollup; the same request resent does not', async () => {
  const more = body('rollup-svc', [{ name: 'GET /orders', kind: 2, minute: 0, ms: 90, trace: 'a9' }]);
  await send(more);
  await send(more);
  const rolled = await fromRollup();
  assert.equal(rolled, await fromSpans());
  const orders = rolled.find((r) => r.resource === 'service:rollup-svc' && r.minute.endsWith('10:00:00'))!;
  assert.equal([orders.requests, orders.slowest], ['5', 'a4'.padStart(32, '0')]);
});

test('the hourly sums the engine keeps beside the rollup say what its minutes say', async () => {
  // The incidents report counts months from these (migration 0012); a query grouping by the
  // hour is answered from them, the same query told not to use them reads the minute rows.
  await server.settle();
  const hourly = `SELECT CAST(tenant_id AS String) AS tenant, resource, toString(toStartOfHour(minute)) AS hour,
                         toString(sum(requests)) AS requests, toString(sum(errors)) AS errors, toString(min(slow_threshold_min)) AS threshold
                    FROM resource_minutes WHERE toStartOfHour(minute) >= '2026-03-02 00:00:00'
                   GROUP BY tenant_id, resource, toStartOfHour(minute) ORDER BY tenant, resource, hour`;
  const plan = (await server.store.query<{ explain: string }>(`EXPLAIN ${hourly}`)).map((r) => r.explain).join('\n');
  assert.match(plan, /ReadFromMergeTree \(server_hours\)/, 'the projection answers');
  const fromHours = await server.store.query(hourly);
  assert.ok(fromHours.length >= 5, 'every resource of the fixture has an hour');
  assert.equal(fromHours, await server.store.query(`${hourly} SETTINGS optimize_use_projections = 0`));
});

test('the resource rule names what the store column names for the same span, in its order of precedence', async () => {
  const cases: Array<[number, Record<string, string>]> = [
    [2, { 'db.system': 'postgresql', 'db.client.connection.pool.name': 'p' }],
    [3, { 'db.client.connection.pool.name': 'p', 'messaging.destination.name': 'q' }],
    [5, { 'messaging.destination.name': 'q', 'db.system': 'x' }],
    [3, { 'db.system': 'x', 'server.address': '' }],
    [3, { 'server.address': 'h' }],
    [3, { 'db.client.connection.pool.name': '', 'db.system': 'y' }],
    [0, {}],
  ];
  // Stored straight into the table, so the column is computed by the store from the row.
  const rows = cases.map(([kind, attributes], i) => JSON.stringify({ tenant_id: 'rule-check', service_name: 'svc', kind, attributes, span_id: String(i), retention_days: 1 }));
  await server.store.insertJsonEachRow('spans', Buffer.from(rows.join('\n')), rows.length);
  const stored = await server.store.query<{ span_id: string; shared_resource: string }>("SELECT span_id, shared_resource FROM spans WHERE tenant_id = 'rule-check' ORDER BY toUInt32(span_id)");
  assert.equal(
    cases.map(([kind, attributes]) => sharedResource(kind, 'svc', attributes)),
    stored.map((r) => r.shared_resource),
  );
});

test.run();
