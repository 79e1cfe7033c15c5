// Reports as terminal tables, for the CLI.
import type { SloReport } from './slo.js';
import type { NoisyNeighborReport, NoisyWindow } from './noisy.js';
import { COST_COMPONENTS, type CostReport } from './cost.js';
import type { ComponentRecovery, RecoveryReport, TestRecovery } from './recovery.js';
import { textTable } from '../text-table.js';
import type { IncidentsReport, TenantImpact, TenantIncident } from './incidents.js';

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

/** Several tenants' SLO reports, one line each: their worst figures across services. */
export function formatSloSummary(reports: SloReport[]): string {
  const min = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length === 0 ? null : Math.min(...v);
  };
  const rows = [['TENANT', 'STATUS', 'REQUESTS', 'AVAILABILITY', 'OBJECTIVE', 'BUDGET LEFT', 'LATENCY', 'OBJECTIVE', 'BUDGET LEFT', 'WORST SERVICE']];
  for (const r of reports) {
    const s = r.services;
    const worst = [...s].sort((a, b) => (a.availability.error_budget_remaining ?? 1) + (a.latency.error_budget_remaining ?? 1) - ((b.availability.error_budget_remaining ?? 1) + (b.latency.error_budget_remaining ?? 1)))[0];
    rows.push([
      r.tenant,
      r.status,
      String(s.reduce((a, x) => a + x.requests, 0)),
      pct(min(s.map((x) => x.availability.sli))),
      pct(r.objective.availability),
      pct(min(s.map((x) => x.availability.error_budget_remaining))),
      pct(min(s.map((x) => x.latency.sli))),
      `${pct(r.objective.latency_target)} < ${r.objective.latency_threshold_ms} ms`,
      pct(min(s.map((x) => x.latency.error_budget_remaining))),
      worst ? `${worst.service} (${worst.status})` : '-',
    ]);
  }
  const to = reports[0]?.to ?? '';
  return `SLOs at ${to} (worst service of each tenant; windows of ${reports[0]?.objective.window_days ?? '-'} days or the tenant's own)\n${textTable(rows)}`;
}

const share = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);
const hhmm = (iso: string) => iso.slice(11, 16);
const windows = (ws: NoisyWindow[]) => {
  const shown = ws.slice(0, 3).map((w) => `${hhmm(w.from)}-${hhmm(w.to)}`);
  return ws.length > 3 ? `${shown.join(' ')} +${ws.length - 3}` : shown.join(' ') || '-';
};

/** A noisy-neighbour report: offenders by score, then their victims by added latency. */
export function formatNoisy(r: NoisyNeighborReport): string {
  const scope = r.tenant ? ` for ${r.tenant}` : '';
  const lines = [`Noisy neighbours${scope} from ${r.from} to ${r.to} (score >= ${r.thresholds.min_score}; windows in UTC)`];
  if (r.offenders.length === 0) lines.push('no offender above the threshold');
  else {
    const rows = [['OFFENDER', 'RESOURCE', 'SCORE', 'WINDOWS', 'REQUESTS', 'SHARE', 'USUAL', 'LOAD', 'NEIGHBOURS SLOWER']];
    for (const o of r.offenders) {
      rows.push([o.tenant, o.resource, o.score.toFixed(1), windows(o.windows), String(o.requests), share(o.request_share), share(o.baseline_request_share), o.load_factor === null ? '-' : `${o.load_factor}x`, o.neighbour_slowdown === null ? '-' : `${o.neighbour_slowdown}x`]);
    }
    lines.push(textTable(rows));
  }
  if (r.victims.length > 0) {
    const rows = [['VICTIM', 'RESOURCE', 'LATENCY', 'REQUESTS', 'ADDED', 'BY', 'WINDOWS']];
    for (const v of r.victims) {
      rows.push([v.tenant, v.resource, `+${(v.latency_increase * 100).toFixed(0)}%`, String(v.requests), `${(v.added_latency_ms / 1000).toFixed(1)} s`, v.offenders.join(','), windows(v.windows)]);
    }
    lines.push('', textTable(rows));
  }
  return lines.join('\n');
}

/** A cost report: one line per tenant by component, and the total. */
export function formatCost(r: CostReport): string {
  const money = (x: number) => x.toFixed(2);
  const rows = [['TENANT', 'TIER', ...COST_COMPONENTS.map((c) => c.toUpperCase()), 'TOTAL']];
  for (const t of r.tenants) rows.push([t.tenant, t.tier, ...COST_COMPONENTS.map((c) => money(t.by_component[c])), money(t.total)]);
  rows.push(['total', '', ...COST_COMPONENTS.map((c) => money(r.by_component[c])), money(r.total)]);
  return `Cost from ${r.from} to ${r.to} in ${r.currency}\n${textTable(rows)}`;
}

const attained = (x: number) => `${(x * 100).toFixed(2)}%`;
const minute = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;

/** Whether a component's latest backup meets the RPO at the period's end. */
function rpoState(c: ComponentRecovery): string {
  if (!c.latest) return 'never';
  return c.within_rpo ? 'met' : 'exceeded';
}

function testRow(kind: string, t: TestRecovery): string[] {
  return [kind, minute(t.time), t.component, t.scope, t.outcome, String(t.duration_seconds), t.within_rto ? 'yes' : 'no', t.event_id];
}

/** A tenant's recovery report: one line per component, then the tests and the findings. */
export function formatRecovery(r: RecoveryReport): string {
  const o = r.objectives;
  const lines = [
    `Recovery of ${r.tenant} (${r.tier}) from ${r.period.from} to ${r.period.to}: RPO ${o.rpo_minutes} min, RTO ${o.rto_minutes} min, restore test every ${o.restore_test_days} days`,
    `RPO attainment of the required components: ${attained(r.rpo_attainment)}`,
  ];
  const rows = [['COMPONENT', 'REQUIRED', 'LATEST SNAPSHOT', 'AGE MIN', 'RPO', 'ATTAINMENT', 'STALE MIN']];
  for (const c of r.components) {
    rows.push([c.component, c.required ? 'yes' : 'no', c.latest ? `${minute(c.latest.snapshot)} (${c.latest.scope})` : '-', c.latest ? String(c.latest.age_minutes) : '-', rpoState(c), attained(c.rpo_attainment), String(c.stale_minutes)]);
  }
  lines.push(textTable(rows), '');
  const tests = [...r.restore_tests.map((t) => testRow('restore', t)), ...r.failover_tests.map((t) => testRow('failover', t))];
  lines.push(tests.length === 0 ? 'no restore or failover test in the period' : textTable([['TEST', 'TIME', 'COMPONENT', 'SCOPE', 'OUTCOME', 'DURATION S', 'WITHIN RTO', 'EVENT'], ...tests]));
  const last = r.last_restore_test;
  lines.push(last ? `last restore test ${minute(last.time)} (${last.event_id}), next due by ${minute(last.due_by)}` : 'no restore test on record', '');
  lines.push(r.findings.length === 0 ? 'no findings' : textTable([['SEVERITY', 'RULE', 'SUBJECT', 'MESSAGE'], ...r.findings.map((f) => [f.severity, f.rule, f.subject, f.message])]));
  lines.push(`status: ${r.status}`);
  return lines.join('\n');
}

/** Every tenant's recovery report, one line each. */
export function formatRecoverySummary(p: { period: { from: string; to: string }; tenants: RecoveryReport[] }): string {
  const rows = [['TENANT', 'TIER', 'RPO MIN', 'RTO MIN', 'ATTAINMENT', 'OVER RPO', 'LAST RESTORE TEST', 'FINDINGS', 'STATUS']];
  for (const r of p.tenants) {
    const over = r.components.filter((c) => c.required && !c.within_rpo).map((c) => c.component);
    rows.push([r.tenant, r.tier, String(r.objectives.rpo_minutes), String(r.objectives.rto_minutes), attained(r.rpo_attainment), over.join(',') || '-', r.last_restore_test ? minute(r.last_restore_test.time) : 'never', String(r.findings.length), r.status]);
  }
  return `Recovery from ${p.period.from} to ${p.period.to}\n${textTable(rows)}`;
}

/** Recovery reports as CSV: one row per tenant and component. */
export function recoveryCsv(reports: RecoveryReport[]): string {
  const lines = [['tenant', 'component', 'required', 'latest_snapshot', 'age_minutes', 'within_rpo', 'rpo_minutes', 'rpo_attainment', 'stale_minutes', 'stale_windows', 'backups', 'failed_backups'].join(',')];
  for (const r of reports) {
    for (const c of r.components) {
      lines.push([r.tenant, c.component, c.required, c.latest?.snapshot ?? '', c.latest?.age_minutes ?? '', c.within_rpo, r.objectives.rpo_minutes, c.rpo_attainment, c.stale_minutes, c.stale_windows.length, c.backups, c.failed_backups].join(','));
    }
  }
  return lines.join('\n');
}

const impactRow = (id: string, scope: string, t: TenantImpact): string[] => [
  id,
  scope,
  t.tenant,
  `${minute(t.impact.from)} - ${minute(t.impact.to).slice(11)}`,
  String(t.impact.minutes),
  String(t.requests),
  String(t.failures),
  t.error_budget_consumed.toFixed(2),
  t.sla.month_availability === null ? '-' : `${(t.sla.month_availability * 100).toFixed(4)}%`,
  `${t.sla.credit_percent}%`,
  `${t.sla.exposure.toFixed(2)} ${t.sla.currency}`,
];
const IMPACT_HEAD = ['INCIDENT', 'SCOPE', 'TENANT', 'IMPACT (UTC)', 'MIN', 'REQUESTS', 'FAILURES', 'BUDGETS', 'MONTH AVAIL.', 'CREDIT', 'EXPOSURE'];

/** `report incidents`: one line per incident and affected tenant, then why each scope. */
export function formatIncidents(r: IncidentsReport): string {
  if (r.incidents.length === 0) return `no incidents from ${r.from} to ${r.to} (${r.active_tenants} tenants with traffic)`;
  const rows = [IMPACT_HEAD];
  for (const i of r.incidents) for (const t of i.tenants) rows.push(impactRow(i.id, i.scope, t));
  const why = r.incidents.map((i) => `${i.id} ${i.scope}${i.open ? ' (open)' : ''}: ${i.reason}${i.noisy_neighbour ? `; offender ${i.noisy_neighbour.offender} on ${i.noisy_neighbour.resource}` : ''}`);
  return `Incidents from ${r.from} to ${r.to} (${r.active_tenants} tenants with traffic)\n${textTable(rows)}\n\n${why.join('\n')}`;
}

/** `report incidents --tenant`: the tenant's own impact, the others counted. */
export function formatTenantIncidents(r: { tenant: string; from: string; to: string; incidents: TenantIncident[] }): string {
  if (r.incidents.length === 0) return `no incidents hit ${r.tenant} from ${r.from} to ${r.to}`;
  const rows = [[...IMPACT_HEAD, 'OTHERS HIT']];
  for (const i of r.incidents) rows.push([...impactRow(i.id, i.scope, i.impact), String(i.other_tenants_affected)]);
  return `Incidents of ${r.tenant} from ${r.from} to ${r.to}\n${textTable(rows)}`;
}

/** CSV: one row per incident and affected tenant. */
export function incidentsCsv(rows: { id: string; scope: string; from: string; to: string; impact: TenantImpact }[]): string {
  const out = [['incident', 'scope', 'incident_from', 'incident_to', 'tenant', 'impact_from', 'impact_to', 'impact_minutes', 'requests', 'failures', 'error_budget_consumed', 'month', 'month_availability', 'credit_percent', 'credit', 'exposure', 'currency'].join(',')];
  for (const { id, scope, from, to, impact: t } of rows) {
    out.push([id, scope, from, to, t.tenant, t.impact.from, t.impact.to, t.impact.minutes, t.requests, t.failures, t.error_budget_consumed, t.sla.month, t.sla.month_availability ?? '', t.sla.credit_percent, t.sla.credit.toFixed(2), t.sla.exposure.toFixed(2), t.sla.currency].join(','));
  }
  return out.join('\n');
}
