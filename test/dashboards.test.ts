// The Grafana dashboards, their provisioning files and the Prometheus rules in dashboards/.
// Grafana cannot run here, so its JSON model and provisioning layout are checked by structure;
// the PromQL is checked by promtool when it is installed (the metrics e2e test runs the
// queries against a real Prometheus scraping tenantscope).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parse, stringify } from 'yaml';
import {
  DASHBOARDS_DIR,
  allPanels,
  dashboardQueries,
  loadDashboards,
  metricNames,
  ruleFiles,
  ruleQueries,
  type DatasourceRef,
} from './support/promql.js';

const read = (...parts: string[]): string => readFileSync(join(DASHBOARDS_DIR, ...parts), 'utf8');

const UIDS = ['tenantscope-compliance', 'tenantscope-cost', 'tenantscope-noisy-neighbours', 'tenantscope-overview', 'tenantscope-slo'];
const PANEL_TYPES = new Set(['timeseries', 'stat', 'gauge', 'table', 'bargauge']);
const WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'];
const TENANT_FILTER = 'tenant=~"$tenant"';
// The catalogue's self metrics and cardinality guard: they have no tenant label, so a tenant
// filter would empty the panel.
const SERVICE_WIDE = new Set([
  'tenantscope_ingest_request_duration_seconds_bucket',
  'tenantscope_ingest_request_duration_seconds_count',
  'tenantscope_ingest_request_duration_seconds_sum',
  'tenantscope_ingest_queue_requests',
  'tenantscope_writer_pending_rows',
  'tenantscope_writer_batch_rows_bucket',
  'tenantscope_store_insert_duration_seconds_bucket',
  'tenantscope_store_insert_duration_seconds_count',
  'tenantscope_policy_evaluation_duration_seconds_bucket',
  'tenantscope_errors_total',
  'tenantscope_metrics_refresh_duration_seconds_bucket',
  'tenantscope_metric_tenants',
]);

interface DatasourceFile {
  apiVersion?: number;
  datasources?: Array<{ name?: string; type?: string; uid?: string; url?: string; isDefault?: boolean; access?: string }>;
}
interface ProviderFile {
  apiVersion?: number;
  providers?: Array<{ name?: string; type?: string; folder?: string; options?: { path?: string } }>;
}
const datasourceFile = parse(read('provisioning', 'datasources', 'tenantscope.yaml')) as DatasourceFile;
const providerFile = parse(read('provisioning', 'dashboards', 'tenantscope.yaml')) as ProviderFile;
const declaredUids = new Set((datasourceFile.datasources ?? []).map((d) => d.uid));

let promtool = true;
try {
  execFileSync('promtool', ['--version'], { stdio: 'ignore' });
} catch (err) {
  promtool = false;
  console.log(`skip: promtool is not on PATH (${(err as Error).message}); the promtool checks are skipped`);
}

/** Run promtool, failing with its own output (which names the offending rule or test). */
function runPromtool(args: string[], cwd: string): void {
  try {
    execFileSync('promtool', args, { cwd, encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; status?: number };
    assert.unreachable(`promtool ${args.join(' ')} exited ${e.status}:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/** Every `name{...}` or bare `name` selector of `metric` in `expr`, as its matcher text ('' when bare). */
function selectorsOf(expr: string, metric: string): string[] {
  const escaped = metric.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return [...expr.matchAll(new RegExp(`(?<![\\w:])${escaped}(?![\\w:])\\s*(\\{[^}]*\\})?`, 'g'))].map((m) => m[1] ?? '');
}

test('every file in dashboards/grafana is valid JSON, and together they are the five dashboards', () => {
  const files = readdirSync(join(DASHBOARDS_DIR, 'grafana'));
  for (const f of files) {
    assert.ok(f.endsWith('.json'), `${f}: only dashboards belong in dashboards/grafana (Grafana loads every file there)`);
    try {
      JSON.parse(read('grafana', f));
    } catch (err) {
      assert.unreachable(`${f}: ${(err as Error).message}`);
    }
  }
  assert.equal(loadDashboards().map((d) => d.json.uid).sort(), UIDS);
});

test('each dashboard has its own stable uid, a title, the tenantscope tag, schemaVersion 39, the last 6 hours and a 30 s refresh', () => {
  const seen = new Map<string, string>();
  for (const { file, json } of loadDashboards()) {
    assert.type(json.uid, 'string', `${file}: uid`);
    assert.ok(!seen.has(json.uid!), `${file}: uid ${json.uid} is also used by ${seen.get(json.uid!)}`);
    seen.set(json.uid!, file);
    assert.ok(basename(file) === `${json.uid}.json`, `${file}: file name and uid ${json.uid} differ`);
    assert.ok(typeof json.title === 'string' && json.title.length > 0, `${file}: title`);
    assert.equal(json.tags, ['tenantscope'], `${file}: tags`);
    assert.is(json.schemaVersion, 39, `${file}: schemaVersion`);
    assert.equal(json.time, { from: 'now-6h', to: 'now' }, `${file}: time`);
    assert.is(json.refresh, '30s', `${file}: refresh`);
  }
});

test('panel ids are integers unique within each dashboard, rows and the panels folded inside them included', () => {
  for (const { file, json } of loadDashboards()) {
    const ids: unknown[] = [];
    const walk = (panels: typeof json.panels): void => {
      for (const p of panels ?? []) {
        ids.push(p.id);
        walk(p.panels);
      }
    };
    walk(json.panels);
    for (const id of ids) assert.ok(Number.isInteger(id), `${file}: panel id ${String(id)} is not an integer`);
    const dup = ids.filter((id, i) => ids.indexOf(id) !== i);
    assert.equal(dup, [], `${file}: duplicate panel ids`);
  }
});

test('every panel has a supported type, a grid position inside the 24 columns, and targets with a refId and a non-empty expr', () => {
  for (const { file, json } of loadDashboards()) {
    const panels = allPanels(json);
    assert.ok(panels.length >= 4, `${file}: only ${panels.length} panels`);
    for (const p of panels) {
      const where = `${file} panel ${String(p.id)} "${p.title ?? ''}"`;
      assert.ok(PANEL_TYPES.has(p.type ?? ''), `${where}: type ${p.type}`);
      const g = p.gridPos;
      assert.ok(g && [g.h, g.w, g.x, g.y].every((n) => Number.isInteger(n) && n! >= 0), `${where}: gridPos ${JSON.stringify(g)}`);
      assert.ok(g!.w! >= 1 && g!.x! + g!.w! <= 24 && g!.h! >= 1, `${where}: gridPos ${JSON.stringify(g)} leaves the grid`);
      assert.ok((p.targets ?? []).length > 0, `${where}: no targets`);
      const refIds = (p.targets ?? []).map((t) => t.refId);
      assert.is(new Set(refIds).size, refIds.length, `${where}: refIds ${refIds.join(',')} repeat`);
      for (const t of p.targets ?? []) {
        assert.ok(typeof t.refId === 'string' && t.refId.length > 0, `${where}: target without refId`);
        assert.ok(typeof t.expr === 'string' && t.expr.trim().length > 0, `${where} target ${t.refId}: empty expr`);
      }
    }
  }
});

test('the datasource provisioning file declares one default Prometheus datasource, tenantscope-prometheus at localhost:9090', () => {
  assert.is(datasourceFile.apiVersion, 1);
  assert.is(datasourceFile.datasources?.length, 1);
  const ds = datasourceFile.datasources![0]!;
  assert.is(ds.type, 'prometheus');
  assert.is(ds.uid, 'tenantscope-prometheus');
  assert.is(ds.url, 'http://localhost:9090');
  assert.is(ds.isDefault, true);
  assert.ok(ds.name, 'a provisioned datasource needs a name');
});

test('every datasource reference in panels, targets and variables resolves to the provisioned Prometheus datasource', () => {
  const check = (ref: DatasourceRef | undefined, where: string): void => {
    assert.ok(ref, `${where}: no datasource`);
    assert.is(ref!.type, 'prometheus', `${where}: datasource type`);
    assert.ok(declaredUids.has(ref!.uid), `${where}: datasource uid ${ref!.uid} is not provisioned`);
  };
  for (const { file, json } of loadDashboards()) {
    for (const p of allPanels(json)) {
      check(p.datasource, `${file} panel ${String(p.id)}`);
      for (const t of p.targets ?? []) check(t.datasource, `${file} panel ${String(p.id)} target ${t.refId}`);
    }
    for (const v of json.templating?.list ?? []) if (v.type === 'query') check(v.datasource, `${file} variable ${v.name}`);
  }
});

test('every dashboard offers a tenant variable: a multi-value Prometheus label_values query with All', () => {
  for (const { file, json } of loadDashboards()) {
    const v = (json.templating?.list ?? []).find((x) => x.name === 'tenant');
    assert.ok(v, `${file}: no tenant variable`);
    assert.is(v!.type, 'query', file);
    assert.is(v!.includeAll, true, `${file}: includeAll`);
    assert.is(v!.multi, true, `${file}: multi`);
    const query = typeof v!.query === 'string' ? v!.query : (v!.query as { query?: string } | undefined)?.query;
    assert.match(query ?? '', /^label_values\(\s*[a-z_:]+\s*,\s*tenant\s*\)$/, `${file}: tenant variable query`);
  }
});

test('every selector of a per-tenant series filters on $tenant, and no service-wide metric is filtered on it', () => {
  for (const { file, json } of loadDashboards()) {
    for (const p of allPanels(json)) {
      for (const t of p.targets ?? []) {
        const where = `${file} panel ${String(p.id)} target ${t.refId}: ${t.expr}`;
        for (const name of metricNames(t.expr ?? '')) {
          for (const matchers of selectorsOf(t.expr!, name)) {
            if (SERVICE_WIDE.has(name)) assert.not.ok(matchers.includes('$tenant'), `${where}: ${name} has no tenant label`);
            else assert.ok(matchers.includes(TENANT_FILTER), `${where}: ${name} is not filtered with ${TENANT_FILTER}`);
          }
        }
      }
    }
  }
});

test('rate and irate in panels use $__rate_interval, so Grafana sizes the window to the scrape interval', () => {
  for (const { file, json } of loadDashboards()) {
    for (const p of allPanels(json)) {
      for (const t of p.targets ?? []) {
        for (const m of (t.expr ?? '').matchAll(/\b(rate|irate)\s*\([^[]*\[([^\]]*)\]/g)) {
          assert.is(m[2], '$__rate_interval', `${file} panel ${String(p.id)} target ${t.refId}: ${m[0]}`);
        }
      }
    }
  }
});

test('dashboardQueries lists every target of every panel, rows included, with the variables filled in', () => {
  const targets = loadDashboards().reduce((n, d) => n + allPanels(d.json).reduce((m, p) => m + (p.targets ?? []).length, 0), 0);
  const all = dashboardQueries();
  assert.is(all.length, targets);
  for (const q of all) assert.not.ok(q.expr.includes('$'), `${q.source}: ${q.expr} still has a variable`);
  // A collapsed row holds its panels in its own `panels`; they must not be missed.
  const nested = loadDashboards().flatMap(({ file, json }) =>
    (json.panels ?? []).filter((p) => p.type === 'row').flatMap((row) => (row.panels ?? []).map((p) => `${file} panel ${String(p.id)} "${p.title ?? ''}"`)),
  );
  assert.ok(nested.length > 0, 'no dashboard has a collapsed row to check');
  for (const panel of nested) assert.ok(all.some((q) => q.source.startsWith(panel)), `${panel} is missing from dashboardQueries`);
  const one = dashboardQueries('acme-dist|globex-3pl', '2m');
  assert.ok(one.some((q) => q.expr.includes('tenant=~"acme-dist|globex-3pl"')));
  assert.ok(one.some((q) => q.expr.includes('[2m]')));
  assert.not.ok(one.some((q) => q.expr.includes('.+')));
});

test('the dashboard provider loads files from the absolute folder the README copies and mounts grafana/ into', () => {
  assert.is(providerFile.apiVersion, 1);
  assert.is(providerFile.providers?.length, 1);
  const provider = providerFile.providers![0]!;
  assert.is(provider.type, 'file');
  const path = provider.options?.path ?? '';
  assert.ok(path.startsWith('/'), `options.path ${path} must be absolute: Grafana resolves it on its own host`);
  assert.is(basename(path), 'tenantscope', 'the folder is named after the product, as in the README');
  const readme = read('README.md');
  assert.ok(readme.includes(`cp dashboards/grafana/*.json ${path}/`), `README: no copy command into ${path}`);
  assert.ok(readme.includes(`dashboards/grafana:${path}`), `README: no mount of dashboards/grafana at ${path}`);
});

test('metricNames picks the selected metrics out of an expression and nothing else', () => {
  assert.equal(metricNames('sum by (tenant, signal) (rate(tenantscope_ingested_bytes_total{tenant=~"$tenant", signal!="audit"}[$__rate_interval]))'), [
    'tenantscope_ingested_bytes_total',
  ]);
  assert.equal(metricNames('histogram_quantile(0.99, sum by (le) (rate(tenantscope_store_insert_duration_seconds_bucket{outcome="ok"}[5m])))'), [
    'tenantscope_store_insert_duration_seconds_bucket',
  ]);
  assert.equal(
    metricNames('tenant_sli:bad_ratio:rate1h / on (tenant, tier, sli) group_left () (1 - max by (tenant, tier, sli) (tenantscope_slo_objective_ratio))'),
    ['tenant_sli:bad_ratio:rate1h', 'tenantscope_slo_objective_ratio'],
  );
  assert.equal(metricNames('up offset 5m unless ignoring (job) down == bool 0x1F or vector(1e3) and ALERTS{alertname=~"sum|rate"}'), ['up', 'down', 'ALERTS']);
  assert.equal(metricNames('count(max without (tier) (a) == 0) OR label_replace(b, "dst", "$1", "src", "(.*)") BY (x)'), ['a', 'b']);
  assert.equal(metricNames('max_over_time(deriv(c[1h30m])[1d:5m])'), ['c']);
  assert.equal(metricNames('vector(0)'), []);
});

test('every metric the dashboards and rules read is in metrics.txt, a recording rule or ALERTS, and metrics.txt lists nothing unused', () => {
  const listed = read('metrics.txt').split('\n').filter((l) => l !== '');
  for (const name of listed) assert.match(name, /^tenantscope_[a-z0-9_]+$/, `metrics.txt: ${JSON.stringify(name)} is not a tenantscope metric name`);
  assert.is(new Set(listed).size, listed.length, 'metrics.txt repeats a name');
  const recorded = new Set(ruleQueries().flatMap((r) => (r.record ? [r.record] : [])));
  const used = new Set<string>();
  const queries = [...dashboardQueries(), ...ruleQueries()];
  for (const { json } of loadDashboards()) {
    for (const v of json.templating?.list ?? []) if (v.definition) queries.push({ source: `variable ${v.name}`, expr: v.definition.replace(/^label_values\((.*),[^,]*\)$/, '$1') });
  }
  for (const q of queries) {
    for (const name of metricNames(q.expr)) {
      used.add(name);
      assert.ok(listed.includes(name) || recorded.has(name) || name === 'ALERTS', `${q.source}: ${name} is not in dashboards/metrics.txt`);
    }
  }
  for (const name of listed) assert.ok(used.has(name), `metrics.txt: ${name} is read by no dashboard or rule`);
});

test('the rule files parse, and each rule either records or alerts and has an expression', () => {
  assert.ok(ruleFiles().length > 0);
  for (const path of ruleFiles()) {
    const doc = parse(readFileSync(path, 'utf8')) as { groups?: Array<{ name?: string; rules?: Array<Record<string, unknown>> }> };
    assert.ok(Array.isArray(doc.groups) && doc.groups.length > 0, `${path}: no groups`);
    for (const g of doc.groups!) {
      assert.ok(g.name, `${path}: a group without a name`);
      for (const r of g.rules ?? []) {
        assert.ok((r.record === undefined) !== (r.alert === undefined), `${path}: ${JSON.stringify(r)} must either record or alert`);
        assert.ok(typeof r.expr === 'string' && r.expr.trim() !== '', `${path}: ${String(r.record ?? r.alert)} has no expr`);
      }
    }
  }
  const tests = parse(read('prometheus', 'tenantscope-rules.test.yml')) as { rule_files?: string[]; tests?: unknown[] };
  assert.equal(tests.rule_files, ruleFiles().map((p) => basename(p)));
  assert.ok((tests.tests ?? []).length >= 3);
});

test('the recording rules are the bad ratio and the burn rate of each of the seven windows, per tenant, tier and sli', () => {
  const rules = new Map(ruleQueries().flatMap((r) => (r.record ? [[r.record, r.expr.replace(/\s+/g, ' ')] as const] : [])));
  for (const w of WINDOWS) {
    const ratio = rules.get(`tenant_sli:bad_ratio:rate${w}`);
    assert.is(
      ratio,
      `sum by (tenant, tier, sli) (rate(tenantscope_sli_bad_events_total[${w}])) / sum by (tenant, tier, sli) (rate(tenantscope_sli_events_total[${w}]))`,
    );
    const burn = rules.get(`tenant_sli:burn_rate:rate${w}`);
    assert.is(burn, `tenant_sli:bad_ratio:rate${w} / on (tenant, tier, sli) group_left () (1 - max by (tenant, tier, sli) (tenantscope_slo_objective_ratio))`);
  }
  // The minimum-traffic guard's event counts, one per long window of an alert pair.
  for (const w of ['1h', '6h', '1d', '3d']) assert.is(rules.get(`tenant_sli:events:increase${w}`), `sum by (tenant, tier, sli) (increase(tenantscope_sli_events_total[${w}]))`);
  const incident = ['region:tenantscope_tenants_burning:count', 'tier:tenantscope_tenants_burning:count', 'region:tenantscope_tenants_with_traffic:count'];
  for (const name of incident) assert.ok(rules.has(name), `${name} is recorded`);
  // Burning means a page pair's alert, pending or firing, so the count inherits its guard.
  for (const name of incident.slice(0, 2)) assert.ok(rules.get(name)!.includes('ALERTS{alertname=~"TenantSLOBurnRate1h5m|TenantSLOBurnRate6h30m"}'), name);
  assert.is(rules.size, 2 * WINDOWS.length + 4 + incident.length, 'no recording rule beyond these');
});

interface AlertRule {
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
/** The alerts of one group of tenantscope-rules.yml. */
function groupAlerts(name: string): AlertRule[] {
  const doc = parse(read('prometheus', 'tenantscope-rules.yml')) as { groups: Array<{ name: string; rules: AlertRule[] }> };
  return doc.groups.filter((g) => g.name === name).flatMap((g) => g.rules.filter((r) => r.alert));
}

test('the four burn-rate alerts pair the catalogue windows and thresholds behind the minimum-traffic guard, page after 2m and ticket after 15m, naming tenant and sli', () => {
  const alerts = groupAlerts('tenantscope-slo').filter((a) => a.alert!.startsWith('TenantSLOBurnRate'));
  const expected = [
    ['TenantSLOBurnRate1h5m', '1h', '5m', '14.4', 'page', '2m'],
    ['TenantSLOBurnRate6h30m', '6h', '30m', '6', 'page', '2m'],
    ['TenantSLOBurnRate1d2h', '1d', '2h', '3', 'ticket', '15m'],
    ['TenantSLOBurnRate3d6h', '3d', '6h', '1', 'ticket', '15m'],
  ] as const;
  assert.equal(alerts.map((a) => a.alert), expected.map((e) => e[0]));
  for (const [name, long, short, threshold, severity, hold] of expected) {
    const a = alerts.find((x) => x.alert === name)!;
    assert.is(
      a.expr.replace(/\s+/g, ' ').trim(),
      `( tenant_sli:burn_rate:rate${long} > ${threshold} and on (tenant, tier, sli) tenant_sli:burn_rate:rate${short} > ${threshold}` +
        ` and on (tenant, tier, sli) tenant_sli:events:increase${long} >= on (tenant, tier) group_left () max by (tenant, tier) (tenantscope_slo_min_events) )` +
        ' * on (tenant, tier) group_left (region) max by (tenant, tier, region) (tenantscope_tenant_info)',
      name,
    );
    assert.is(a.for, hold, `${name}: for`);
    // scope and region are what Alertmanager's routes and inhibition rules match.
    assert.equal(a.labels, { severity, scope: 'tenant' }, `${name}: labels`);
    for (const key of ['summary', 'description']) {
      const text = a.annotations?.[key] ?? '';
      assert.ok(text.includes('{{ $labels.tenant }}') && text.includes('{{ $labels.sli }}'), `${name}: ${key} must name the tenant and the sli`);
    }
  }
});

test('the incident alerts page with scope regional (per region) and platform, after the same 2m as the tenant pages they cover', () => {
  const alerts = groupAlerts('tenantscope-slo');
  assert.equal(alerts.map((a) => a.alert), ['TenantSLOBurnRate1h5m', 'TenantSLOBurnRate6h30m', 'TenantSLOBurnRate1d2h', 'TenantSLOBurnRate3d6h', 'TenantscopeRegionalIncident', 'TenantscopePlatformIncident']);
  const regional = alerts.find((a) => a.alert === 'TenantscopeRegionalIncident')!;
  assert.is(regional.expr.trim(), 'region:tenantscope_tenants_burning:count >= 2');
  assert.equal(regional.labels, { severity: 'page', scope: 'regional' });
  const platform = alerts.find((a) => a.alert === 'TenantscopePlatformIncident')!;
  assert.is(
    platform.expr.replace(/\s+/g, ' ').trim(),
    'sum(region:tenantscope_tenants_burning:count) >= 0.5 * sum(region:tenantscope_tenants_with_traffic:count) and count(region:tenantscope_tenants_burning:count > 0) >= 2',
  );
  assert.equal(platform.labels, { severity: 'page', scope: 'platform' });
  for (const a of [regional, platform]) {
    assert.is(a.for, '2m', `${a.alert}: for`);
    assert.ok(a.annotations?.summary && a.annotations.description, `${a.alert}: annotations`);
  }
  assert.ok(regional.annotations!.summary!.includes('{{ $labels.region }}'), 'the regional alert names its region');
});

test("the recovery alerts hold each tenant to its own objectives, per component for backups, naming the tenant", () => {
  const alerts = groupAlerts('tenantscope-recovery');
  const expected = [
    ['TenantBackupOlderThanRPO', 'max by (tenant, tier, component) (tenantscope_backup_age_seconds{required="true"}) > on (tenant, tier) group_left () max by (tenant, tier) (tenantscope_recovery_rpo_seconds)', 'page', '5m'],
    ['TenantBackupMissing', 'max by (tenant, tier, component) (tenantscope_backup_missing) == 1', 'ticket', '15m'],
    ['TenantRestoreTestOverdue', 'max by (tenant, tier) (tenantscope_restore_test_age_seconds) > on (tenant, tier) group_left () max by (tenant, tier) (tenantscope_restore_test_interval_seconds)', 'ticket', '15m'],
    ['TenantRestoreTestMissing', 'max by (tenant, tier) (tenantscope_restore_test_missing) == 1', 'ticket', '15m'],
  ] as const;
  assert.equal(alerts.map((a) => a.alert), expected.map((e) => e[0]));
  for (const [name, expr, severity, hold] of expected) {
    const a = alerts.find((x) => x.alert === name)!;
    assert.is(a.expr.replace(/\s+/g, ' ').trim(), expr, name);
    assert.is(a.for, hold, `${name}: for`);
    assert.equal(a.labels, { severity }, `${name}: labels`);
    for (const key of ['summary', 'description']) {
      const text = a.annotations?.[key] ?? '';
      assert.ok(text.includes('{{ $labels.tenant }}'), `${name}: ${key} must name the tenant`);
      if (expr.includes('component')) assert.ok(text.includes('{{ $labels.component }}'), `${name}: ${key} must name the component`);
    }
  }
  const all = parse(read('prometheus', 'tenantscope-rules.yml')) as { groups: Array<{ name: string }> };
  assert.equal(all.groups.map((g) => g.name), ['tenantscope-slo', 'tenantscope-recovery'], 'no alert outside the two known groups');
});

test('the example Prometheus config scrapes localhost:8080/metrics with a bearer token file and loads the rules', () => {
  const doc = parse(read('prometheus', 'prometheus.yml')) as {
    rule_files?: string[];
    scrape_configs?: Array<{ metrics_path?: string; static_configs?: Array<{ targets?: string[] }>; authorization?: { type?: string; credentials_file?: string; credentials?: string } }>;
  };
  assert.equal(doc.rule_files, ['tenantscope-rules.yml']);
  const job = doc.scrape_configs?.[0];
  assert.ok(job);
  assert.is(job!.metrics_path ?? '/metrics', '/metrics');
  assert.equal(job!.static_configs?.[0]?.targets, ['localhost:8080']);
  assert.is(job!.authorization?.type, 'Bearer');
  assert.ok(job!.authorization?.credentials_file, 'the token is read from a file');
  assert.is(job!.authorization?.credentials, undefined, 'no token in the config itself');
});

if (promtool) {
  test('promtool check rules accepts the rule files', () => {
    for (const path of ruleFiles()) runPromtool(['check', 'rules', path], DASHBOARDS_DIR);
  });

  test('promtool test rules: fast burns page at the expected minute, slow burns only ticket, healthy and low-traffic tenants fire nothing, incidents are regional or platform by their counts; stale or missing recovery evidence alerts', () => {
    runPromtool(['test', 'rules', 'tenantscope-rules.test.yml'], join(DASHBOARDS_DIR, 'prometheus'));
  });

  test('every dashboard query parses as PromQL (promtool checks them as recording rules)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tenantscope-dashboards-'));
    try {
      const queries = dashboardQueries();
      const rules = queries.map((q, i) => ({ record: `dashboard:query:${i}`, expr: q.expr }));
      const file = join(dir, 'queries.yml');
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard-queries', rules }] }));
      try {
        execFileSync('promtool', ['check', 'rules', file], { encoding: 'utf8', stdio: 'pipe' });
      } catch (err) {
        const e = err as { stdout?: string; stderr?: string };
        const out = `${e.stdout ?? ''}${e.stderr ?? ''}`;
        // promtool names the failing rule, whose number maps back to the panel.
        const which = queries.filter((_, i) => out.includes(`"dashboard:query:${i}"`)).map((q) => q.source);
        assert.unreachable(`promtool rejected a dashboard query:\n${out}\n${which.join('\n')}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('promtool check config accepts the example Prometheus config once its token file exists', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tenantscope-prometheus-'));
    try {
      const token = join(dir, 'token');
      writeFileSync(token, 'demo-admin');
      const doc = parse(read('prometheus', 'prometheus.yml')) as { scrape_configs: Array<{ authorization: { credentials_file: string } }> };
      doc.scrape_configs[0]!.authorization.credentials_file = token;
      writeFileSync(join(dir, 'prometheus.yml'), stringify(doc));
      for (const path of ruleFiles()) copyFileSync(path, join(dir, basename(path)));
      runPromtool(['check', 'config', 'prometheus.yml'], dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test.run();
