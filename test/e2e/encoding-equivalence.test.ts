// The same OTLP request sent as protobuf and as OTLP/JSON is stored as the same rows, column by
// column: the encoding a client picks must never change what a tenant finds in its spans, logs
// and metric points. Each request is written once (as OTLP/JSON, with hex ids, int64 as strings
// and numbers, "NaN"/"Infinity" doubles) and encoded to protobuf field by field from the OTLP
// field table (test/support/otlp-protobuf.ts); both are posted with the same token to one
// server, and the two requests' rows are told apart by their batch id, which digests the body
// and so differs per encoding. Only batch_id and ingested_at may differ.
//
// The requests reach for edge values: empty strings, multi-byte UTF-8, int64 max and min,
// NaN and infinities, bytes, nested arrays and kvlists, empty attribute maps, times at 0 and at
// the last storable nanosecond (2262-04-11), and every metric point kind with exemplars.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Signal } from '../../src/ingest/otlp/index.js';
import { startTestServer, bearer, type TestServer } from '../support/server.js';
import { otlpJsonToProtobuf } from '../support/otlp-protobuf.js';

let server: TestServer;
test.before(async () => {
  server = await startTestServer();
});
test.after(async () => {
  await server.stop();
});

// initech-retail enables no PII classes, so redaction leaves these values alone.
const TOKEN = 'demo-ingest-initech-retail';

// --- building blocks (OTLP/JSON) ---------------------------------------------------------

type Json = Record<string, unknown>;
const kv = (key: string, value: Json) => ({ key, value });
const s = (v: string) => ({ stringValue: v });
const UTF8 = 'Grüße 東京 🚚';
const INT64_MAX = '9223372036854775807';
const INT64_MIN = '-9223372036854775808';
/** The last nanosecond a DateTime64(9) holds (2262-04-11T23:47:16.854775807Z). */
const LAST_NS = '9223372036854775807';
const T0 = 1_764_000_000_000_000_000n;
const at = (offsetMs: number) => String(T0 + BigInt(offsetMs) * 1_000_000n);

/** One attribute of every AnyValue kind and edge value; `case` names the item for ordering. */
function everyKind(name: string): Json[] {
  return [
    kv('case', s(name)),
    kv('str.empty', s('')),
    kv('str.utf8', s(UTF8)),
    kv('str.escapes', s('quote " backslash \\ newline \n tab \t nul \u0000 end')),
    kv('bool.true', { boolValue: true }),
    kv('bool.false', { boolValue: false }),
    kv('int.max', { intValue: INT64_MAX }),
    kv('int.min', { intValue: INT64_MIN }),
    kv('int.zero', { intValue: '0' }),
    kv('int.number', { intValue: 42 }),
    kv('int.negative', { intValue: -7 }),
    kv('double.fraction', { doubleValue: 637.704 }),
    kv('double.integral', { doubleValue: 3 }),
    kv('double.tiny', { doubleValue: 5e-324 }),
    kv('double.huge', { doubleValue: 1.7976931348623157e308 }),
    kv('double.nan', { doubleValue: 'NaN' }),
    kv('double.inf', { doubleValue: 'Infinity' }),
    kv('double.neginf', { doubleValue: '-Infinity' }),
    kv('bytes', { bytesValue: Buffer.from([0, 1, 127, 128, 254, 255]).toString('base64') }),
    kv('bytes.empty', { bytesValue: '' }),
    kv('empty.value', {}),
    kv('array', {
      arrayValue: {
        values: [s('a'), s(UTF8), { intValue: INT64_MIN }, { doubleValue: 'NaN' }, { boolValue: true }, { bytesValue: 'AAE=' }, {}, { arrayValue: { values: [s('nested')] } }, { kvlistValue: { values: [kv('k', s('v'))] } }],
      },
    }),
    kv('array.empty', { arrayValue: {} }),
    kv('kvlist', {
      kvlistValue: {
        values: [kv('s', s(UTF8)), kv('i', { intValue: INT64_MAX }), kv('d', { doubleValue: '-Infinity' }), kv('', s('empty key')), kv('deeper', { kvlistValue: { values: [kv('array', { arrayValue: { values: [{ kvlistValue: { values: [kv('leaf', { boolValue: false })] } }] } })] } })],
      },
    }),
    kv('kvlist.empty', { kvlistValue: { values: [] } }),
    kv('repeated', s('first')),
    kv(UTF8, s('a multi-byte key')),
    kv('repeated', s('last wins')),
  ];
}

const RESOURCE = {
  attributes: [kv('service.name', s('equivalence-check')), kv('deployment.environment', s(UTF8)), kv('host.cores', { intValue: 8 }), kv('empty', s(''))],
  droppedAttributesCount: 3,
};
const BARE_RESOURCE = { attributes: [] };
const SCOPE = { name: 'tenantscope-equivalence', version: '1.0.0-ß', attributes: [kv('scope.flag', { boolValue: true }), kv('scope.list', { arrayValue: { values: [s(''), { intValue: 1 }] } })], droppedAttributesCount: 1 };
const TRACE = '5b8efff798038103d269b633813fc60c';
const OTHER_TRACE = '0af7651916cd43dd8448eb211c80319c';

// --- the requests ------------------------------------------------------------------------

const traces: Json = {
  resourceSpans: [
    {
      resource: RESOURCE,
      schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
      scopeSpans: [
        {
          scope: SCOPE,
          schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
          spans: [
            {
              traceId: TRACE,
              spanId: 'eee19b7ec3c1b174',
              parentSpanId: 'eee19b7ec3c1b173',
              traceState: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
              flags: 0x301,
              name: `POST /orders/{id} ${UTF8}`,
              kind: 2,
              startTimeUnixNano: at(0),
              endTimeUnixNano: at(1234),
              attributes: everyKind('span.full'),
              droppedAttributesCount: 2,
              events: [
                { timeUnixNano: at(10), name: 'exception', attributes: [kv('exception.message', s(UTF8)), kv('exception.escaped', { boolValue: false })], droppedAttributesCount: 1 },
                { timeUnixNano: '0', name: '', attributes: [] },
                { timeUnixNano: LAST_NS, name: 'last storable nanosecond' },
              ],
              droppedEventsCount: 4,
              links: [
                { traceId: OTHER_TRACE.toUpperCase(), spanId: 'B7AD6B7169203331', traceState: 'k=v', attributes: everyKind('link'), droppedAttributesCount: 1, flags: 0x100 },
                { traceId: TRACE, spanId: '00f067aa0ba902b7' },
              ],
              droppedLinksCount: 5,
              status: { code: 2, message: `deadlock ${UTF8}` },
            },
            {
              traceId: TRACE,
              spanId: '00f067aa0ba902b7',
              name: '',
              kind: 1,
              startTimeUnixNano: '0',
              endTimeUnixNano: LAST_NS,
              attributes: [kv('case', s('span.extreme.times'))],
              status: { code: 1 },
            },
            {
              traceId: OTHER_TRACE,
              spanId: '53995c3f42cd8ad8',
              name: 'end before start',
              kind: 3,
              startTimeUnixNano: at(500),
              endTimeUnixNano: at(100),
              attributes: [kv('case', s('span.negative.duration')), kv('db.system', s('postgresql')), kv('server.address', s('pg-1'))],
              status: {},
            },
          ],
        },
        {
          spans: [{ traceId: OTHER_TRACE, spanId: '1111111111111111', name: 'no scope', startTimeUnixNano: 1_764_000_000_000_000_000, endTimeUnixNano: at(1), attributes: [kv('case', s('span.no.scope'))] }],
        },
      ],
    },
    { resource: BARE_RESOURCE, scopeSpans: [{ scope: {}, spans: [{ traceId: OTHER_TRACE, spanId: '2222222222222222', name: 'bare', kind: 4, startTimeUnixNano: at(2), endTimeUnixNano: at(3), attributes: [kv('case', s('span.bare.resource'))] }] }] },
  ],
};

function logRecord(name: string, body: Json | undefined, extra: Json = {}): Json {
  return {
    timeUnixNano: at(20),
    observedTimeUnixNano: at(21),
    severityNumber: 13,
    severityText: 'WARN',
    ...(body === undefined ? {} : { body }),
    attributes: [kv('case', s(name))],
    ...extra,
  };
}

const logs: Json = {
  resourceLogs: [
    {
      resource: RESOURCE,
      schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
      scopeLogs: [
        {
          scope: SCOPE,
          logRecords: [
            logRecord('body.string', s(`dispatch wave 14 late ${UTF8}`), { traceId: TRACE, spanId: 'eee19b7ec3c1b174', flags: 1, attributes: everyKind('body.string'), droppedAttributesCount: 9 }),
            logRecord('body.string.empty', s('')),
            logRecord('body.bool', { boolValue: true }),
            logRecord('body.int', { intValue: INT64_MIN }),
            logRecord('body.int.number', { intValue: 12 }),
            logRecord('body.double', { doubleValue: 'NaN' }),
            logRecord('body.double.inf', { doubleValue: 'Infinity' }),
            logRecord('body.bytes', { bytesValue: Buffer.from(UTF8).toString('base64') }),
            logRecord('body.array', { arrayValue: { values: [s(UTF8), { intValue: INT64_MAX }, { arrayValue: { values: [] } }, {}] } }),
            logRecord('body.kvlist', { kvlistValue: { values: [kv('type', { intValue: '0' }), kv('url', s('https://example.com/päth?q=1')), kv('nested', { kvlistValue: { values: [kv('x', { doubleValue: 0.1 })] } })] } }),
            logRecord('body.absent', undefined, { eventName: 'browser.page_view' }),
            logRecord('body.empty.anyvalue', {}),
            logRecord('time.zero', s('unset time'), { timeUnixNano: '0', observedTimeUnixNano: at(22), severityNumber: 0, severityText: '' }),
            logRecord('time.last', s('last storable'), { timeUnixNano: LAST_NS, observedTimeUnixNano: LAST_NS, severityNumber: 24, severityText: 'FATAL4' }),
            logRecord('time.number', s('time as a number'), { timeUnixNano: 1_764_000_000_000_000_000, observedTimeUnixNano: 0 }),
          ],
        },
      ],
    },
    { resource: BARE_RESOURCE, scopeLogs: [{ logRecords: [logRecord('bare.resource', s('x'), { attributes: [kv('case', s('bare.resource'))] })] }] },
  ],
};

function point(name: string, extra: Json): Json {
  return { startTimeUnixNano: at(-60_000), timeUnixNano: at(0), attributes: [kv('case', s(name))], ...extra };
}

const exemplars: Json[] = [
  { timeUnixNano: at(-5), asInt: INT64_MAX, traceId: TRACE, spanId: 'eee19b7ec3c1b174', filteredAttributes: [kv('user', s(UTF8)), kv('n', { intValue: -1 })] },
  { timeUnixNano: at(-4), asDouble: 0.25, traceId: OTHER_TRACE, spanId: '53995c3f42cd8ad8', filteredAttributes: [] },
  { timeUnixNano: '0', asInt: -3 },
  { timeUnixNano: at(-3), asDouble: 'NaN' },
];

function metric(name: string, data: Json, extra: Json = {}): Json {
  return { name, description: `${name} ${UTF8}`, unit: name.includes('latency') ? 'ms' : '{item}', ...data, ...extra };
}

const metrics: Json = {
  resourceMetrics: [
    {
      resource: RESOURCE,
      schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
      scopeMetrics: [
        {
          scope: SCOPE,
          metrics: [
            metric('gauge.int', {
              gauge: {
                dataPoints: [
                  point('gauge.int.max', { asInt: INT64_MAX, exemplars }),
                  point('gauge.int.min', { asInt: INT64_MIN }),
                  point('gauge.int.number', { asInt: 17, flags: 1 }),
                  point('gauge.int.zero.times', { asInt: '0', startTimeUnixNano: '0', timeUnixNano: '0' }),
                ],
              },
            }),
            metric('gauge.double', {
              gauge: {
                dataPoints: [
                  point('gauge.double', { asDouble: 637.704, attributes: everyKind('gauge.double') }),
                  point('gauge.double.nan', { asDouble: 'NaN' }),
                  point('gauge.double.inf', { asDouble: 'Infinity' }),
                  point('gauge.double.neginf', { asDouble: '-Infinity' }),
                  point('gauge.double.last.time', { asDouble: -0.5, timeUnixNano: LAST_NS }),
                  point('gauge.no.value', {}),
                ],
              },
            }),
            metric('sum.monotonic.cumulative', { sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [point('sum.monotonic.cumulative', { asInt: '123456789012345678', exemplars })] } }),
            metric('sum.delta', { sum: { aggregationTemporality: 1, isMonotonic: false, dataPoints: [point('sum.delta', { asDouble: -12.5 })] } }),
            metric('order.latency', {
              histogram: {
                aggregationTemporality: 2,
                dataPoints: [
                  point('histogram.min.max', { count: '6', sum: 310.5, min: 0.5, max: 250, bucketCounts: ['1', 2, '0', '3'], explicitBounds: [1, 10, 100], exemplars }),
                  point('histogram.no.sum.min.max', { count: 4, bucketCounts: ['4'], explicitBounds: [] }),
                  point('histogram.infinite.bounds', { count: '2', sum: 'Infinity', min: '-Infinity', max: 'NaN', bucketCounts: ['1', '1'], explicitBounds: ['-Infinity'] }),
                ],
              },
            }),
            metric('order.latency.exp', {
              exponentialHistogram: {
                aggregationTemporality: 1,
                dataPoints: [
                  point('exp.both.signs', {
                    count: '11',
                    sum: -3.75,
                    scale: -3,
                    zeroCount: '2',
                    zeroThreshold: 1e-9,
                    positive: { offset: -2, bucketCounts: ['1', 0, '3'] },
                    negative: { offset: 5, bucketCounts: ['4', '1'] },
                    min: -40,
                    max: 12,
                    exemplars,
                  }),
                  point('exp.positive.only', { count: '3', scale: 20, zeroCount: '0', positive: { offset: 1, bucketCounts: ['0', '2', '1'] } }),
                  point('exp.empty', { count: '0', scale: 0, zeroThreshold: 0 }),
                ],
              },
            }),
            metric('rpc.latency.summary', {
              summary: {
                dataPoints: [
                  point('summary.quantiles', { count: INT64_MAX, sum: 1e21, quantileValues: [{ quantile: 0, value: 1 }, { quantile: 0.5, value: 'NaN' }, { quantile: 0.99, value: 250.5 }, { quantile: 1, value: 'Infinity' }] }),
                  point('summary.empty', { count: '0', sum: 0 }),
                ],
              },
            }),
          ],
        },
      ],
    },
    { resource: BARE_RESOURCE, scopeMetrics: [{ metrics: [metric('bare', { gauge: { dataPoints: [point('bare.resource', { asDouble: 1 })] } }, { description: '', unit: '' })] }] },
  ],
};

// --- sending and reading -----------------------------------------------------------------

const TABLE: Record<Signal, string> = { traces: 'spans', logs: 'logs', metrics: 'metric_points' };
type Row = Record<string, unknown>;

async function batchIds(): Promise<Set<string>> {
  await server.settle();
  const rows = await server.store.query<{ batch_id: string }>('SELECT DISTINCT batch_id FROM ingest_usage');
  return new Set(rows.map((r) => r.batch_id));
}

/** Post a request; the batch id its usage row names (new since before the post). */
async function send(signal: Signal, encoding: 'protobuf' | 'json', request: Json): Promise<string> {
  const before = await batchIds();
  const body = encoding === 'json' ? JSON.stringify(request) : otlpJsonToProtobuf(signal, request);
  const res = await fetch(`${server.otlpHttpUrl}/v1/${signal}`, {
    method: 'POST',
    body,
    headers: { 'content-type': encoding === 'json' ? 'application/json' : 'application/x-protobuf', ...bearer(TOKEN) },
  });
  assert.is(res.status, 200, `${encoding} ${signal} request accepted`);
  await res.arrayBuffer();
  const fresh = [...(await batchIds())].filter((b) => !before.has(b));
  assert.is(fresh.length, 1, `one new batch for the ${encoding} ${signal} request`);
  return fresh[0]!;
}

/** Every column of a batch's rows but batch_id and ingested_at, one row per item `case`. */
async function stored(signal: Signal, batch: string): Promise<Row[]> {
  const table = TABLE[signal];
  const extra = table === 'spans' ? ', shared_resource' : '';
  return server.store.query<Row>(
    `SELECT * EXCEPT (batch_id, ingested_at)${extra} FROM ${table} WHERE batch_id = {b:String} ORDER BY attributes['case']`,
    { b: batch },
  );
}

/** Fails naming the table, the item (`case` attribute) and the first column that differs. */
function assertSameRows(table: string, fromProto: Row[], fromJson: Row[]): void {
  const cases = (rows: Row[]) => rows.map((r) => (r.attributes as Record<string, string>).case ?? '');
  assert.equal(cases(fromJson), cases(fromProto), `${table}: the same items are stored from both encodings`);
  assert.is(new Set(cases(fromProto)).size, fromProto.length, `${table}: each item has its own case name (a total order)`);
  for (let i = 0; i < fromProto.length; i++) {
    const p = fromProto[i]!;
    const j = fromJson[i]!;
    assert.equal(Object.keys(j), Object.keys(p), `${table}: the same columns`);
    for (const col of Object.keys(p)) {
      const a = JSON.stringify(p[col]);
      const b = JSON.stringify(j[col]);
      assert.is(b, a, `${table}, item ${cases(fromProto)[i]}: column ${col} differs (expected: as stored from protobuf; actual: from JSON)`);
    }
  }
}

const sent: Array<{ signal: Signal; proto: string; json: string }> = [];

async function sendBoth(signal: Signal, request: Json): Promise<{ proto: string; json: string }> {
  const proto = await send(signal, 'protobuf', request);
  const json = await send(signal, 'json', request);
  sent.push({ signal, proto, json });
  return { proto, json };
}

const SIGNAL_CASES: Array<[Signal, string, Json, number]> = [
  ['traces', 'spans with every attribute kind, events, links, status and extreme times', traces, 5],
  ['logs', 'log records with a body of each kind, ids, flags, event name and extreme times', logs, 16],
  ['metrics', 'every metric point kind: gauges int and double, sums, histograms, exponential histograms, summaries and exemplars', metrics, 21],
];

for (const [signal, what, request, items] of SIGNAL_CASES) {
  test(`${what}: protobuf and JSON store identical ${TABLE[signal]} rows, column by column`, async () => {
    const { proto, json } = await sendBoth(signal, request);
    const fromProto = await stored(signal, proto);
    const fromJson = await stored(signal, json);
    assert.is(fromProto.length, items, `every ${signal} item is stored`);
    assertSameRows(TABLE[signal], fromProto, fromJson);
  });
}

test('the usage rows of a protobuf and a JSON request agree on everything but bytes, encoding, batch and time', async () => {
  assert.is(sent.length, SIGNAL_CASES.length, 'every request pair was sent');
  for (const { signal, proto, json } of sent) {
    const usage = (batch: string) =>
      server.store.query<Row>('SELECT * EXCEPT (bytes, encoding, batch_id, time) FROM ingest_usage WHERE batch_id = {b:String} ORDER BY outcome, reason, records', { b: batch });
    const p = await usage(proto);
    const j = await usage(json);
    assert.ok(p.length > 0, `${signal}: usage recorded`);
    assert.equal(j, p, `${signal}: usage rows`);
  }
});

test.run();
