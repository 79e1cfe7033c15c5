// The redaction stage as the pipeline sees it: redact one tenant's decoded records in place
// and turn what was redacted into `redactions` rows (counts only). Keeps the pipeline and the
// audit ingest ignorant of how scanning works.
import type { TenantRecord } from '../config/index.js';
import type { Attributes, LogRecord, MetricPoint, Signal, SpanRecord } from './otlp/types.js';
import { Redactor, RedactionTally, type RedactionCount } from './redact/index.js';
import { redactionRows, type RedactionRow } from './rows.js';
import type { ColumnChunk } from '../store/native.js';

export interface RedactionOutcome {
  /** `redactions` rows, as a chunk of a Native block (absent when nothing was redacted). */
  chunk?: ColumnChunk;
  rows: number;
  /** Redactions per class, e.g. { tenant_identifier: 2, jwt: 1 }. */
  byClass: Record<string, number>;
  /** Redacted identifiers per tenant they name. */
  owners: Record<string, number>;
}

const NONE: RedactionOutcome = Object.freeze({ rows: 0, byClass: {}, owners: {} });

export class RedactionStage {
  constructor(private readonly redactor: Redactor) {}

  /** One tenant's redaction of one request's telemetry, to be fed record by record. */
  forTenant(tenant: TenantRecord, signal: Signal): TelemetryRedaction {
    return new TelemetryRedaction(this.redactor, tenant, signal);
  }

  /** Redact an audit event's attributes in place. */
  auditAttributes(tenant: TenantRecord, attributes: Record<string, string>, tally: RedactionTally): void {
    this.redactor.redactAttributes(tenant, attributes, 'audit_events', 'audit.attributes', tally);
  }

  /** A value as it may be stored in `tenant`'s evidence (redacted, not counted: it is metadata). */
  text(tenant: TenantRecord, value: string): string {
    return this.redactor.redactString(tenant, value, 'audit_events', 'evidence', new RedactionTally());
  }

  /** Rows for what a tally counted. */
  rows(tenant: TenantRecord, tally: RedactionTally, nowMs: number): RedactionOutcome {
    return outcome(tenant, tally, nowMs);
  }
}

const TABLE = { traces: 'spans', logs: 'logs', metrics: 'metric_points' } as const;

/** One tenant's redaction of one request's telemetry: records are redacted in place as they come, counts add up. */
export class TelemetryRedaction {
  private readonly tally = new RedactionTally();
  /** Resource and scope attribute sets already redacted (shared by every item under them). */
  private readonly seen = new Set<Attributes>();
  /** Redact one item in place. */
  readonly item: (item: unknown) => void;

  constructor(
    private readonly redactor: Redactor,
    private readonly tenant: TenantRecord,
    private readonly signal: Signal,
  ) {
    const { tally, seen } = this;
    this.item =
      signal === 'traces'
        ? (x) => redactor.redactSpan(tenant, x as SpanRecord, tally, seen)
        : signal === 'logs'
          ? (x) => redactor.redactLog(tenant, x as LogRecord, tally, seen)
          : (x) => redactor.redactPoint(tenant, x as MetricPoint, tally, seen);
  }

  /** Redact a resource's attributes in place (once per attribute set). */
  resource(attrs: Attributes): void {
    this.redactor.redactResource(this.tenant, TABLE[this.signal], attrs, this.tally, this.seen);
  }

  /** What was redacted, as rows and counts. */
  outcome(nowMs: number): RedactionOutcome {
    return outcome(this.tenant, this.tally, nowMs);
  }
}

function outcome(tenant: TenantRecord, tally: RedactionTally, nowMs: number): RedactionOutcome {
  const counts: RedactionCount[] = tally.entries();
  if (counts.length === 0) return NONE;
  const byClass: Record<string, number> = {};
  const rows: RedactionRow[] = counts.map((c) => {
    byClass[c.cls] = (byClass[c.cls] ?? 0) + c.count;
    return {
      tenantId: tenant.id,
      minuteMs: nowMs,
      dataClass: c.dataClass,
      field: c.field,
      cls: c.cls,
      count: c.count,
      retentionDays: tenant.retentionDays.audit_events,
    };
  });
  return { chunk: redactionRows(rows), rows: rows.length, byClass, owners: tally.owners() };
}
