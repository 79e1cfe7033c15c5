// Audit events at the ingest boundary (what a client sends) and as stored (chained).

/** An audit event as a client sends it (validated against event.schema.json). */
export interface AuditEventInput {
  id?: string;
  time: string;
  actor: { id: string; type: 'user' | 'service' | 'support' | 'system'; tenant_id?: string };
  action: string;
  target: { type: string; id: string; tenant_id?: string };
  outcome: 'success' | 'failure' | 'denied';
  region?: string;
  source_ip?: string;
  ticket?: string;
  attributes?: Record<string, string>;
}

/** Why an event is worth a second look; isolation policies read these. */
export type AuditFlag = 'cross_tenant_target' | 'cross_tenant_actor';

/** The normalised event of one tenant, before it gets its place in the chain. */
export interface AuditEvent {
  tenantId: string;
  eventId: string;
  /** Decimal nanoseconds since the epoch. */
  timeNs: string;
  actorId: string;
  actorType: string;
  actorTenantId: string;
  action: string;
  targetType: string;
  targetId: string;
  targetTenantId: string;
  outcome: string;
  region: string;
  sourceIp: string;
  ticket: string;
  attributes: Record<string, string>;
  flags: AuditFlag[];
}

/** An event with its chain position: the row as stored in `audit_events`. */
export interface ChainedAuditEvent extends AuditEvent {
  segmentId: string;
  seq: number;
  prevHash: string;
  hash: string;
}
