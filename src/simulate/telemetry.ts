// Turns planned requests into real OpenTelemetry: spans, metrics and logs made by the OTel JS
// SDK and sent by the official OTLP/HTTP protobuf exporters, one set per tenant with its own
// token, exactly as a service of the platform would send them. Only the ids (seeded), the
// timestamps (simulated) and the moment of export (paced by the simulator) are ours.
//
// The SDK's processors report failed exports only to its diagnostic logger, so every exporter
// is wrapped to count what was sent and what failed: a simulation that silently lost its data
// would make every report built on it wrong without anyone noticing.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Counter, type HrTime, type Histogram, type Tracer } from '@opentelemetry/api';
import { SeverityNumber, type Logger } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type IdGenerator, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { ResourceDef } from './scenarios.js';
import type { RequestPlan, TenantInfo } from './model.js';
import type { RecoveryFact } from './recovery.js';

/** What one signal's exporters of one tenant sent and lost. */
export interface ExportCounts {
  /** Export calls (one OTLP request each, retries included in one call). */
  requests: number;
  failedRequests: number;
  /** Spans, log records or metric data points the server accepted the request of. */
  items: number;
  failedItems: number;
  /** The first few distinct failure messages. */
  errors: string[];
}

/** Counts with nothing sent yet. */
export function emptyCounts(): ExportCounts {
  return { requests: 0, failedRequests: 0, items: 0, failedItems: 0, errors: [] };
}

type ResultCallback = Parameters<SpanExporter['export']>[1];
type ExportResult = Parameters<ResultCallback>[0];
// ExportResultCode.SUCCESS of @opentelemetry/core, which is not a dependency of ours.
const SUCCESS = 0;

/** Counts every export of the wrapped exporter and lets the caller wait for those in flight. */
class Counted<T> {
  readonly #pending = new Set<Promise<void>>();

  constructor(
    protected readonly inner: { export(items: T, cb: ResultCallback): void; shutdown(): Promise<void>; forceFlush?(): Promise<void> },
    readonly counts: ExportCounts,
    readonly size: (items: T) => number,
  ) {}

  export(items: T, resultCallback: ResultCallback): void {
    const n = this.size(items);
    let settle!: () => void;
    const pending = new Promise<void>((resolve) => (settle = resolve));
    this.#pending.add(pending);
    this.inner.export(items, (result: ExportResult) => {
      this.counts.requests++;
      if (result.code === SUCCESS) this.counts.items += n;
      else {
        this.counts.failedRequests++;
        this.counts.failedItems += n;
        const message = result.error?.message ?? 'export failed';
        if (this.counts.errors.length < 5 && !this.counts.errors.includes(message)) this.counts.errors.push(message);
      }
      this.#pending.delete(pending);
      settle();
      resultCallback(result);
    });
  }

  /** Resolves once every export started so far has its answer. */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

class CountedSpanExporter extends Counted<ReadableSpan[]> implements SpanExporter {}
class CountedLogExporter extends Counted<ReadableLogRecord[]> implements LogRecordExporter {}
class CountedMetricExporter extends Counted<ResourceMetrics> implements PushMetricExporter {
  // The reader asks its exporter which temporality and aggregation to use; keep the OTLP
  // exporter's answers.
  readonly selectAggregationTemporality: PushMetricExporter['selectAggregationTemporality'];
  readonly selectAggregation: PushMetricExporter['selectAggregation'];

  constructor(inner: OTLPMetricExporter, counts: ExportCounts) {
    super(inner, counts, (m) => m.scopeMetrics.reduce((a, s) => a + s.metrics.reduce((b, x) => b + x.dataPoints.length, 0), 0));
    this.selectAggregationTemporality = inner.selectAggregationTemporality?.bind(inner);
    this.selectAggregation = inner.selectAggregation?.bind(inner);
  }
}

/** Where to send and as whom. */
export interface Destination {
  /** Base URL, e.g. http://127.0.0.1:4318 (the exporters add /v1/traces, ...). */
  endpoint: string;
  token: string;
}

/** One tenant's exporters; counts per signal. */
export interface TenantCounts {
  traces: ExportCounts;
  metrics: ExportCounts;
  logs: ExportCounts;
  /** Spans handed to the SDK (every span the plans made). */
  spansCreated: number;
  logsCreated: number;
}

interface Instruments {
  requests: Counter;
  duration: Histogram;
  dbDuration: Histogram;
  published: Counter;
}

interface Emitter {
  tracer: Tracer;
  logger?: Logger;
  instruments?: Instruments;
  meterProvider?: MeterProvider;
}

const SCOPE = 'tenantscope-simulator';
const SCOPE_VERSION = '0.1.0';
// Semantic-convention buckets for http.server.request.duration (seconds).
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
// A span processor queue this deep never drops a tick's spans; the simulator flushes every tick.
const MAX_QUEUE = 500_000;
const BATCH = 2_000;

function hr(us: number): HrTime {
  return [Math.floor(us / 1e6), (us % 1e6) * 1000];
}

/**
 * One tenant of the platform as its services export: a provider per service instance (each
 * is its own OTel resource), sharing the tenant's token, seeded id generator and exporters.
 */
export class TenantTelemetry {
  readonly counts: TenantCounts = { traces: emptyCounts(), metrics: emptyCounts(), logs: emptyCounts(), spansCreated: 0, logsCreated: 0 };
  readonly #tenant: TenantInfo;
  readonly #dest: Destination;
  readonly #ids: IdGenerator;
  readonly #db: ResourceDef;
  readonly #queue: ResourceDef;
  readonly #spanExporter: CountedSpanExporter;
  readonly #spans: BatchSpanProcessor;
  readonly #logExporter: CountedLogExporter;
  readonly #logs: BatchLogRecordProcessor;
  readonly #metricExporters: CountedMetricExporter[] = [];
  readonly #emitters = new Map<string, Emitter>();
  #backupLogger: Logger | undefined;

  constructor(tenant: TenantInfo, dest: Destination, ids: IdGenerator, resources: { db: ResourceDef; queue: ResourceDef }) {
    this.#tenant = tenant;
    this.#dest = dest;
    this.#ids = ids;
    this.#db = resources.db;
    this.#queue = resources.queue;
    this.#spanExporter = new CountedSpanExporter(new OTLPTraceExporter(this.#config('traces')), this.counts.traces, (s) => s.length);
    // Exports happen when the simulator flushes (and whenever a batch fills up); the long
    // delay keeps the processor's own timer out of the way.
    this.#spans = new BatchSpanProcessor(this.#spanExporter, { maxQueueSize: MAX_QUEUE, maxExportBatchSize: BATCH, scheduledDelayMillis: 60_000 });
    this.#logExporter = new CountedLogExporter(new OTLPLogExporter(this.#config('logs')), this.counts.logs, (l) => l.length);
    this.#logs = new BatchLogRecordProcessor({ exporter: this.#logExporter, maxQueueSize: MAX_QUEUE, maxExportBatchSize: BATCH, scheduledDelayMillis: 60_000 });
  }

  #config(signal: 'traces' | 'metrics' | 'logs') {
    return { url: `${this.#dest.endpoint.replace(/\/$/, '')}/v1/${signal}`, headers: { authorization: `Bearer ${this.#dest.token}` }, timeoutMillis: 15_000 };
  }

  /** The tracer (and meter and logger) of one service instance as a distinct OTel resource. */
  #emitter(plan: RequestPlan): Emitter {
    const key = `${plan.instance}|${plan.tenantContext}|${plan.claims ?? ''}`;
    let e = this.#emitters.get(key);
    if (e) return e;
    const attrs: Attributes = {
      'service.name': plan.service,
      'service.namespace': 'distribution-platform',
      'service.instance.id': plan.instance,
      'deployment.environment.name': 'prod',
      'cloud.provider': 'aws',
      'cloud.region': this.#tenant.region,
    };
    if (plan.claims) attrs['tenant.id'] = plan.claims;
    else if (plan.tenantContext) attrs['tenant.id'] = this.#tenant.id;
    const resource = resourceFromAttributes(attrs);
    const tracer = new BasicTracerProvider({ resource, idGenerator: this.#ids, spanProcessors: [this.#spans] }).getTracer(SCOPE, SCOPE_VERSION);
    e = { tracer };
    // A resource claiming another tenant sends only its spans: the server refuses them, which
    // is all that scenario needs to show.
    if (!plan.claims) {
      e.logger = new LoggerProvider({ resource, processors: [this.#logs] }).getLogger(SCOPE, SCOPE_VERSION);
      const exporter = new CountedMetricExporter(new OTLPMetricExporter(this.#config('metrics')), this.counts.metrics);
      this.#metricExporters.push(exporter);
      // Exported when the simulator says (forceFlush), never on the reader's own timer.
      const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 86_400_000, exportTimeoutMillis: 30_000 });
      e.meterProvider = new MeterProvider({ resource, readers: [reader] });
      const meter = e.meterProvider.getMeter(SCOPE, SCOPE_VERSION);
      e.instruments = {
        requests: meter.createCounter('http.server.requests', { unit: '{request}', description: 'HTTP requests served' }),
        duration: meter.createHistogram('http.server.request.duration', { unit: 's', description: 'Duration of HTTP server requests', advice: { explicitBucketBoundaries: HTTP_BUCKETS } }),
        dbDuration: meter.createHistogram('db.client.operation.duration', { unit: 's', description: 'Duration of database client operations', advice: { explicitBucketBoundaries: HTTP_BUCKETS } }),
        published: meter.createCounter('messaging.client.sent.messages', { unit: '{message}', description: 'Messages published' }),
      };
    }
    this.#emitters.set(key, e);
    return e;
  }

  /** Create and end the spans of one request, record its metrics, log it if it failed; returns the spans made. */
  emit(plan: RequestPlan): number {
    const e = this.#emitter(plan);
    const method = plan.route.method;
    const httpAttrs: Attributes = { 'http.request.method': method, 'http.route': plan.route.route, 'http.response.status_code': plan.status };
    const server = e.tracer.startSpan(
      `${method} ${plan.route.route}`,
      { kind: SpanKind.SERVER, startTime: hr(plan.startUs), attributes: { ...httpAttrs, 'url.scheme': 'https', ...plan.attributes } },
      ROOT_CONTEXT,
    );
    const parent = trace.setSpan(ROOT_CONTEXT, server);
    for (const c of plan.children) {
      const child =
        c.kind === 'db'
          ? e.tracer.startSpan(
              `${c.operation} ${c.target}`,
              {
                kind: SpanKind.CLIENT,
                startTime: hr(c.startUs),
                attributes: {
                  'db.system': this.#db.system ?? 'postgresql',
                  'db.client.connection.pool.name': this.#db.pool ?? this.#db.name,
                  'db.namespace': this.#db.namespace ?? '',
                  'db.operation.name': c.operation,
                  'db.collection.name': c.target,
                },
              },
              parent,
            )
          : e.tracer.startSpan(
              `publish ${c.target}`,
              {
                kind: SpanKind.PRODUCER,
                startTime: hr(c.startUs),
                attributes: {
                  'messaging.system': this.#queue.system ?? 'rabbitmq',
                  'messaging.destination.name': c.target,
                  'messaging.operation.type': 'send',
                  'messaging.operation.name': 'publish',
                },
              },
              parent,
            );
      if (c.error) {
        child.setAttribute('error.type', c.error.type);
        child.setStatus({ code: SpanStatusCode.ERROR, message: c.error.message });
      }
      child.end(hr(c.endUs));
      const seconds = (c.endUs - c.startUs) / 1e6;
      if (c.kind === 'db') e.instruments?.dbDuration.record(seconds, { 'db.system': this.#db.system ?? 'postgresql', 'db.operation.name': c.operation, 'db.collection.name': c.target, 'db.client.connection.pool.name': this.#db.pool ?? this.#db.name });
      else e.instruments?.published.add(1, { 'messaging.system': this.#queue.system ?? 'rabbitmq', 'messaging.destination.name': c.target });
    }
    if (plan.error) {
      server.setAttribute('error.type', plan.error.type);
      server.setStatus({ code: SpanStatusCode.ERROR, message: plan.error.message });
    }
    server.end(hr(plan.endUs));
    e.instruments?.requests.add(1, httpAttrs);
    e.instruments?.duration.record((plan.endUs - plan.startUs) / 1e6, httpAttrs);
    if (plan.error && e.logger) {
      e.logger.emit({
        timestamp: hr(plan.endUs),
        observedTimestamp: hr(plan.endUs),
        severityNumber: SeverityNumber.ERROR,
        severityText: 'ERROR',
        body: `${method} ${plan.route.route} failed with ${plan.status}: ${plan.error.message}`,
        attributes: { ...httpAttrs, 'error.type': plan.error.type },
        context: parent,
      });
      this.counts.logsCreated++;
    }
    const spans = 1 + plan.children.length;
    this.counts.spansCreated += spans;
    return spans;
  }

  /**
   * Log a backup or recovery fact as the tenant's backup tooling would: an OTLP event (a log
   * record whose event name is the fact's kind) from a backup-agent resource of the tenant.
   */
  emitFact(fact: RecoveryFact): void {
    this.#backupLogger ??= new LoggerProvider({
      resource: resourceFromAttributes({
        'service.name': 'backup-agent',
        'service.namespace': 'distribution-platform',
        'service.instance.id': `backup-agent-${this.#tenant.id}`,
        'deployment.environment.name': 'prod',
        'cloud.provider': 'aws',
        // Where the agent runs; where a copy lands is the fact's location_region.
        'cloud.region': this.#tenant.region,
        'tenant.id': this.#tenant.id,
      }),
      processors: [this.#logs],
    }).getLogger(SCOPE, SCOPE_VERSION);
    const at = hr(fact.timeMs * 1000);
    this.#backupLogger.emit({
      eventName: fact.kind,
      timestamp: at,
      observedTimestamp: at,
      severityNumber: SeverityNumber.INFO,
      severityText: 'INFO',
      body: `${fact.kind} ${String(fact.attributes.component ?? fact.attributes.location_region ?? '')}`.trim(),
      attributes: fact.attributes,
    });
    this.counts.logsCreated++;
  }

  /** Send every span and log record made so far and wait for the answers. */
  async flush(): Promise<void> {
    // Failures are counted by the exporters; the processors' rejections carry nothing more.
    await Promise.allSettled([this.#spans.forceFlush(), this.#logs.forceFlush()]);
    await Promise.all([this.#spanExporter.idle(), this.#logExporter.idle()]);
  }

  /** Export the cumulative metrics of every instance now. */
  async flushMetrics(): Promise<void> {
    await Promise.allSettled([...this.#emitters.values()].map((e) => e.meterProvider?.forceFlush()));
    await Promise.all(this.#metricExporters.map((x) => x.idle()));
  }

  /** Flush everything, export the metrics a last time, and close the exporters. */
  async shutdown(): Promise<void> {
    await this.flush();
    // Shutting a meter provider down collects and exports once more; flushing first would
    // export the same cumulative points twice.
    await Promise.allSettled([...this.#emitters.values()].map((e) => e.meterProvider?.shutdown()));
    await Promise.all(this.#metricExporters.map((x) => x.idle()));
    await Promise.allSettled([this.#spans.shutdown(), this.#logs.shutdown()]);
  }
}
