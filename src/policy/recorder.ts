// Turns what policies answered into stored violations: findings as they are, and every
// failure (an entry point that errored, timed out, or answered something malformed) as a
// `tenantscope/policy_error` finding of its own, so a broken policy shows up as evidence.
import type { ColumnChunk } from '../store/native.js';
import type { Registry } from '../config/index.js';
import type { Logger } from '../log.js';
import { resolutionRows, violationRows, type FindingRecord } from './violations.js';
import type { Finding, FindingSource, InputKind, Violation } from './types.js';

/** Stores `violations` rows (a chunk of a Native block) and resolves once they are durable. */
export type ViolationSink = (rows: ColumnChunk) => Promise<void>;

/** Platform findings (tenant '') are kept this long. */
const PLATFORM_RETENTION_DAYS = 400;

/** A policy failure, with what it was evaluating. */
export interface FailureContext {
  /** Package path of the entry point, or 'tenantscope' for the evaluator itself. */
  pkg: string;
  /** The tenant whose input it was; '' for scheduled runs. */
  tenant: string;
  kind: InputKind;
  message: string;
  /** Ids that locate the input (event ids, request ids). */
  evidence: Record<string, unknown>;
}

/** The finding that records a policy failure. */
export function failureFinding(f: FailureContext): Finding {
  return {
    policy: 'tenantscope',
    rule: 'policy_error',
    severity: 'high',
    tenant: f.tenant,
    subject: f.pkg,
    message: `policy ${f.pkg} failed on a ${f.kind} input: ${f.message}`.slice(0, 2000),
    evidence: { package: f.pkg, input_kind: f.kind, error: f.message.slice(0, 2000), ...f.evidence },
  };
}

export class FindingRecorder {
  constructor(
    private readonly registry: Registry,
    private readonly sink: ViolationSink,
    private readonly log: Logger,
  ) {}

  /** Store findings (and failures, as findings); resolves once stored. */
  record(findings: readonly Finding[], failures: readonly FailureContext[], source: FindingSource, atMs = Date.now()): Promise<void> {
    const all: Finding[] = [];
    for (const f of findings) {
      // A finding may only name a registered tenant (or the platform): anything else is the
      // policy's mistake, recorded as such rather than stored under a made-up tenant.
      if (f.tenant !== '' && this.registry.tenant(f.tenant) === undefined) {
        all.push(failureFinding({ pkg: `${f.policy}`, tenant: '', kind: source === 'scheduled' ? 'scheduled' : 'ingest_summary', message: `finding ${f.rule} names unknown tenant ${JSON.stringify(f.tenant.slice(0, 64))}`, evidence: {} }));
        continue;
      }
      all.push(f);
    }
    for (const x of failures) {
      this.log.error({ tenant: x.tenant, policy: x.pkg, kind: x.kind, err: x.message }, 'policy evaluation failed');
      all.push(failureFinding(x));
    }
    if (all.length === 0) return Promise.resolve();
    const records: FindingRecord[] = all.map((finding) => ({
      finding,
      source,
      atMs,
      retentionDays: this.registry.tenant(finding.tenant)?.retentionDays.audit_events ?? PLATFORM_RETENTION_DAYS,
    }));
    return this.sink(violationRows(records));
  }

  /** Mark stored violations resolved at `atMs`; resolves once stored. */
  resolve(violations: readonly Violation[], atMs = Date.now()): Promise<void> {
    if (violations.length === 0) return Promise.resolve();
    return this.sink(resolutionRows(violations, atMs, (t) => this.retentionDays(t)));
  }

  /** How long violations of a tenant are kept. */
  retentionDays(tenant: string): number {
    return this.registry.tenant(tenant)?.retentionDays.audit_events ?? PLATFORM_RETENTION_DAYS;
  }
}
