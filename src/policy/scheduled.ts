// Scheduled policies (retention, tier controls): their input is built from ClickHouse (the
// oldest stored row and row count per tenant and data class; encryption keys and credential
// ids seen in audit events per tenant) and evaluated with the registry. A run records what it
// finds and resolves the scheduled violations it no longer finds, unless a policy failed: a
// failed run proves nothing about what is gone.
import type { Registry } from '../config/index.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/types.js';
import { PolicyEvaluator } from './evaluator.js';
import type { PolicySet } from './policy-set.js';
import type { FailureContext, FindingRecorder } from './recorder.js';
import { registryDocument } from './registry-data.js';
import type { Finding, RecoveryInput, ScheduledInput, Violation } from './types.js';
import { recoveryInput } from '../reports/recovery.js';
import { tsError } from '../errors.js';

/** The period a scheduled run judges recovery over: the last day. */
export const RECOVERY_LOOKBACK_MS = 86_400_000;
import { listViolations, violationKey } from './violations.js';

/** Each data class, its table, and the column retention counts from. */
const STORED_CLASSES = [
  { cls: 'spans', table: 'spans', column: 'ingested_at' },
  { cls: 'logs', table: 'logs', column: 'ingested_at' },
  { cls: 'metric_points', table: 'metric_points', column: 'ingested_at' },
  { cls: 'audit_events', table: 'audit_events', column: 'received_at' },
] as const;

/** Audit event attributes that name a key or credential. */
const KEY_ATTRIBUTES = ['key_id', 'credential_id'] as const;

/** The oldest stored row and row count per tenant and data class (one tenant's, when given). */
export async function storedExtent(store: Store, tenantId?: string): Promise<ScheduledInput['stored']> {
  const stored: ScheduledInput['stored'] = {};
  const where = tenantId === undefined ? '' : 'WHERE tenant_id = {tenant:String}';
  for (const { cls, table, column } of STORED_CLASSES) {
    // Table and column names come from the constant above, never from input.
    const rows = await store.query<{ tenant_id: string; oldest: string; n: string }>(
      `SELECT tenant_id, toUnixTimestamp64Milli(min(${column})) AS oldest, count() AS n FROM ${table} ${where} GROUP BY tenant_id`,
      tenantId === undefined ? undefined : { tenant: tenantId },
    );
    for (const r of rows) (stored[r.tenant_id] ??= {})[cls] = { oldest: new Date(Number(r.oldest)).toISOString(), rows: Number(r.n) };
  }
  return stored;
}

/** Build the scheduled input from what is stored now. */
export async function scheduledInput(store: Store, nowMs: number): Promise<ScheduledInput> {
  const stored = await storedExtent(store);
  const keys = await store.query<{ key: string; tenants: string[] }>(
    `SELECT k AS key, arraySort(groupUniqArray(tenant_id)) AS tenants
     FROM audit_events ARRAY JOIN [${KEY_ATTRIBUTES.map((a) => `attributes['${a}']`).join(', ')}] AS k
     WHERE k != '' GROUP BY k ORDER BY k LIMIT 100000`,
  );
  const key_usage: ScheduledInput['key_usage'] = {};
  for (const r of keys) key_usage[r.key] = r.tenants;
  return { kind: 'scheduled', now: new Date(nowMs).toISOString(), stored, key_usage };
}

/** What one scheduled run found and closed. */
export interface ScheduledRun {
  at: string;
  policyVersion: string;
  findings: Finding[];
  failures: FailureContext[];
  resolved: Violation[];
  ms: number;
}

export class ScheduledPolicies {
  private evaluator: { version: string; ev: PolicyEvaluator } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ScheduledRun | undefined> | undefined;
  /** The last run, for the status endpoint. */
  last: ScheduledRun | undefined;

  constructor(
    private readonly store: Store,
    private readonly registry: Registry,
    private readonly recorder: FindingRecorder,
    private readonly log: Logger,
    /** Told each run's time, ms. */
    private readonly onRun?: (ms: number) => void,
  ) {}

  /** Evaluate once; with `record`, store findings and resolve what is gone. */
  async run(set: PolicySet, opts: { nowMs?: number; record?: boolean } = {}): Promise<ScheduledRun> {
    const started = performance.now();
    const nowMs = opts.nowMs ?? Date.now();
    const ev = this.evaluatorFor(set);
    const input = await scheduledInput(this.store, nowMs);
    const nowNs = BigInt(nowMs) * 1_000_000n;
    const { findings, failures: raw } = ev.evaluate(input, nowNs);
    const failures: FailureContext[] = raw.map((f) => ({ pkg: f.pkg, tenant: '', kind: 'scheduled', message: f.message, evidence: { run_at: input.now } }));
    // Recovery objectives, judged over the last day of backup and restore facts.
    const recovery = (await recoveryInput(this.store, this.registry.tenants(), nowMs - RECOVERY_LOOKBACK_MS, nowMs, nowMs)).input;
    const judged = ev.evaluate(recovery, nowNs);
    findings.push(...judged.findings);
    for (const f of judged.failures) failures.push({ pkg: f.pkg, tenant: '', kind: 'recovery', message: f.message, evidence: { run_at: input.now, from: recovery.from } });
    let resolved: Violation[] = [];
    if (opts.record !== false) {
      await this.recorder.record(findings, failures, 'scheduled', nowMs);
      if (failures.length === 0) {
        const found = new Set(findings.map(violationKey));
        const open = await listViolations(this.store, { status: 'open', source: 'scheduled', limit: 100_000 });
        resolved = open.filter((v) => !found.has(violationKey(v)) && Date.parse(v.last_seen) < nowMs);
        await this.recorder.resolve(resolved, nowMs);
      }
    }
    const run: ScheduledRun = { at: input.now, policyVersion: set.version, findings, failures, resolved, ms: performance.now() - started };
    if (opts.record !== false) this.last = run;
    this.onRun?.(run.ms);
    return run;
  }

  /** The evaluator of a policy set, made once per version. */
  evaluatorFor(set: PolicySet): PolicyEvaluator {
    if (this.evaluator?.version !== set.version) this.evaluator = { version: set.version, ev: new PolicyEvaluator(set, registryDocument(this.registry)) };
    return this.evaluator.ev;
  }

  /** What the recovery policies find in an input; a policy that fails is an error, not silence. */
  judgeRecovery(set: PolicySet, input: RecoveryInput): Finding[] {
    return judgeWith(this.evaluatorFor(set), input);
  }

  /** Run now and then every `intervalMs` with whatever set `current()` returns. */
  start(intervalMs: number, current: () => PolicySet | undefined): void {
    const tick = () => {
      const set = current();
      if (!set || this.running) return;
      this.running = this.run(set).then(
        (r) => {
          this.log.info({ findings: r.findings.length, failures: r.failures.length, resolved: r.resolved.length, ms: Math.round(r.ms), policies: r.policyVersion }, 'scheduled policies ran');
          return r;
        },
        (e: unknown) => {
          this.log.error({ err: (e as Error).message }, 'scheduled policy run failed');
          return undefined;
        },
      );
      void this.running.finally(() => (this.running = undefined));
    };
    tick();
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
  }

  /** Stop the interval and wait for a run in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}

/** Evaluate a recovery input; throws when a policy failed on it (a report must not read as clean then). */
export function judgeWith(ev: PolicyEvaluator, input: RecoveryInput): Finding[] {
  const { findings, failures } = ev.evaluate(input, BigInt(Date.parse(input.now)) * 1_000_000n);
  if (failures.length > 0) throw tsError('TS_ERR_POLICY_FAILED', [failures[0]!.pkg, 'recovery', failures[0]!.message]);
  return findings;
}
