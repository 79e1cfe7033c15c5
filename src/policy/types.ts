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

/** A backup as the recovery policy reads it: the latest successful one of a component. */
export interface RecoveryBackupDoc {
  /** When the backup completed (RFC 3339). */
  completed: string;
  /** The point in time it restores to. */
  snapshot: string;
  /** Minutes from the snapshot to the period's end. */
  age_minutes: number;
  scope: 'tenant' | 'platform';
  event_id: string;
}

/** A stretch of the period in which no restorable backup younger than the tenant's RPO existed. */
export interface RecoveryStaleWindow {
  from: string;
  to: string;
  minutes: number;
  /** The age of the newest restorable snapshot at the window's end (the oldest it got), in minutes. */
  max_age_minutes: number;
}

/** What the backups of one component of one tenant show, for the period. */
export interface RecoveryComponentDoc {
  /** The latest successful backup completed at or before the period's end; absent if never. */
  latest?: RecoveryBackupDoc;
  /** Successful backups completed within the period. */
  backups: number;
  /** Stale windows within the period (only for a component backed up at least once). */
  stale: RecoveryStaleWindow[];
  /** encryption_key_id of the period's successful backups ('' where none was given). */
  keys: string[];
  /** The smallest retention_days of the period's successful backups; absent when there were none. */
  min_retention_days?: number;
  /** location_region of the period's successful backups. */
  regions: string[];
  /** Failed backups within the period, with the minutes to the component's next success (-1: none yet). */
  failures: { time: string; event_id: string; next_success_minutes: number }[];
}

/** A restore or failover test as the recovery policy reads it. */
export interface RecoveryTestDoc {
  time: string;
  outcome: string;
  duration_seconds: number;
  component: string;
  location_region: string;
  /** Days from the test to the period's end. */
  age_days: number;
  event_id: string;
}

/** One tenant's recovery facts: its own and the platform's that cover it. */
export interface RecoveryTenantDoc {
  components: Record<string, RecoveryComponentDoc>;
  /** The latest tenant-scope restore test at or before the period's end; absent if none. */
  restore_test?: RecoveryTestDoc;
  /** Successful failover tests at or before the period's end. */
  failover_tests: number;
  /** The latest failover test at or before the period's end; absent if none. */
  failover_test?: RecoveryTestDoc;
  /** location_region of failover tests within the period (where the DR copy ran). */
  failover_regions: string[];
}

/** Scheduled, and per recovery report: backup and restore facts per tenant over a period. */
export interface RecoveryInput {
  kind: 'recovery';
  now: string;
  from: string;
  to: string;
  tenants: Record<string, RecoveryTenantDoc>;
}

export type StreamedInput = AuditEventPolicyInput | IngestSummaryInput;
export type PolicyInput = StreamedInput | ScheduledInput | RecoveryInput;
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
