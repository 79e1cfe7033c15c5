// One OTLP request turned into per-tenant rows while it is decoded: the DecodeSink the decoders
// feed. Per resource group it decides the tenant (tenancy.ts); per record it redacts in place,
// notes what the policy summary needs, and writes the record's row into its tenant's column
// chunk. A record is done with the moment it is decoded, so none outlives its own decode step:
// the request is never held as a tree of records, and the garbage collector finds them dead
// while they are still young.
//
// Nothing here is stored yet: a decode that fails part-way throws, and the pipeline drops
// everything gathered so far (the request is refused whole).
import type { Principal, Registry, TenantRecord } from '../config/index.js';
import type { Attributes, DecodeSink, LogRecord, Resource, Signal } from './otlp/types.js';
import { isRecoveryAction, RecoveryAttributeValidator } from './recovery/vocabulary.js';
import type { TelemetryRedaction, RedactionStage } from './redact-stage.js';
import { rowWriter, type RowContext, type RowWriter } from './rows.js';
import type { SummaryBuilder, TenantSummary } from './summary.js';
import { tenantFor, type Rejection } from './tenancy.js';
import type { TableName } from '../store/types.js';

/** One tenant's share of a request, as rows and counts. */
export interface TenantPart {
  tenant: TenantRecord;
  ctx: RowContext;
  rows: RowWriter<unknown>;
  /** Absent when redaction is off. */
  redaction?: TelemetryRedaction;
  /** Absent when streamed policies are off. */
  summary?: TenantSummary;
  /** Records accepted for the tenant (stored or, past 2262, unstorable). */
  records: number;
}

export interface AssemblyOptions {
  principal: Principal;
  registry: Registry;
  signal: Signal;
  table: TableName & ('spans' | 'logs' | 'metric_points');
  batchId: string;
  receivedMs: number;
  redaction?: RedactionStage;
  summary?: SummaryBuilder;
}

/** A log record named for a recovery action whose attributes are not the vocabulary's. */
export interface RefusedFact {
  /** The tenant the record's resource was for ('' when tenancy refused it too). */
  tenantId: string;
  message: string;
}

// One validator for every request: compiled once.
let recoveryValidator: RecoveryAttributeValidator | undefined;

/** Decides tenancy per resource and turns each record into its tenant's rows as it is decoded. */
export class RequestAssembler implements DecodeSink<unknown> {
  /** Tenants in the order their first record arrived. */
  readonly parts = new Map<string, TenantPart>();
  /** Resource groups refused by tenancy. */
  readonly rejections: Rejection[] = [];
  /** Log records that claimed to be recovery facts and were not valid ones: refused, the rest of the request kept. */
  readonly refusedFacts: RefusedFact[] = [];
  private resource: Resource | undefined;
  private decision: ReturnType<typeof tenantFor> | undefined;
  /** The part the current group's records go to, once its first record arrived. */
  private part: TenantPart | undefined;
  private records = 0;
  private readonly traceIds: boolean;
  /** Tenants whose summary has all the trace ids it keeps. */
  private readonly traceIdsFull = new Set<TenantPart>();

  constructor(private readonly o: AssemblyOptions) {
    this.traceIds = o.summary !== undefined && (o.signal === 'traces' || o.signal === 'logs');
  }

  group(resource: Resource): void {
    this.resource = resource;
    this.decision = tenantFor(this.o.principal, resource.attributes, this.o.registry);
    this.part = undefined;
    this.records = 0;
  }

  item(item: unknown): void {
    // A recovery fact is evidence: one with a wrong attribute is refused, never stored as ordinary log.
    if (this.o.signal === 'logs') {
      const name = (item as LogRecord).eventName;
      if (name !== '' && isRecoveryAction(name) && this.refusedFact(name, (item as LogRecord).attributes)) return;
    }
    this.records++;
    let p = this.part;
    if (p === undefined) {
      // A group's tenant is settled at its first record: a group without records is dropped
      // (PROTOCOL.md §2.5 allows it) and leaves nothing behind, not even a redaction count.
      if (this.decision!.rejection) return;
      p = this.part = this.open(this.decision!.tenant);
    }
    p.redaction?.item(item);
    if (this.traceIds && !this.traceIdsFull.has(p) && !p.summary!.traceId((item as { traceId: string }).traceId)) this.traceIdsFull.add(p);
    p.rows.add(item);
  }

  groupEnd(): void {
    const n = this.records;
    if (n === 0) return;
    const d = this.decision!;
    if (d.rejection) this.rejections.push({ ...d.rejection, records: n });
    else {
      const p = this.part!;
      p.records += n;
      p.summary?.group(this.resource!.attributes, n);
    }
  }

  // Whether a record named for a recovery action is refused (and noted).
  private refusedFact(name: Parameters<RecoveryAttributeValidator['errors']>[0], attributes: Attributes): boolean {
    const tenantId = this.decision?.tenant?.id ?? '';
    let problems = (recoveryValidator ??= new RecoveryAttributeValidator()).errors(name, attributes);
    if (problems === undefined && attributes.scope === 'platform') {
      problems = ['attributes.scope: a platform-scope fact counts for every tenant of its tiers; send it to /v1/audit with an admin token'];
    }
    if (problems === undefined) return false;
    this.refusedFacts.push({ tenantId, message: `log record ${JSON.stringify(name)}: ${problems.join('; ')}` });
    return true;
  }

  // The first record of a group: the tenant's part (made at its first group), the group's
  // resource redacted and opened in the tenant's rows.
  private open(tenant: TenantRecord): TenantPart {
    let p = this.parts.get(tenant.id);
    if (p === undefined) {
      const o = this.o;
      const ctx: RowContext = {
        tenantId: tenant.id,
        retentionDays: tenant.retentionDays[o.table],
        batchId: o.batchId,
        receivedMs: o.receivedMs,
        slowNs: Math.round(tenant.slo.latencyThresholdMs * 1e6),
      };
      p = { tenant, ctx, rows: rowWriter(o.signal, ctx), records: 0 };
      if (o.redaction) p.redaction = o.redaction.forTenant(tenant, o.signal);
      if (o.summary) p.summary = o.summary.tenant(tenant.id);
      this.parts.set(tenant.id, p);
    }
    const attrs: Attributes = this.resource!.attributes;
    p.redaction?.resource(attrs);
    p.rows.group(this.resource!);
    return p;
  }
}
