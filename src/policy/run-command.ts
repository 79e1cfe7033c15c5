// `tenantscope policy run` and `tenantscope violations`: the scheduled policies once, and
// violations as a terminal table.
import type { Registry } from '../config/index.js';
import type { Store } from '../store/types.js';
import { insertChunk } from '../store/index.js';
import type { ColumnChunk } from '../store/native.js';
import { rootLogger } from '../log.js';
import { textTable } from '../text-table.js';
import { loadPolicySet } from './policy-set.js';
import { FindingRecorder } from './recorder.js';
import { ScheduledPolicies, type ScheduledRun } from './scheduled.js';
import type { Finding, Violation } from './types.js';

/** Load the policies in `dir` and run the scheduled ones against the store. */
export async function runScheduledOnce(store: Store, registry: Registry, dir: string, record: boolean): Promise<ScheduledRun> {
  const set = loadPolicySet(dir);
  const sink = async (rows: ColumnChunk) => {
    await insertChunk(store, rows);
  };
  const recorder = new FindingRecorder(registry, sink, rootLogger.child({ stage: 'policy' }));
  return new ScheduledPolicies(store, registry, recorder, rootLogger.child({ stage: 'policy' })).run(set, { record });
}

/** Subjects can be long (key ids, event ids): columns are cut here, the message never. */
const MAX_COLUMN = 60;

const SEVERITY_ORDER = ['critical', 'high', 'medium', 'low', 'info'];


function bySeverity<T extends { severity: string; tenant: string }>(a: T, b: T): number {
  return SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) || a.tenant.localeCompare(b.tenant);
}

/** A scheduled run as a table of findings plus a summary line. */
export function formatRun(run: ScheduledRun): string {
  const lines: string[] = [];
  const findings: Finding[] = [...run.findings].sort(bySeverity);
  if (findings.length > 0) {
    lines.push(textTable([['SEVERITY', 'TENANT', 'POLICY/RULE', 'SUBJECT', 'MESSAGE'], ...findings.map((f) => [f.severity, f.tenant || '(platform)', `${f.policy}/${f.rule}`, f.subject, f.message])], MAX_COLUMN));
  }
  for (const f of run.failures) lines.push(`ERROR ${f.pkg}: ${f.message}`);
  for (const v of run.resolved) lines.push(`resolved: ${v.tenant} ${v.policy}/${v.rule} ${v.subject}`);
  lines.push(`${run.findings.length} findings, ${run.failures.length} policy errors, ${run.resolved.length} resolved (policies ${run.policyVersion}, ${run.ms.toFixed(0)} ms)`);
  return lines.join('\n');
}

/** Violations as a table. */
export function formatViolations(vs: readonly Violation[]): string {
  if (vs.length === 0) return 'no violations';
  const rows = [...vs].sort(bySeverity).map((v) => [v.severity, v.status, v.tenant || '(platform)', `${v.policy}/${v.rule}`, v.subject, String(v.count), v.last_seen, v.message]);
  return `${textTable([['SEVERITY', 'STATUS', 'TENANT', 'POLICY/RULE', 'SUBJECT', 'COUNT', 'LAST SEEN', 'MESSAGE'], ...rows], MAX_COLUMN)}\n${vs.length} violations`;
}

