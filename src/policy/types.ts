// The policy boundary: what policies are given (inputs) and what they answer (findings), and
// a finding as stored (a violation). The Rego files in policies/ document the same shapes.

/** Severity of a finding, from a notice to a breach. */
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** One finding of a policy, as its `violations` rule produces it. */
export interface Finding {
  policy: string;
  rule: string;
  severity: Severity;
  /** The tenant the finding is about; '' for the platform itself. */
  tenant: string;
  /** What the finding is about (event id, data class, key id); part of the violation key. */
  subject: string;
  message: string;
  evidence: unknown;
}

/** An audit event as the isolation policy reads it (snake_case, as the client sent it). */
export interface AuditEventDoc {
  id: string;
  time: string;
  actor: { id: string; type: string; tenant_id: string };
  action: string;
  target: { type: string; id: string; tenant_id: string };
  outcome: string;
  region: string;
  ticket: string;
  attributes: Record<string, string>;
}

/** Streamed: one audit event, after it is chained. */
export interface AuditEventPolicyInput {
  kind: 'audit_event';
  tenant: string;
  event: AuditEventDoc;
}

/** Streamed: what one ingest request did for (or against) one tenant. */
export interface IngestSummaryInput {
  kind: 'ingest_summary';
  tenant: string;
  request_id: string;
  signal: 'traces' | 'metrics' | 'logs' | 'audit';
  token: string;
  token_tenants: string[];
  /** Registered tenants the request's `tenant.id` attributes named. */
  claimed_tenants: string[];
  records: number;
  records_without_tenant: number;
  services_without_tenant: string[];
  /** Redacted identifiers per owning tenant. */
  redacted_tenants: Record<string, number>;
  /** Redactions per class. */
  redactions: Record<string, number>;
  regions: string[];
  /** A sample of trace ids, as evidence. */
  trace_ids: string[];
}

/** Scheduled: what is stored, per tenant and data class, plus keys seen per tenant. */
export interface ScheduledInput {
  kind: 'scheduled';
  now: string;
  stored: Record<string, Record<string, { oldest: string; rows: number }>>;
  key_usage: Record<string, string[]>;
}

export type StreamedInput = AuditEventPolicyInput | IngestSummaryInput;
export type PolicyInput = StreamedInput | ScheduledInput;
export type InputKind = PolicyInput['kind'];

/** Where a finding came from: streamed inputs stay open; scheduled ones resolve when gone. */
export type FindingSource = 'stream' | 'scheduled';

/** A violation as stored and served: a finding's key with its history. */
export interface Violation {
  tenant: string;
  policy: string;
  rule: string;
  subject: string;
  severity: Severity;
  status: 'open' | 'resolved';
  source: FindingSource;
  message: string;
  evidence: unknown;
  /** RFC 3339 (UTC, milliseconds). */
  first_seen: string;
  last_seen: string;
  /** How many times it was found. */
  count: number;
  /** When a scheduled run last found it gone; '' if never. */
  resolved_at: string;
}
