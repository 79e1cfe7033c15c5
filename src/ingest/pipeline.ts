// Wires the ingest stages for one decoded OTLP request: tenancy -> rows -> writer, plus the
// usage rows that make accepted and rejected volume per tenant visible. Data flows one way;
// this module knows the stages, the stages do not know each other.
import { createHash } from 'node:crypto';
import { trace } from '@opentelemetry/api';
import type { Principal, Registry } from '../config/index.js';
import type { DecodeLimits, PartialSuccess, Signal } from './otlp/types.js';
import { limitWarning } from './otlp/limits.js';
import { decodeOtlpInto } from './otlp/index.js';
import type { Rejection } from './tenancy.js';
import { RequestAssembler } from './assemble.js';
import { usageRows, type SliCounts, type UsageRow } from './rows.js';
import type { BatchWriter } from './writer.js';
import type { TableName } from '../store/types.js';
import type { Logger } from '../log.js';
import type { RedactionStage } from './redact-stage.js';
import { SummaryBuilder, type PolicyStage } from './summary.js';
import type { TenantQuotas } from './quota.js';
import { tsError } from '../errors.js';

export type Encoding = 'protobuf' | 'json';

// Spans of tenantscope's own pipeline; a no-op unless self-tracing is switched on.
const tracer = trace.getTracer('tenantscope');

export interface IngestRequest {
  principal: Principal;
  signal: Signal;
  /**
   * The request's payload as received (after decompression). Its digest is the request's
   * batch id, so a client resending the same request is recognised.
   */
  body: Uint8Array;
  encoding: Encoding;
  /** Input limits of the decode (absent: the defaults). */
  limits?: DecodeLimits;
}

/** Per-request result, for the reply and for self-metrics. */
export interface IngestResult extends PartialSuccess {
  accepted: number;
  /** Accepted records per tenant. */
  perTenant: Record<string, number>;
  /** Values redacted per tenant and class (counts only). */
  redactions: Record<string, Record<string, number>>;
}

/** One tenant's part of a stored request, for self-metrics. */
export interface StoredSlice {
  tenantId: string;
  records: number;
  /** Bytes of the stored rows. */
  bytes: number;
  /** Spans: the stored server spans' SLI events. */
  sli?: SliCounts;
}

/**
 * What the pipeline tells an observer (the Prometheus metrics): each request once its rows are
 * durable, and each refusal. Implemented downstream (src/telemetry); the pipeline only calls it.
 */
export interface IngestObserver {
  stored(signal: Signal, slices: readonly StoredSlice[], rejections: readonly Rejection[], redactions: Record<string, Record<string, number>>): void;
  refused(tenantId: string, signal: Signal, reason: 'rate_limited' | 'queue_full', records: number): void;
}

const TABLE: Record<Signal, TableName & ('spans' | 'logs' | 'metric_points')> = {
  traces: 'spans',
  logs: 'logs',
  metrics: 'metric_points',
};

/** Refusals over quota are summed per tenant, signal and token, and stored this often. */
const REFUSAL_FLUSH_MS = 2_000;

interface RefusalSum {
  tenantId: string;
  signal: (typeof TABLE)[Signal];
  token: string;
  encoding: string;
  requests: number;
  records: number;
  bytes: number;
  firstMs: number;
}

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
    /** Absent: no per-tenant ingest quotas. */
    private readonly quotas?: TenantQuotas,
    private readonly observer?: IngestObserver,
  ) {}

  /**
   * Seconds a principal must wait before its next request, checked before the request is
   * even decoded: a single-tenant token over its tenant's quota costs no decoding. 0: go on.
   */
  retryAfterSeconds(principal: Principal): number {
    if (!this.quotas || principal.tenants === 'all' || principal.tenants.size !== 1) return 0;
    return this.quotas.retryAfterSeconds([...principal.tenants][0]!);
  }

  private readonly inFlight = new Map<string, Promise<IngestResult>>();
  private readonly refusals = new Map<string, RefusalSum>();
  private refusalTimer: NodeJS.Timeout | undefined;

  /** Store what the principal may write, reject the rest; resolves once durable. */
  async ingest(req: IngestRequest): Promise<IngestResult> {
    const batchId = batchDigest(req.principal.name, req.signal, req.body);
    // A retry of a request still being stored gets that request's answer; a retry of one
    // already durable is acknowledged without storing it again.
    const running = this.inFlight.get(batchId);
    if (running) return running;
    if (this.writer.hasBatch(batchId)) {
      this.log.info({ batch: batchId, token: req.principal.name, signal: req.signal }, 'request already stored; acknowledged without storing it again');
      return { accepted: 0, rejected: 0, perTenant: {}, redactions: {}, errorMessage: `this request (batch ${batchId}) was already accepted; not stored again` };
    }
    const work = this.store(req, batchId).finally(() => this.inFlight.delete(batchId));
    this.inFlight.set(batchId, work);
    return work;
  }

  private async store(req: IngestRequest, batchId: string): Promise<IngestResult> {
    const { principal, signal, encoding } = req;
    const table = TABLE[signal];
    const now = Date.now();
    const summary = this.policies ? new SummaryBuilder(principal, batchId, signal) : undefined;
    // Decoding, tenancy, redaction and row encoding are one pass over the request (assemble.ts).
    const assembly = new RequestAssembler({ principal, registry: this.registry, signal, table, batchId, receivedMs: now, redaction: this.redaction, summary });
    const decoded = tracer.startActiveSpan('tenantscope.decode', (d) => {
      try {
        return decodeOtlpInto(signal, req.body, encoding, assembly, req.limits);
      } finally {
        d.end();
      }
    });
    const parts = [...assembly.parts.values()].filter((p) => p.records > 0);
    const rejections = assembly.rejections;
    if (this.quotas) await this.admit(req, parts, now);
    const usage: UsageRow[] = [];
    const writes: Promise<void>[] = [];
    const perTenant: Record<string, number> = {};
    const redactions: Record<string, Record<string, number>> = {};
    const stored: StoredSlice[] = [];
    let accepted = 0;
    // A request the input limits thinned or cut is still stored; OTLP lets a partial success
    // carry a message with nothing rejected, which is how the sender hears of it. It goes
    // first so summarize()'s cap on distinct messages never hides it.
    const warning = limitWarning(decoded.limits);
    if (warning) this.log.debug({ token: principal.name, signal, warning }, 'input limits applied');
    const messages: string[] = warning ? [warning] : [];

    for (const part of parts) {
      const tenantId = part.tenant.id;
      if (part.redaction) {
        const red = part.redaction.outcome(now);
        if (red.chunk) {
          // Counts read by reports only: deferred like the usage rows (logged before the answer).
          writes.push(this.writer.write('redactions', red.chunk, { deferred: true, after: batchId }));
          const mine = (redactions[tenantId] ??= {});
          for (const [cls, n] of Object.entries(red.byClass)) mine[cls] = (mine[cls] ?? 0) + n;
          summary?.redacted(tenantId, red.byClass, red.owners);
        }
      }
      const enc = part.rows.result();
      if (enc.unstorable > 0) {
        rejections.push({
          tenantId,
          claimedTenant: '',
          reason: 'invalid',
          records: enc.unstorable,
          message: `${enc.unstorable} record(s) carry a timestamp after 2262-04-11, which cannot be stored`,
        });
      }
      const bytes = enc.chunk.bytes();
      writes.push(this.writer.write(table, enc.chunk, { batchId }));
      // The rollup's sums are read only by reports: deferred, like the usage rows.
      if (enc.sums) writes.push(this.writer.write('resource_minute_sums', enc.sums, { deferred: true, after: batchId }));
      if (this.observer) stored.push({ tenantId, records: enc.rows, bytes, ...(enc.sli ? { sli: enc.sli } : {}) });
      accepted += enc.rows;
      perTenant[tenantId] = (perTenant[tenantId] ?? 0) + enc.rows;
      usage.push(this.usage({ timeMs: now, signal: table, tenantId, outcome: 'accepted', reason: '', claimedTenant: '', records: enc.rows, bytes, encoding, tokenName: principal.name, detail: '', keptDays: part.ctx.retentionDays, batchId }));
    }

    if (assembly.refusedFacts.length > 0) {
      const first = assembly.refusedFacts[0]!;
      rejections.push({
        tenantId: first.tenantId || this.chargedTenant(principal),
        claimedTenant: '',
        reason: 'invalid',
        records: assembly.refusedFacts.length,
        message: `${assembly.refusedFacts.length} recovery fact(s) refused, first: ${first.message}`,
      });
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
    // Usage rows are kept as surely as the data (logged before the answer) but inserted with
    // the table's next insert, within a second: one part a second instead of one per request.
    writes.push(this.writer.write('ingest_usage', usageRows(usage), { deferred: true, after: accepted > 0 ? batchId : undefined }));
    // Policies run on their own thread while the rows are stored; waiting is bounded by their budget.
    if (summary && this.policies) writes.push(this.policies.submit(summary.summaries()));
    await Promise.all(writes);
    this.observer?.stored(signal, stored, rejections, redactions);

    const rejected = rejections.reduce((a, r) => a + r.records, 0);
    return { accepted, rejected, perTenant, redactions, errorMessage: summarize(messages) };
  }

  // Every tenant of the request must be within its quota, or the whole request is refused
  // (429, nothing stored, so the client's retry loses nothing); admitted, each tenant pays
  // for its records and its share of the bytes.
  private async admit(req: IngestRequest, slices: readonly { tenant: { id: string }; records: number }[], now: number): Promise<void> {
    const quotas = this.quotas!;
    const bytes = req.body.length;
    const records = slices.reduce((a, s) => a + s.records, 0);
    const over = slices.map((s) => ({ s, wait: quotas.retryAfterSeconds(s.tenant.id) })).filter((x) => x.wait > 0);
    if (over.length === 0) {
      for (const s of slices) quotas.charge(s.tenant.id, s.records, records > 0 ? Math.round((bytes * s.records) / records) : 0);
      return;
    }
    for (const { s } of over) this.noteRefusal(s.tenant.id, req.signal, req.principal.name, req.encoding, s.records, bytes, now, 'rate_limited');
    const worst = over.reduce((a, b) => (b.wait > a.wait ? b : a));
    const t = this.registry.tenant(worst.s.tenant.id)!;
    this.log.warn({ tenant: t.id, token: req.principal.name, records: worst.s.records, retryAfterSeconds: worst.wait }, 'ingest over quota');
    throw tsError('TS_ERR_RATE_LIMITED', [t.id, `${t.quotas.eventsPerSecond} records/s, ${t.quotas.bytesPerSecond} bytes/s`, worst.wait], { tenant: t.id, retryAfterSeconds: worst.wait });
  }

  /** Refuse a principal before decoding (see retryAfterSeconds): counted and logged like a refusal after it. */
  refuseEarly(principal: Principal, signal: Signal, encoding: Encoding | 'unknown', bytes: number, wait: number): never {
    const tenantId = this.chargedTenant(principal);
    const t = this.registry.tenant(tenantId)!;
    this.recordRefusal(principal, signal, encoding, bytes, 'rate_limited');
    throw tsError('TS_ERR_RATE_LIMITED', [tenantId, `${t.quotas.eventsPerSecond} records/s, ${t.quotas.bytesPerSecond} bytes/s`, wait], { tenant: tenantId, retryAfterSeconds: wait });
  }

  /** Record a request refused before decoding (quota, or too many of the tenant's requests waiting) against its tenant. */
  recordRefusal(principal: Principal, signal: Signal, encoding: Encoding | 'unknown', bytes: number, reason: 'rate_limited' | 'queue_full'): void {
    this.noteRefusal(this.chargedTenant(principal), signal, principal.name, encoding, 0, bytes, Date.now(), reason);
  }

  // Refusals are evidence too, but a flood must not turn into a flood of writes: they are
  // summed and stored as one usage row per tenant, signal and token every REFUSAL_FLUSH_MS.
  private noteRefusal(tenantId: string, signal: Signal, token: string, encoding: string, records: number, bytes: number, now: number, reason: 'rate_limited' | 'queue_full'): void {
    this.quotas?.noteRefused(tenantId, records, bytes);
    this.observer?.refused(tenantId, signal, reason, records);
    const key = `${tenantId}\0${signal}\0${token}\0${encoding}`;
    const sum = this.refusals.get(key) ?? { tenantId, signal: TABLE[signal], token, encoding, requests: 0, records: 0, bytes: 0, firstMs: now };
    sum.requests++;
    sum.records += records;
    sum.bytes += bytes;
    this.refusals.set(key, sum);
    if (!this.refusalTimer) {
      this.refusalTimer = setTimeout(() => void this.flushRefusals(), REFUSAL_FLUSH_MS);
      this.refusalTimer.unref();
    }
  }

  /** Store the refusals summed so far (also at shutdown, before the writer closes). */
  async flushRefusals(): Promise<void> {
    if (this.refusalTimer) clearTimeout(this.refusalTimer);
    this.refusalTimer = undefined;
    if (this.refusals.size === 0) return;
    const usage = [...this.refusals.values()].map((r) =>
      this.usage({
        timeMs: r.firstMs, signal: r.signal, tenantId: r.tenantId, outcome: 'rejected', reason: 'rate_limited', claimedTenant: '', records: r.records, bytes: 0,
        encoding: r.encoding, tokenName: r.token, detail: `${r.requests} request(s) (${r.bytes} bytes) refused over the ingest quota`, keptDays: 0, batchId: '',
      }),
    );
    this.refusals.clear();
    await this.writer.write('ingest_usage', usageRows(usage), { deferred: true }).catch((e: unknown) => this.log.warn({ err: String(e) }, 'cannot store rate-limit usage rows'));
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

/** A request's batch id: who sent it, what signal, and its exact bytes. */
function batchDigest(token: string, signal: Signal, body: Uint8Array): string {
  return createHash('sha256').update(token).update('\0').update(signal).update('\0').update(body).digest('hex').slice(0, 32);
}

// Partial-success messages go back to the client: distinct, short, and bounded in size.
function summarize(messages: string[]): string {
  const distinct = [...new Set(messages)];
  const text = distinct.slice(0, 5).join('; ') + (distinct.length > 5 ? `; and ${distinct.length - 5} more` : '');
  return text.length > 2000 ? `${text.slice(0, 1997)}...` : text;
}

export type { Rejection };
