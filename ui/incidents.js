// Incidents in the UI: on a tenant's page its own incidents (GET /api/v1/tenants/{id}/incidents:
// its impact only, other tenants counted), and for an admin the platform list (GET
// /api/v1/incidents: every affected tenant with its credit exposure). The API decides what each
// token may see; this module only lays out what it was given, as text.
import { ApiError, getJson } from './api.js';
import { badge, el, fixed, money, num, percent, replace, table, utc } from './dom.js';

const DAY = 86_400_000;
/** The longest period one incidents query may cover (the API refuses more). */
export const INCIDENTS_MAX_DAYS = 35;

const TONE_OF_SCOPE = { tenant: 'info', noisy_neighbour: 'warn', tier: 'warn', regional: 'bad', platform: 'bad' };

/**
 * The part of [from, to) an incidents query may cover: the page's period, or its last 35 days
 * when it is longer, so a 90-day page still shows its most recent incidents instead of a refusal.
 */
export function incidentsWindow(period) {
  const toMs = Date.parse(period.to);
  const fromMs = Math.max(Date.parse(period.from), toMs - INCIDENTS_MAX_DAYS * DAY);
  return { from: new Date(fromMs).toISOString(), to: period.to, clipped: fromMs > Date.parse(period.from) };
}

function scopeBadge(i) {
  const b = el('span', { class: `badge badge-${TONE_OF_SCOPE[i.scope] ?? 'neutral'}`, 'data-figure': 'scope' }, i.scope);
  return i.open ? [b, ' ', badge('open')] : b;
}

const impactWindow = (w) => `${utc(w.from)} – ${utc(w.to)}`;
const credit = (s) => `${s.credit_percent}% · ${money(s.credit, s.currency)}`;

/** The tenant page's Incidents section from its incidents route's answer. */
export function tenantIncidentsSection(report, window) {
  const rows = report.incidents.map((i) => {
    const t = i.impact;
    return el(
      'tr',
      { 'data-incident': i.id },
      el('td', {}, el('code', { 'data-figure': 'incident-id' }, i.id)),
      el('td', {}, scopeBadge(i)),
      el('td', { 'data-figure': 'impact-window' }, impactWindow(t.impact)),
      num(String(t.impact.minutes), 'minutes'),
      num(String(t.requests), 'requests'),
      num(String(t.failures), 'failures'),
      num(fixed(t.error_budget_consumed, 3), 'budget-consumed'),
      num(percent(t.sla.month_availability, 4), 'month-availability'),
      num(credit(t.sla), 'credit'),
      num(money(t.sla.exposure, t.sla.currency), 'exposure'),
      num(String(i.other_tenants_affected), 'others'),
    );
  });
  return el(
    'section',
    { id: 'incidents', class: 'card report' },
    el('h2', {}, 'Incidents'),
    el(
      'p',
      { class: window.clipped ? 'notice' : 'muted', id: 'incidents-window', 'data-from': window.from, 'data-to': window.to },
      `SLO burn episodes that paged or opened a ticket, grouped with other tenants' at the same time, from ${utc(window.from)} to ${utc(window.to)}.`,
      window.clipped ? ` Incidents are read for at most the last ${INCIDENTS_MAX_DAYS} days of the period.` : null,
      ' Other tenants an incident hit are counted, not named.',
    ),
    rows.length
      ? table(
          ['Incident', 'Scope', 'Impact window', { label: 'Minutes', numeric: true }, { label: 'Requests', numeric: true }, { label: 'Failures', numeric: true }, { label: 'Budgets consumed', numeric: true }, { label: 'Month availability', numeric: true }, { label: 'Credit', numeric: true }, { label: 'Exposure', numeric: true }, { label: 'Other tenants hit', numeric: true }],
          rows,
          { id: 'incidents-table' },
        )
      : el('p', { class: 'notice', id: 'incidents-none' }, 'No incident hit this tenant in this window.'),
  );
}

const PRESETS = [
  ['1d', 'Last 24 hours', 1],
  ['7d', 'Last 7 days', 7],
  ['35d', 'Last 35 days', 35],
];

/** The platform list of incidents (admins): scope, window, and each affected tenant's credit exposure. */
export async function renderIncidents(main, ctx) {
  const preset = PRESETS.find(([id]) => id === ctx.query.get('period')) ?? PRESETS[0];
  const toMs = Date.now();
  const window = { from: new Date(toMs - preset[2] * DAY).toISOString(), to: new Date(toMs).toISOString() };
  ctx.setView('incidents', 'loading');
  const crumbs = el('nav', { class: 'crumbs' }, el('a', { href: '#/tenants' }, 'Tenants'), ' / ', 'Incidents');
  replace(main, crumbs, el('h1', {}, 'Incidents'), el('p', { class: 'muted' }, 'Loading incidents…'));
  let report;
  try {
    report = await getJson(`/api/v1/incidents?${new URLSearchParams(window)}`);
  } catch (e) {
    if (!ctx.current()) return;
    if (e instanceof ApiError && e.status === 401) return ctx.expired();
    replace(main, crumbs, el('h1', {}, 'Incidents'), el('p', { class: 'notice error', role: 'alert', id: 'incidents-error' }, e instanceof ApiError ? `The API answered ${e.status} ${e.code}: ${e.message}` : String(e)));
    return ctx.setView('incidents', e instanceof ApiError && e.status === 403 ? 'refused' : 'error');
  }
  if (!ctx.current()) return;
  const periods = el('nav', { class: 'period', id: 'incidents-period' }, 'Period: ', PRESETS.flatMap(([id, label], n) => [n ? ' · ' : '', id === preset[0] ? el('strong', {}, label) : el('a', { href: `#/incidents?period=${id}` }, label)]));
  const rows = report.incidents.map((i) =>
    el(
      'tr',
      { 'data-incident': i.id },
      el('td', {}, el('code', { 'data-figure': 'incident-id' }, i.id), el('div', { class: 'muted small', 'data-figure': 'reason' }, i.reason)),
      el('td', {}, scopeBadge(i), ' ', badge(i.severity)),
      el('td', { 'data-figure': 'window' }, impactWindow(i)),
      el('td', { 'data-figure': 'regions' }, i.regions.join(', ')),
      el(
        'td',
        {},
        el(
          'ul',
          { class: 'plain' },
          i.tenants.map((t) =>
            el(
              'li',
              { 'data-tenant': t.tenant },
              el('a', { href: `#/tenants/${encodeURIComponent(t.tenant)}`, 'data-figure': 'tenant' }, t.tenant),
              ` (${t.tier}, ${t.region}): `,
              el('span', { 'data-figure': 'failures' }, String(t.failures)),
              ' failures in ',
              el('span', { 'data-figure': 'minutes' }, String(t.impact.minutes)),
              ' min, exposure ',
              el('strong', { 'data-figure': 'exposure' }, money(t.sla.exposure, t.sla.currency)),
              ', month credit ',
              el('span', { 'data-figure': 'credit' }, credit(t.sla)),
            ),
          ),
        ),
      ),
    ),
  );
  const exposure = new Map();
  for (const i of report.incidents) for (const t of i.tenants) exposure.set(t.sla.currency, (exposure.get(t.sla.currency) ?? 0) + t.sla.exposure);
  replace(
    main,
    crumbs,
    el('h1', {}, 'Incidents'),
    el('div', { class: 'toolbar card' }, periods, el('span', { class: 'muted', 'data-figure': 'period', 'data-from': report.from, 'data-to': report.to }, `${utc(report.from)} – ${utc(report.to)}`)),
    el(
      'p',
      { class: 'muted' },
      el('span', { 'data-figure': 'incident-count' }, String(report.incidents.length)),
      ` incidents over ${report.active_tenants} tenants with traffic; SLA credit exposure `,
      el('span', { 'data-figure': 'exposure-total' }, [...exposure].map(([c, v]) => money(v, c)).join(', ') || '—'),
      `. One query covers at most ${INCIDENTS_MAX_DAYS} days.`,
    ),
    el('div', { class: 'card' }, rows.length ? table(['Incident', 'Scope', 'Window', 'Regions', 'Affected tenants'], rows, { id: 'platform-incidents' }) : el('p', { class: 'notice', id: 'incidents-none' }, 'No incident in this period.')),
  );
  ctx.setView('incidents', 'ready');
}
