// Wires the ingest stages for one decoded OTLP request: tenancy -> rows -> writer, plus the
// usage rows that make accepted and rejected volume per tenant visible. Data flows one way;
// this module knows the stages, the stages do not know each other.
import { randomUUID } from 'node:crypto';
import type { Principal, Registry } from '../config/index.js';
import type { AnyDecoded, LogRecord, MetricPoint, PartialSuccess, ResourceGroup, Signal, SpanRecord } from './otlp/types.js';
import { limitWarning } from './otlp/limits.js';
import { assignTenants, type Rejection } from './tenancy.js';
import { logRows, metricRows, spanRows, usageRows, type EncodedRows, type RowContext, type UsageRow } from './rows.js';
import type { BatchWriter } from './writer.js';
import type { TableName } from '../store/types.js';
import type { Logger } from '../log.js';
import type { RedactionStage } from './redact-stage.js';
import { SummaryBuilder, type PolicyStage } from './summary.js';

export type Encoding = 'protobuf' | 'json';

export interface IngestRequest {
  principal: Principal;
  decoded: AnyDecoded;
  encoding: Encoding;
}

/** Per-request result, for the reply and for self-metrics. */
export interface IngestResult extends PartialSuccess {
  accepted: number;
  /** Accepted records per tenant. */
  perTenant: Record<string, number>;
  /** Values redacted per tenant and class (counts only). */
  redactions: Record<string, Record<string, number>>;
}

const TABLE: Record<Signal, TableName & ('spans' | 'logs' | 'metric_points')> = {
  traces: 'spans',
  logs: 'logs',
  metrics: 'metric_points',
};

/** Usage rows of a token without a tenant of its own are kept this long. */
const FALLBACK_USAGE_RETENTION_DAYS = 400;

export class IngestPipeline {
  constructor(
    private readonly registry: Registry,
    private readonly writer: BatchWriter,
    private readonly log: Logger,
    /** Absent when redaction is switched off. */
    private readonly redaction?: RedactionStage,
    /** Absent when streamed policies are switched off. */
    private readonly policies?: PolicyStage,
  ) {}

  /** Store what the principal may write, reject the rest; resolves once stored. */
  async ingest(req: IngestRequest): Promise<IngestResult> {
    const { principal, decoded, encoding } = req;
    const table = TABLE[decoded.signal];
    const batchId = randomUUID();
    const now = Date.now();
    const { slices, rejections } = assignTenants(principal, decoded.groups as ResourceGroup<unknown>[], this.registry);
    const usage: UsageRow[] = [];
    const writes: Promise<void>[] = [];
    const perTenant: Record<string, number> = {};
    const redactions: Record<string, Record<string, number>> = {};
    let accepted = 0;
    // A request the input limits thinned or cut is still stored; OTLP lets a partial success
    // carry a message with nothing rejected, which is how the sender hears of it. It goes
    // first so summarize()'s cap on distinct messages never hides it.
    const warning = limitWarning(decoded.limits);
    if (warning) this.log.debug({ token: principal.name, signal: decoded.signal, warning }, 'input limits applied');
    const messages: string[] = warning ? [warning] : [];
    const summary = this.policies ? new SummaryBuilder(principal, batchId, decoded.signal) : undefined;

    for (const slice of slices) {
      const ctx: RowContext = { tenantId: slice.tenant.id, retentionDays: slice.tenant.retentionDays[table], batchId };
      if (this.redaction) {
        const red = this.redaction.telemetry(slice.tenant, decoded.signal, slice.groups, now);
        if (red.rows > 0) {
          writes.push(this.writer.write('redactions', red.text, red.rows));
          const mine = (redactions[slice.tenant.id] ??= {});
          for (const [cls, n] of Object.entries(red.byClass)) mine[cls] = (mine[cls] ?? 0) + n;
          summary?.redacted(slice.tenant.id, red.byClass, red.owners);
        }
      }
      summary?.accepted(slice.tenant.id, slice.groups);
      const enc = encodeRows(decoded.signal, ctx, slice.groups);
      if (enc.unstorable > 0) {
        rejections.push({
          tenantId: slice.tenant.id,
          claimedTenant: '',
          reason: 'invalid',
          records: enc.unstorable,
          message: `${enc.unstorable} record(s) carry a timestamp after 2262-04-11, which cannot be stored`,
        });
      }
      writes.push(this.writer.write(table, enc.text, enc.rows));
      accepted += enc.rows;
      perTenant[slice.tenant.id] = (perTenant[slice.tenant.id] ?? 0) + enc.rows;
      usage.push(this.usage({ timeMs: now, signal: table, tenantId: slice.tenant.id, outcome: 'accepted', reason: '', claimedTenant: '', records: enc.rows, bytes: Buffer.byteLength(enc.text), encoding, tokenName: principal.name, detail: '', keptDays: ctx.retentionDays, batchId }));
    }

    if (decoded.invalid.length > 0) {
      const first = decoded.invalid[0]!;
      rejections.push({
        tenantId: this.chargedTenant(principal),
        claimedTenant: '',
        reason: 'invalid',
        records: decoded.invalid.length,
        message: `${decoded.invalid.length} invalid record(s), first at ${first.path}: ${first.reason}`,
      });
    }
    for (const r of rejections) {
      messages.push(r.message);
      if (summary) {
        // A rejected resource was never redacted: its service name is, before it becomes evidence.
        const charged = this.registry.tenant(r.tenantId);
        summary.rejected(r.service && charged && this.redaction ? { ...r, service: this.redaction.text(charged, r.service) } : r);
      }
      usage.push(this.usage({ timeMs: now, signal: table, tenantId: r.tenantId, outcome: 'rejected', reason: r.reason, claimedTenant: r.claimedTenant, records: r.records, bytes: 0, encoding, tokenName: principal.name, detail: r.message, keptDays: 0, batchId }));
      if (r.reason !== 'invalid') {
        this.log.warn({ tenant: r.tenantId, claimed: r.claimedTenant, reason: r.reason, records: r.records, token: principal.name }, 'ingest rejected');
      }
    }
    const usageText = usageRows(usage);
    writes.push(this.writer.write('ingest_usage', usageText, usage.length));
    // Policies run on their own thread while the rows are stored; waiting is bounded by their budget.
    if (summary && this.policies) writes.push(this.policies.submit(summary.summaries()));
    await Promise.all(writes);

    const rejected = rejections.reduce((a, r) => a + r.records, 0);
    return { accepted, rejected, perTenant, redactions, errorMessage: summarize(messages) };
  }

  private chargedTenant(p: Principal): string {
    return p.tenants === 'all' ? '' : ([...p.tenants][0] ?? '');
  }

  // Usage rows are kept for the tenant's audit retention: they are evidence too.
  private usage(row: Omit<UsageRow, 'retentionDays'>): UsageRow {
    const retentionDays = this.registry.tenant(row.tenantId)?.retentionDays.audit_events ?? FALLBACK_USAGE_RETENTION_DAYS;
    return { ...row, retentionDays };
  }

}

function encodeRows(signal: Signal, ctx: RowContext, groups: ResourceGroup<unknown>[]): EncodedRows {
  switch (signal) {
    case 'traces':
      return spanRows(ctx, groups as ResourceGroup<SpanRecord>[]);
    case 'logs':
      return logRows(ctx, groups as ResourceGroup<LogRecord>[]);
    case 'metrics':
      return metricRows(ctx, groups as ResourceGroup<MetricPoint>[]);
  }
}

// Partial-success messages go back to the client: distinct, short, and bounded in size.
function summarize(messages: string[]): string {
  const distinct = [...new Set(messages)];
  const text = distinct.slice(0, 5).join('; ') + (distinct.length > 5 ? `; and ${distinct.length - 5} more` : '');
  return text.length > 2000 ? `${text.slice(0, 1997)}...` : text;
}

export type { Rejection };
