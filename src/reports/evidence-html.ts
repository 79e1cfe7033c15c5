// The evidence report as one self-contained, printable HTML page: a table for every section,
// charts rendered here to inline SVG (echarts server-side rendering), inline CSS, nothing
// fetched from anywhere, and the signed JSON embedded so the page carries its own proof.
//
// The page is a pure function of the signed document: the same document renders to the same
// bytes (chart element ids, which echarts numbers per process, are renamed per chart), so a
// verifier can re-render the page from its embedded JSON and compare the whole file.
import type { EChartsOption } from 'echarts';
import { SEVERITIES } from '../policy/types.js';
import type { SignedEvidence } from './evidence-sign.js';
import type { ControlStatus, EvidenceReport } from './evidence.js';
import { COST_COMPONENTS } from './cost.js';
import type { SliReport } from './slo.js';
import type { NoisyWindow } from './noisy.js';
import { MAX_PERIOD_DAYS } from './incidents.js';

/** The opening tag of the embedded signed JSON. */
export const EMBED_OPEN = '<script type="application/json" id="evidence">';
const EMBED_CLOSE = '</script>';

const CHART_WIDTH = 760;
const CHART_HEIGHT = 300;

type Echarts = typeof import('echarts');
let echartsModule: Promise<Echarts> | undefined;

/** Render the page of a signed evidence document. */
export async function renderEvidenceHtml(doc: SignedEvidence): Promise<string> {
  const echarts = await (echartsModule ??= import('echarts'));
  const r = doc.report;
  const charts = new ChartSet(echarts);
  const title = `Evidence report: ${r.tenant.name} (${r.tenant.id})`;
  const body = [
    header(doc),
    summary(r),
    section('profile', 'Tenant profile', profile(r)),
    section('controls', 'Controls', controls(r)),
    section('policy', 'Policy results', policy(r, charts)),
    section('redactions', 'Redactions', redactions(r)),
    section('audit-chain', 'Audit chain', auditChain(r)),
    section('checkpoint', 'Latest checkpoint', checkpoint(r)),
    section('retention', 'Retention', retention(r)),
    section('access-review', 'Access review', accessReview(r)),
    section('slo', 'SLO attainment and error budget', slo(r, charts)),
    section('noisy', 'Noisy-neighbour incidents', noisy(r)),
    section('cost', 'Cost', cost(r, charts)),
    section('recoverability', 'Recoverability', recoverability(r, charts)),
    section('incidents', 'Incidents', incidents(r)),
    section('signature', 'Signature and verification', signatureSection(doc)),
  ].join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>${esc(title)}</h1>
${body}
</main>
${EMBED_OPEN}${embedJson(doc)}${EMBED_CLOSE}
</body>
</html>
`;
}

/** The signed document's JSON as embedded: `<`, `>`, `&` and line separators escaped, so no text in it can close the script element. */
export function embedJson(doc: unknown): string {
  return JSON.stringify(doc).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The embedded JSON text of a page; undefined without exactly one evidence block. */
export function embeddedEvidence(html: string): string | undefined {
  const start = html.indexOf(EMBED_OPEN);
  if (start < 0 || html.indexOf(EMBED_OPEN, start + 1) >= 0) return undefined;
  const from = start + EMBED_OPEN.length;
  const end = html.indexOf(EMBED_CLOSE, from);
  return end < 0 ? undefined : html.slice(from, end);
}

// ---- charts ----

/** Renders charts to SVG, numbering their element ids by position in the page. */
class ChartSet {
  private n = 0;
  constructor(private readonly echarts: Echarts) {}

  svg(label: string, option: EChartsOption): string {
    const chart = this.echarts.init(null, null, { renderer: 'svg', ssr: true, width: CHART_WIDTH, height: CHART_HEIGHT });
    let svg: string;
    try {
      chart.setOption({ animation: false, textStyle: { fontFamily: 'sans-serif' }, ...option });
      svg = chart.renderToSVGString();
    } finally {
      // An undisposed chart keeps timers alive and the process from exiting.
      chart.dispose();
    }
    return `<figure class="chart" aria-label="${esc(label)}">${this.renumber(svg)}<figcaption>${esc(label)}</figcaption></figure>`;
  }

  /** echarts names ids and style classes from process-wide counters (zr3-c0, zr3-cls-47): renumber them per chart. */
  private renumber(svg: string): string {
    const prefix = `chart${++this.n}-`;
    const names = new Map<string, string>();
    const counts = new Map<string, number>();
    return svg.replace(/\bzr\d+-([a-z]+-?)(\d+)\b/g, (name, kind: string) => {
      let renamed = names.get(name);
      if (renamed === undefined) {
        const n = counts.get(kind) ?? 0;
        counts.set(kind, n + 1);
        renamed = `${prefix}${kind}${n}`;
        names.set(name, renamed);
      }
      return renamed;
    });
  }
}

const percentAxis = (min: number): EChartsOption['yAxis'] => ({ type: 'value', min, max: 100, axisLabel: { formatter: '{value}%' } });

function attainmentChart(r: EvidenceReport, charts: ChartSet): string {
  const s = r.slo.services;
  const values = s.flatMap((x) => [x.availability.sli, x.latency.sli]).filter((v): v is number => v !== null);
  const floor = Math.max(0, Math.floor(Math.min(r.slo.objective.availability, r.slo.objective.latency_target, ...values) * 100 - 1));
  const bar = (name: string, pick: (x: (typeof s)[number]) => SliReport, objective: number) => ({
    name,
    type: 'bar' as const,
    data: s.map((x) => (pick(x).sli === null ? null : round(pick(x).sli! * 100, 4))),
    markLine: { symbol: 'none', label: { position: 'insideEndTop' as const, formatter: `${name} objective ${pct(objective)}` }, data: [{ yAxis: round(objective * 100, 4) }] },
  });
  return charts.svg('SLO attainment per service over the period (bars) against the objectives (lines)', {
    title: s.length === 0 ? { text: 'No server spans in the period', left: 'center', top: 'middle', textStyle: { fontSize: 14 } } : undefined,
    legend: { top: 0 },
    grid: { left: 60, right: 20, top: 40, bottom: 40 },
    xAxis: { type: 'category', data: s.map((x) => x.service), axisLabel: { interval: 0 } },
    yAxis: percentAxis(floor),
    series: [bar('availability', (x) => x.availability, r.slo.objective.availability), bar('latency', (x) => x.latency, r.slo.objective.latency_target)],
  });
}

function budgetChart(r: EvidenceReport, charts: ChartSet): string {
  const days = r.series.error_budget;
  const services = [...new Set(days.flatMap((d) => d.services.map((s) => s.service)))].sort();
  const line = (service: string, sli: 'availability' | 'latency') => ({
    name: `${service} ${sli}`,
    type: 'line' as const,
    connectNulls: false,
    lineStyle: { type: sli === 'latency' ? ('dashed' as const) : ('solid' as const) },
    data: days.map((d) => {
      const v = d.services.find((s) => s.service === service)?.[`${sli}_budget_remaining`];
      return v === null || v === undefined ? null : round(v * 100, 3);
    }),
  });
  return charts.svg('Error budget left, counted from the start of the period, at the end of each day (availability solid, latency dashed)', {
    title: services.length === 0 ? { text: 'No server spans in the period', left: 'center', top: 'middle', textStyle: { fontSize: 14 } } : undefined,
    legend: { top: 0, type: 'plain' },
    grid: { left: 60, right: 20, top: services.length > 3 ? 70 : 40, bottom: 40 },
    xAxis: { type: 'category', data: days.map((d) => d.day) },
    yAxis: { type: 'value', scale: true, axisLabel: { formatter: '{value}%' } },
    series: services.flatMap((s) => [line(s, 'availability'), line(s, 'latency')]),
  });
}

function costChart(r: EvidenceReport, charts: ChartSet): string {
  const days = r.series.cost;
  return charts.svg(`Cost per day by component (${r.cost.currency})`, {
    legend: { top: 0 },
    grid: { left: 60, right: 20, top: 40, bottom: 40 },
    xAxis: { type: 'category', data: days.map((d) => d.day) },
    yAxis: { type: 'value' },
    series: COST_COMPONENTS.map((c) => ({ name: c, type: 'bar' as const, stack: 'cost', data: days.map((d) => d.by_component[c]) })),
  });
}

function recoveryChart(r: EvidenceReport, charts: ChartSet): string {
  const c = r.recoverability.components;
  return charts.svg('RPO attainment per component: share of the period with a restorable backup younger than the RPO', {
    title: c.length === 0 ? { text: 'No component to recover', left: 'center', top: 'middle', textStyle: { fontSize: 14 } } : undefined,
    grid: { left: 60, right: 20, top: 30, bottom: 40 },
    xAxis: { type: 'category', data: c.map((x) => (x.required ? x.component : `${x.component} (not required)`)), axisLabel: { interval: 0 } },
    yAxis: percentAxis(0),
    series: [{ name: 'RPO attainment', type: 'bar', data: c.map((x) => round(x.rpo_attainment * 100, 2)), label: { show: true, position: 'top', formatter: '{c}%' } }],
  });
}

function violationsChart(r: EvidenceReport, charts: ChartSet): string {
  const days = r.series.violations;
  return charts.svg('Violations per day: opened and resolved that day (bars), open at some time that day (line)', {
    legend: { top: 0 },
    grid: { left: 60, right: 20, top: 40, bottom: 40 },
    xAxis: { type: 'category', data: days.map((d) => d.day) },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      { name: 'opened', type: 'bar', data: days.map((d) => d.opened) },
      { name: 'resolved', type: 'bar', data: days.map((d) => d.resolved) },
      { name: 'active', type: 'line', data: days.map((d) => d.active) },
    ],
  });
}

// ---- sections ----

function header(doc: SignedEvidence): string {
  const r = doc.report;
  return dl([
    ['Period', `${when(r.period.from)} to ${when(r.period.to)} (${r.period.days} days)`],
    ['Generated', `${when(r.generated_at)} by tenantscope ${r.tenantscope_version}`],
    ['Requested by', `${r.requested_by.name} (${r.requested_by.kind})${r.requested_by.anonymised ? '; other tenants anonymised' : ''}`],
    ['Signed', `Ed25519, key ${doc.signature.key_id}`],
  ]);
}

function summary(r: EvidenceReport): string {
  const required = r.controls.filter((c) => c.required);
  const count = (s: ControlStatus) => required.filter((c) => c.status === s).length;
  return `<div class="summary">${table(
    ['Required controls', 'Open violations', 'Audit chain', 'SLO status', 'Recovery objectives', 'Incidents', `Cost (${r.cost.currency})`],
    [[`${count('pass')} pass, ${count('partial')} partial, ${count('fail')} fail, ${count('unknown')} unknown`, r.policy.open, r.audit_chain.status, r.slo.status, r.recoverability.status, r.incidents.incidents.length, money(r.cost.total)]],
  )}</div>`;
}

function profile(r: EvidenceReport): string {
  const t = r.tenant;
  return table(
    ['Field', 'Value'],
    [
      ['Id', t.id],
      ['Name', t.name],
      ['Tier', t.tier],
      ['Home region', t.region],
      ['Allowed regions', t.allowed_regions.join(', ')],
      ['Identifiers', t.identifiers.join(', ')],
      ['Encryption key', t.encryption_key_id || 'none'],
      ['Legal hold', t.legal_hold ? 'yes' : 'no'],
      ['PII classes redacted', t.pii_classes.join(', ') || 'none'],
      ['Ingest quota', `${t.quotas.events_per_second} records/s, ${t.quotas.bytes_per_second} bytes/s`],
      ['Approved support tickets', t.support_tickets.map((x) => `${x.ticket} (${when(x.from)} to ${when(x.until)})`).join('; ') || 'none'],
      ['Controls of the tier', t.tier_controls.join(', ') || 'none'],
      ['Controls of the tenant', t.tenant_controls.join(', ') || 'none'],
    ],
  );
}

function controls(r: EvidenceReport): string {
  return table(
    ['Control', 'Required by', 'Status', 'How decided', 'Evidence'],
    r.controls.map((c) => [c.control, c.required_by ?? 'not required', badge(c.status), c.basis, keyValues(c.evidence)]),
  );
}

function policy(r: EvidenceReport, charts: ChartSet): string {
  const p = r.policy;
  const enabled = p.policies_enabled === null ? 'not known to this report' : p.policies_enabled ? 'on' : 'off';
  const severities = [...SEVERITIES].reverse().filter((s) => p.by_severity[s]);
  return [
    para(`Violations seen in the period: ${p.open} open, ${p.resolved} resolved (status as of generation). Policy evaluation on the server: ${enabled}.`),
    h3('By policy'),
    table(['Policy', 'Open', 'Resolved'], Object.entries(p.by_policy).map(([k, c]) => [k, c.open, c.resolved]), 'No violation in the period.'),
    h3('By severity'),
    table(['Severity', 'Open', 'Resolved'], severities.map((s) => [s, p.by_severity[s]!.open, p.by_severity[s]!.resolved]), 'No violation in the period.'),
    h3('Violations over time'),
    violationsChart(r, charts),
    h3('Violations'),
    p.truncated ? para(`Only the ${p.violations.length} most recently seen are listed.`) : '',
    table(
      ['Severity', 'Status', 'Policy / rule', 'Subject', 'Message', 'First seen', 'Last seen', 'Count'],
      p.violations.map((v) => [v.severity, v.status, `${v.policy} / ${v.rule}`, v.subject, v.message, when(v.first_seen), when(v.last_seen), v.count]),
      'No violation in the period.',
    ),
  ].join('\n');
}

function redactions(r: EvidenceReport): string {
  const x = r.redactions;
  const byData = Object.entries(x.by_data_class).flatMap(([dc, classes]) => Object.entries(classes).map(([c, n]) => [dc, c, n]));
  return [
    para(`${x.total} values redacted before storage in the period; counts only, never the values.`),
    table(['Class', 'Redactions'], Object.entries(x.by_class).map(([c, n]) => [c, n]), 'Nothing was redacted in the period.'),
    h3('By data class'),
    table(['Data class', 'Class', 'Redactions'], byData, 'Nothing was redacted in the period.'),
  ].join('\n');
}

function auditChain(r: EvidenceReport): string {
  const c = r.audit_chain;
  const parts = [
    para(`${c.status === 'ok' ? 'Intact' : c.status === 'broken' ? 'BROKEN' : 'TRUNCATED'}: ${c.events} events in ${c.segments.length} segment(s) recomputed from the stored rows at generation time, and checked against the heads of the latest signed checkpoint (next section): removing the newest events of a segment shows only against a head recorded earlier.`),
    table(['Segment', 'Events', 'Head seq', 'Head hash'], c.segments.map((s) => [s.segment_id, s.events, s.head_seq, code(s.head_hash)]), 'No audit events are stored for this tenant.'),
  ];
  if (c.status === 'broken') {
    const b = c.broken;
    parts.push(h3('First broken link'), table(['Segment', 'Seq', 'Event', 'Reason', 'Expected hash', 'Found hash', 'Detail'], [[b.segment_id, b.seq, b.event_id, b.reason, code(b.expected_hash), code(b.found_hash), b.detail]]));
  }
  if (c.status !== 'ok' && c.truncated) {
    parts.push(
      h3('Truncated segments: events gone up to a checkpointed head'),
      table(['Segment', 'Reason', 'Missing seqs', 'Checkpointed head', 'Signed at', 'Stored head', 'Detail'], c.truncated.map((t) => [t.segment_id, t.reason, `${t.from_seq}..${t.to_seq}`, code(`${t.checkpoint_head_seq} ${t.checkpoint_head_hash}`), when(t.checkpointed_at), t.stored_head_seq, t.detail])),
    );
  }
  return parts.join('\n');
}

function checkpoint(r: EvidenceReport): string {
  const c = r.checkpoint;
  if (!c) return para('This report was built without looking for checkpoints.');
  const parts: string[] = [];
  const l = c.latest;
  if (!l) parts.push(para('No signed checkpoint was found: events deleted from the end of a segment cannot be seen.'));
  else {
    parts.push(
      para(`The audit chain was checked against this tenant's part of the newest checkpoint whose signature verifies. A checkpoint signs the head of every segment with the evidence key every few minutes; its file is kept in the data directory and, where configured, outside it.`),
      dl([
        ['Taken', `${when(l.time)} by node ${l.node_id}`],
        ['File', `${l.file} (${l.source === 'data_dir' ? 'data directory' : 'checkpoint directory'})`],
        ['File SHA-256', l.sha256],
        ['Signed', `Ed25519, key ${l.key_id}`],
      ]),
      table(['Segment', 'Events', 'Head seq', 'Head hash', 'Carried from'], l.segments.map((s) => [s.segment_id, s.events, s.head_seq, code(s.head_hash), s.carried_from ? when(s.carried_from) : '-']), 'The checkpoint holds no segment of this tenant.'),
    );
  }
  if (c.refused.length > 0) {
    parts.push(h3('Newer checkpoint files refused (not trusted)'), table(['File', 'Where', 'Reason', 'Detail'], c.refused.map((x) => [x.file, x.source, x.reason, x.message])));
  }
  return parts.join('\n');
}

function retention(r: EvidenceReport): string {
  return table(
    ['Data class', 'Configured', 'Effective', 'Tier min', 'Tier max', 'Legal hold', 'Oldest stored', 'Age (days)', 'Rows', 'Status', 'Detail'],
    r.retention.map((x) => [x.data_class, x.configured_days ?? 'tier minimum', x.effective_days, x.tier_min_days, x.tier_max_days, x.legal_hold ? 'yes' : 'no', x.oldest_stored ? when(x.oldest_stored) : '-', x.oldest_age_days ?? '-', x.rows, x.status, x.detail]),
  );
}

function accessReview(r: EvidenceReport): string {
  const a = r.access_review;
  return [
    para(`${a.reads} API reads of this tenant's data recorded in the period by ${a.actors} token(s): ${a.denied} denied, ${a.failed} failed.${a.anonymised_actors > 0 ? ` ${a.anonymised_actors} token(s) of other tenants are shown as other-token-N.` : ''}`),
    table(['Actor (token)', 'Token kind', 'Route', 'Outcome', 'Reads', 'First', 'Last'], a.rows.map((x) => [x.actor, x.token_kind, x.route, x.outcome, x.count, when(x.first), when(x.last)]), 'No API read was recorded in the period.'),
  ].join('\n');
}

function slo(r: EvidenceReport, charts: ChartSet): string {
  const o = r.slo.objective;
  const rows = r.slo.services.flatMap((s) =>
    (['availability', 'latency'] as const).map((k) => {
      const x = s[k];
      return [s.service, k, x.total, x.total - x.good, pct(x.sli), pct(x.objective), pct(x.error_budget_remaining), x.status];
    }),
  );
  return [
    para(`Objectives: availability ${pct(o.availability)}; latency ${pct(o.latency_target)} of requests under ${o.latency_threshold_ms} ms. Overall status: ${r.slo.status}.`),
    table(['Service', 'SLI', 'Requests', 'Bad', 'Attained', 'Objective', 'Budget left', 'Status'], rows, 'No server spans in the period.'),
    attainmentChart(r, charts),
    budgetChart(r, charts),
  ].join('\n');
}

function noisy(r: EvidenceReport): string {
  const n = r.noisy_neighbours;
  const windows = (ws: NoisyWindow[]) => ws.map((w) => `${when(w.from)} - ${w.to.slice(11, 16)}`).join('; ');
  return [
    para(`Shared resources where one tenant's surge slowed the others (score at least ${n.thresholds.min_score}).${r.requested_by.anonymised ? ' Other tenants are named tenant-1, tenant-2, ... by rank in this report only.' : ''}`),
    h3('Offenders'),
    table(
      ['Offender', 'Resource', 'Score', 'Windows', 'Requests', 'Share', 'Usual share', 'Load', 'Neighbours slower'],
      n.offenders.map((o) => [o.tenant, o.resource, o.score, windows(o.windows), o.requests, share(o.request_share), share(o.baseline_request_share), o.load_factor === null ? '-' : `${o.load_factor}x`, o.neighbour_slowdown === null ? '-' : `${o.neighbour_slowdown}x`]),
      'No offender above the threshold touched this tenant in the period.',
    ),
    h3('Where this tenant was slowed'),
    table(
      ['Tenant', 'Resource', 'Latency increase', 'Requests', 'Added latency', 'By', 'Windows'],
      n.victims.map((v) => [v.tenant, v.resource, `+${Math.round(v.latency_increase * 100)}%`, v.requests, `${(v.added_latency_ms / 1000).toFixed(1)} s`, v.offenders.join(', '), windows(v.windows)]),
      'This tenant was not slowed by a neighbour in the period.',
    ),
  ].join('\n');
}

function cost(r: EvidenceReport, charts: ChartSet): string {
  const c = r.cost;
  const t = c.tenants[0];
  const card = c.price_card;
  return [
    para(`Total ${money(c.total)} ${c.currency}. Price card: ${card.cpu_second} per CPU-second, ${card.per_million_requests} per million requests, ${card.gb_ingested} per GB ingested, ${card.gb_month_stored} per GB-month stored; the platform's fixed cost is shared by usage.`),
    table(['Component', `Amount (${c.currency})`], COST_COMPONENTS.map((k) => [k, money(c.by_component[k])])),
    t ? table(['CPU-seconds', 'Requests', 'GB ingested', 'GB-months stored'], [[t.usage.cpu_seconds, t.usage.requests, t.usage.gb_ingested, t.usage.gb_months_stored]]) : '',
    costChart(r, charts),
    table(['Day', ...COST_COMPONENTS, 'Total'], r.series.cost.map((d) => [d.day, ...COST_COMPONENTS.map((k) => money(d.by_component[k])), money(d.total)])),
  ].join('\n');
}

function recoverability(r: EvidenceReport, charts: ChartSet): string {
  const x = r.recoverability;
  const o = x.objectives;
  const last = x.last_restore_test;
  return [
    para(
      `Objectives: RPO ${o.rpo_minutes} minutes, RTO ${o.rto_minutes} minutes, a restore test every ${o.restore_test_days} days, backups kept ${o.backup_retention_days} days, ` +
        `required components ${o.components.join(', ') || 'none'}${o.dr_region_required ? ', a DR region with failover tests' : ''}. ` +
        `Every required component had a backup younger than the RPO for ${pct(x.rpo_attainment)} of the period. Status: ${x.status === 'met' ? 'met' : 'not met'}.`,
    ),
    table(
      ['Component', 'Required', 'Latest snapshot', 'Age (min)', 'Within RPO', 'Backups', 'Failed', 'Stale (min)', 'Stale windows', 'RPO attainment'],
      x.components.map((c) => [c.component, c.required ? 'yes' : 'no', c.latest ? `${when(c.latest.snapshot)} (${c.latest.scope})` : 'never backed up', c.latest?.age_minutes ?? '-', c.within_rpo ? 'yes' : 'no', c.backups, c.failed_backups, c.stale_minutes, c.stale_windows.length, pct(c.rpo_attainment)]),
      'No component is required and none was backed up.',
    ),
    recoveryChart(r, charts),
    h3('Stale windows'),
    table(
      ['Component', 'From', 'To', 'Minutes', 'Oldest snapshot age (min)'],
      x.components.flatMap((c) => c.stale_windows.map((w) => [c.component, when(w.from), when(w.to), w.minutes, w.max_age_minutes])),
      'No stale window after a first backup in the period.',
    ),
    h3('Restore and failover tests'),
    para(last ? `Last restore test ${when(last.time)} (${last.age_days} days before the period's end); the next is due by ${when(last.due_by)}.` : 'No restore test on record.'),
    table(
      ['Kind', 'Time', 'Component', 'Scope', 'Outcome', 'Duration (s)', `Within RTO (${o.rto_minutes} min)`, 'Verified records', 'Region', 'Event'],
      [...x.restore_tests.map((t) => ['restore', t] as const), ...x.failover_tests.map((t) => ['failover', t] as const)].map(([kind, t]) => [kind, when(t.time), t.component, t.scope, t.outcome, t.duration_seconds, t.within_rto ? 'yes' : 'no', t.verified_records, t.location_region || '-', code(t.event_id)]),
      'No restore or failover test in the period.',
    ),
    h3('Findings'),
    table(['Severity', 'Rule', 'Subject', 'Message'], x.findings.map((f) => [f.severity, f.rule, f.subject, f.message]), 'recovery.rego found nothing: the objectives were met.'),
    h3('Where the evidence is'),
    para('The stored facts these figures rest on, by event id: audit events are in the tenant\'s audit chain or, for platform-scope facts, in the platform chain; ids starting log: are OTLP log records.'),
    table(['Event', 'Kind', 'Component', 'Time', 'Scope', 'Stored as'], x.sources.map((e) => [code(e.event_id), e.kind, e.component, when(e.time), e.scope, e.stored_as]), 'No backup or test is on record.'),
  ].join('\n');
}

function incidents(r: EvidenceReport): string {
  const x = r.incidents;
  const exposure = new Map<string, number>();
  for (const i of x.incidents) exposure.set(i.impact.sla.currency, (exposure.get(i.impact.sla.currency) ?? 0) + i.impact.sla.exposure);
  const total = [...exposure].map(([currency, v]) => `${money(v)} ${currency}`).join(', ') || '0.00';
  return [
    para(
      `SLO burn episodes of this tenant that paged or opened a ticket, grouped with other tenants' overlapping episodes into incidents: ${x.incidents.length} in the period, adding ${total} of SLA credit. ` +
        'Each row is this tenant\'s own impact: the window from its first to its last bad minute, the requests and failures in it, the share of its error budget those failures consumed, ' +
        'its availability for the calendar month and the SLA credit that reaches, and how much of that credit the incident adds (exposure). Other tenants an incident hit are counted, not named.',
    ),
    x.windows.length > 1
      ? para(`Incidents are computed over at most ${MAX_PERIOD_DAYS} days at a time, so this period was read in ${x.windows.length} consecutive windows ending at its end; an incident crossing a window boundary is listed once per window, each part with its own impact.`)
      : '',
    table(
      ['Incident', 'Scope', 'Impact window', 'Minutes', 'Requests', 'Failures', 'Budgets consumed', 'Month availability', 'Credit', 'Exposure', 'Other tenants hit'],
      x.incidents.map((i) => {
        const t = i.impact;
        return [
          code(i.id),
          `${i.scope}${i.open ? ' (open)' : ''}`,
          `${when(t.impact.from)} to ${when(t.impact.to)}`,
          t.impact.minutes,
          t.requests,
          t.failures,
          t.error_budget_consumed,
          t.sla.month_availability === null ? '-' : `${round(t.sla.month_availability * 100, 4)}% (${t.sla.month})`,
          `${t.sla.credit_percent}%: ${money(t.sla.credit)} ${t.sla.currency}`,
          `${money(t.sla.exposure)} ${t.sla.currency}`,
          i.other_tenants_affected,
        ];
      }),
      'No incident hit this tenant in the period.',
    ),
  ].join('\n');
}

function signatureSection(doc: SignedEvidence): string {
  const s = doc.signature;
  return [
    para('The signed JSON document is embedded at the end of this page. The signature covers the RFC 8785 canonical form of the report; changing any byte of this file makes verification fail.'),
    dl([
      ['Algorithm', s.algorithm],
      ['Key id', s.key_id],
    ]),
    `<pre>${esc(s.public_key)}</pre>`,
    para('To verify, save the public key above (or fetch it: GET /api/v1/evidence/public-key?format=pem) and run:'),
    `<pre>tenantscope evidence verify &#60;this file&#62; --public-key &#60;the public key&#62;.pem</pre>`,
  ].join('\n');
}

// ---- markup ----

/** Markup made here from escaped parts; anything else put in a cell is escaped. */
class Html {
  constructor(readonly html: string) {}
}
type Cell = string | number | null | Html;

function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function cell(c: Cell): string {
  return c instanceof Html ? c.html : esc(c ?? '-');
}

function table(headers: string[], rows: Cell[][], empty?: string): string {
  if (rows.length === 0 && empty !== undefined) return para(empty);
  const head = headers.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows.map((row) => `<tr>${row.map((c) => `<td>${cell(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

function dl(items: [string, string][]): string {
  return `<dl>${items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
}

const section = (id: string, title: string, content: string) => `<section id="${esc(id)}">\n<h2>${esc(title)}</h2>\n${content}\n</section>`;
const h3 = (text: string) => `<h3>${esc(text)}</h3>`;
const para = (text: string) => `<p>${esc(text)}</p>`;
const code = (text: string) => new Html(`<code>${esc(text)}</code>`);
const badge = (s: ControlStatus) => new Html(`<span class="status ${esc(s)}">${esc(s)}</span>`);

function keyValues(o: Record<string, unknown>): Html {
  const items = Object.entries(o).map(([k, v]) => `<li>${esc(k)}: ${esc(typeof v === 'string' ? v : JSON.stringify(v))}</li>`);
  return new Html(items.length === 0 ? '-' : `<ul>${items.join('')}</ul>`);
}

const when = (iso: string) => (iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC` : '-');
const pct = (x: number | null) => (x === null ? '-' : `${round(x * 100, 3)}%`);
const share = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);
const money = (x: number) => x.toFixed(2);
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1f;margin:0;background:#fff;font-size:14px;line-height:1.45}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 12px}
h2{font-size:18px;border-bottom:2px solid #d0d4dc;padding-bottom:4px;margin:28px 0 10px}
h3{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;width:100%;margin:6px 0 12px}
th,td{border:1px solid #d0d4dc;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f1f3f7}
td ul{margin:0;padding-left:16px}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 16px;margin:8px 0}
dt{font-weight:600}
dd{margin:0}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
pre{background:#f6f7f9;padding:8px;white-space:pre-wrap}
.status{font-weight:600;padding:1px 6px;border-radius:3px}
.status.pass{background:#dff3e4;color:#125c2b}
.status.partial{background:#fff2cc;color:#6b4e00}
.status.fail{background:#fbdde0;color:#8a1020}
.status.unknown{background:#e8eaef;color:#3d4350}
.summary table td{font-size:15px;font-weight:600}
figure.chart{margin:8px 0 16px;break-inside:avoid}
figure.chart svg{max-width:100%;height:auto}
figcaption{font-size:12px;color:#50566a}
@media print{main{max-width:none;padding:0}section{break-inside:auto}tr,figure{break-inside:avoid}h2,h3{break-after:avoid}body{font-size:11px}}
`;
