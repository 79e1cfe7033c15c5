// One tenant's page: SLO, noisy neighbours, cost, open violations, recoverability, incidents and
// the audit chain for a period, read from the API with the signed-in token, and the evidence for
// that period as a download. The API decides access: a tenant the token may not read is
// refused there, and the page then shows the refusal and nothing else.
import { ApiError, downloadEvidence, getJson, tenantPath } from './api.js';
import { badge, el, fixed, money, num, percent, replace, span, table, utc } from './dom.js';
import { incidentsWindow, tenantIncidentsSection } from './incidents.js';

const DAY = 86_400_000;
const PRESETS = [
  ['1d', 'Last 24 hours', 1],
  ['7d', 'Last 7 days', 7],
  ['28d', 'Last 28 days', 28],
  ['90d', 'Last 90 days', 90],
];
const DEFAULT_PRESET = '7d';
const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** Refusals that mean "not this tenant", as opposed to a report that failed. */
const REFUSALS = new Set(['TS_ERR_FORBIDDEN', 'TS_ERR_TENANT_NOT_FOUND', 'TS_ERR_TOKEN_KIND']);

/**
 * The period of the page from its hash query: a preset ending now, or custom UTC days
 * (`from`, `to` inclusive as YYYY-MM-DD). Returns ISO bounds, [from, to).
 */
function resolvePeriod(query) {
  const from = query.get('from');
  const to = query.get('to');
  if (from && to && DATE.test(from) && DATE.test(to) && from <= to) {
    const fromMs = Date.parse(`${from}T00:00:00Z`);
    const toMs = Date.parse(`${to}T00:00:00Z`) + DAY;
    if (Number.isFinite(fromMs) && Number.isFinite(toMs)) return { preset: 'custom', from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), fromDay: from, toDay: to };
  }
  const preset = PRESETS.find(([id]) => id === query.get('period')) ?? PRESETS.find(([id]) => id === DEFAULT_PRESET);
  const toMs = Date.now();
  return { preset: preset[0], from: new Date(toMs - preset[2] * DAY).toISOString(), to: new Date(toMs).toISOString() };
}

function go(hash) {
  // The same hash fires no hashchange; a refresh still needs the page read again.
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}

function periodForm(id, period) {
  const select = el('select', { id: 'period-preset', 'aria-label': 'Period' }, [...PRESETS.map(([value, label]) => el('option', { value, selected: value === period.preset }, label)), el('option', { value: 'custom', selected: period.preset === 'custom' }, 'Custom days (UTC)…')]);
  const fromDay = el('input', { type: 'date', id: 'period-from', 'aria-label': 'From (UTC day)', value: period.fromDay ?? period.from.slice(0, 10) });
  const toDay = el('input', { type: 'date', id: 'period-to', 'aria-label': 'To (UTC day, inclusive)', value: period.toDay ?? period.to.slice(0, 10) });
  const custom = el('span', { class: 'custom-days', hidden: period.preset !== 'custom' }, fromDay, ' to ', toDay);
  select.addEventListener('change', () => {
    custom.hidden = select.value !== 'custom';
  });
  const form = el(
    'form',
    { class: 'period', id: 'period' },
    el('label', { for: 'period-preset' }, 'Period'),
    select,
    custom,
    el('button', { type: 'submit' }, 'Show'),
    el('span', { class: 'muted period-range', 'data-figure': 'period', 'data-from': period.from, 'data-to': period.to }, `${utc(period.from)} – ${utc(period.to)}`),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const base = `#/tenants/${encodeURIComponent(id)}`;
    if (select.value !== 'custom') return go(`${base}?period=${select.value}`);
    if (!DATE.test(fromDay.value) || !DATE.test(toDay.value) || fromDay.value > toDay.value) {
      fromDay.setCustomValidity('Pick a first day on or before the last day.');
      fromDay.reportValidity();
      return;
    }
    fromDay.setCustomValidity('');
    go(`${base}?from=${fromDay.value}&to=${toDay.value}`);
  });
  return form;
}

function evidenceButtons(id, period, ctx) {
  const status = el('span', { id: 'evidence-status', class: 'muted', role: 'status' });
  const button = (format, label) => {
    const b = el('button', { type: 'button', id: `evidence-${format}`, class: 'secondary' }, label);
    b.addEventListener('click', async () => {
      b.disabled = true;
      replace(status, `Preparing the ${format.toUpperCase()} evidence…`);
      status.className = 'muted';
      try {
        const name = await downloadEvidence(id, period, format);
        replace(status, `Downloaded ${name}.`);
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) return ctx.expired();
        const notAvailable = e instanceof ApiError && e.status === 404;
        replace(status, notAvailable ? `Evidence not available from this server (404 ${e.code}).` : `Evidence download failed: ${e instanceof Error ? e.message : String(e)}${e instanceof ApiError ? ` (${e.status} ${e.code})` : ''}.`);
        status.className = notAvailable ? 'notice warn' : 'notice error';
      } finally {
        b.disabled = false;
      }
    });
    return b;
  };
  return el('div', { class: 'evidence' }, el('span', { class: 'label' }, 'Evidence'), button('json', 'Download JSON'), button('html', 'Download HTML'), status);
}

function card(title, value, detail) {
  return el('div', { class: 'card stat' }, el('div', { class: 'stat-title' }, title), el('div', { class: 'stat-value' }, value), detail ? el('div', { class: 'stat-detail muted' }, detail) : null);
}

/** The SLI of the tenant with the least error budget left, or null when none had events. */
function leastBudget(slo) {
  let worst = null;
  for (const s of slo.services) {
    for (const name of ['availability', 'latency']) {
      const b = s[name].error_budget_remaining;
      if (b !== null && (worst === null || b < worst.budget)) worst = { service: s.service, sli: name, budget: b };
    }
  }
  return worst;
}

function summary(id, r) {
  const worst = leastBudget(r.slo);
  const slowed = r.noisy.victims.length;
  const caused = r.noisy.offenders.filter((o) => o.tenant === id).length;
  const severities = r.violations.violations.map((v) => v.severity);
  const top = ['critical', 'high', 'medium', 'low', 'info'].find((s) => severities.includes(s));
  return el(
    'div',
    { class: 'cards' },
    card('SLO status', badge(r.slo.status, 'slo-status'), `${r.slo.services.length} services`),
    card('Error budget left', el('span', { 'data-figure': 'budget-left' }, worst ? percent(worst.budget, 1) : '—'), worst ? `lowest: ${worst.service} ${worst.sli}` : 'no requests in the period'),
    card('Cost', el('span', { 'data-figure': 'cost-total' }, money(r.cost.total, r.cost.currency)), `${utc(r.cost.from)} – ${utc(r.cost.to)}`),
    card('Open violations', el('span', { 'data-figure': 'violations-open' }, String(r.violations.violations.length)), top ? badge(top) : 'none'),
    card('Recoverability', badge(recoveryStatus(r.recovery), 'recovery-status-card'), el('span', {}, 'RPO attainment ', el('span', { 'data-figure': 'rpo-attainment-card' }, percent(r.recovery.rpo_attainment, 2)))),
    card('Incidents', el('span', { 'data-figure': 'incidents-card' }, String(r.incidents.incidents.length)), el('span', {}, 'exposure ', el('span', { 'data-figure': 'incidents-exposure-card' }, exposureText(r.incidents)))),
    card('Noisy neighbours', el('span', { 'data-figure': 'noisy-incidents' }, String(slowed + caused)), `slowed on ${slowed}, caused on ${caused} resources`),
    card('Audit chain', badge(r.audit.status, 'chain-status'), el('span', {}, el('span', { 'data-figure': 'chain-events' }, String(r.audit.events)), ' events')),
  );
}

/** The SLA credit the tenant's incidents add, per currency. */
function exposureText(report) {
  const by = new Map();
  for (const i of report.incidents) by.set(i.impact.sla.currency, (by.get(i.impact.sla.currency) ?? 0) + i.impact.sla.exposure);
  return by.size ? [...by].map(([c, v]) => money(v, c)).join(', ') : 'none';
}

function section(id, title, ...body) {
  return el('section', { id, class: 'card report' }, el('h2', {}, title), ...body);
}

function sloSection(slo) {
  const o = slo.objective;
  const rows = slo.services.flatMap((s) =>
    ['availability', 'latency'].map((name, i) => {
      const x = s[name];
      // One cell per alert pair, long window first, as the alert reads them.
      const pairs = x.alerts.map((a) =>
        el('td', { class: a.firing ? 'num hot' : 'num', title: a.firing ? `firing: both windows above ${a.threshold} (${a.severity})` : `alert at ${a.threshold} (${a.severity})` }, el('span', { 'data-figure': `burn-${a.long}` }, fixed(x.burn_rates[a.long], 2)), ' / ', el('span', { 'data-figure': `burn-${a.short}` }, fixed(x.burn_rates[a.short], 2))),
      );
      return el(
        'tr',
        { 'data-service': s.service, 'data-sli': name, class: i === 0 ? 'group-start' : null },
        i === 0 ? el('th', { scope: 'rowgroup', rowspan: 2, class: 'service' }, s.service, el('div', { class: 'muted small' }, `${s.requests} requests`)) : null,
        el('td', {}, name),
        num(String(x.total), 'events'),
        num(percent(x.sli, 3), 'sli'),
        num(percent(x.objective, 2), 'objective'),
        el('td', { class: 'num budget' }, x.error_budget_remaining === null ? null : el('meter', { min: 0, max: 1, low: 0.25, high: 0.5, optimum: 1, value: Math.max(0, Math.min(1, x.error_budget_remaining)) }), el('span', { 'data-figure': 'budget' }, percent(x.error_budget_remaining, 1))),
        pairs,
        el('td', {}, badge(x.status, 'status')),
      );
    }),
  );
  const pairHeads = (slo.services[0]?.availability.alerts ?? []).map((a) => ({ label: `Burn ${a.long} / ${a.short}`, numeric: true }));
  return section(
    'slo',
    'SLO per service',
    el('p', { class: 'muted' }, `Objectives: availability ${percent(o.availability, 2)}; ${percent(o.latency_target, 2)} of requests under ${o.latency_threshold_ms} ms. A burn rate of 1 spends the budget exactly over the window; an alert fires when both windows of a pair burn above its threshold (page at 14.4 and 6, ticket at 3 and 1), shown in red.`),
    rows.length
      ? table(['Service', 'SLI', { label: 'Events', numeric: true }, { label: 'SLI', numeric: true }, { label: 'Objective', numeric: true }, { label: 'Budget left', numeric: true }, ...pairHeads, 'Status'], rows, { id: 'slo-table' })
      : el('p', { class: 'notice' }, 'No requests in this period.'),
  );
}

function noisySection(id, noisy) {
  const windows = (ws) => el('ul', { class: 'plain' }, ws.map((w) => el('li', {}, span(w))));
  const offenders = noisy.offenders.map((o) =>
    el(
      'tr',
      { 'data-resource': o.resource },
      el('td', {}, o.tenant === id ? badge('this tenant') : o.tenant),
      el('td', {}, el('code', {}, o.resource)),
      num(fixed(o.score, 1), 'score'),
      num(String(o.requests)),
      num(`${percent(o.request_share, 1)} (usually ${percent(o.baseline_request_share, 1)})`),
      num(o.load_factor === null ? '—' : `${fixed(o.load_factor, 1)}×`),
      num(o.neighbour_slowdown === null ? '—' : `${fixed(o.neighbour_slowdown, 2)}×`),
      el('td', {}, windows(o.windows)),
    ),
  );
  const victims = noisy.victims.map((v) =>
    el(
      'tr',
      { 'data-resource': v.resource },
      el('td', {}, el('code', {}, v.resource)),
      num(`+${percent(v.latency_increase, 1)}`, 'latency-increase'),
      num(`${fixed(v.added_latency_ms, 1)} ms`),
      num(String(v.requests)),
      el('td', {}, v.offenders.join(', ')),
      el('td', {}, windows(v.windows)),
    ),
  );
  return section(
    'noisy',
    'Noisy-neighbour incidents',
    el('p', { class: 'muted' }, 'Other tenants are named tenant-1, tenant-2, … unless you are an admin.'),
    el('h3', {}, 'This tenant slowed down'),
    victims.length ? table(['Resource', { label: 'Latency increase', numeric: true }, { label: 'Added latency', numeric: true }, { label: 'Requests', numeric: true }, 'By', 'Windows'], victims, { id: 'noisy-victims' }) : el('p', { class: 'notice' }, 'No neighbour slowed this tenant down in this period.'),
    el('h3', {}, 'Offenders on resources this tenant used'),
    offenders.length ? table(['Tenant', 'Resource', { label: 'Score', numeric: true }, { label: 'Requests', numeric: true }, { label: 'Request share', numeric: true }, { label: 'Load', numeric: true }, { label: 'Neighbours slowed', numeric: true }, 'Windows'], offenders, { id: 'noisy-offenders' }) : el('p', { class: 'notice' }, 'No offender in this period.'),
  );
}

function costSection(cost) {
  const mine = cost.tenants[0];
  const components = Object.entries(cost.by_component).map(([name, amount]) => el('tr', { 'data-component': name }, el('td', {}, name), num(money(amount, cost.currency), 'amount')));
  components.push(el('tr', { class: 'total' }, el('th', { scope: 'row' }, 'Total'), num(money(cost.total, cost.currency), 'total')));
  const usage = mine
    ? table(['Usage', { label: 'Amount', numeric: true }], [
        ['CPU seconds', num(fixed(mine.usage.cpu_seconds, 3))],
        ['Requests', num(String(mine.usage.requests))],
        ['GB ingested', num(fixed(mine.usage.gb_ingested, 6))],
        ['GB-months stored', num(fixed(mine.usage.gb_months_stored, 6))],
      ])
    : null;
  const days = mine?.by_day ?? [];
  return section(
    'cost',
    'Cost',
    el('p', { class: 'muted' }, `${utc(cost.from)} – ${utc(cost.to)}, in ${cost.currency}.`),
    el('div', { class: 'two' }, table(['Component', { label: 'Cost', numeric: true }], components, { id: 'cost-table' }), usage),
    days.length
      ? el('details', {}, el('summary', {}, `By day (${days.length})`), table(['Day', { label: 'Total', numeric: true }, ...Object.keys(days[0].by_component).map((c) => ({ label: c, numeric: true }))], days.map((d) => [d.day, num(fixed(d.total, 2)), ...Object.values(d.by_component).map((v) => num(fixed(v, 2)))])))
      : null,
  );
}

function violationsSection(list) {
  const rows = list.violations.map((v) =>
    el(
      'tr',
      { 'data-rule': `${v.policy}/${v.rule}` },
      el('td', {}, badge(v.severity)),
      el('td', {}, el('code', {}, `${v.policy}/${v.rule}`)),
      el('td', {}, v.subject),
      el('td', { class: 'message' }, v.message),
      el('td', {}, utc(v.first_seen)),
      el('td', {}, utc(v.last_seen)),
      num(String(v.count)),
    ),
  );
  return section(
    'violations',
    'Open violations',
    rows.length ? table(['Severity', 'Policy / rule', 'Subject', 'Message', 'First seen', 'Last seen', { label: 'Count', numeric: true }], rows, { id: 'violations-table' }) : el('p', { class: 'notice' }, 'No open violations in this period.'),
  );
}

/** The report's status in words: `not_met` reads as "not met". */
function recoveryStatus(recovery) {
  return recovery.status === 'not_met' ? 'not met' : recovery.status;
}

/** Minutes with one decimal, the precision the report keeps them to (it rounds to 0.01). */
function minutes(x) {
  return `${fixed(x, 1)} min`;
}

/** At most this many stale windows per component row; a month of hourly gaps would swamp it. */
const STALE_WINDOWS_SHOWN = 5;

function recoverySection(recovery) {
  const o = recovery.objectives;
  const components = recovery.components.map((c) => {
    const l = c.latest;
    const windows = c.stale_windows.slice(0, STALE_WINDOWS_SHOWN).map((w) => el('li', {}, span(w)));
    const more = c.stale_windows.length - windows.length;
    return el(
      'tr',
      { 'data-component': c.component },
      el('td', {}, el('code', {}, c.component)),
      el('td', { 'data-figure': 'required' }, c.required ? 'yes' : 'no'),
      // The key and region are the tenant's own free text: written as text like every value.
      el(
        'td',
        { 'data-figure': 'latest' },
        l ? utc(l.snapshot) : el('span', { class: 'hot' }, 'never backed up'),
        l ? el('div', { class: 'muted small' }, `${l.scope} copy in ${l.location_region}, key `, el('code', { 'data-figure': 'key' }, l.encryption_key_id || 'none (unencrypted)')) : null,
      ),
      el('td', { class: c.within_rpo ? 'num' : 'num hot', title: `RPO ${o.rpo_minutes} min` }, el('span', { 'data-figure': 'age' }, l ? minutes(l.age_minutes) : '—'), ' ', badge(c.within_rpo ? 'within RPO' : 'over RPO', 'rpo-check')),
      num(String(c.backups), 'backups'),
      num(String(c.failed_backups), 'failed'),
      num(percent(c.rpo_attainment, 2), 'attainment'),
      num(minutes(c.stale_minutes), 'stale'),
      el('td', {}, windows.length ? el('ul', { class: 'plain' }, windows, more > 0 ? el('li', { class: 'muted' }, `… and ${more} more`) : null) : null),
    );
  });
  const t = recovery.last_restore_test;
  // Due when the next test must have happened; overdue once that is before the period's end.
  const overdue = t !== null && t.due_by < recovery.period.to;
  const restore = t
    ? table(
        ['Time', 'Component', 'Outcome', { label: 'Duration', numeric: true }, { label: 'RTO', numeric: true }, { label: 'Verified records', numeric: true }, 'Due by'],
        [
          el(
            'tr',
            { 'data-event': t.event_id },
            el('td', { 'data-figure': 'restore-time' }, utc(t.time)),
            el('td', {}, el('code', {}, t.component)),
            el('td', {}, badge(t.outcome, 'restore-outcome')),
            el('td', { class: t.within_rto ? 'num' : 'num hot', 'data-figure': 'restore-duration' }, minutes(t.duration_seconds / 60)),
            num(`${o.rto_minutes} min`, 'rto'),
            num(String(t.verified_records)),
            el('td', { class: overdue ? 'hot' : null, 'data-figure': 'restore-due' }, utc(t.due_by), overdue ? ' (overdue)' : null),
          ),
        ],
        { id: 'restore-table' },
      )
    : el('p', { class: 'notice warn', id: 'restore-none' }, `No restore test on record up to the end of the period; one is due every ${o.restore_test_days} days.`);
  const findings = recovery.findings.map((f) =>
    el('tr', { 'data-rule': `${f.policy}/${f.rule}`, 'data-subject': f.subject }, el('td', {}, badge(f.severity)), el('td', {}, el('code', {}, f.rule)), el('td', {}, f.subject), el('td', { class: 'message' }, f.message)),
  );
  return section(
    'recovery',
    'Recoverability',
    el(
      'p',
      {},
      badge(recoveryStatus(recovery), 'recovery-status'),
      ' RPO attainment ',
      el('strong', { 'data-figure': 'rpo-attainment' }, percent(recovery.rpo_attainment, 2)),
      ': the share of the period in which every required component had a backup younger than the RPO.',
    ),
    el('p', { class: 'muted' }, `Objectives: RPO ${o.rpo_minutes} min, RTO ${o.rto_minutes} min, a restore test every ${o.restore_test_days} days, backups kept ${o.backup_retention_days} days${o.dr_region_required ? ', a failover test to a DR region' : ''}. ${recovery.restore_tests.length} restore and ${recovery.failover_tests.length} failover tests in the period.`),
    table(['Component', 'Required', 'Latest snapshot', { label: 'Age', numeric: true }, { label: 'Backups', numeric: true }, { label: 'Failed', numeric: true }, { label: 'RPO attainment', numeric: true }, { label: 'Stale', numeric: true }, 'Stale windows'], components, { id: 'recovery-components' }),
    el('h3', {}, 'Latest restore test'),
    restore,
    el('h3', {}, 'Findings'),
    findings.length ? table(['Severity', 'Rule', 'Subject', 'Message'], findings, { id: 'recovery-findings' }) : el('p', { class: 'notice', id: 'recovery-no-findings' }, 'No findings: every recovery objective was met in this period.'),
  );
}

function auditSection(audit) {
  const rows = audit.segments.map((s) => [el('code', {}, s.segment_id), num(String(s.events)), num(String(s.head_seq)), el('td', { title: s.head_hash }, el('code', {}, `${s.head_hash.slice(0, 16)}…`))]);
  const b = audit.broken;
  const cp = audit.checkpoint?.latest;
  return section(
    'audit',
    'Audit chain',
    el('p', {}, badge(audit.status), ` ${audit.events} events in ${audit.segments.length} segment${audit.segments.length === 1 ? '' : 's'}; every hash recomputed from the stored events${cp ? `, and every head of the checkpoint signed ${cp.time} looked for` : ''}.`),
    b ? el('p', { class: 'notice error' }, `First broken link: segment ${b.segment_id}, sequence ${b.seq}, event ${b.event_id}: ${b.reason}. ${b.detail}`) : null,
    ...(audit.truncated ?? []).map((t) => el('p', { class: 'notice error' }, `Truncated: segment ${t.segment_id}, sequences ${t.from_seq}..${t.to_seq} gone (${t.reason}). ${t.detail}`)),
    rows.length ? table(['Segment', { label: 'Events', numeric: true }, { label: 'Head seq', numeric: true }, 'Head hash'], rows, { id: 'audit-segments' }) : null,
  );
}

function refused(main, id, e, ctx) {
  replace(
    main,
    el('nav', { class: 'crumbs' }, el('a', { href: '#/tenants' }, 'Tenants')),
    el('h1', {}, 'Access refused'),
    el('p', { class: 'notice error', role: 'alert', id: 'refusal' }, `This token may not read tenant “${id}”. The API answered ${e.status} ${e.code}.`),
    el('p', {}, el('a', { href: '#/tenants' }, 'Back to your tenants')),
  );
  ctx.setView('tenant', 'refused');
}

/** Render tenant `ctx.id` into `main`: its reports for the period in the hash, or the API's refusal. */
export async function renderTenant(main, ctx) {
  const { id } = ctx;
  const period = resolvePeriod(ctx.query);
  const title = ctx.known ? ctx.known.name : id;
  ctx.setView('tenant', 'loading');
  replace(main, el('nav', { class: 'crumbs' }, el('a', { href: '#/tenants' }, 'Tenants'), ' / ', title), el('h1', {}, title), el('p', { class: 'muted' }, 'Loading reports…'));

  const bounds = { from: period.from, to: period.to };
  // The incidents route covers at most 35 days: the last 35 of a longer period (the section says so).
  const incidentsFor = incidentsWindow(period);
  const names = ['slo', 'noisy', 'cost', 'violations', 'recovery', 'incidents', 'audit'];
  const paths = [
    tenantPath(id, 'slo', bounds),
    tenantPath(id, 'noisy-neighbors', bounds),
    tenantPath(id, 'cost', bounds),
    tenantPath(id, 'violations', { status: 'open', ...bounds }),
    tenantPath(id, 'recovery', bounds),
    tenantPath(id, 'incidents', { from: incidentsFor.from, to: incidentsFor.to }),
    tenantPath(id, 'audit/verify'),
  ];
  const settled = await Promise.allSettled(paths.map((p) => getJson(p)));
  if (!ctx.current()) return;
  const errors = settled.filter((s) => s.status === 'rejected').map((s) => s.reason);
  if (errors.some((e) => e instanceof ApiError && e.status === 401)) return ctx.expired();
  const refusal = errors.find((e) => e instanceof ApiError && REFUSALS.has(e.code));
  if (refusal) return refused(main, id, refusal, ctx);

  const r = Object.fromEntries(names.map((n, i) => [n, settled[i].status === 'fulfilled' ? settled[i].value : null]));
  const failed = names.filter((n) => r[n] === null);
  const head = [
    el('nav', { class: 'crumbs' }, el('a', { href: '#/tenants' }, 'Tenants'), ' / ', title),
    el('div', { class: 'title' }, el('h1', {}, title), el('code', { class: 'tenant-id', 'data-figure': 'tenant-id' }, id), ctx.known ? badge(ctx.known.tier) : null, ctx.known ? el('span', { class: 'muted' }, ctx.known.region) : null),
    el('div', { class: 'toolbar card' }, periodForm(id, period), evidenceButtons(id, period, ctx)),
  ];
  if (failed.length) {
    const why = errors.map((e) => (e instanceof ApiError ? `${e.status} ${e.code}: ${e.message}` : String(e))).join('; ');
    replace(main, ...head, el('p', { class: 'notice error', role: 'alert' }, `Could not read ${failed.join(', ')}: ${why}`));
    return ctx.setView('tenant', 'error');
  }
  replace(main, ...head, summary(id, r), sloSection(r.slo), noisySection(id, r.noisy), costSection(r.cost), violationsSection(r.violations), recoverySection(r.recovery), tenantIncidentsSection(r.incidents, incidentsFor), auditSection(r.audit));
  ctx.setView('tenant', 'ready');
}
