// The tenant page's Recoverability section in a real browser (Debian's chromium through
// playwright-core). stark-logistics (RPO 15 min by contract, RTO 120, a restore test every 30
// days, its own key required) backs up all five components every 10 minutes over the last
// day, except that the database misses three hours, and its newest config backup names a key
// that is markup. umbrella-pharma has backups of its own under a marker key. Signed in with
// stark-logistics' read token, the page must show the figures the API gives that token, the
// two findings, the hostile key as characters, and nothing of umbrella-pharma anywhere.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { loadRegistry } from '../../src/config/index.js';
import { fromRoot } from '../../src/paths.js';
import type { RecoveryReport } from '../../src/reports/recovery.js';
import { bearer, DEMO_CONFIG, startTestServer, type TestServer } from '../support/server.js';
import { until } from '../support/wait.js';
import { reportingSetUp } from '../support/hooks.js';

const CHROMIUM = '/usr/bin/chromium';
const MIN = 60_000;
const DAY = 1440 * MIN;
const TOKEN = 'demo-read-stark-logistics';
const WAIT = { timeout: 30_000 };
const SCREENSHOT = fromRoot('test-output', 'ui-recovery-stark-logistics.png');
/** A key id is free text up to 256 characters: the one recovery value a tenant can make markup of. */
const HOSTILE_KEY = '<img src=x onerror=window.__recoveryXss=1>';
/** Only umbrella-pharma's facts carry this, so finding it on the page means a leak. */
const UMBRELLA_MARKER = 'kms-umbrella-marker-7731';

const registry = loadRegistry(DEMO_CONFIG);
const umbrella = registry.tenant('umbrella-pharma')!;
const UMBRELLA_TERMS = [...new Set([UMBRELLA_MARKER, umbrella.id, umbrella.name, ...umbrella.identifiers])];

let server: TestServer;
let browser: Browser;
let page: Page;
const bodies: Promise<{ url: string; status: number; body: string }>[] = [];

const iso = (ms: number) => new Date(ms).toISOString();
let seq = 0;

function backup(tenant: string, completedMs: number, component: string, key: string, region: string): Record<string, unknown> {
  return {
    id: `ui-rec-${tenant}-${++seq}`,
    time: iso(completedMs),
    actor: { id: 'backup-operator', type: 'service' },
    action: 'backup.completed',
    target: { type: 'backup', id: component },
    outcome: 'success',
    attributes: { component, scope: 'tenant', snapshot_time: iso(completedMs - 2 * MIN), retention_days: '90', location_region: region, encryption_key_id: key },
  };
}

async function post(token: string, events: unknown[]): Promise<void> {
  const res = await fetch(`${server.otlpHttpUrl}/v1/audit`, { method: 'POST', body: JSON.stringify(events), headers: { 'content-type': 'application/json', ...bearer(token) } });
  const text = await res.text();
  assert.is(res.status, 200, text.slice(0, 500));
  assert.is((JSON.parse(text) as { rejected: number }).rejected, 0, text.slice(0, 500));
}

/**
 * Backups at now-5 min, now-15 min, ... back past the start of the last day; each covers
 * [completed, completed + 13 min) (snapshot 2 minutes earlier, RPO 15). The database skips
 * the 18 backups k = 42..59, so k = 60 and k = 41 are 190 minutes apart: 177 stale minutes,
 * and the day's attainment is 1 - 177/1440 = 0.8771 (the report keeps 4 decimals).
 */
async function loadFacts(nowMs: number): Promise<void> {
  const stark: unknown[] = [];
  const umbrellaFacts: unknown[] = [];
  for (let k = 0; (k - 2) * 10 * MIN <= DAY; k++) {
    const at = nowMs - 5 * MIN - k * 10 * MIN;
    for (const c of ['database', 'object_storage', 'queue', 'config', 'integration_state']) {
      if (c === 'database' && k >= 42 && k <= 59) continue;
      stark.push(backup('stark-logistics', at, c, c === 'config' && k === 0 ? HOSTILE_KEY : 'kms-stark-logistics-1', 'us-east-1'));
      umbrellaFacts.push(backup('umbrella-pharma', at, c, UMBRELLA_MARKER, 'eu-central-1'));
    }
  }
  stark.push({
    id: 'ui-rec-restore-1',
    time: iso(nowMs - 3 * DAY),
    actor: { id: 'backup-operator', type: 'service' },
    action: 'restore.tested',
    target: { type: 'backup', id: 'database' },
    outcome: 'success',
    attributes: { component: 'database', scope: 'tenant', duration_seconds: '5400', verified_records: '250000', location_region: 'us-east-1' },
  });
  for (let i = 0; i < stark.length; i += 500) await post('demo-ingest-stark-logistics', stark.slice(i, i + 500));
  for (let i = 0; i < umbrellaFacts.length; i += 500) await post('demo-ingest-umbrella-pharma', umbrellaFacts.slice(i, i + 500));
}

async function report(query: string): Promise<RecoveryReport> {
  const res = await fetch(`${server.apiUrl}/api/v1/tenants/stark-logistics/recovery?${query}`, { headers: bearer(TOKEN) });
  assert.is(res.status, 200);
  return (await res.json()) as RecoveryReport;
}

async function figure(name: string, scope = 'main'): Promise<string> {
  return (await page.locator(`${scope} [data-figure="${name}"]`).first().textContent())?.trim() ?? '';
}

/** Where any umbrella-pharma term occurs in the given texts (case-insensitive). */
function umbrellaIn(texts: { where: string; text: string }[]): string[] {
  return texts.flatMap(({ where, text }) => UMBRELLA_TERMS.filter((t) => text.toLowerCase().includes(t.toLowerCase())).map((t) => `${t} in ${where}`));
}

async function pageContents(): Promise<{ where: string; text: string }[]> {
  // A string, not a function: this project compiles without the DOM library.
  const [text, dom] = await page.evaluate<[string, string]>('[document.body.innerText, document.documentElement.outerHTML]');
  return [
    { where: 'page text', text },
    { where: 'DOM', text: dom },
  ];
}

async function received(): Promise<{ where: string; text: string }[]> {
  return (await Promise.all(bodies)).map((r) => ({ where: `response ${r.status} ${r.url}`, text: r.body }));
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const mins = (x: number) => `${x.toFixed(1)} min`;

if (!existsSync(CHROMIUM)) {
  console.log(`ui-recovery: skipped, ${CHROMIUM} is not installed (Debian package chromium; .ci/run installs it)`);
} else {
  test.before(reportingSetUp('ui-recovery', setUp));

  async function setUp(): Promise<void> {
    server = await startTestServer();
    await loadFacts(Date.now());
    await until('the stark-logistics facts to reach the recovery report', async () => {
      const r = await report(`from=${iso(Date.now() - DAY)}&to=${iso(Date.now())}`);
      return r.findings.length >= 2 && r.components.every((c) => c.latest !== null);
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
    page.on('response', (res) => {
      bodies.push(
        res
          .body()
          .then((b) => b.toString('utf8'))
          .catch(() => '')
          .then((body) => ({ url: res.url(), status: res.status(), body })),
      );
    });
    await page.goto(`${server.apiUrl}/ui#/tenants/stark-logistics?period=1d`);
    await page.waitForSelector('main[data-view="signin"]', WAIT);
    await page.fill('#token', TOKEN);
    await page.click('#signin button[type=submit]');
    await page.waitForSelector('main[data-view="tenant"][data-state="ready"]', WAIT);
  }

  test.after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("stark-logistics' page shows its recoverability as the API gives it: status, attainment, components, restore test", async () => {
    const period = page.locator('[data-figure="period"]');
    const from = (await period.getAttribute('data-from'))!;
    const to = (await period.getAttribute('data-to'))!;
    const r = await report(`from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);

    // The hand-worked figures first, so the page and the API are not just agreeing with each other.
    assert.is(r.status, 'not_met');
    assert.is(r.rpo_attainment, 0.8771);
    const db = r.components.find((c) => c.component === 'database')!;
    assert.is(db.stale_minutes, 177);
    assert.is(db.stale_windows.length, 1);

    assert.is(await figure('recovery-status', '#recovery'), 'not met');
    assert.is(await figure('rpo-attainment', '#recovery'), '87.71%');
    assert.is(await figure('recovery-status-card'), 'not met');
    assert.is(await figure('rpo-attainment-card'), '87.71%');

    const rows = await page.$$eval('#recovery-components tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-component')));
    assert.equal(rows, r.components.map((c) => c.component));
    for (const c of r.components) {
      const row = `#recovery-components tr[data-component="${c.component}"]`;
      assert.is(await figure('required', row), c.required ? 'yes' : 'no', c.component);
      assert.is(await figure('age', row), mins(c.latest!.age_minutes), c.component);
      assert.is(await figure('rpo-check', row), c.within_rpo ? 'within RPO' : 'over RPO', c.component);
      assert.is(await figure('backups', row), String(c.backups), c.component);
      assert.is(await figure('attainment', row), pct(c.rpo_attainment), c.component);
      assert.is(await figure('stale', row), mins(c.stale_minutes), c.component);
    }
    assert.is(await figure('attainment', '#recovery-components tr[data-component="database"]'), '87.71%');
    assert.is(await figure('stale', '#recovery-components tr[data-component="database"]'), '177.0 min');
    assert.is(await page.locator('#recovery-components tr[data-component="database"] li').count(), 1);

    // The drill three days ago: 90 minutes against a 120-minute RTO, due again 30 days after it.
    const t = r.last_restore_test!;
    assert.is(t.duration_seconds, 5400);
    assert.ok(t.within_rto);
    assert.is(await figure('restore-outcome', '#restore-table'), 'success');
    assert.is(await figure('restore-duration', '#restore-table'), '90.0 min');
    assert.is(await figure('rto', '#restore-table'), '120 min');
    assert.is(await figure('restore-due', '#restore-table'), `${t.due_by.slice(0, 10)} ${t.due_by.slice(11, 16)} UTC`);
    assert.is(await figure('restore-time', '#restore-table'), `${t.time.slice(0, 10)} ${t.time.slice(11, 16)} UTC`);

    mkdirSync(fromRoot('test-output'), { recursive: true });
    await page.locator('#recovery').screenshot({ path: SCREENSHOT });
  });

  test('the findings are listed with rule, severity and message: the database gap and the foreign key', async () => {
    const period = page.locator('[data-figure="period"]');
    const r = await report(`from=${encodeURIComponent((await period.getAttribute('data-from'))!)}&to=${encodeURIComponent((await period.getAttribute('data-to'))!)}`);
    assert.equal(r.findings.map((f) => `${f.rule}:${f.subject}`).sort(), ['backup_key_not_tenant_key:config', 'backup_older_than_rpo:database']);
    const shown = await page.$$eval('#recovery-findings tbody tr', (trs) => trs.map((tr) => ({ rule: tr.getAttribute('data-rule'), subject: tr.getAttribute('data-subject'), cells: [...tr.querySelectorAll('td')].map((td) => td.textContent) })));
    assert.equal(
      shown,
      r.findings.map((f) => ({ rule: `${f.policy}/${f.rule}`, subject: f.subject, cells: [f.severity, f.rule, f.subject, f.message] })),
    );
  });

  test('a key id written as markup shows as those characters, in the table and in the finding, and never runs', async () => {
    assert.is(await figure('key', '#recovery-components tr[data-component="config"]'), HOSTILE_KEY);
    const message = await page.textContent('#recovery-findings tr[data-subject="config"] td.message');
    assert.ok(message?.includes(HOSTILE_KEY), message ?? '');
    assert.is(await page.locator('main img').count(), 0);
    assert.is(await page.evaluate<unknown>('window.__recoveryXss'), undefined);
  });

  test("stark-logistics' read token never gets umbrella-pharma's data, on its own page or on umbrella-pharma's", async () => {
    assert.equal(await page.$$eval('#recovery-components code', (codes) => codes.some((c) => c.textContent === 'kms-stark-logistics-1')), true);
    assert.equal(umbrellaIn([...(await pageContents()), ...(await received())]), []);

    await page.goto(`${server.apiUrl}/ui#/tenants/umbrella-pharma?period=1d`);
    await page.waitForSelector('main[data-view="tenant"][data-state="refused"]', WAIT);
    assert.match((await page.textContent('#refusal')) ?? '', /403 TS_ERR_FORBIDDEN/);
    assert.is(await page.locator('#recovery').count(), 0);
    const answers = (await Promise.all(bodies)).filter((r) => r.url.includes('/api/v1/tenants/umbrella-pharma/'));
    assert.ok(answers.some((r) => r.url.includes('/recovery')) && answers.every((r) => r.status === 403), answers.map((r) => `${r.status} ${r.url}`).join(', '));
    // The page repeats the id typed into the address, and nothing more of the tenant.
    const withoutTypedId = (await pageContents()).map((c) => ({ where: c.where, text: c.text.split(umbrella.id).join('') }));
    assert.equal(umbrellaIn([...withoutTypedId, ...(await received()).filter((r) => !r.where.includes('/api/v1/tenants/umbrella-pharma/'))]), []);
    assert.equal(umbrellaIn((await received()).filter((r) => r.where.includes('/api/v1/tenants/umbrella-pharma/')).map((r) => ({ where: r.where, text: r.text.split(umbrella.id).join('') }))), []);
  });

  test.run();
}
