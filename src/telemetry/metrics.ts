// tenantscope's Prometheus metrics: the per-tenant counters counted on the ingest hot path,
// the self metrics of the pipeline (request latency, queues, batches, inserts, policies,
// errors), and the gauges computed from ClickHouse (report-gauges.ts) all live on one
// OpenTelemetry MeterProvider whose reader is the Prometheus exporter; GET /metrics on the API
// port serves its text. Instrument names are the Prometheus names (the exporter only appends
// `_total` to counters), and no units are set, so the exposition is plain text format that
// Prometheus and promtool read without OpenMetrics extensions.
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import type { Counter, Histogram, Meter } from '@opentelemetry/api';
import type { Registry, TenantRecord } from '../config/index.js';
import type { IngestObserver, StoredSlice } from '../ingest/pipeline.js';
import type { Rejection } from '../ingest/tenancy.js';
import type { Signal } from '../ingest/otlp/types.js';
import type { SliCounts } from '../ingest/rows.js';
import type { WriterObserver } from '../ingest/writer.js';
import type { TableName } from '../store/types.js';
import { TenantLabels } from './tenant-labels.js';

/** OTLP SpanKind SERVER and Status ERROR (the SLO report counts the same spans). */

const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const ROWS_BUCKETS = [1, 10, 50, 100, 500, 1000, 5000, 10_000, 50_000];

const RECORDS_COUNTER: Record<Signal, string> = {
  traces: 'tenantscope_ingested_spans',
  logs: 'tenantscope_ingested_log_records',
  metrics: 'tenantscope_ingested_metric_points',
};

export interface MetricsOptions {
  /** Tenants with a label of their own; the rest are folded into tenant="other". */
  maxTenantLabels?: number;
}

/** Gauges read at scrape time: the writer's and scheduler's queues. */
export interface QueueSources {
  writerDepth?: () => Record<string, number>;
  fairDepth?: () => { running: number; waiting: number };
}

export class TenantscopeMetrics implements IngestObserver {
  readonly labels: TenantLabels;
  readonly meter: Meter;
  private readonly exporter: PrometheusExporter;
  private readonly provider: MeterProvider;
  private readonly records: Record<Signal, Counter>;
  private readonly bytes: Counter;
  private readonly rejected: Counter;
  private readonly refusedRequests: Counter;
  private readonly redactions: Counter;
  private readonly auditEvents: Counter;
  private readonly sliEvents: Counter;
  private readonly sliBad: Counter;
  private readonly requestSeconds: Histogram;
  private readonly batchRows: Histogram;
  private readonly insertSeconds: Histogram;
  private readonly policySeconds: Histogram;
  private readonly errors: Counter;
  private readonly refreshSeconds: Histogram;
  private queues: QueueSources = {};
  // Same options as the exporter's: no timestamps, target_info kept, no scope labels.
  private readonly serializer = new PrometheusSerializer(undefined, false, undefined, false, true);

  constructor(
    private readonly registry: Registry,
    opts: MetricsOptions = {},
  ) {
    this.labels = new TenantLabels(registry, opts.maxTenantLabels);
    // No scope labels: every series would carry otel_scope_name="tenantscope" for nothing.
    this.exporter = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true });
    this.provider = new MeterProvider({ readers: [this.exporter] });
    const m = (this.meter = this.provider.getMeter('tenantscope'));
    this.records = {
      traces: m.createCounter(RECORDS_COUNTER.traces, { description: 'Spans stored, per tenant' }),
      logs: m.createCounter(RECORDS_COUNTER.logs, { description: 'Log records stored, per tenant' }),
      metrics: m.createCounter(RECORDS_COUNTER.metrics, { description: 'Metric points stored, per tenant' }),
    };
    this.bytes = m.createCounter('tenantscope_ingested_bytes', { description: 'Bytes of rows stored, per tenant and signal' });
    this.rejected = m.createCounter('tenantscope_rejected_records', { description: 'Records refused, per tenant, signal and reason' });
    this.refusedRequests = m.createCounter('tenantscope_refused_requests', { description: 'Requests refused before decoding (quota, full queue), per tenant' });
    this.redactions = m.createCounter('tenantscope_redactions', { description: 'Values redacted before storage, per tenant and class' });
    this.auditEvents = m.createCounter('tenantscope_audit_events', { description: 'Audit events stored in the hash chain, per tenant' });
    this.sliEvents = m.createCounter('tenantscope_sli_events', { description: 'SLI events (server spans), per tenant and SLI' });
    this.sliBad = m.createCounter('tenantscope_sli_bad_events', { description: "Bad SLI events: error status (availability) or slower than the tenant's threshold (latency)" });
    this.requestSeconds = m.createHistogram('tenantscope_ingest_request_duration_seconds', {
      description: 'Ingest request latency, receipt to answer, per transport, signal, encoding and status',
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    });
    this.batchRows = m.createHistogram('tenantscope_writer_batch_rows', { description: 'Rows per insert, per table', advice: { explicitBucketBoundaries: ROWS_BUCKETS } });
    this.insertSeconds = m.createHistogram('tenantscope_store_insert_duration_seconds', { description: 'Store insert latency, per table and outcome', advice: { explicitBucketBoundaries: SECONDS_BUCKETS } });
    this.policySeconds = m.createHistogram('tenantscope_policy_evaluation_duration_seconds', {
      description: 'Policy evaluation time: per streamed input in the worker, per scheduled run',
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    });
    this.refreshSeconds = m.createHistogram('tenantscope_metrics_refresh_duration_seconds', {
      description: 'Time to compute the report gauges from the store',
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    });
    this.errors = m.createCounter('tenantscope_errors', { description: 'Errors answered or met, per error code and stage' });

    // Each labelled tenant's SLI counters start at zero, so Prometheus has a baseline before
    // the first span: otherwise rate() misses whatever the first scrape already holds.
    for (const t of registry.tenants()) {
      const l = this.labels.of(t.id);
      if (l.tenant !== t.id) continue;
      for (const sli of ['availability', 'latency']) {
        this.sliEvents.add(0, { ...l, sli });
        this.sliBad.add(0, { ...l, sli });
      }
    }
    m.createObservableGauge('tenantscope_metric_tenants', { description: 'Tenants with a label of their own (labelled) and folded into tenant="other" (folded)' }).addCallback((r) => {
      const c = this.labels.counts();
      r.observe(c.labelled, { state: 'labelled' });
      r.observe(c.folded, { state: 'folded' });
    });
    m.createObservableGauge('tenantscope_slo_objective_ratio', { description: 'The SLO objective per tenant and SLI, from the registry' }).addCallback((r) => {
      for (const t of this.registry.tenants()) {
        const l = this.labels.of(t.id);
        if (l.tenant !== t.id) continue; // a folded tenant has no objective of its own
        r.observe(t.slo.availability, { ...l, sli: 'availability' });
        r.observe(t.slo.latencyTarget, { ...l, sli: 'latency' });
      }
    });
    // The recovery objectives next to the recovery gauges' ages (report-gauges.ts), in the same
    // unit, so a rule compares each tenant with its own objective rather than a fixed threshold.
    this.objectiveGauge('tenantscope_recovery_rpo_seconds', "The tenant's recovery point objective: the oldest a required component's newest backup may be", (t) => t.recovery.rpoMinutes * 60);
    this.objectiveGauge('tenantscope_restore_test_interval_seconds', "How recent the tenant's last passed restore test must be (its restore_test_days)", (t) => t.recovery.restoreTestDays * 86_400);
    // The minimum-traffic guard of the burn-rate alerts: a pair whose long window holds fewer
    // events than this does not page, whatever its burn rate (the SLO report applies the same).
    this.objectiveGauge('tenantscope_slo_min_events', "The fewest SLI events an alert pair's long window must hold before the pair may fire (slo.min_events)", (t) => t.slo.minEvents);
    // Constant 1 carrying the tenant's home region, so a rule can join it on (tenant, tier) and
    // count burning tenants per region without every series carrying a region label.
    m.createObservableGauge('tenantscope_tenant_info', { description: "1 per tenant with a label of its own, carrying the tenant's home region" }).addCallback((r) => {
      for (const t of this.registry.tenants()) {
        const l = this.labels.of(t.id);
        if (l.tenant === t.id) r.observe(1, { ...l, region: t.region });
      }
    });
    m.createObservableGauge('tenantscope_writer_pending_rows', { description: 'Rows waiting for the store or being inserted, per table' }).addCallback((r) => {
      for (const [table, rows] of Object.entries(this.queues.writerDepth?.() ?? {})) r.observe(rows, { table });
    });
    m.createObservableGauge('tenantscope_ingest_queue_requests', { description: 'Ingest requests in the fair scheduler: decoding and storing (running) or waiting their turn' }).addCallback((r) => {
      const d = this.queues.fairDepth?.();
      if (!d) return;
      r.observe(d.running, { state: 'running' });
      r.observe(d.waiting, { state: 'waiting' });
    });
  }

  /** A gauge of one registry value per labelled tenant (a folded tenant has no objective of its own). */
  private objectiveGauge(name: string, description: string, value: (t: TenantRecord) => number): void {
    this.meter.createObservableGauge(name, { description }).addCallback((r) => {
      for (const t of this.registry.tenants()) {
        const l = this.labels.of(t.id);
        if (l.tenant === t.id) r.observe(value(t), { ...l });
      }
    });
  }

  /** Where the queue gauges read from (the server wires them once the parts exist). */
  watchQueues(sources: QueueSources): void {
    this.queues = { ...this.queues, ...sources };
  }

  /** IngestObserver: a request's rows are durable. */
  stored(signal: Signal, slices: readonly StoredSlice[], rejections: readonly Rejection[], redactions: Record<string, Record<string, number>>): void {
    for (const s of slices) {
      const l = this.labels.of(s.tenantId);
      this.records[signal].add(s.records, { ...l });
      this.bytes.add(s.bytes, { ...l, signal });
      if (signal === 'traces' && s.sli) this.countSli(l, s.sli);
    }
    for (const r of rejections) this.rejected.add(r.records, { ...this.labels.of(r.tenantId), signal, reason: r.reason });
    for (const [tenant, byClass] of Object.entries(redactions)) {
      const l = this.labels.of(tenant);
      for (const [cls, n] of Object.entries(byClass)) this.redactions.add(n, { ...l, class: cls });
    }
  }

  /** IngestObserver: a request refused before its rows were decoded or stored. */
  refused(tenantId: string, signal: Signal, reason: 'rate_limited' | 'queue_full', records: number): void {
    const l = this.labels.of(tenantId);
    this.refusedRequests.add(1, { ...l, signal, reason });
    if (records > 0) this.rejected.add(records, { ...l, signal, reason });
  }

  /** Audit events stored for a tenant, and their redactions. */
  auditStored(tenantId: string, events: number, bytes: number, redactions: Record<string, number>): void {
    const l = this.labels.of(tenantId);
    this.auditEvents.add(events, { ...l });
    this.bytes.add(bytes, { ...l, signal: 'audit' });
    for (const [cls, n] of Object.entries(redactions)) this.redactions.add(n, { ...l, class: cls });
  }

  /** One ingest request answered. */
  request(transport: 'http' | 'grpc', signal: string, encoding: string, code: number, ms: number): void {
    this.requestSeconds.record(ms / 1000, { transport, signal, encoding, code: String(code) });
  }

  /** An error answered or met at a stage. */
  error(code: string, stage: string): void {
    this.errors.add(1, { code, stage });
  }

  /** The report gauges were recomputed. */
  refreshed(ms: number): void {
    this.refreshSeconds.record(ms / 1000);
  }

  /** Policy evaluation time. */
  policyEvaluated(mode: 'stream' | 'scheduled', ms: number): void {
    this.policySeconds.record(ms / 1000, { mode });
  }

  /** The writer's observer: batch sizes and insert latency. */
  writerObserver(): WriterObserver {
    return {
      onFlush: (table: TableName, rows: number, _bytes: number, ms: number, error?: unknown) => {
        this.batchRows.record(rows, { table });
        this.insertSeconds.record(ms / 1000, { table, outcome: error === undefined ? 'ok' : 'error' });
        if (error !== undefined) this.error(errorCode(error), 'store');
      },
    };
  }

  /** The exposition text (GET /metrics filters it per caller, so it is not streamed straight out). */
  async text(): Promise<string> {
    const { resourceMetrics } = await this.exporter.collect();
    return this.serializer.serialize(resourceMetrics);
  }

  async close(): Promise<void> {
    await this.provider.shutdown();
  }

  // The SLO report's SLIs, counted as spans are stored (ingest counts them while it writes
  // their columns): server spans; bad when their status is error (availability) or they took
  // longer than the tenant's threshold (latency).
  private countSli(l: { tenant: string; tier: string }, sli: SliCounts): void {
    if (sli.total === 0) return;
    this.sliEvents.add(sli.total, { ...l, sli: 'availability' });
    this.sliEvents.add(sli.total, { ...l, sli: 'latency' });
    this.sliBad.add(sli.errors, { ...l, sli: 'availability' });
    this.sliBad.add(sli.slow, { ...l, sli: 'latency' });
  }
}

function errorCode(e: unknown): string {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code) ? code : 'unknown';
}
