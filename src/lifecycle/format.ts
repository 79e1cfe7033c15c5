// The restore report as a terminal table.
import { textTable } from '../text-table.js';
import type { RestoreReport } from './restore.js';

/** A restore or drill report for people: a line of outcome, then one row per table. */
export function formatRestore(r: RestoreReport): string {
  const head = `${r.mode === 'drill' ? 'restore drill' : 'restore'} of ${r.tenant}: ${r.outcome} in ${r.duration_seconds.toFixed(1)} s; ${r.verified_records} record(s) match the manifest (exported ${r.exported_at}); other tenants ${r.others_unchanged ? 'unchanged' : 'CHANGED'}${r.audit_chain ? `; audit chain ${r.audit_chain}` : ''}`;
  const rows = r.tables.map((t) => [t.table, String(t.bundle_rows), String(t.rows_before), String(t.rows_after), t.matches ? 'yes' : 'NO']);
  return `${head}\n${textTable([['table', 'in bundle', 'before', 'after', 'matches'], ...rows])}`;
}
