// Reports as terminal tables, for the CLI.
import type { SloReport } from './slo.js';
import { textTable } from '../text-table.js';


const pct = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(3)}%`);
const burn = (x: number) => (x === 0 ? '0' : x.toFixed(2));

/** An SLO report: one line per service and SLI. */
export function formatSlo(r: SloReport): string {
  const head = `SLO of ${r.tenant} from ${r.from} to ${r.to}: availability ${pct(r.objective.availability)}, latency ${pct(r.objective.latency_target)} under ${r.objective.latency_threshold_ms} ms`;
  if (r.services.length === 0) return `${head}\nno server spans in the window`;
  const rows = [['SERVICE', 'SLI', 'REQUESTS', 'VALUE', 'OBJECTIVE', 'BUDGET LEFT', 'BURN 1h/5m', '6h/30m', '1d/2h', '3d/6h', 'STATUS']];
  for (const s of r.services) {
    for (const [name, x] of [['availability', s.availability], ['latency', s.latency]] as const) {
      const b = x.burn_rates;
      rows.push([s.service, name, String(x.total), pct(x.sli), pct(x.objective), pct(x.error_budget_remaining), `${burn(b['1h'])}/${burn(b['5m'])}`, `${burn(b['6h'])}/${burn(b['30m'])}`, `${burn(b['1d'])}/${burn(b['2h'])}`, `${burn(b['3d'])}/${burn(b['6h'])}`, x.status]);
    }
  }
  return `${head}\n${textTable(rows)}\nstatus: ${r.status}`;
}
