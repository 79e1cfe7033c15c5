// Audit ingest for one request: split and validate each event on its own, give it the
// token's tenant, redact its attributes, chain it, store it. Valid events are stored even when
// others in the same request are not; the result says which is which, by index.
import type { ColumnChunk } from '../../store/native.js';
import type { Principal, Registry, TenantRecord } from '../../config/index.js';
import { tsError } from '../../errors.js';
import { EventValidator, normalize, splitBody, type AuditBodyFormat } from './parse.js';
import { auditRows, PLATFORM_CHAIN, type ChainWriter } from './chain.js';
import { isRecoveryAction, RECOVERY_ACTIONS } from '../recovery/vocabulary.js';
import type { AuditEvent, AuditEventInput, AuditFlag, ChainedAuditEvent } from './types.js';
import type { RedactionStage } from '../redact-stage.js';
import { RedactionTally } from '../redact/index.js';
import { SummaryBuilder, type PolicyStage } from '../summary.js';
import type { AuditEventPolicyInput, StreamedInput } from '../../policy/types.js';
import { randomUUID } from 'node:crypto';

/** How long events of the platform chain (erasure certificates) are kept: ten years. */
export const PLATFORM_AUDIT_RETENTION_DAYS = 3650;

/** Stores a chunk of rows in a table and resolves once it is durable (the writer). */
export type RowSink = (table: 'audit_events' | 'redactions', rows: ColumnChunk) => Promise<void>;

export type AuditEventResult =
  | { index: number; status: 'stored'; id: string; segment_id: string; seq: number; hash: string; flags: AuditFlag[] }
  | { index: number; status: 'rejected'; errors: string[] };

/** What POST /v1/audit answers. */
export interface AuditIngestResult {
  accepted: number;
  rejected: number;
  events: AuditEventResult[];
}

export class AuditIngest {
  readonly #validator: EventValidator;

  constructor(
    private readonly registry: Registry,
    private readonly chain: ChainWriter,
    private readonly sink: RowSink,
    /** Absent when redaction is switched off. */
    private readonly redaction?: RedactionStage,
    /** Absent when streamed policies are switched off. */
    private readonly policies?: PolicyStage,
    /** Told of each tenant's events once they are stored (self-metrics). */
    private readonly onStored?: (tenantId: string, events: number, bytes: number, redactions: Record<string, number>) => void,
  ) {
    this.#validator = new EventValidator(registry.settings.limits);
  }

  /** Validate, chain and store the events of one request body. */
  async ingest(principal: Principal, body: Buffer, format: AuditBodyFormat): Promise<AuditIngestResult> {
    const raw = splitBody(body, format);
    const results: AuditEventResult[] = [];
    const byTenant = new Map<string, { tenant: TenantRecord; events: AuditEvent[]; indexes: number[]; tally: RedactionTally }>();
    // Platform-scope recovery facts: one copy in the platform chain, read for every tenant it covers.
    const platform: { events: AuditEvent[]; indexes: number[] } = { events: [], indexes: [] };

    for (const r of raw) {
      if ('parseError' in r) {
        results.push({ index: r.index, status: 'rejected', errors: [r.parseError] });
        continue;
      }
      const errors = this.#validator.errors(r.value);
      if (errors) {
        results.push({ index: r.index, status: 'rejected', errors });
        continue;
      }
      const input = r.value as AuditEventInput;
      const tenantId = this.tenantOf(principal, input);
      if (typeof tenantId !== 'string') {
        results.push({ index: r.index, status: 'rejected', errors: [tenantId.error] });
        continue;
      }
      if (tenantId === PLATFORM_CHAIN) {
        const event = normalize(input, PLATFORM_CHAIN);
        if (typeof event === 'string') results.push({ index: r.index, status: 'rejected', errors: [event] });
        else {
          platform.events.push(event);
          platform.indexes.push(r.index);
        }
        continue;
      }
      const tenant = this.registry.tenant(tenantId);
      if (!tenant) {
        results.push({ index: r.index, status: 'rejected', errors: [`tenant ${JSON.stringify(tenantId)} is not in the registry`] });
        continue;
      }
      const event = normalize(input, tenant.id);
      if (typeof event === 'string') {
        results.push({ index: r.index, status: 'rejected', errors: [event] });
        continue;
      }
      let group = byTenant.get(tenant.id);
      if (!group) byTenant.set(tenant.id, (group = { tenant, events: [], indexes: [], tally: new RedactionTally() }));
      this.redaction?.auditAttributes(tenant, event.attributes, group.tally);
      group.events.push(event);
      group.indexes.push(r.index);
    }

    if (byTenant.size === 0 && platform.events.length === 0) {
      const first = results.find((x): x is Extract<AuditEventResult, { status: 'rejected' }> => x.status === 'rejected');
      throw tsError('TS_ERR_AUDIT_INVALID', [first ? `event ${first.index}: ${first.errors.join('; ')}` : 'the request holds no events'], { results });
    }

    const summary = this.policies ? new SummaryBuilder(principal, randomUUID(), 'audit') : undefined;
    const inputs: StreamedInput[] = [];
    await Promise.all(
      [...byTenant.values()].map(async ({ tenant, events, indexes, tally }) => {
        const redacted = this.redaction?.rows(tenant, tally, Date.now());
        if (summary) {
          summary.records(tenant.id, events.length);
          if (redacted) summary.redacted(tenant.id, redacted.byClass, redacted.owners);
        }
        const chained = await this.chainAndStore(tenant, events, principal.name, redacted);
        chained.forEach((c, i) =>
          results.push({ index: indexes[i]!, status: 'stored', id: c.eventId, segment_id: c.segmentId, seq: c.seq, hash: c.hash, flags: c.flags }),
        );
        if (this.policies) for (const c of chained) inputs.push(policyInput(c));
      }),
    );
    if (platform.events.length > 0) {
      // Written by the platform's own tooling with a platform credential: no tenant's redaction applies.
      const chained = await this.chain.append(PLATFORM_CHAIN, platform.events, (c) => this.sink('audit_events', auditRows(c, PLATFORM_AUDIT_RETENTION_DAYS, principal.name)));
      chained.forEach((c, i) =>
        results.push({ index: platform.indexes[i]!, status: 'stored', id: c.eventId, segment_id: c.segmentId, seq: c.seq, hash: c.hash, flags: c.flags }),
      );
    }
    // Policies see the events once they are chained and stored; waiting is bounded by their budget.
    if (summary && this.policies) await this.policies.submit([...inputs, ...summary.summaries()]);
    results.sort((a, b) => a.index - b.index);
    const accepted = results.filter((r) => r.status === 'stored').length;
    return { accepted, rejected: results.length - accepted, events: results };
  }

  /**
   * Chain and store events tenantscope itself records for a tenant (reads of its data through
   * the API): already trusted, so no redaction or policy pass; durable when this resolves.
   */
  async record(tenantId: string, inputs: readonly AuditEventInput[], tokenName: string): Promise<ChainedAuditEvent[]> {
    const tenant = this.registry.tenant(tenantId);
    if (!tenant) throw tsError('TS_ERR_TENANT_NOT_FOUND', [tenantId]);
    const events = inputs.map((input) => {
      const e = normalize(input, tenant.id);
      if (typeof e === 'string') throw tsError('TS_ERR_INTERNAL', [`recorded audit event for ${tenant.id}: ${e}`]);
      return e;
    });
    return this.chainAndStore(tenant, events, tokenName);
  }

  /** Forget the chain head kept for a tenant whose stored chain changed underneath (an erase). */
  forgetChain(tenantId: string): void {
    this.chain.forget(tenantId);
  }

  /**
   * Chain and store events of a chain that belongs to no tenant (the platform chain of
   * erasures: the erased tenant's own chain is gone). Kept PLATFORM_AUDIT_RETENTION_DAYS;
   * not redacted, since tenantscope writes these itself from ids and counts.
   */
  async recordPlatform(chainId: string, inputs: readonly AuditEventInput[], tokenName: string): Promise<ChainedAuditEvent[]> {
    const events = inputs.map((input) => {
      const e = normalize(input, chainId);
      if (typeof e === 'string') throw tsError('TS_ERR_INTERNAL', [`recorded platform audit event: ${e}`]);
      return e;
    });
    return this.chain.append(chainId, events, (c) => this.sink('audit_events', auditRows(c, PLATFORM_AUDIT_RETENTION_DAYS, tokenName)));
  }

  // Chain one tenant's events and store them with their redaction counts; durable on return.
  private async chainAndStore(
    tenant: TenantRecord,
    events: AuditEvent[],
    tokenName: string,
    redacted?: { rows: number; chunk?: ColumnChunk; byClass: Record<string, number> },
  ): Promise<ChainedAuditEvent[]> {
    let bytes = 0;
    const chained = await this.chain.append(tenant.id, events, (c) => {
      const rows = auditRows(c, tenant.retentionDays.audit_events, tokenName);
      bytes = rows.bytes();
      return Promise.all([
        this.sink('audit_events', rows),
        redacted?.chunk ? this.sink('redactions', redacted.chunk) : undefined,
      ]).then(() => undefined);
    });
    this.onStored?.(tenant.id, chained.length, bytes, redacted?.byClass ?? {});
    return chained;
  }

  // The event's tenant is the token's. A token for several tenants must name one of them as
  // the target's tenant; nothing in the event can widen what the token may write. Backup and
  // recovery facts may also come from the platform's tooling with an admin token: for the
  // tenant its target names, or (scope platform) for the platform chain, which no tenant's
  // token can write, since such a fact counts for other tenants.
  private tenantOf(p: Principal, e: AuditEventInput): string | { error: string } {
    const recovery = isRecoveryAction(e.action);
    if (recovery && e.attributes?.scope === 'platform') {
      if (p.tenants !== 'all') return { error: '/attributes/scope: a platform-scope fact counts for every tenant of its tiers; only an admin token records one' };
      return PLATFORM_CHAIN;
    }
    if (p.tenants === 'all') {
      if (!recovery) return { error: `/action: an admin token records only backup and recovery facts (${RECOVERY_ACTIONS.join(', ')})` };
      const named = e.target.tenant_id ?? '';
      if (named === '') return { error: '/target/tenant_id: an admin token must name the tenant a tenant-scope fact is for' };
      return named;
    }
    const own = [...p.tenants];
    if (own.length === 1) return own[0]!;
    const named = e.target.tenant_id ?? '';
    if (p.tenants.has(named)) return named;
    return { error: `/target/tenant_id: a token for several tenants must name one of its tenants here` };
  }
}

/** An audit event as the isolation policy reads it. */
function policyInput(e: AuditEvent): AuditEventPolicyInput {
  const ms = Number(BigInt(e.timeNs) / 1_000_000n);
  return {
    kind: 'audit_event',
    tenant: e.tenantId,
    event: {
      id: e.eventId,
      time: new Date(ms).toISOString(),
      actor: { id: e.actorId, type: e.actorType, tenant_id: e.actorTenantId },
      action: e.action,
      target: { type: e.targetType, id: e.targetId, tenant_id: e.targetTenantId },
      outcome: e.outcome,
      region: e.region,
      ticket: e.ticket,
      attributes: e.attributes,
    },
  };
}
