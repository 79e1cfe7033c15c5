// The OTLP/gRPC receiver as its clients see it: the official OpenTelemetry JS gRPC exporters
// (plain and gzip, configured in code and through the OTEL_EXPORTER_OTLP_* variables) deliver
// traces, metrics and logs for the token's tenant, with the same redaction and tenancy as
// OTLP/HTTP; bare gRPC clients (grpc-js and raw HTTP/2 frames) get the documented status
// codes, and throttling answers carry a google.rpc.RetryInfo a client can read.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect } from 'node:http2';
import { gzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { Client, Metadata, credentials, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { diag, DiagLogLevel, SpanKind } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { startTestServer, bearer, type TestServer } from '../support/server.js';
import { makeSpans, protobufTraces } from '../support/otlp.js';
import { listenOtlpGrpc, type OtlpGrpcListener } from '../../src/grpc/otlp-grpc.js';
import type { ReceiveOtlp } from '../../src/ingest/receive.js';
import { tsError } from '../../src/errors.js';
import { stageLogger } from '../../src/log.js';

const MAX_REQUEST_BYTES = 1024 * 1024;
const TRACE_EXPORT = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

let server: TestServer;
const warnings: string[] = [];

test.before(async () => {
  server = await startTestServer({ maxRequestBytes: MAX_REQUEST_BYTES });
  // The exporters report partial success through the OTel diagnostic logger.
  diag.setLogger(
    { error: () => {}, warn: (...args: unknown[]) => void warnings.push(args.map(String).join(' ')), info: () => {}, debug: () => {}, verbose: () => {} },
    DiagLogLevel.WARN,
  );
});
test.after(async () => {
  diag.disable();
  await server.stop();
});

// Reads what acknowledged requests left, as the API does: deferred rows stored first.
async function rows<T>(sql: string, params: Record<string, string> = {}): Promise<T[]> {
  await server.settle();
  return server.store.query<T>(sql, params);
}

function tokenMetadata(token: string): Metadata {
  const md = new Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
}

// The exporters read OTEL_EXPORTER_OTLP_* when they are constructed; set them only around that.
function withEnv<T>(vars: Record<string, string>, make: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return make();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

type Compression = 'none' | 'gzip';

function exporterOptions(token: string, compression: Compression) {
  return withEnv({ OTEL_EXPORTER_OTLP_COMPRESSION: compression }, () => ({ url: server.otlpGrpcUrl, metadata: tokenMetadata(token) }));
}

function traceExporter(token: string, compression: Compression = 'none'): OTLPTraceExporter {
  return withEnv({ OTEL_EXPORTER_OTLP_COMPRESSION: compression }, () => new OTLPTraceExporter({ url: server.otlpGrpcUrl, metadata: tokenMetadata(token) }));
}

/** One export through the official exporter; resolves with its result (code 0 = success). */
function exportSpans(exporter: OTLPTraceExporter, spans: ReadableSpan[]): Promise<{ code: number; error?: Error }> {
  return new Promise((resolve) => exporter.export(spans as never, (r) => resolve(r)));
}

// --- bare clients ---------------------------------------------------------------------

interface RawAnswer {
  error?: ServiceError;
  response?: Buffer;
}

/** One Export call with raw bytes, through grpc-js without any protobuf runtime. */
function rawExport(address: string, path: string, body: Buffer, md: Metadata, options: Record<string, number> = {}): Promise<RawAnswer> {
  const client = new Client(address, credentials.createInsecure(), options);
  const pass = (b: Buffer) => b;
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, pass, pass, body, md, (error, response) => {
      client.close();
      resolve(error ? { error } : { response: response ?? Buffer.alloc(0) });
    });
  });
}

// google.rpc.Status and the detail messages, written from their published .proto field numbers,
// so the trailer is read the way any protobuf-based gRPC client would read it.
const rpc = protobuf.Root.fromJSON({
  nested: {
    google: {
      nested: {
        protobuf: {
          nested: {
            Any: { fields: { typeUrl: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } },
            Duration: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
          },
        },
        rpc: {
          nested: {
            Status: { fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 }, details: { rule: 'repeated', type: 'google.protobuf.Any', id: 3 } } },
            RetryInfo: { fields: { retryDelay: { type: 'google.protobuf.Duration', id: 1 } } },
            BadRequest: {
              fields: { fieldViolations: { rule: 'repeated', type: 'FieldViolation', id: 1 } },
              nested: { FieldViolation: { fields: { field: { type: 'string', id: 1 }, description: { type: 'string', id: 2 } } } },
            },
          },
        },
      },
    },
  },
});

interface RichStatus {
  code: number;
  message: string;
  retryDelaySeconds?: number;
  badRequest?: Array<{ field: string; description: string }>;
}

/** The google.rpc.Status in an error's grpc-status-details-bin trailer, if there is one. */
function richStatus(err: ServiceError): RichStatus | undefined {
  const bin = err.metadata?.get('grpc-status-details-bin')[0];
  if (!Buffer.isBuffer(bin)) return undefined;
  const Status = rpc.lookupType('google.rpc.Status');
  const s = Status.toObject(Status.decode(bin), { longs: Number, defaults: true }) as { code: number; message: string; details: Array<{ typeUrl: string; value: Uint8Array }> };
  const out: RichStatus = { code: s.code, message: s.message };
  for (const d of s.details) {
    if (d.typeUrl === 'type.googleapis.com/google.rpc.RetryInfo') {
      const RetryInfo = rpc.lookupType('google.rpc.RetryInfo');
      const r = RetryInfo.toObject(RetryInfo.decode(d.value), { longs: Number, defaults: true }) as { retryDelay?: { seconds: number; nanos: number } };
      out.retryDelaySeconds = (r.retryDelay?.seconds ?? 0) + (r.retryDelay?.nanos ?? 0) / 1e9;
    } else if (d.typeUrl === 'type.googleapis.com/google.rpc.BadRequest') {
      const BadRequest = rpc.lookupType('google.rpc.BadRequest');
      out.badRequest = (BadRequest.toObject(BadRequest.decode(d.value), { defaults: true }) as { fieldViolations: Array<{ field: string; description: string }> }).fieldViolations;
    }
  }
  return out;
}

// --- the official exporters -------------------------------------------------------------

for (const compression of ['none', 'gzip'] as const) {
  const service = `order-api-grpc-${compression}`;

  test(`spans from the official gRPC trace exporter (compression ${compression}) are stored under the token's tenant`, async () => {
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': service, 'service.instance.id': 'order-api-1' }),
      spanProcessors: [new SimpleSpanProcessor(traceExporter('demo-ingest-acme-dist', compression))],
    });
    const tracer = provider.getTracer('grpc-test', '3.1.0');
    const parent = tracer.startSpan('POST /orders', { kind: SpanKind.SERVER, attributes: { 'http.route': '/orders', 'order.lines': 4 } });
    parent.end();
    await provider.forceFlush();
    await provider.shutdown();

    const stored = await rows<{ name: string; kind: number; trace_id: string; span_id: string; tenant_id: string; attributes: Record<string, string>; resource_attributes: Record<string, string>; scope_name: string; scope_version: string }>(
      'SELECT * FROM spans WHERE service_name = {s:String}',
      { s: service },
    );
    assert.is(stored.length, 1);
    const s = stored[0]!;
    assert.is(s.tenant_id, 'acme-dist');
    assert.is(s.name, 'POST /orders');
    assert.is(s.kind, 2);
    assert.is(s.trace_id, parent.spanContext().traceId);
    assert.is(s.span_id, parent.spanContext().spanId);
    assert.equal(s.attributes, { 'http.route': '/orders', 'order.lines': '4' });
    assert.is(s.resource_attributes['service.instance.id'], 'order-api-1');
    assert.is(s.scope_name, 'grpc-test');
    assert.is(s.scope_version, '3.1.0');
  });

  test(`metrics from the official gRPC metric exporter (compression ${compression}) are stored as sum, gauge and histogram points`, async () => {
    const exporter = new OTLPMetricExporter(exporterOptions('demo-ingest-stark-logistics', compression));
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': service }), readers: [reader] });
    const meter = provider.getMeter('edi-meter');
    meter.createCounter('edi.messages').add(9, { partner: 'p-17' });
    const latency = meter.createHistogram('edi.latency', { unit: 'ms' });
    for (const v of [5, 40]) latency.record(v);
    meter.createGauge('edi.backlog').record(3);
    await provider.shutdown();

    const points = await rows<{ metric_name: string; metric_type: string; value: number; count: string; sum: number | null; attributes: Record<string, string>; tenant_id: string }>(
      'SELECT * FROM metric_points WHERE service_name = {s:String} ORDER BY metric_name',
      { s: service },
    );
    const by = new Map(points.map((p) => [p.metric_name, p]));
    assert.is(points.length, 3);
    assert.ok(points.every((p) => p.tenant_id === 'stark-logistics'));
    assert.is(by.get('edi.messages')!.metric_type, 'sum');
    assert.is(by.get('edi.messages')!.value, 9);
    assert.equal(by.get('edi.messages')!.attributes, { partner: 'p-17' });
    assert.is(by.get('edi.latency')!.metric_type, 'histogram');
    assert.is(by.get('edi.latency')!.count, '2');
    assert.is(by.get('edi.latency')!.sum, 45);
    assert.is(by.get('edi.backlog')!.metric_type, 'gauge');
    assert.is(by.get('edi.backlog')!.value, 3);
  });

  test(`log records from the official gRPC log exporter (compression ${compression}) are stored with body, severity and attributes`, async () => {
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': service }),
      processors: [new SimpleLogRecordProcessor({ exporter: new OTLPLogExporter(exporterOptions('demo-ingest-globex-3pl', compression)) })],
    });
    provider.getLogger('dispatch').emit({ severityNumber: SeverityNumber.ERROR, severityText: 'ERROR', body: 'dock D4 scanner offline', attributes: { dock: 'D4' } });
    await provider.forceFlush();
    await provider.shutdown();

    const logs = await rows<{ body: string; severity_number: number; severity_text: string; attributes: Record<string, string>; tenant_id: string }>(
      'SELECT * FROM logs WHERE service_name = {s:String}',
      { s: service },
    );
    assert.is(logs.length, 1);
    assert.is(logs[0]!.tenant_id, 'globex-3pl');
    assert.is(logs[0]!.body, 'dock D4 scanner offline');
    assert.is(logs[0]!.severity_number, 17);
    assert.is(logs[0]!.severity_text, 'ERROR');
    assert.equal(logs[0]!.attributes, { dock: 'D4' });
  });
}

test('an exporter configured only by the OTEL_EXPORTER_OTLP_* variables the README gives (endpoint, headers, gzip) delivers spans', async () => {
  const exporter = withEnv(
    {
      OTEL_EXPORTER_OTLP_ENDPOINT: server.otlpGrpcUrl,
      OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer demo-ingest-initech-retail',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
    },
    () => new OTLPTraceExporter(),
  );
  const result = await exportSpans(exporter, makeSpans({ spans: 2, resource: { 'service.name': 'env-configured' } }));
  await exporter.shutdown();
  assert.is(result.code, 0, String(result.error));
  const [n] = await rows<{ n: string }>("SELECT count() AS n FROM spans WHERE service_name = 'env-configured' AND tenant_id = 'initech-retail'");
  assert.is(n!.n, '2');
});

test('a cross-tenant identifier in a span attribute sent over gRPC is redacted to the same marker as over HTTP', async () => {
  // CUST-20517 is hooli-wholesale's customer code; acme-dist must not store it.
  const attributes = { 'order.note': 'forwarded from CUST-20517 by mistake', 'order.customer': 'CUST-10442' };
  const exporter = traceExporter('demo-ingest-acme-dist');
  const result = await exportSpans(exporter, makeSpans({ resource: { 'service.name': 'redact-grpc' }, attributes }));
  await exporter.shutdown();
  assert.is(result.code, 0, String(result.error));
  const http = await fetch(`${server.otlpHttpUrl}/v1/traces`, {
    method: 'POST',
    body: protobufTraces({ resource: { 'service.name': 'redact-http' }, attributes }),
    headers: { 'content-type': 'application/x-protobuf', ...bearer('demo-ingest-acme-dist') },
  });
  assert.is(http.status, 200);

  const stored = await rows<{ service_name: string; note: string; customer: string }>(
    "SELECT service_name, attributes['order.note'] AS note, attributes['order.customer'] AS customer FROM spans WHERE service_name IN ('redact-grpc', 'redact-http') ORDER BY service_name",
  );
  assert.is(stored.length, 2);
  const [viaGrpc, viaHttp] = stored as [(typeof stored)[0], (typeof stored)[0]];
  assert.match(viaGrpc.note, /^forwarded from \[REDACTED:tenant_identifier:[0-9a-f]{8}\] by mistake$/);
  assert.is(viaGrpc.note, viaHttp.note, 'both transports produce the same marker');
  assert.is(viaGrpc.customer, 'CUST-10442', "the tenant's own identifier is kept");
  const all = JSON.stringify(await rows('SELECT * FROM spans'));
  assert.not.ok(all.includes('CUST-20517'), 'the raw identifier is stored nowhere');
  const [counted] = await rows<{ n: string }>(
    "SELECT toString(sum(count)) AS n FROM redactions WHERE tenant_id = 'acme-dist' AND field = 'span.attributes.order.note' AND class = 'tenant_identifier'",
  );
  assert.is(counted!.n, '2', 'one redaction counted per transport');
});

test('a resource naming another tenant is refused in partial success, read by the official exporter, while the rest is stored', async () => {
  warnings.length = 0;
  const mine = makeSpans({ spans: 2, resource: { 'service.name': 'grpc-mixed-own' } });
  const theirs = makeSpans({ spans: 3, resource: { 'service.name': 'grpc-mixed-theirs', 'tenant.id': 'globex-3pl' } });
  const exporter = traceExporter('demo-ingest-initech-retail');
  const result = await exportSpans(exporter, [...mine, ...theirs]);
  await exporter.shutdown();
  assert.is(result.code, 0, 'partial success is a success the client must not retry');
  const warning = warnings.find((w) => w.includes('Partial Success'));
  assert.ok(warning, `the exporter reported partial success: ${warnings.join(' | ')}`);
  const partial = JSON.parse(warning!.slice(warning!.indexOf('{'))) as { rejectedSpans: unknown; errorMessage: string };
  assert.is(Number(partial.rejectedSpans), 3);
  assert.match(partial.errorMessage, /globex-3pl/);
  const stored = await rows<{ service_name: string; tenant_id: string; n: string }>(
    "SELECT service_name, tenant_id, count() AS n FROM spans WHERE service_name LIKE 'grpc-mixed-%' GROUP BY service_name, tenant_id",
  );
  assert.equal(stored, [{ service_name: 'grpc-mixed-own', tenant_id: 'initech-retail', n: '2' }]);
  const [u] = await rows<{ records: string }>(
    "SELECT toString(sum(records)) AS records FROM ingest_usage WHERE tenant_id = 'initech-retail' AND reason = 'tenant_mismatch' AND claimed_tenant = 'globex-3pl'",
  );
  assert.is(u!.records, '3', 'the rejection is recorded for the sending tenant');
});

// --- refusals ------------------------------------------------------------------------------

test('an unknown token gets UNAUTHENTICATED naming TS_ERR_UNAUTHENTICATED, and nothing is stored', async () => {
  const exporter = traceExporter('demo-ingest-nobody');
  const result = await exportSpans(exporter, makeSpans({ resource: { 'service.name': 'grpc-bad-token' } }));
  await exporter.shutdown();
  assert.is.not(result.code, 0);
  const err = result.error as ServiceError;
  assert.is(err.code, GrpcStatus.UNAUTHENTICATED);
  assert.match(err.details, /^TS_ERR_UNAUTHENTICATED: .*token not recognised/);
  assert.is(err.metadata.get('x-tenantscope-error')[0], 'TS_ERR_UNAUTHENTICATED');
  assert.is(richStatus(err)?.retryDelaySeconds, undefined, 'not retryable');
  const [n] = await rows<{ n: string }>("SELECT count() AS n FROM spans WHERE service_name = 'grpc-bad-token'");
  assert.is(n!.n, '0');
});

test('a call without authorization metadata gets UNAUTHENTICATED', async () => {
  const r = await rawExport(server.otlpGrpcAddress, TRACE_EXPORT, protobufTraces(), new Metadata());
  assert.is(r.error?.code, GrpcStatus.UNAUTHENTICATED);
  assert.match(r.error!.details, /no Authorization header/);
});

test('a read token used to export gets PERMISSION_DENIED naming TS_ERR_TOKEN_KIND', async () => {
  const exporter = traceExporter('demo-read-acme-dist');
  const result = await exportSpans(exporter, makeSpans());
  await exporter.shutdown();
  const err = result.error as ServiceError;
  assert.is(err.code, GrpcStatus.PERMISSION_DENIED);
  assert.match(err.details, /^TS_ERR_TOKEN_KIND: a read token cannot be used to send traces/);
});

test('an undecodable message gets INVALID_ARGUMENT with the decode error and a BadRequest detail', async () => {
  // Field 1 (resource_spans), length-delimited, claiming 100 bytes that are not there.
  const r = await rawExport(server.otlpGrpcAddress, TRACE_EXPORT, Buffer.from([0x0a, 0x64, 0x01, 0x02]), tokenMetadata('demo-ingest-acme-dist'));
  assert.is(r.error?.code, GrpcStatus.INVALID_ARGUMENT);
  assert.match(r.error!.details, /^TS_ERR_OTLP_DECODE: cannot decode/);
  const rich = richStatus(r.error!);
  assert.is(rich?.code, GrpcStatus.INVALID_ARGUMENT);
  assert.ok(rich?.badRequest && rich.badRequest.length === 1, 'a BadRequest detail');
  assert.is(rich?.retryDelaySeconds, undefined);
});

test('a message over the size limit is refused with RESOURCE_EXHAUSTED and no RetryInfo, and the server keeps serving', async () => {
  const big = Buffer.alloc(MAX_REQUEST_BYTES + 1024, 0x41);
  const r = await rawExport(server.otlpGrpcAddress, TRACE_EXPORT, big, tokenMetadata('demo-ingest-acme-dist'));
  assert.is(r.error?.code, GrpcStatus.RESOURCE_EXHAUSTED);
  assert.match(r.error!.details, /larger than max/);
  assert.is(r.error!.metadata.get('grpc-status-details-bin').length, 0, 'no RetryInfo: the client must not retry');
  const ok = await rawExport(server.otlpGrpcAddress, TRACE_EXPORT, protobufTraces({ resource: { 'service.name': 'after-oversize' } }), tokenMetadata('demo-ingest-acme-dist'));
  assert.is(ok.error, undefined);
});

test('a gzip message that inflates past the size limit is refused with RESOURCE_EXHAUSTED', async () => {
  // 8 MiB of zeros compress to a few KiB; the limit applies to the inflated message.
  const r = await rawExport(server.otlpGrpcAddress, TRACE_EXPORT, Buffer.alloc(8 * MAX_REQUEST_BYTES), tokenMetadata('demo-ingest-acme-dist'), {
    'grpc.default_compression_algorithm': 2,
  });
  assert.is(r.error?.code, GrpcStatus.RESOURCE_EXHAUSTED);
  assert.match(r.error!.details, /decompresses to a size larger than/);
});

test('a message framed by hand with grpc-encoding gzip and the compressed flag is inflated and stored', async () => {
  const body = gzipSync(protobufTraces({ spans: 4, resource: { 'service.name': 'raw-h2-gzip' } }));
  const frame = Buffer.concat([Buffer.from([1]), Buffer.alloc(4), body]);
  frame.writeUInt32BE(body.length, 1);
  const session = connect(server.otlpGrpcUrl);
  try {
    const answer = await new Promise<{ headers: Record<string, unknown>; trailers: Record<string, unknown>; data: Buffer }>((resolve, reject) => {
      const req = session.request({
        ':method': 'POST',
        ':path': TRACE_EXPORT,
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-encoding': 'gzip',
        authorization: 'Bearer demo-ingest-hooli-wholesale',
      });
      let headers: Record<string, unknown> = {};
      let trailers: Record<string, unknown> = {};
      const chunks: Buffer[] = [];
      req.on('response', (h) => (headers = h));
      req.on('trailers', (t) => (trailers = t));
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => resolve({ headers, trailers, data: Buffer.concat(chunks) }));
      req.on('error', reject);
      req.end(frame);
    });
    assert.is(answer.headers[':status'], 200);
    assert.match(String(answer.headers['grpc-accept-encoding']), /gzip/, 'the server announces gzip');
    assert.is(answer.trailers['grpc-status'], '0');
    assert.equal([...answer.data], [0, 0, 0, 0, 0], 'an empty ExportTraceServiceResponse: full success');
  } finally {
    session.close();
  }
  const [n] = await rows<{ n: string }>("SELECT count() AS n FROM spans WHERE service_name = 'raw-h2-gzip' AND tenant_id = 'hooli-wholesale'");
  assert.is(n!.n, '4');
});

// --- retryable refusals, from the gRPC receiver module itself ------------------------------

interface Served {
  listener: OtlpGrpcListener;
  calls: Array<{ signal: string; transport: string; code: number }>;
}

/** The real gRPC receiver on a free port, in front of the given receive step. */
async function serveWith(receive: ReceiveOtlp): Promise<Served> {
  const calls: Served['calls'] = [];
  const listener = await listenOtlpGrpc({
    receive,
    log: stageLogger('otlp-grpc-test'),
    maxRequestBytes: MAX_REQUEST_BYTES,
    host: '127.0.0.1',
    port: 0,
    onRequest: (signal, transport, code) => calls.push({ signal, transport, code }),
  });
  return { listener, calls };
}

test('an export over the tenant\'s quota gets RESOURCE_EXHAUSTED with a RetryInfo that a grpc-js client reads', async () => {
  // initech-retail may send 2000 records/s with two seconds of burst: one export of 6000
  // spans is let through and leaves a debt of 2000, so the next one must wait about a second.
  const md = tokenMetadata('demo-ingest-initech-retail');
  const big = protobufTraces({ spans: 6000, resource: { 'service.name': 'grpc-quota' } });
  const first = await rawExport(server.otlpGrpcAddress, TRACE_EXPORT, big, md);
  assert.is(first.error, undefined, 'within the burst');
  const r = await rawExport(server.otlpGrpcAddress, TRACE_EXPORT, protobufTraces({ spans: 1, resource: { 'service.name': 'grpc-quota' } }), md);
  assert.is(r.error?.code, GrpcStatus.RESOURCE_EXHAUSTED);
  assert.match(r.error!.details, /^TS_ERR_RATE_LIMITED: tenant initech-retail is over its ingest quota \(2000 records\/s/);
  const rich = richStatus(r.error!);
  assert.is(rich?.code, GrpcStatus.RESOURCE_EXHAUSTED);
  assert.ok(rich!.retryDelaySeconds! >= 1 && rich!.retryDelaySeconds! <= 2, `retry in ${rich?.retryDelaySeconds} s: the debt at 2000/s`);
  const [n] = await rows<{ n: string }>("SELECT count() AS n FROM spans WHERE service_name = 'grpc-quota'");
  assert.is(n!.n, '6000', 'the refused export stored nothing');
  // The refusal's usage row is stored on its own time (the client is not kept waiting for it)
  // (summed with any others of the tenant over two seconds).
  let recorded: Array<{ detail: string }> = [];
  for (let i = 0; i < 200 && recorded.length === 0; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 25));
    recorded = await rows<{ detail: string }>("SELECT detail FROM ingest_usage WHERE tenant_id = 'initech-retail' AND reason = 'rate_limited'");
  }
  assert.equal(recorded.map((r) => r.detail.replace(/ \(\d+ bytes\)/, '')), ['1 request(s) refused over the ingest quota'], 'the refusal is recorded against the tenant');
});

test('a storage failure gets UNAVAILABLE with RetryInfo; a bug gets INTERNAL without it', async () => {
  let fail: () => never = () => {
    throw tsError('TS_ERR_STORE', ['connection refused']);
  };
  const { listener, calls } = await serveWith(async () => fail());
  try {
    const md = tokenMetadata('demo-ingest-acme-dist');
    const unavailable = await rawExport(listener.address, '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export', Buffer.alloc(0), md);
    assert.is(unavailable.error?.code, GrpcStatus.UNAVAILABLE);
    assert.match(unavailable.error!.details, /^TS_ERR_STORE: storage is unavailable/);
    assert.is(richStatus(unavailable.error!)?.retryDelaySeconds, 5, 'the default delay');

    fail = () => {
      throw new TypeError('undefined is not a function');
    };
    const internal = await rawExport(listener.address, TRACE_EXPORT, Buffer.alloc(0), md);
    assert.is(internal.error?.code, GrpcStatus.INTERNAL);
    assert.match(internal.error!.details, /^TS_ERR_INTERNAL: /);
    assert.is(richStatus(internal.error!)?.retryDelaySeconds, undefined, 'a bug is not retried');
    assert.equal(calls.map((c) => c.code), [GrpcStatus.UNAVAILABLE, GrpcStatus.INTERNAL]);
  } finally {
    await listener.close();
  }
});

test('closing the gRPC receiver lets a running export finish, then refuses new calls', async () => {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let entered!: () => void;
  const running = new Promise<void>((resolve) => (entered = resolve));
  const { listener } = await serveWith(async () => {
    entered();
    await held;
    return { accepted: 1, rejected: 0, errorMessage: '', perTenant: {}, redactions: {} };
  });
  const md = tokenMetadata('demo-ingest-acme-dist');
  const inFlight = rawExport(listener.address, TRACE_EXPORT, Buffer.alloc(0), md);
  await running;
  let closed = false;
  const closing = listener.close(60_000).then(() => (closed = true));
  const refused = await rawExport(listener.address, TRACE_EXPORT, Buffer.alloc(0), md, { 'grpc.initial_reconnect_backoff_ms': 100 });
  assert.ok(refused.error, 'a new call is refused while shutting down');
  assert.is(closed, false, 'close waits for the running call');
  release();
  const answer = await inFlight;
  assert.is(answer.error, undefined, 'the running call completed');
  await closing;
});

test.run();
