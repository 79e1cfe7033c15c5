// runner-timeout-minutes: 9
// One outage, one page (issue 22): the shipped rules and Alertmanager configuration end to end.
// Per run, a tenantscope of its own (`tenantscope serve`, its own process: chDB holds one data
// directory per process) receives a simulated hour of a scenario, Debian's prometheus scrapes
// it every second and evaluates dashboards/prometheus/tenantscope-rules.yml every second, and
// sends to Debian's prometheus-alertmanager running a copy of
// dashboards/alertmanager/alertmanager.yml whose webhook URLs (and nothing else) point at a
// receiver in this test, which records every notification.
//
// `platform-outage` must page once, on incident-pages, with TenantscopePlatformIncident, while
// every tenant's page reaches Alertmanager and is muted; `incident` (umbrella-pharma alone) must
// page once, on tenant-pages, for umbrella-pharma, and never on incident-pages. The tickets
// receiver is only reported: no ticket alert can fire within a run (their `for` is 15m), and
// what a ticket says is not what issue 22 is about. The rules' `for` and the routes' group_wait
// are the shipped ones, in real time, so the two runs share the wait: about four minutes in all.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { simulate, type ScenarioName } from '../../src/simulate/index.js';
import { fromRoot } from '../../src/paths.js';
import { serveCli, stopCli, type Serving } from '../support/cli.js';
import { bearer, DEMO_CONFIG } from '../support/server.js';
import { freePort } from '../support/net.js';
import { burnRates, metricSamples, prometheusConfig, ruleFiles } from '../support/promql.js';
import { until } from '../support/wait.js';
import { onPath } from '../support/commands.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const AM_CONFIG = fromRoot('dashboards', 'alertmanager', 'alertmanager.yml');
/** The fast-burn page threshold of the 1h/5m pair. */
const PAGE_BURN = 14.4;


/** Alertmanager's durations as its configuration writes them (90s, 1m, 4h, 1h30m). */
function durationMs(text: string): number {
  const parts = [...text.matchAll(/(\d+)(ms|s|m|h|d)/g)];
  assert.ok(parts.length > 0 && parts.map((p) => p[0]).join('') === text, `a duration: ${text}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
  return parts.reduce((sum, p) => sum + Number(p[1]) * unit[p[2] as keyof typeof unit], 0);
}

interface AmRoute {
  receiver?: string;
  group_wait?: string;
  routes?: AmRoute[];
}
interface AmConfig {
  route: AmRoute;
  receivers: Array<{ name: string; webhook_configs?: Array<{ url: string }> }>;
}
const shipped = parse(readFileSync(AM_CONFIG, 'utf8')) as AmConfig;

/** The group_wait of the route that sends to `receiver` (the root's when the route sets none). */
function groupWaitOf(receiver: string): number {
  const route = shipped.route.routes?.find((r) => r.receiver === receiver);
  assert.ok(route, `a route to ${receiver} in ${AM_CONFIG}`);
  return durationMs(route!.group_wait ?? shipped.route.group_wait ?? '30s');
}

/** The `for` of an alerting rule in the shipped rule files. */
function forOf(alert: string): number {
  for (const file of ruleFiles()) {
    const doc = parse(readFileSync(file, 'utf8')) as { groups: Array<{ rules: Array<{ alert?: string; for?: string }> }> };
    const rule = doc.groups.flatMap((g) => g.rules).find((r) => r.alert === alert);
    if (rule) return durationMs(rule.for ?? '0s');
  }
  throw new Error(`no alerting rule ${alert} in ${ruleFiles().join(', ')}`);
}

/**
 * The shipped configuration with each receiver's webhook URL replaced by `hooks/<receiver>`:
 * the url lines are replaced as text, so every other byte is the shipped file's.
 */
function amConfigWithHooks(hooks: string): string {
  const text = readFileSync(AM_CONFIG, 'utf8');
  let copy = text;
  for (const r of shipped.receivers) {
    for (const w of r.webhook_configs ?? []) {
      const line = `url: ${w.url}`;
      assert.is(copy.split(line).length - 1, 1, `one "${line}" line in ${AM_CONFIG}`);
      copy = copy.replace(line, `url: ${hooks}/${r.name}`);
    }
  }
  const before = text.split('\n');
  const changed = copy.split('\n').filter((l, i) => l !== before[i]);
  assert.ok(changed.length > 0 && changed.every((l) => /^\s*(- )?url: http:\/\/127\.0\.0\.1:\d+\/hooks\//.test(l)), `only url lines changed: ${changed.join(' | ')}`);
  return copy;
}

interface WebhookAlert {
  status: string;
  labels: Record<string, string>;
}
/** One POST of Alertmanager's webhook integration. */
interface Notification {
  /** The path it was posted to: the receiver whose URL that is. */
  hook: string;
  receiver: string;
  status: string;
  groupLabels: Record<string, string>;
  alerts: WebhookAlert[];
}

/** An HTTP server that keeps every webhook notification posted to /hooks/<receiver>. */
async function webhookReceiver(): Promise<{ server: Server; url: string; notifications: Notification[] }> {
  const notifications: Notification[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Omit<Notification, 'hook'>;
        notifications.push({ hook: (req.url ?? '').replace(/^\/hooks\//, ''), receiver: body.receiver, status: body.status, groupLabels: body.groupLabels, alerts: body.alerts.map((a) => ({ status: a.status, labels: a.labels })) });
        res.writeHead(200).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${port}/hooks`, notifications };
}

/** Alertmanager's view of an alert (GET /api/v2/alerts). */
interface AmAlert {
  fingerprint: string;
  labels: Record<string, string>;
  status: { state: string; inhibitedBy: string[] };
}

const alertName = (l: Record<string, string>) => `${l.alertname}${l.tenant ? ` ${l.tenant}` : ''}${l.region && l.scope === 'regional' ? ` ${l.region}` : ''}`;
const isTenantPage = (l: Record<string, string>) => l.scope === 'tenant' && l.severity === 'page';

/** What the receiver got, per receiver: the alerts of each notification. */
function describe(notifications: Notification[]): string {
  if (notifications.length === 0) return 'no notification';
  return notifications.map((n) => `${n.hook} (${n.status}): ${n.alerts.map((a) => `${alertName(a.labels)} ${a.status}`).join(', ')}`).join('; ');
}

interface RunResult {
  scenario: ScenarioName;
  notifications: Notification[];
  /** Every alert Alertmanager held during the run, as last seen. */
  held: Map<string, AmAlert>;
  /** The tenants the scenario's failures hit, all burning far above the page threshold. */
  hit: string[];
  burns: Record<string, number>;
  hours: number;
}

/**
 * One run: its own receiver, Alertmanager, tenantscope and Prometheus; the scenario; the wait for
 * `expected` (a description and a test on the firing notifications) and then for any page that
 * would follow it. Everything it started is stopped before it returns.
 */
async function routingRun(scenario: ScenarioName, seed: number, expected: { what: string; arrived: (firing: Notification[]) => boolean }): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), `tenantscope-am-${scenario}-`));
  const children: ChildProcess[] = [];
  let serving: Serving | undefined;
  let poller: NodeJS.Timeout | undefined;
  const hooks = await webhookReceiver();
  try {
    const amPort = await freePort();
    const amUrl = `http://127.0.0.1:${amPort}`;
    writeFileSync(join(dir, 'alertmanager.yml'), amConfigWithHooks(hooks.url));
    children.push(spawn('prometheus-alertmanager', [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'am')}`, `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address='], { stdio: 'ignore' }));
    await until(`${scenario}: Alertmanager to answer`, async () => (await fetch(`${amUrl}/-/ready`).catch(() => undefined))?.ok === true);

    serving = await serveCli(['--config', DEMO_CONFIG, '--data-dir', join(dir, 'data'), '--host', '127.0.0.1', '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--api-port', '0', '--policy-interval', '0', '--checkpoint-interval', '0']);
    const metrics = async () => (await fetch(`${serving!.apiUrl}/metrics`, { headers: bearer('demo-admin') })).text();

    const promPort = await freePort();
    const promUrl = `http://127.0.0.1:${promPort}`;
    writeFileSync(join(dir, 'prometheus.yml'), prometheusConfig(new URL(serving.apiUrl).host, `127.0.0.1:${amPort}`));
    children.push(spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'prom')}`, `--web.listen-address=127.0.0.1:${promPort}`], { stdio: 'ignore' }));
    await until(`${scenario}: Prometheus to scrape tenantscope`, async () => {
      const r = (await (await fetch(`${promUrl}/api/v1/query?${new URLSearchParams({ query: 'up{job="tenantscope"} == 1' })}`)).json()) as { data?: { result: unknown[] } };
      return (r.data?.result.length ?? 0) > 0;
    });

    // What Alertmanager holds, polled from the start, so the wait after the expected page can
    // be measured from when the last alert arrived.
    const held = new Map<string, AmAlert>();
    const firstSeen = new Map<string, number>();
    const poll = async () => {
      const alerts = (await (await fetch(`${amUrl}/api/v2/alerts`)).json()) as AmAlert[];
      for (const a of alerts) {
        held.set(a.fingerprint, a);
        if (!firstSeen.has(a.fingerprint)) firstSeen.set(a.fingerprint, Date.now());
      }
    };
    poller = setInterval(() => void poll().catch(() => undefined), 500);

    // The hour ends at 17:00 UTC, whatever the time the test runs: every tenant is in its
    // working day then (the US mornings, the European late afternoon), so every one sends well
    // over the minimum-traffic guard and the burn rates do not depend on the hour of the run.
    // The counters count what arrives, whatever its timestamps.
    const today17 = Math.floor(Date.now() / DAY) * DAY + 17 * HOUR;
    const endMs = today17 <= Date.now() ? today17 : today17 - DAY;
    const lost: string[] = [];
    const hitTenants = new Set<string>();
    const runHour = async (n: number) => {
      // A seed per hour: the same seed would send the same spans, which are recognised as resent.
      const sim = await simulate({ scenario, endpoint: serving!.otlpHttpUrl, seed: seed + n, durationSec: 2, periodMs: HOUR, endMs, rate: 2, recovery: false });
      for (const w of sim.windows) if (w.kind === 'failure') hitTenants.add(w.tenant);
      if (sim.exports.traces.failedItems > 0) lost.push(`${sim.exports.traces.failedItems} spans lost (${sim.exports.traces.errors.join('; ')})`);
    };
    // Far past the page threshold and the minimum-traffic guard, so that neither the scrape
    // timing nor the windows' edges decide whether a hit tenant pages; another hour (another
    // seed) while one is not. The scenarios themselves are not changed: other tests rely on them.
    const farEnough = (text: string) => {
      const burn = burnRates(text);
      const events = new Map(metricSamples(text, 'tenantscope_sli_events_total').map((s) => [s.labels.tenant!, s.value]));
      const guard = new Map(metricSamples(text, 'tenantscope_slo_min_events').map((s) => [s.labels.tenant!, s.value]));
      return [...hitTenants].every((t) => (burn.get(t) ?? 0) > 2 * PAGE_BURN && (events.get(t) ?? 0) >= 2 * (guard.get(t) ?? Infinity));
    };
    let hours = 0;
    let text = '';
    do {
      await runHour(hours++);
      // The SLI counters move when the spans are stored, a moment after the export is answered.
      await new Promise((r) => setTimeout(r, 1000));
      text = await metrics();
    } while (!farEnough(text) && hours < 4);
    const workloadEnd = Date.now();
    const burns = Object.fromEntries([...burnRates(text)].map(([t, b]) => [t, Number(b.toFixed(1))]));
    const hit = [...hitTenants].sort();
    assert.ok(lost.length === 0, `${scenario}: ${lost.join(', ')}`);
    assert.ok(farEnough(text), `${scenario}: after ${hours} hours every tenant hit (${hit.join(', ')}) burns past ${2 * PAGE_BURN} with twice the guard's events: ${JSON.stringify(burns)}`);

    const firing = () => hooks.notifications.filter((n) => n.status === 'firing');
    const heldNow = () => [...held.values()].map((a) => `${alertName(a.labels)} (${a.status.state})`).join(', ') || 'nothing';
    // Bounded by the rule's `for`, the longest page route's group_wait and slack for a loaded
    // machine, counted from the end of the workload; generous, as it is only reached on failure.
    const slowest = Math.max(groupWaitOf('incident-pages'), groupWaitOf('tenant-pages'));
    const bound = forOf('TenantSLOBurnRate1h5m') + slowest + 2 * 60_000;
    await until(
      () => `${scenario}: Alertmanager to hold the page of every tenant hit (${hit.join(', ')}); it holds ${heldNow()}; received ${describe(hooks.notifications)}`,
      async () => hit.every((t) => [...held.values()].some((a) => isTenantPage(a.labels) && a.labels.tenant === t)),
      workloadEnd + bound - Date.now(),
    );
    await until(() => `${scenario}: ${expected.what}; received ${describe(hooks.notifications)}; Alertmanager holds ${heldNow()}`, async () => expected.arrived(firing()), workloadEnd + bound - Date.now());

    // Alertmanager flushes a new group group_wait after the group's first alert arrived; the
    // tenant pages wait longest (they wait for the incident alert that may mute them). So once
    // the last alert held arrived that long ago, plus a margin for the flush and the webhook
    // POST, every page these alerts would cause has been sent: none that has not come will.
    // (The ticket route waits longer, but no ticket alert fires within a run: their `for` is 15m.)
    // An alert that arrives meanwhile moves the end along, within the bound.
    const quietAt = () => Math.min(Math.max(...firstSeen.values()), workloadEnd + bound) + slowest + 20_000;
    while (Date.now() < quietAt()) await new Promise((r) => setTimeout(r, Math.min(1000, quietAt() - Date.now())));
    await poll();
    return { scenario, notifications: [...hooks.notifications], held, hit, burns, hours };
  } finally {
    if (poller) clearInterval(poller);
    for (const c of children.reverse()) {
      if (c.exitCode === null && c.signalCode === null) {
        const exited = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        await exited;
      }
    }
    if (serving) await stopCli(serving);
    await new Promise((r) => hooks.server.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A settled run: its result or its error, so a run that fails first does not end the process. */
type Settled = { ok: true; run: RunResult } | { ok: false; error: unknown };
const settle = (p: Promise<RunResult>): Promise<Settled> => p.then((run) => ({ ok: true as const, run }), (error: unknown) => ({ ok: false as const, error }));
async function result(p: Promise<Settled> | undefined): Promise<RunResult> {
  const s = await p!;
  if (!s.ok) throw s.error;
  return s.run;
}

/** A short line of what a run received, for the log. */
function report(r: RunResult): string {
  const count = (hook: string) => r.notifications.filter((n) => n.hook === hook).length;
  const muted = [...r.held.values()].filter((a) => a.status.state === 'suppressed').length;
  const burns = r.hit.map((t) => r.burns[t] ?? 0);
  return `${r.scenario}: ${r.hours} h, ${r.hit.length} tenant(s) hit burning ${Math.min(...burns)}x to ${Math.max(...burns)}x; incident-pages ${count('incident-pages')}, tenant-pages ${count('tenant-pages')}, tickets ${count('tickets')}; Alertmanager held ${r.held.size} alerts, ${muted} muted; ${describe(r.notifications)}`;
}

const PLATFORM_NOTIFIED = (n: Notification) => n.hook === 'incident-pages' && n.alerts.some((a) => a.labels.alertname === 'TenantscopePlatformIncident' && a.status === 'firing');

if (!onPath('prometheus') || !onPath('prometheus-alertmanager')) {
  console.log('alertmanager-routing: skipped, the prometheus and prometheus-alertmanager commands are not installed (Debian packages prometheus and prometheus-alertmanager; .ci/run installs them)');
} else {
  let platform: Promise<Settled> | undefined;
  let incident: Promise<Settled> | undefined;
  const started = Date.now();

  // Both runs at once: nearly all of their time is the rules' `for` and the routes' group_wait.
  test.before(() => {
    platform = settle(routingRun('platform-outage', 21, { what: 'a notification on incident-pages with TenantscopePlatformIncident firing', arrived: (firing) => firing.some(PLATFORM_NOTIFIED) }));
    incident = settle(routingRun('incident', 41, { what: 'a notification on tenant-pages', arrived: (firing) => firing.some((n) => n.hook === 'tenant-pages') }));
  });

  test.after(async () => {
    await Promise.all([platform, incident]);
    console.log(`alertmanager-routing: both runs took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  });

  test('a simulated platform outage pages once, on the incident receiver, and no tenant page is sent', async () => {
    const r = await result(platform);
    console.log(report(r));
    // Resolved notifications (send_resolved) would say the outage ended, which is not the question here.
    const firing = r.notifications.filter((n) => n.status === 'firing');
    const incidentPages = firing.filter((n) => n.hook === 'incident-pages');
    assert.is(incidentPages.length, 1, `one incident page: ${describe(firing)}`);
    assert.ok(PLATFORM_NOTIFIED(incidentPages[0]!), `the incident page is the platform incident: ${describe(incidentPages)}`);
    assert.equal(incidentPages[0]!.alerts.map((a) => a.labels.alertname), ['TenantscopePlatformIncident'], 'the platform incident alone: the regional incidents are muted');
    assert.equal(firing.filter((n) => n.hook === 'tenant-pages'), [], `no tenant page: ${describe(firing)}`);
    // The tenant pages were raised and muted, not missing: the outage hit every tenant.
    assert.ok(r.hit.length >= 2, `the outage hit several tenants: ${r.hit.join(', ')}`);
    const tenantPages = [...r.held.values()].filter((a) => isTenantPage(a.labels));
    for (const t of r.hit) assert.ok(tenantPages.some((a) => a.labels.tenant === t), `${t}'s page reached Alertmanager`);
    const unmuted = [...r.held.values()].filter((a) => a.labels.alertname !== 'TenantscopePlatformIncident' && a.labels.severity === 'page' && a.status.inhibitedBy.length === 0);
    assert.equal(unmuted.map((a) => alertName(a.labels)), [], 'every other page held is muted by the platform incident');
  });

  test("umbrella-pharma's incident pages once, on the tenant receiver, for umbrella-pharma, and no incident page is sent", async () => {
    const r = await result(incident);
    console.log(report(r));
    assert.equal(r.hit, ['umbrella-pharma'], 'the scenario hits umbrella-pharma alone');
    const firing = r.notifications.filter((n) => n.status === 'firing');
    const tenantPages = firing.filter((n) => n.hook === 'tenant-pages');
    assert.is(tenantPages.length, 1, `one tenant page: ${describe(firing)}`);
    assert.equal(tenantPages[0]!.groupLabels, { tenant: 'umbrella-pharma' }, `the page is umbrella-pharma's: ${describe(tenantPages)}`);
    assert.ok(tenantPages[0]!.alerts.every((a) => a.labels.tenant === 'umbrella-pharma' && a.status === 'firing'), `only umbrella-pharma's alerts: ${describe(tenantPages)}`);
    assert.equal(firing.filter((n) => n.hook === 'incident-pages'), [], `no incident page: ${describe(firing)}`);
  });
}

test.run();
