// Workloads shared by the benchmarks, so each measures the same realistic data.
import { readFileSync } from 'node:fs';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { SpanKind, SpanStatusCode, context, trace, type Attributes as OtelAttributes } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { ProtobufLogsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { fromRoot } from '../src/paths.js';

/**
 * The demo registry plus generated tenants up to 50, each with its own identifiers, so the
 * redaction stage scans for 49 other tenants' names on every value, as on a busy platform.
 * Returns YAML text; the demo tokens still work.
 */
export function fiftyTenantRegistryYaml(opts: { availability?: number } = {}): string {
  const doc = parseYaml(readFileSync(fromRoot('fixtures', 'tenants.yaml'), 'utf8')) as { tenants: Array<Record<string, unknown>> };
  const template = doc.tenants[0]!;
  for (let i = doc.tenants.length; i < 50; i++) {
    const id = `tenant-${String(i).padStart(2, '0')}`;
    doc.tenants.push({ ...template, id, name: `Generated Tenant ${i}`, identifiers: [id, `GEN${i}CO`, `${id}.example.net`, `CUST-${70000 + i * 37}`] });
  }
  // Every tenant held to one availability objective (the rest of its SLO as it was).
  if (opts.availability !== undefined) doc.tenants = doc.tenants.map((t) => ({ ...t, slo: { ...(t.slo as object | undefined), availability: opts.availability } }));
  return stringifyYaml(doc);
}

/** Options of the checkout workload. */
export interface CheckoutOptions {
  /** Number of spans (a server span followed by up to three client spans, repeated). */
  count: number;
  /** `tenant.id` resource attribute. */
  tenantId: string;
  /** Lets a benchmark change the attributes of span number `n` (e.g. plant a leak under `key`). */
  decorate?: (attrs: OtelAttributes, key: string, n: number) => OtelAttributes;
}

/** Realistic checkout spans (HTTP server spans with DB/cache client spans and events), made by the OTel SDK. */
export function checkoutSpans(opts: CheckoutOptions) {
  const SPANS = opts.count;
  const ownTenant = opts.tenantId;
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': 'checkout',
      'service.version': '4.12.0',
      'deployment.environment.name': 'production',
      'tenant.id': ownTenant,
      'host.name': 'ip-10-0-3-17.eu-west-1.compute.internal',
      'telemetry.sdk.language': 'nodejs',
    }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('@acme/checkout-http', '4.12.0');
  const routes = ['/api/cart', '/api/cart/items', '/api/checkout', '/api/orders/:id', '/healthz'];
  let n = 0;
  const leak = (attrs: OtelAttributes, key: string) => (opts.decorate ? opts.decorate(attrs, key, n) : attrs);
  while (n < SPANS) {
    const route = routes[n % routes.length]!;
    const server = tracer.startSpan(`POST ${route}`, {
      kind: SpanKind.SERVER,
      attributes: leak(
        {
          'http.request.method': 'POST',
          'http.route': route,
          'url.path': route.replace(':id', String(1000 + n)),
          'url.scheme': 'https',
          'http.response.status_code': n % 17 === 0 ? 500 : 200,
          'server.address': 'checkout.internal',
          'server.port': 8443,
          'client.address': `10.0.${n % 7}.${(n % 250) + 1}`,
          'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
          'enduser.id': `user-${(n * 7919) % 100000}`,
          'app.cart.items': n % 9,
          'app.cart.total': (n % 9) * 19.99,
        },
        'app.note',
      ),
    });
    n++;
    const ctx = trace.setSpan(context.active(), server);
    for (let c = 0; c < 3 && n < SPANS; c++, n++) {
      const child = tracer.startSpan(
        c === 0 ? 'SELECT cart' : 'redis GET',
        {
          kind: SpanKind.CLIENT,
          attributes: leak(
            {
              'db.system.name': c === 0 ? 'postgresql' : 'redis',
              'db.namespace': 'shop',
              'db.operation.name': c === 0 ? 'SELECT' : 'GET',
              'db.query.text': c === 0 ? 'SELECT id, sku, qty FROM cart_items WHERE cart_id = $1' : 'GET cart:$1',
              'server.address': c === 0 ? 'pg-primary.internal' : 'redis-0.internal',
              'server.port': c === 0 ? 5432 : 6379,
              'db.response.returned_rows': n % 13,
              'network.peer.address': '10.0.9.4',
              'network.transport': 'tcp',
              'app.retry': c === 2,
              'app.shard': n % 4,
              'thread.name': 'main',
            },
            'db.query.summary',
          ),
        },
        ctx,
      );
      child.addEvent('query.start', { 'db.statement.hash': 'a1b2c3d4', attempt: 1 });
      child.addEvent('query.end', { rows: n % 13, 'cache.hit': n % 2 === 0 });
      if (n % 29 === 0) child.setStatus({ code: SpanStatusCode.ERROR, message: 'connection reset' });
      child.end();
    }
    server.addEvent('request.received', { 'http.request.body.size': 512 + n });
    server.addEvent('response.sent', { 'http.response.body.size': 2048 + n });
    server.end();
  }
  return exporter.getFinishedSpans();
}

/** An OTLP/protobuf logs request of `count` application log records (8 attributes, a body each), made by the OTel SDK. */
export function logsRequest(count: number, seed: number): Buffer {
  const exporter = new InMemoryLogRecordExporter();
  const service = BENCH_SERVICES[seed % BENCH_SERVICES.length]!;
  const provider = new LoggerProvider({ resource: benchResource(service, seed), processors: [new SimpleLogRecordProcessor({ exporter })] });
  const logger = provider.getLogger('bench', '1.0.0');
  for (let i = 0; i < count; i++) {
    logger.emit({
      severityNumber: i % 40 === 0 ? SeverityNumber.ERROR : SeverityNumber.INFO,
      severityText: i % 40 === 0 ? 'ERROR' : 'INFO',
      body: i % 40 === 0 ? `order ${seed}-${i} rejected: carrier timeout after 3 retries` : `order ${seed}-${i} picked at WH-${i % 12}, ${i % 17} lines`,
      attributes: {
        'order.id': `${seed}-${i}`, 'warehouse.id': `WH-${i % 12}`, 'order.channel': i % 3 === 0 ? 'edi' : 'web', 'order.lines': i % 17,
        'code.function': 'pickOrder', 'code.filepath': 'src/picking/wave.ts', 'thread.name': `worker-${i % 4}`, 'retry.count': i % 3,
      },
    });
  }
  return Buffer.from(ProtobufLogsSerializer.serializeRequest(exporter.getFinishedLogRecords())!);
}

/** An OTLP/protobuf metrics request: counters, gauges and histograms over `series` attribute sets (about 3 points a series). */
export async function metricsRequest(series: number, seed: number): Promise<Buffer> {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const service = BENCH_SERVICES[seed % BENCH_SERVICES.length]!;
  const provider = new MeterProvider({ resource: benchResource(service, seed), readers: [reader] });
  const meter = provider.getMeter('bench', '1.0.0');
  const requests = meter.createCounter('http.server.requests', { unit: '{request}' });
  const duration = meter.createHistogram('http.server.request.duration', { unit: 's' });
  const queue = meter.createUpDownCounter('queue.depth', { unit: '{message}' });
  for (let i = 0; i < series; i++) {
    const attrs = { 'http.route': `/orders/${i % 20}`, 'http.request.method': i % 2 ? 'POST' : 'GET', 'http.response.status_code': i % 10 === 0 ? 500 : 200, 'warehouse.id': `WH-${i}` };
    requests.add(1 + (i % 7), attrs);
    for (let k = 0; k < 5; k++) duration.record(0.002 * (1 + ((i * 7 + k) % 50)), attrs);
    queue.add(i % 13, attrs);
  }
  await reader.forceFlush();
  const [batch] = exporter.getMetrics();
  await provider.shutdown();
  return Buffer.from(ProtobufMetricsSerializer.serializeRequest(batch!)!);
}

const BENCH_SERVICES = ['order-api', 'inventory-svc', 'edi-gateway', 'warehouse-scanner', 'billing-svc'];

function benchResource(service: string, seed: number) {
  return resourceFromAttributes({
    'service.name': service, 'service.version': '4.12.0', 'service.instance.id': `${service}-${seed % 3}`,
    'deployment.environment': 'prod', 'host.name': `node-${seed % 7}`, 'cloud.region': 'us-east-1',
  });
}
