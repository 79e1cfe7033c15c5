// The PromQL in dashboards/: every Grafana panel query and every rule expression, ready to be
// checked or run against a Prometheus, plus the metric names an expression selects.
//
// metricNames is a small hand-written scanner, not a parser: npm has no maintained PromQL
// parser meant for Node (the Prometheus project's own package, @prometheus-io/lezer-promql, is
// the grammar of its browser query editor), and listing the metric names for the catalogue
// check needs no syntax tree. Whether the expressions parse is left to Prometheus itself:
// promtool in test/dashboards.test.ts, a real server in the metrics e2e test.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { fromRoot } from '../../src/paths.js';

/** The dashboards folder of the repository. */
export const DASHBOARDS_DIR = fromRoot('dashboards');
const GRAFANA_DIR = join(DASHBOARDS_DIR, 'grafana');
const PROMETHEUS_DIR = join(DASHBOARDS_DIR, 'prometheus');

/** A Grafana datasource reference as panels, targets and variables carry it. */
export interface DatasourceRef {
  type?: string;
  uid?: string;
}

/** One query of a panel. */
export interface Target {
  refId?: string;
  expr?: string;
  datasource?: DatasourceRef;
}

/** A panel, or a row whose `panels` holds its children while it is collapsed. */
export interface Panel {
  id?: unknown;
  type?: string;
  title?: string;
  gridPos?: { h?: number; w?: number; x?: number; y?: number };
  datasource?: DatasourceRef;
  targets?: Target[];
  panels?: Panel[];
}

/** The part of Grafana's dashboard JSON model the tests look at. */
export interface Dashboard {
  uid?: string;
  title?: string;
  tags?: string[];
  schemaVersion?: number;
  refresh?: string;
  time?: { from?: string; to?: string };
  panels?: Panel[];
  templating?: { list?: Array<{ name?: string; type?: string; query?: unknown; definition?: string; datasource?: DatasourceRef; includeAll?: boolean; multi?: boolean }> };
}

/** Every dashboard in dashboards/grafana/, `file` relative to the repository root. */
export function loadDashboards(): { file: string; json: Dashboard }[] {
  return readdirSync(GRAFANA_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: join('dashboards', 'grafana', f), json: JSON.parse(readFileSync(join(GRAFANA_DIR, f), 'utf8')) as Dashboard }));
}

/** The panels of a dashboard, those inside rows included, rows themselves left out. */
export function allPanels(dashboard: Dashboard): Panel[] {
  const out: Panel[] = [];
  const walk = (panels: Panel[] | undefined): void => {
    for (const p of panels ?? []) {
      if (p.type !== 'row') out.push(p);
      walk(p.panels);
    }
  };
  walk(dashboard.panels);
  return out;
}

/**
 * Every panel query of every dashboard, with Grafana's variables filled in the way Grafana
 * would: `$tenant` by the tenant regexp (`.+` is what "All" sends) and the interval variables
 * by `interval`.
 */
export function dashboardQueries(tenant = '.+', interval = '1m'): { source: string; expr: string }[] {
  const out: { source: string; expr: string }[] = [];
  for (const { file, json } of loadDashboards()) {
    for (const panel of allPanels(json)) {
      for (const target of panel.targets ?? []) {
        if (typeof target.expr !== 'string') continue;
        const expr = target.expr
          .replaceAll('$__rate_interval', interval)
          .replaceAll('$__interval', interval)
          .replaceAll('$__range', interval)
          .replaceAll('$tenant', tenant);
        out.push({ source: `${file} panel ${String(panel.id)} "${panel.title ?? ''}" target ${target.refId ?? '?'}`, expr });
      }
    }
  }
  return out;
}

/** The rule files in dashboards/prometheus/ (their unit tests and the example config excluded). */
export function ruleFiles(): string[] {
  return readdirSync(PROMETHEUS_DIR)
    .filter((f) => /-rules\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(PROMETHEUS_DIR, f));
}

/**
 * A prometheus.yml for a test: tenantscope's /metrics at `target` (host:port) scraped with the
 * demo admin token, the rule files evaluated, every second; alerts sent to `alertmanager`
 * (host:port) when given.
 */
export function prometheusConfig(target: string, alertmanager?: string): string {
  return [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    'rule_files:',
    ...ruleFiles().map((f) => `  - ${JSON.stringify(f)}`),
    ...(alertmanager ? ['alerting:', '  alertmanagers:', '    - static_configs:', `        - targets: ["${alertmanager}"]`] : []),
    'scrape_configs:',
    '  - job_name: tenantscope',
    '    authorization:',
    '      type: Bearer',
    '      credentials: demo-admin',
    '    static_configs:',
    `      - targets: ["${target}"]`,
    '',
  ].join('\n');
}

interface RuleFile {
  groups?: Array<{ name?: string; rules?: Array<{ record?: string; alert?: string; expr?: string }> }>;
}

/** Every recording and alerting rule expression of the rule files. */
export function ruleQueries(): { source: string; expr: string; record?: string; alert?: string }[] {
  const out: { source: string; expr: string; record?: string; alert?: string }[] = [];
  for (const path of ruleFiles()) {
    const doc = parse(readFileSync(path, 'utf8')) as RuleFile;
    const file = join('dashboards', 'prometheus', path.slice(PROMETHEUS_DIR.length + 1));
    for (const group of doc.groups ?? []) {
      for (const rule of group.rules ?? []) {
        const name = rule.record ?? rule.alert ?? '?';
        out.push({
          source: `${file} group ${group.name ?? '?'} ${name}`,
          expr: String(rule.expr ?? '').trim(),
          ...(rule.record !== undefined ? { record: rule.record } : {}),
          ...(rule.alert !== undefined ? { alert: rule.alert } : {}),
        });
      }
    }
  }
  return out;
}

// Prometheus's functions (2.42 and a few later ones), so a call is never taken for a metric.
const FUNCTIONS = new Set(
  `abs absent absent_over_time acos acosh asin asinh atan atanh avg_over_time ceil changes clamp
   clamp_max clamp_min cos cosh count_over_time day_of_month day_of_week day_of_year days_in_month
   deg delta deriv exp floor histogram_avg histogram_count histogram_fraction histogram_quantile
   histogram_stddev histogram_stdvar histogram_sum holt_winters double_exponential_smoothing hour
   idelta increase irate label_join label_replace last_over_time ln log10 log2 mad_over_time
   max_over_time min_over_time minute month pi predict_linear present_over_time quantile_over_time
   rad rate resets round scalar sgn sin sinh sort sort_desc sort_by_label sort_by_label_desc sqrt
   stddev_over_time stdvar_over_time sum_over_time tan tanh time timestamp vector year start end`.split(/\s+/),
);
const AGGREGATIONS = new Set('sum min max avg group stddev stdvar count count_values bottomk topk quantile limitk limit_ratio'.split(' '));
const KEYWORDS = new Set('by without on ignoring group_left group_right and or unless offset bool inf nan atan2'.split(' '));

/**
 * The metric names `expr` selects, in order of first appearance, without repeats. Handles the
 * PromQL these dashboards and rules use; a name given only as `{__name__="..."}` is not seen.
 */
export function metricNames(expr: string): string[] {
  const plain = expr
    // String literals may hold anything, label names and regexps included.
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    // Label matchers: only the names in front of the braces count.
    .replace(/\{[^}]*\}/g, '{}')
    // Range and subquery durations.
    .replace(/\[[^\]]*\]/g, '[]')
    // Label lists of grouping and vector matching: `by (tenant)` names a label, not a metric.
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, '$1');
  const names: string[] = [];
  // Numbers (with duration units or hex digits) are matched first so their letters never start a name.
  for (const m of plain.matchAll(/0x[0-9a-f]+|(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?[a-z]*|([a-z_:][a-z0-9_:]*)/gi)) {
    const name = m[1];
    if (name === undefined) continue;
    const lower = name.toLowerCase();
    if (FUNCTIONS.has(name) || AGGREGATIONS.has(lower) || KEYWORDS.has(lower)) continue;
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

/** The samples of one metric in a Prometheus text exposition (as tenantscope's /metrics writes it). */
export function metricSamples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  return [...text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm'))].map((m) => ({
    labels: Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!])),
    value: Number(m[2]),
  }));
}

/**
 * Per tenant, the highest burn rate over its SLIs, from the /metrics counters: the burn rate of
 * every window that holds all of a workload sent in one go.
 */
export function burnRates(text: string): Map<string, number> {
  const key = (l: Record<string, string>) => `${l.tenant}|${l.sli}`;
  const bad = new Map(metricSamples(text, 'tenantscope_sli_bad_events_total').map((s) => [key(s.labels), s.value]));
  const objective = new Map(metricSamples(text, 'tenantscope_slo_objective_ratio').map((s) => [key(s.labels), s.value]));
  const burn = new Map<string, number>();
  for (const s of metricSamples(text, 'tenantscope_sli_events_total')) {
    if (s.value === 0) continue;
    const b = ((bad.get(key(s.labels)) ?? 0) / s.value) / (1 - objective.get(key(s.labels))!);
    burn.set(s.labels.tenant!, Math.max(burn.get(s.labels.tenant!) ?? 0, b));
  }
  return burn;
}
