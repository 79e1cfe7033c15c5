// The Alertmanager configuration in dashboards/alertmanager/: amtool (Debian package
// prometheus-alertmanager, which .ci/run installs) checks it and resolves the routes of the
// alerts tenantscope's rules send; a real Alertmanager started on the file shows which alerts
// its inhibition rules mute. Alerts are posted straight to Alertmanager's API, so no Prometheus
// or outage is needed: the rules that raise them have their own promtool tests.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromRoot } from '../src/paths.js';
import { until } from './support/wait.js';
import { freePort } from './support/net.js';
import { onPath } from './support/commands.js';

const CONFIG = fromRoot('dashboards', 'alertmanager', 'alertmanager.yml');


/** Run amtool; its output, or a failure with its own message. */
function amtool(args: string[]): string {
  try {
    return execFileSync('amtool', args, { encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; status?: number };
    throw new assert.Assertion({ message: `amtool ${args.join(' ')} exited ${e.status}:\n${e.stdout ?? ''}${e.stderr ?? ''}`, operator: 'amtool', actual: e.status, expects: 0, generated: false });
  }
}

/** The receivers amtool routes an alert with these labels to. */
function receiversOf(labels: Record<string, string>): string[] {
  const out = amtool(['config', 'routes', 'test', `--config.file=${CONFIG}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)]);
  return out.trim().split(',').map((r) => r.trim());
}

// The label sets the rules give their alerts (dashboards/prometheus/tenantscope-rules.yml).
const PLATFORM = { alertname: 'TenantscopePlatformIncident', scope: 'platform', severity: 'page' };
const REGIONAL_EAST = { alertname: 'TenantscopeRegionalIncident', scope: 'regional', severity: 'page', region: 'us-east-1' };
const tenantPage = (tenant: string, region: string) => ({ alertname: 'TenantSLOBurnRate1h5m', scope: 'tenant', severity: 'page', tenant, tier: 'shared', sli: 'availability', region });
const TENANT_TICKET = { alertname: 'TenantSLOBurnRate1d2h', scope: 'tenant', severity: 'ticket', tenant: 'acme-dist', tier: 'shared', sli: 'availability', region: 'us-east-1' };
const BACKUP_PAGE = { alertname: 'TenantBackupOlderThanRPO', severity: 'page', tenant: 'acme-dist', tier: 'shared', component: 'database' };

if (!onPath('amtool')) {
  console.log('alertmanager: skipped, amtool is not installed (Debian package prometheus-alertmanager; .ci/run installs it)');
} else {
  test('amtool check-config accepts the Alertmanager configuration', () => {
    const out = amtool(['check-config', CONFIG]);
    assert.match(out, /SUCCESS/);
    assert.match(out, /2 inhibit rules/);
    assert.match(out, /3 receivers/);
  });

  test('platform and regional incidents page the incident receiver, tenant pages the tenant receiver, tickets the ticket receiver', () => {
    assert.equal(receiversOf(PLATFORM), ['incident-pages']);
    assert.equal(receiversOf(REGIONAL_EAST), ['incident-pages']);
    assert.equal(receiversOf(tenantPage('acme-dist', 'us-east-1')), ['tenant-pages']);
    assert.equal(receiversOf(BACKUP_PAGE), ['tenant-pages']);
    assert.equal(receiversOf(TENANT_TICKET), ['tickets']);
    // Something the rules do not send still reaches a receiver.
    assert.equal(receiversOf({ alertname: 'SomethingElse' }), ['tickets']);
  });
}

if (!onPath('prometheus-alertmanager')) {
  console.log('alertmanager: inhibition skipped, prometheus-alertmanager is not installed (Debian package prometheus-alertmanager)');
} else {
  let am: ChildProcess | undefined;
  let dir = '';
  let url = '';

  interface AmAlert {
    labels: Record<string, string>;
    status: { state: string; inhibitedBy: string[] };
  }

  /** Per alert (alertname, then tenant or region), whether it is inhibited. */
  const inhibited = (alerts: AmAlert[]): Record<string, boolean> =>
    Object.fromEntries(alerts.map((a) => [[a.labels.alertname, a.labels.tenant ?? a.labels.region ?? ''].join(' ').trim(), a.status.inhibitedBy.length > 0]));

  /**
   * Post alerts (firing: no end time) and check which of them Alertmanager mutes. Its inhibitor
   * learns of a new source alert asynchronously, so the state is read until it settles.
   */
  async function assertInhibited(alerts: Array<Record<string, string>>, expected: Record<string, boolean>): Promise<void> {
    const res = await fetch(`${url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts.map((labels) => ({ labels }))) });
    assert.is(res.status, 200, await res.text());
    let seen: Record<string, boolean> = {};
    const deadline = Date.now() + 5000;
    do {
      seen = inhibited((await (await fetch(`${url}/api/v2/alerts`)).json()) as AmAlert[]);
      if (JSON.stringify(Object.entries(seen).sort()) === JSON.stringify(Object.entries(expected).sort())) break;
      await new Promise((r) => setTimeout(r, 100));
    } while (Date.now() < deadline);
    assert.equal(seen, expected);
  }

  test.before.each(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tenantscope-alertmanager-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    // No cluster listener: a lone instance needs no gossip port.
    am = spawn('prometheus-alertmanager', [`--config.file=${CONFIG}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='], { stdio: 'ignore' });
    await until('Alertmanager to answer', async () => (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok === true);
  });

  test.after.each(async () => {
    if (am && am.exitCode === null) {
      const exited = new Promise((r) => am!.once('exit', r));
      am.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test('a regional incident mutes the tenant pages of its region only; tickets and recovery pages stay', async () => {
    await assertInhibited([REGIONAL_EAST, tenantPage('acme-dist', 'us-east-1'), tenantPage('stark-logistics', 'us-east-1'), tenantPage('hooli-wholesale', 'us-west-2'), TENANT_TICKET, BACKUP_PAGE], {
      'TenantscopeRegionalIncident us-east-1': false,
      'TenantSLOBurnRate1h5m acme-dist': true,
      'TenantSLOBurnRate1h5m stark-logistics': true,
      'TenantSLOBurnRate1h5m hooli-wholesale': false,
      'TenantSLOBurnRate1d2h acme-dist': false,
      'TenantBackupOlderThanRPO acme-dist': false,
    });
  });

  test('a platform incident mutes every tenant page and the regional incidents: it alone pages', async () => {
    await assertInhibited([PLATFORM, REGIONAL_EAST, tenantPage('acme-dist', 'us-east-1'), tenantPage('hooli-wholesale', 'us-west-2'), tenantPage('umbrella-pharma', 'eu-central-1')], {
      TenantscopePlatformIncident: false,
      'TenantscopeRegionalIncident us-east-1': true,
      'TenantSLOBurnRate1h5m acme-dist': true,
      'TenantSLOBurnRate1h5m hooli-wholesale': true,
      'TenantSLOBurnRate1h5m umbrella-pharma': true,
    });
  });

  test('without an incident alert, one tenant page is not muted', async () => {
    await assertInhibited([tenantPage('umbrella-pharma', 'eu-central-1')], { 'TenantSLOBurnRate1h5m umbrella-pharma': false });
  });
}

test.run();
