// Violations in ClickHouse: findings become rows of the `violations` table (see migration
// 0003 for why each occurrence is its own row), and reads fold them per key.
import type { Params, Store } from '../store/types.js';
import type { Finding, FindingSource, Severity, Violation } from './types.js';
import { chunkOf, type ColumnChunk } from '../store/native.js';
import { VIOLATIONS } from '../store/schemas.js';

/** Evidence larger than this is replaced by a note saying so: a finding must stay readable. */
const MAX_EVIDENCE_CHARS = 65_536;

/** A finding to store, with when and how long to keep it. */
export interface FindingRecord {
  finding: Finding;
  source: FindingSource;
  atMs: number;
  retentionDays: number;
}

/** Findings as a chunk of `violations` rows: one occurrence each. */
export function violationRows(records: readonly FindingRecord[]): ColumnChunk {
  const rows: Record<string, unknown>[] = [];
  for (const { finding: f, source, atMs, retentionDays } of records) {
    let evidence = JSON.stringify(f.evidence ?? {});
    if (evidence.length > MAX_EVIDENCE_CHARS) evidence = JSON.stringify({ truncated: true, chars: evidence.length });
    const at = Math.round(atMs);
    rows.push({
      tenant_id: f.tenant,
      policy: f.policy,
      rule: f.rule,
      subject: f.subject,
      source,
      severity: f.severity,
      message: f.message.slice(0, 4000),
      evidence,
      first_seen: at,
      last_seen: at,
      count: 1,
      resolved_at: 0,
      retention_days: retentionDays,
    });
  }
  return chunkOf(VIOLATIONS, rows);
}

/** Rows that mark stored violations resolved at `atMs` (their other values unchanged). */
export function resolutionRows(violations: readonly Violation[], atMs: number, retentionDays: (tenant: string) => number): ColumnChunk {
  const rows: Record<string, unknown>[] = [];
  for (const v of violations) {
    rows.push({
      tenant_id: v.tenant,
      policy: v.policy,
      rule: v.rule,
      subject: v.subject,
      source: v.source,
      severity: v.severity,
      message: v.message,
      evidence: JSON.stringify(v.evidence),
      first_seen: Date.parse(v.first_seen),
      last_seen: Date.parse(v.last_seen),
      count: 0,
      resolved_at: Math.round(atMs),
      retention_days: retentionDays(v.tenant),
    });
  }
  return chunkOf(VIOLATIONS, rows);
}

/** Which violations to list. */
export interface ViolationQuery {
  /** One tenant; undefined lists every tenant (and platform findings, tenant ''). */
  tenant?: string;
  status?: 'open' | 'resolved' | 'all';
  source?: FindingSource;
  /** Only violations seen at or after this time (last_seen). */
  fromMs?: number;
  /** Only violations first seen before this time. */
  toMs?: number;
  limit?: number;
}

interface Row {
  tenant_id: string;
  policy: string;
  rule: string;
  subject: string;
  source: string;
  severity: string;
  message: string;
  evidence: string;
  first_ms: string;
  last_ms: string;
  n: string;
  resolved_ms: string;
}

/** Violations folded per key, most recently seen first. */
export async function listViolations(store: Store, q: ViolationQuery = {}): Promise<Violation[]> {
  const where: string[] = [];
  const having: string[] = [];
  const params: Params = { limit: Math.min(Math.max(q.limit ?? 1000, 1), 100_000) };
  if (q.tenant !== undefined) {
    where.push('tenant_id = {tenant:String}');
    params.tenant = q.tenant;
  }
  if (q.status === 'open') having.push('resolved_ms <= last_ms');
  if (q.status === 'resolved') having.push('resolved_ms > last_ms');
  if (q.source !== undefined) {
    having.push('source = {source:String}');
    params.source = q.source;
  }
  if (q.fromMs !== undefined) {
    having.push('last_ms >= {from:Int64}');
    params.from = Math.round(q.fromMs);
  }
  if (q.toMs !== undefined) {
    having.push('first_ms < {to:Int64}');
    params.to = Math.round(q.toMs);
  }
  // argMax by last_seen: the values of the latest occurrence (resolution rows repeat them).
  const rows = await store.query<Row>(
    `SELECT tenant_id, policy, rule, subject,
            argMax(source, last_seen) AS source, argMax(severity, last_seen) AS severity,
            argMax(message, last_seen) AS message, argMax(evidence, last_seen) AS evidence,
            toUnixTimestamp64Milli(min(first_seen)) AS first_ms, toUnixTimestamp64Milli(max(last_seen)) AS last_ms,
            sum(count) AS n, toUnixTimestamp64Milli(max(resolved_at)) AS resolved_ms
     FROM violations
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     GROUP BY tenant_id, policy, rule, subject
     ${having.length ? `HAVING ${having.join(' AND ')}` : ''}
     ORDER BY last_ms DESC, tenant_id, policy, rule, subject
     LIMIT {limit:UInt32}`,
    params,
  );
  return rows.map(toViolation);
}

function toViolation(r: Row): Violation {
  const last = Number(r.last_ms);
  const resolved = Number(r.resolved_ms);
  let evidence: unknown;
  try {
    evidence = JSON.parse(r.evidence);
  } catch {
    evidence = r.evidence;
  }
  return {
    tenant: r.tenant_id,
    policy: r.policy,
    rule: r.rule,
    subject: r.subject,
    severity: r.severity as Severity,
    status: resolved > last ? 'resolved' : 'open',
    source: r.source as FindingSource,
    message: r.message,
    evidence,
    first_seen: new Date(Number(r.first_ms)).toISOString(),
    last_seen: new Date(last).toISOString(),
    count: Number(r.n),
    resolved_at: resolved > 0 ? new Date(resolved).toISOString() : '',
  };
}

/** The key a violation is stored under. */
export function violationKey(v: { tenant: string; policy: string; rule: string; subject: string }): string {
  return `${v.tenant}\u0000${v.policy}\u0000${v.rule}\u0000${v.subject}`;
}
