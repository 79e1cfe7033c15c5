// The dashboards and rules against a real Prometheus: tenantscope runs a simulated workload
// (a noisy neighbour, an incident, a cross-tenant leak, misconfigured senders, a tenant over
// its quota, audit events, backup and restore-test facts), Debian's prometheus scrapes
// /metrics every second and evaluates the rules, and then every PromQL expression of every
// dashboard panel and every rule is run through Prometheus's HTTP query API: each must parse
// and return data.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate, type ScenarioName } from '../../src/simulate/index.js';
import { fromRoot } from '../../src/paths.js';
import { bearer, startTestServer, type TestServer } from '../support/server.js';
import { freePort } from '../support/net.js';
import { postFacts as postRecoveryFacts, recoveryFact } from '../support/recovery.js';
import { auditEvent } from '../support/audit.js';
import { runStreams } from '../support/fairness-load.js';
import { burnRates, dashboardQueries, metricNames, prometheusConfig, ruleQueries } from '../support/promql.js';
import { until } from '../support/wait.js';
import { onPath } from '../support/commands.js';

const HOUR = 3_600_000;
/** A burn this far over the 1h/5m page threshold (14.4x) must have its alert pending. */
const FAR = 1.25 * 14.4;


interface PromResult {
  status: string;
  error?: string;
  data?: { resultType: string; result: unknown[] };
}

let server: TestServer;
let prom: ChildProcess;
let promUrl: string;
let promDir: string;
let metricsText: string;

async function query(expr: string): Promise<PromResult> {
  const res = await fetch(`${promUrl}/api/v1/query?${new URLSearchParams({ query: expr })}`);
  return (await res.json()) as PromResult;
}

/** Tenants for which the 1h/5m page alert is pending or firing. */
async function pageAlerting(): Promise<Set<string>> {
  const r = await query('ALERTS{alertname="TenantSLOBurnRate1h5m"}');
  return new Set((r.data?.result as Array<{ metric: Record<string, string> }> | undefined ?? []).map((x) => x.metric.tenant!));
}

const postFacts = (token: string, events: unknown[]) => postRecoveryFacts(server.otlpHttpUrl, token, events);

if (!onPath('prometheus') || !onPath('promtool')) {
  console.log('prometheus: skipped, the prometheus and promtool commands are not installed (Debian package prometheus; .ci/run installs it)');
} else {
  test.before(async () => {
    server = await startTestServer({ metrics: { refreshMs: 1000 } });
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    promDir = mkdtempSync(join(tmpdir(), 'tenantscope-prometheus-'));
    const api = new URL(server.apiUrl);
    writeFileSync(join(promDir, 'prometheus.yml'), prometheusConfig(api.host));
    prom = spawn('prometheus', [`--config.file=${join(promDir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(promDir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
    await until('Prometheus to scrape tenantscope', async () => ((await query('up{job="tenantscope"} == 1')).data?.result.length ?? 0) > 0);

    // The workload: one simulated hour ending now per scenario, so the noisy-neighbour window
    // (the last hour) holds the burst; counters are counted as the data arrives.
    const endMs = Date.now();
    // The incident four times over, so umbrella-pharma's errors burn its budget past 14.4x.
    const scenarios: ScenarioName[] = ['eod-burst', 'incident', 'incident', 'incident', 'incident', 'leak', 'misconfig'];
    // A seed each: the same seed would send the same ordinary traffic, which is recognised as resent.
    const lost: string[] = [];
    let seed = 11;
    const run = async (scenario: ScenarioName) => {
      // Telemetry only: the recovery facts below are chosen so every recovery alert has data.
      const sim = await simulate({ scenario, endpoint: server.otlpHttpUrl, seed: seed++, durationSec: 2, periodMs: HOUR, endMs, recovery: false });
      if (sim.exports.traces.failedItems > 0) lost.push(`${scenario}: ${sim.exports.traces.failedItems} spans lost (${sim.exports.traces.errors.join('; ')})`);
    };
    for (const scenario of scenarios) await run(scenario);
    // How far the incident burns depends on the tenants' day shapes, so on the hour the test runs
    // (26x at noon UTC, 21-24x just after midnight, where more incident hours no longer raise it:
    // each adds its ordinary traffic too): more incident hours until the counters say it burns
    // past 1.5 times the page threshold, so that the alert check below has a tenant well above it.
    const umbrellaBurn = async () => {
      await server.settle();
      const text = await (await fetch(`${server.apiUrl}/metrics`, { headers: bearer('demo-admin') })).text();
      return burnRates(text).get('umbrella-pharma') ?? 0;
    };
    let extra = 0;
    for (; extra < 12 && (await umbrellaBurn()) <= 1.5 * 14.4; extra++) await run('incident');
    console.log(`incident hours: ${4 + extra}; umbrella-pharma burns ${(await umbrellaBurn()).toFixed(1)}x`);
    const audit = await fetch(`${server.otlpHttpUrl}/v1/audit`, {
      method: 'POST',
      headers: { ...bearer('demo-ingest-acme-dist'), 'content-type': 'application/json' },
      body: JSON.stringify([auditEvent(), auditEvent({ attributes: { 'contact.email': 'jane.doe@example.com' } })]),
    });
    assert.is(audit.status, 200, await audit.text());
    // Recovery evidence for the recovery panels and alerts: stark-logistics's database backed up
    // 2 hours ago (past its 15-minute RPO), acme-dist's last restore test 100 days ago (past its
    // 90 days); every other required component and restore test is missing.
    await postFacts('demo-ingest-stark-logistics', [recoveryFact('backup.completed', Date.now() - 2 * HOUR, { component: 'database', scope: 'tenant', snapshot_time: new Date(Date.now() - 2 * HOUR).toISOString(), retention_days: '90', location_region: 'us-east-1', encryption_key_id: 'kms-stark-logistics-1' })]);
    await postFacts('demo-ingest-acme-dist', [recoveryFact('restore.tested', Date.now() - 100 * 24 * HOUR, { component: 'database', scope: 'tenant', duration_seconds: '600' })]);
    // initech-retail at ten times its quota for two seconds: refused requests.
    const [flood] = await runStreams(server.otlpHttpUrl, [{ token: 'demo-ingest-initech-retail', rate: 20, spansPerRequest: 1000 }], 2000);
    assert.ok(flood!.refused > 0, 'the flood was refused in part');
    // Report gauges are recomputed every second; rates need a few scrapes after the workload.
    await new Promise((r) => setTimeout(r, 2500));
    // The workload is over, so the counters are final: wait (bounded) for the rule evaluation
    // to catch up with every tenant they say burns far above the page threshold.
    metricsText = await (await fetch(`${server.apiUrl}/metrics`, { headers: bearer('demo-admin') })).text();
    const far = [...burnRates(metricsText)].filter(([, b]) => b > FAR).map(([t]) => t);
    const burning = JSON.stringify(Object.fromEntries([...burnRates(metricsText)].map(([t, b]) => [t, Number(b.toFixed(2))])));
    await until(`the fast-burn alert to be pending for ${far.join(', ') || '(none)'}; burn rates ${burning}; ${lost.join(', ') || 'no span lost'}`, async () => {
      const alerting = await pageAlerting();
      return far.length > 0 && far.every((t) => alerting.has(t));
    }, 90_000); // generous: on a loaded machine scrapes and rule evaluations fall behind
  });

  test.after(async () => {
    prom?.kill('SIGTERM');
    await server?.stop();
    if (promDir) rmSync(promDir, { recursive: true, force: true });
  });

  test('every dashboard panel query parses in Prometheus and returns data', async () => {
    const queries = dashboardQueries('.+', '1m');
    assert.ok(queries.length >= 20, `${queries.length} panel queries`);
    const failures: string[] = [];
    for (const q of queries) {
      const r = await query(q.expr);
      if (r.status !== 'success') failures.push(`${q.source}: ${r.error} in ${q.expr}`);
      else if ((r.data?.result.length ?? 0) === 0) failures.push(`${q.source}: no data for ${q.expr}`);
    }
    assert.equal(failures, []);
  });

  // The incident alerts hold only while several tenants burn at once, which this workload
  // (one tenant's incident) must not produce; the counts they compare are recording rules,
  // which are held to returning data like every other rule.
  const EMPTY_WITHOUT_SHARED_INCIDENT = new Set(['TenantscopeRegionalIncident', 'TenantscopePlatformIncident']);

  test('every recording and alerting rule expression parses and returns data (the incident alerts parse)', async () => {
    const rules = ruleQueries();
    assert.ok(rules.some((r) => r.alert) && rules.some((r) => r.record));
    const failures: string[] = [];
    for (const q of rules) {
      const r = await query(q.expr);
      if (r.status !== 'success') failures.push(`${q.record ?? q.alert}: ${r.error}`);
      else if ((r.data?.result.length ?? 0) === 0 && !EMPTY_WITHOUT_SHARED_INCIDENT.has(q.alert ?? '')) failures.push(`${q.record ?? q.alert}: no data for ${q.expr}`);
    }
    assert.equal(failures, []);
  });

  test("the fast-burn page alert is pending for the tenants whose SLI counters burn far above 14.4, and for none far below", async () => {
    // Worked out from tenantscope's own counters, not from the rules: the run is shorter than
    // five minutes, so both windows of the pair see the whole run. The SLI counters exist at
    // zero from the start, yet margins around the threshold keep scrape timing out of it.
    const burn = burnRates(metricsText);
    const alerting = await pageAlerting();
    // FAR (1.25 x 14.4) and half the threshold: margins that keep scrape timing out of it.
    const far = [...burn].filter(([, b]) => b > FAR).map(([t]) => t);
    const calm = [...burn].filter(([, b]) => b < 14.4 / 2).map(([t]) => t);
    assert.ok(far.length > 0, `a tenant burns fast in this workload (${JSON.stringify(Object.fromEntries(burn))})`);
    for (const t of far) assert.ok(alerting.has(t), `${t} burns at ${burn.get(t)!.toFixed(1)}x: alert expected`);
    for (const t of calm) assert.not.ok(alerting.has(t), `${t} burns at ${burn.get(t)!.toFixed(2)}x: no alert expected`);
  });

  test("each tenant with a fast-burn page pending is counted as burning in its region and tier", async () => {
    const pages = await query('max by (tenant, tier, region) (ALERTS{alertname="TenantSLOBurnRate1h5m"})');
    const tenants = (pages.data?.result as Array<{ metric: Record<string, string> }> | undefined) ?? [];
    assert.ok(tenants.length > 0, 'a tenant pages in this workload');
    for (const { metric } of tenants) {
      assert.ok(metric.region, `${metric.tenant}: the page carries the tenant's region`);
      for (const [rule, label] of [['region:tenantscope_tenants_burning:count', 'region'], ['tier:tenantscope_tenants_burning:count', 'tier']] as const) {
        const r = await query(`${rule}{${label}="${metric[label]}"} >= 1`);
        assert.is(r.data?.result.length, 1, `${metric.tenant}: ${rule} for ${label} ${metric[label]}`);
      }
    }
  });

  test('every metric a dashboard or rule names is exposed on /metrics', () => {
    const exposed = new Set(metricsText.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(l)![0]));
    const recorded = new Set(ruleQueries().flatMap((r) => (r.record ? [r.record] : [])));
    const named = new Set([...dashboardQueries(), ...ruleQueries()].flatMap((q) => metricNames(q.expr)));
    const listed = readFileSync(fromRoot('dashboards', 'metrics.txt'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    const missing = [...named, ...listed].filter((n) => !exposed.has(n) && !recorded.has(n) && n !== 'ALERTS');
    assert.equal([...new Set(missing)], []);
  });

  test('the /metrics exposition passes promtool check metrics', () => {
    let out = '';
    try {
      out = execFileSync('promtool', ['check', 'metrics'], { input: metricsText, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (e) {
      const x = e as { stdout?: string; stderr?: string };
      assert.unreachable(`promtool check metrics failed: ${x.stdout ?? ''}${x.stderr ?? ''}`);
    }
    assert.is(out.trim(), '');
  });

  test('a read token scrapes only its own tenant; an ingest token and no token are refused', async () => {
    const own = await (await fetch(`${server.apiUrl}/metrics`, { headers: bearer('demo-read-acme-dist') })).text();
    const tenants = new Set([...own.matchAll(/tenant="([^"]*)"/g)].map((m) => m[1]));
    assert.equal([...tenants], ['acme-dist']);
    assert.is((await fetch(`${server.apiUrl}/metrics`, { headers: bearer('demo-ingest-acme-dist') })).status, 403);
    assert.is((await fetch(`${server.apiUrl}/metrics`)).status, 401);
  });
}

test.run();
