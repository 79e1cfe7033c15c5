// The official OpenTelemetry JS SDKs and OTLP exporters (http/json and http/protobuf) send
// traces, metrics and logs to a running tenantscope; the tests then read chDB and check that
// every row landed under the token's tenant with its names, attributes, times and values.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { context, trace, SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { LoggerProvider, SimpleLogRecordProcessor, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { OTLPTraceExporter as TraceJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as TraceProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPMetricExporter as MetricJson } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as MetricProto } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPLogExporter as LogJson } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as LogProto } from '@opentelemetry/exporter-logs-otlp-proto';
import { startTestServer, bearer, type TestServer } from '../support/server.js';

type Protocol = 'http/json' | 'http/protobuf';
const PROTOCOLS: Protocol[] = ['http/json', 'http/protobuf'];

let server: TestServer;

test.before(async () => {
  server = await startTestServer();
});
test.after(async () => {
  await server.stop();
});

function exporterConfig(signal: 'traces' | 'metrics' | 'logs', token: string) {
  return { url: `${server.otlpHttpUrl}/v1/${signal}`, headers: bearer(token) };
}

function traceExporter(p: Protocol, token: string): SpanExporter {
  return p === 'http/json' ? new TraceJson(exporterConfig('traces', token)) : new TraceProto(exporterConfig('traces', token));
}
function metricExporter(p: Protocol, token: string): PushMetricExporter {
  return p === 'http/json' ? new MetricJson(exporterConfig('metrics', token)) : new MetricProto(exporterConfig('metrics', token));
}
function logExporter(p: Protocol, token: string): LogRecordExporter {
  return p === 'http/json' ? new LogJson(exporterConfig('logs', token)) : new LogProto(exporterConfig('logs', token));
}

// hrtime [seconds, nanos] -> decimal nanoseconds, exactly.
function hrToNs(t: [number, number]): string {
  return (BigInt(t[0]) * 1_000_000_000n + BigInt(t[1])).toString();
}

// Reads what acknowledged requests left, as the API does: deferred rows stored first.
async function rows<T>(sql: string, params: Record<string, string>): Promise<T[]> {
  await server.settle();
  return server.store.query<T>(sql, params);
}

for (const protocol of PROTOCOLS) {
  const service = `order-api-${protocol.replace('/', '-')}`;

  test(`spans from the official ${protocol} trace exporter are stored under the token's tenant, field for field`, async () => {
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': service, 'deployment.environment': 'prod', 'service.instance.id': 'order-api-7f9c' }),
      spanProcessors: [new SimpleSpanProcessor(traceExporter(protocol, 'demo-ingest-acme-dist'))],
    });
    const tracer = provider.getTracer('tenantscope-test', '1.2.3');
    const ended: Span[] = [];
    tracer.startActiveSpan('POST /orders', { kind: SpanKind.SERVER, attributes: { 'http.route': '/orders', 'http.response.status_code': 201, 'order.lines': 3, 'retry': false } }, (parent) => {
      const child = tracer.startSpan('SELECT orders', { kind: SpanKind.CLIENT, attributes: { 'db.system': 'postgresql', 'db.pool': 'pg-shared-1' } }, trace.setSpan(context.active(), parent));
      child.addEvent('pool.acquired', { 'pool.wait_ms': 12.5 });
      child.setStatus({ code: SpanStatusCode.ERROR, message: 'deadlock detected' });
      child.end();
      ended.push(child);
      parent.end();
      ended.push(parent);
    });
    await provider.forceFlush();
    await provider.shutdown();

    const stored = await rows<{
      name: string; kind: number; trace_id: string; span_id: string; parent_span_id: string; start_time_ns: string; end_time_ns: string;
      status_code: number; status_message: string; attributes: Record<string, string>; resource_attributes: Record<string, string>;
      scope_name: string; scope_version: string; event_names: string[]; event_attributes: Record<string, string>[]; tenant_id: string; service_name: string;
    }>(
      `SELECT *, toString(toUnixTimestamp64Nano(start_time)) AS start_time_ns, toString(toUnixTimestamp64Nano(end_time)) AS end_time_ns
         FROM spans WHERE tenant_id = {t:String} AND service_name = {s:String} ORDER BY kind`,
      { t: 'acme-dist', s: service },
    );
    assert.is(stored.length, 2, 'both spans stored');
    const [server_, client] = stored as [typeof stored[0], typeof stored[0]];
    const [childSpan, parentSpan] = ended as unknown as Array<{ spanContext(): { traceId: string; spanId: string }; startTime: [number, number]; endTime: [number, number] }>;
    assert.is(server_.name, 'POST /orders');
    assert.is(server_.kind, 2);
    assert.is(server_.tenant_id, 'acme-dist');
    assert.is(server_.service_name, service);
    assert.is(server_.trace_id, parentSpan!.spanContext().traceId);
    assert.is(server_.span_id, parentSpan!.spanContext().spanId);
    assert.is(server_.parent_span_id, '');
    assert.is(server_.start_time_ns, hrToNs(parentSpan!.startTime));
    assert.is(server_.end_time_ns, hrToNs(parentSpan!.endTime));
    assert.equal(server_.attributes, { 'http.route': '/orders', 'http.response.status_code': '201', 'order.lines': '3', retry: 'false' });
    assert.is(server_.resource_attributes['deployment.environment'], 'prod');
    assert.is(server_.resource_attributes['service.instance.id'], 'order-api-7f9c');
    assert.is(server_.scope_name, 'tenantscope-test');
    assert.is(server_.scope_version, '1.2.3');

    assert.is(client.name, 'SELECT orders');
    assert.is(client.kind, 3);
    assert.is(client.parent_span_id, parentSpan!.spanContext().spanId);
    assert.is(client.trace_id, childSpan!.spanContext().traceId);
    assert.is(client.status_code, 2);
    assert.is(client.status_message, 'deadlock detected');
    assert.equal(client.event_names, ['pool.acquired']);
    assert.equal(client.event_attributes, [{ 'pool.wait_ms': '12.5' }]);
  });

  test(`metrics from the official ${protocol} metric exporter are stored as sum, gauge and histogram points`, async () => {
    const reader = new PeriodicExportingMetricReader({ exporter: metricExporter(protocol, 'demo-ingest-stark-logistics'), exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': service }), readers: [reader] });
    const meter = provider.getMeter('edi-meter', '0.9.0');
    const orders = meter.createCounter('orders.created', { unit: '{order}', description: 'orders accepted' });
    orders.add(5, { channel: 'edi' });
    orders.add(2, { channel: 'edi' });
    const latency = meter.createHistogram('order.latency', { unit: 'ms' });
    for (const v of [12, 48, 250]) latency.record(v, { route: '/orders' });
    const depth = meter.createGauge('queue.depth');
    depth.record(17, { queue: 'orders' });
    // Shutdown collects and exports once; a forceFlush before it would export the
    // cumulative points a second time.
    await provider.shutdown();

    const points = await rows<{ metric_name: string; metric_type: string; metric_unit: string; metric_description: string; is_monotonic: boolean; temporality: number; value: number; count: string; sum: number | null; min: number | null; max: number | null; bucket_counts: string[]; explicit_bounds: number[]; attributes: Record<string, string>; scope_name: string }>(
      'SELECT * FROM metric_points WHERE tenant_id = {t:String} AND service_name = {s:String} ORDER BY metric_name',
      { t: 'stark-logistics', s: service },
    );
    const byName = new Map(points.map((p) => [p.metric_name, p]));
    assert.is(points.length, 3, 'one point per instrument');
    const sum = byName.get('orders.created')!;
    assert.is(sum.metric_type, 'sum');
    assert.is(sum.is_monotonic, true);
    assert.is(sum.temporality, 2, 'cumulative');
    assert.is(sum.value, 7);
    assert.is(sum.metric_unit, '{order}');
    assert.is(sum.metric_description, 'orders accepted');
    assert.equal(sum.attributes, { channel: 'edi' });
    assert.is(sum.scope_name, 'edi-meter');
    const hist = byName.get('order.latency')!;
    assert.is(hist.metric_type, 'histogram');
    assert.is(hist.count, '3');
    assert.is(hist.sum, 310);
    assert.is(hist.min, 12);
    assert.is(hist.max, 250);
    assert.is(hist.bucket_counts.length, hist.explicit_bounds.length + 1);
    assert.is(hist.bucket_counts.reduce((a, b) => a + Number(b), 0), 3);
    const gauge = byName.get('queue.depth')!;
    assert.is(gauge.metric_type, 'gauge');
    assert.is(gauge.value, 17);
  });

  test(`log records from the official ${protocol} log exporter are stored with body, severity and attributes`, async () => {
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': service }),
      processors: [new SimpleLogRecordProcessor({ exporter: logExporter(protocol, 'demo-ingest-globex-3pl') })],
    });
    const logger = provider.getLogger('dispatch', '2.0.0');
    const when = Date.now();
    logger.emit({ severityNumber: SeverityNumber.WARN, severityText: 'WARN', body: 'dispatch wave 14 late by 12 minutes', attributes: { wave: 14, dock: 'D7' }, timestamp: when });
    await provider.forceFlush();
    await provider.shutdown();

    const logs = await rows<{ body: string; body_kind: string; severity_number: number; severity_text: string; attributes: Record<string, string>; time_ms: string; scope_name: string }>(
      'SELECT *, toString(toUnixTimestamp64Milli(time)) AS time_ms FROM logs WHERE tenant_id = {t:String} AND service_name = {s:String}',
      { t: 'globex-3pl', s: service },
    );
    assert.is(logs.length, 1);
    const l = logs[0]!;
    assert.is(l.body, 'dispatch wave 14 late by 12 minutes');
    assert.is(l.body_kind, 'string');
    assert.is(l.severity_number, 13);
    assert.is(l.severity_text, 'WARN');
    assert.equal(l.attributes, { wave: '14', dock: 'D7' });
    assert.is(Number(l.time_ms), when);
    assert.is(l.scope_name, 'dispatch');
  });
}

test('the usage API counts the spans the exporter stored, for the tenant read token only', async () => {
  const get = (token: string) => fetch(`${server.apiUrl}/api/v1/tenants/acme-dist/usage`, { headers: bearer(token) });
  const own = await get('demo-read-acme-dist');
  assert.is(own.status, 200);
  const usage = (await own.json()) as { tenant: string; spans: { count: number; bytes: number } };
  assert.is(usage.tenant, 'acme-dist');
  assert.is(usage.spans.count, 4, 'two spans per protocol');
  assert.ok(usage.spans.bytes > 0);
  const other = await get('demo-read-hooli-wholesale');
  assert.is(other.status, 403);
  const body = await other.text();
  assert.not.match(body, /acme/i, 'the refusal says nothing about the tenant');
});

test('an exporter with another tenant\'s ingest token cannot write spans naming acme-dist', async () => {
  const exporter = traceExporter('http/protobuf', 'demo-ingest-hooli-wholesale');
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'spoofer', 'tenant.id': 'acme-dist' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  provider.getTracer('t').startSpan('GET /steal').end();
  await provider.forceFlush();
  await provider.shutdown();
  const stored = await rows<{ n: string }>('SELECT count() AS n FROM spans WHERE service_name = {s:String}', { s: 'spoofer' });
  assert.is(stored[0]!.n, '0');
  const usage = await rows<{ tenant_id: string; reason: string; claimed_tenant: string; records: string }>(
    "SELECT tenant_id, reason, claimed_tenant, records FROM ingest_usage WHERE outcome = 'rejected' AND token_name != ''",
    {},
  );
  assert.ok(usage.some((u) => u.tenant_id === 'hooli-wholesale' && u.reason === 'tenant_mismatch' && u.claimed_tenant === 'acme-dist' && u.records === '1'));
});

test.run();
