// The Incidents views in a real browser (Debian's chromium through playwright-core).
// umbrella-pharma and globex-3pl both fail half of their order-api requests for 15 minutes an
// hour ago; acme-dist is fine. Signed in with umbrella-pharma's read token, its page must show
// its own impact as its incidents route gives it, the other tenant as a count, and nothing of
// globex-3pl anywhere (page, DOM, or any answer the browser received). Signed in as an admin,
// the platform list must show the incident with both tenants and each one's credit exposure.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { fromRoot } from '../../src/paths.js';
import type { IncidentsReport, TenantIncident } from '../../src/reports/incidents.js';
import { bearer, startTestServer, type TestServer } from '../support/server.js';
import { serverTraffic } from '../support/traffic.js';
import { reportingSetUp } from '../support/hooks.js';

const CHROMIUM = '/usr/bin/chromium';
const MIN = 60_000;
const WAIT = { timeout: 30_000 };
const TENANT_TOKEN = 'demo-read-umbrella-pharma';
const SCREENSHOT = fromRoot('test-output', 'ui-incidents-umbrella-pharma.png');
const T = Math.floor(Date.now() / MIN) * MIN;

let server: TestServer;
let browser: Browser;
let page: Page;
const bodies: Promise<{ url: string; status: number; body: string }>[] = [];

const traffic = (tenant: string, fromMs: number, toMs: number, perMinute: number, errors = 0) => serverTraffic(server.store, tenant, 'order-api', fromMs, toMs, perMinute, errors);

async function api<T>(path: string, token: string): Promise<T> {
  const res = await fetch(`${server.apiUrl}${path}`, { headers: bearer(token) });
  const text = await res.text();
  assert.is(res.status, 200, text.slice(0, 300));
  return JSON.parse(text) as T;
}

async function figure(name: string, scope: string): Promise<string> {
  return (await page.locator(`${scope} [data-figure="${name}"]`).first().textContent())?.trim() ?? '';
}

/** The other tenant's names: any of them in what umbrella-pharma's reader got is a leak. */
function globexTerms(): string[] {
  const g = server.registry.tenant('globex-3pl')!;
  return [...new Set([g.id, g.name, ...g.identifiers])];
}

function leaks(texts: { where: string; text: string }[]): string[] {
  return texts.flatMap(({ where, text }) => globexTerms().filter((t) => text.toLowerCase().includes(t.toLowerCase())).map((t) => `${t} in ${where}`));
}

async function pageContents(): Promise<{ where: string; text: string }[]> {
  // A string, not a function: this project compiles without the DOM library.
  const [text, dom] = await page.evaluate<[string, string]>('[document.body.innerText, document.documentElement.outerHTML]');
  return [
    { where: 'page text', text },
    { where: 'DOM', text: dom },
  ];
}

async function signIn(token: string, hash: string, view: string): Promise<void> {
  await page.goto(`${server.apiUrl}/ui#/signin`);
  await page.waitForSelector('main[data-view="signin"]', WAIT);
  await page.fill('#token', token);
  await page.click('#signin button[type=submit]');
  await page.waitForSelector('main[data-view="tenants"]', WAIT);
  await page.goto(`${server.apiUrl}/ui${hash}`);
  await page.waitForSelector(`main[data-view="${view}"][data-state="ready"]`, WAIT);
}

const money = (x: number, currency: string) => `${currency} ${x.toFixed(2)}`;
const utc = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

if (!existsSync(CHROMIUM)) {
  console.log(`ui-incidents: skipped, ${CHROMIUM} is not installed (Debian package chromium; .ci/run installs it)`);
} else {
  test.before(reportingSetUp('ui-incidents', setUp));

  async function setUp(): Promise<void> {
    server = await startTestServer({ policyIntervalMs: 0 });
    for (const tenant of ['umbrella-pharma', 'globex-3pl']) {
      await traffic(tenant, T - 120 * MIN, T - 60 * MIN, 50);
      await traffic(tenant, T - 60 * MIN, T - 45 * MIN, 50, 25);
      await traffic(tenant, T - 45 * MIN, T, 50);
    }
    await traffic('acme-dist', T - 120 * MIN, T, 50);
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
  }

  test.after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("umbrella-pharma's page shows its incident as its incidents route gives it, with the other tenant counted", async () => {
    await signIn(TENANT_TOKEN, '#/tenants/umbrella-pharma?period=1d', 'tenant');
    const w = page.locator('#incidents-window');
    const from = (await w.getAttribute('data-from'))!;
    const to = (await w.getAttribute('data-to'))!;
    // A day is within the 35 days one query may cover: the window is the page's period.
    const period = page.locator('main [data-figure="period"]');
    assert.equal([from, to], [await period.getAttribute('data-from'), await period.getAttribute('data-to')]);
    const r = await api<{ incidents: TenantIncident[] }>(`/api/v1/tenants/umbrella-pharma/incidents?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, TENANT_TOKEN);
    // The hand-worked figures first, so the page and the API are not just agreeing with each other.
    assert.is(r.incidents.length, 1);
    const i = r.incidents[0]!;
    assert.equal([i.impact.impact.from, i.impact.impact.minutes, i.impact.requests, i.impact.failures, i.other_tenants_affected], [new Date(T - 60 * MIN).toISOString(), 15, 750, 375, 1]);

    const row = `#incidents-table tr[data-incident="${i.id}"]`;
    assert.is(await page.locator('#incidents-table tbody tr').count(), 1);
    assert.is(await figure('incident-id', row), i.id);
    assert.is(await figure('scope', row), i.scope);
    assert.is(await figure('impact-window', row), `${utc(i.impact.impact.from)} – ${utc(i.impact.impact.to)}`);
    assert.is(await figure('minutes', row), '15');
    assert.is(await figure('requests', row), '750');
    assert.is(await figure('failures', row), '375');
    assert.is(await figure('budget-consumed', row), i.impact.error_budget_consumed.toFixed(3));
    assert.is(await figure('month-availability', row), `${(i.impact.sla.month_availability! * 100).toFixed(4)}%`);
    assert.is(await figure('credit', row), `${i.impact.sla.credit_percent}% · ${money(i.impact.sla.credit, i.impact.sla.currency)}`);
    assert.is(await figure('exposure', row), money(i.impact.sla.exposure, i.impact.sla.currency));
    assert.is(await figure('others', row), '1');
    assert.is(await figure('incidents-card', 'main'), '1');
    assert.is(await figure('incidents-exposure-card', 'main'), money(i.impact.sla.exposure, i.impact.sla.currency));
    mkdirSync(fromRoot('test-output'), { recursive: true });
    await page.locator('#incidents').screenshot({ path: SCREENSHOT });
  });

  test("umbrella-pharma's reader never sees globex-3pl's name: not on the page, not in the DOM, not in any answer", async () => {
    assert.equal(leaks([...(await pageContents()), ...(await Promise.all(bodies)).map((b) => ({ where: `response ${b.status} ${b.url}`, text: b.body }))]), []);
  });

  test('a 90-day page asks for the last 35 days of incidents only, and says so', async () => {
    await page.goto(`${server.apiUrl}/ui#/tenants/umbrella-pharma?period=90d`);
    // The 1-day page is ready too: wait for the 90-day one's section, whose window note is a notice (clipped).
    await page.waitForSelector('main[data-view="tenant"][data-state="ready"] #incidents-window.notice', WAIT);
    const w = page.locator('#incidents-window');
    const from = Date.parse((await w.getAttribute('data-from'))!);
    const to = Date.parse((await w.getAttribute('data-to'))!);
    assert.is(to - from, 35 * 1440 * MIN);
    assert.match((await w.textContent()) ?? '', /at most the last 35 days of the period/);
    assert.is(await page.locator('#incidents-table tbody tr').count(), 1);
  });

  test('an admin sees the platform list: the incident with both tenants and each one\'s credit exposure', async () => {
    await signIn('demo-admin', '#/tenants', 'tenants');
    await page.click('#incidents-link');
    await page.waitForSelector('main[data-view="incidents"][data-state="ready"]', WAIT);
    const period = page.locator('main [data-figure="period"]');
    const from = (await period.getAttribute('data-from'))!;
    const to = (await period.getAttribute('data-to'))!;
    const r = await api<IncidentsReport>(`/api/v1/incidents?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, 'demo-admin');
    assert.is(r.incidents.length, 1);
    const i = r.incidents[0]!;
    assert.equal(i.tenants.map((t) => t.tenant), ['globex-3pl', 'umbrella-pharma']);
    const row = `#platform-incidents tr[data-incident="${i.id}"]`;
    assert.is(await page.locator('#platform-incidents tbody tr').count(), 1);
    assert.is(await figure('scope', row), i.scope);
    assert.is(await figure('window', row), `${utc(i.from)} – ${utc(i.to)}`);
    assert.is(await figure('incident-count', 'main'), '1');
    const shown = await page.$$eval(`${row} li[data-tenant]`, (lis) => lis.map((li) => li.getAttribute('data-tenant')));
    assert.equal(shown, ['globex-3pl', 'umbrella-pharma']);
    for (const t of i.tenants) {
      const li = `${row} li[data-tenant="${t.tenant}"]`;
      assert.is(await figure('tenant', li), t.tenant);
      assert.is(await figure('failures', li), '375');
      assert.is(await figure('minutes', li), '15');
      assert.is(await figure('exposure', li), money(t.sla.exposure, t.sla.currency));
      assert.is(await figure('credit', li), `${t.sla.credit_percent}% · ${money(t.sla.credit, t.sla.currency)}`);
    }
  });

  test("a tenant's token gets a refusal on the platform list, and no link to it", async () => {
    await signIn(TENANT_TOKEN, '#/tenants', 'tenants');
    assert.is(await page.locator('#incidents-link').count(), 0);
    await page.goto(`${server.apiUrl}/ui#/incidents`);
    await page.waitForSelector('main[data-view="incidents"][data-state="refused"]', WAIT);
    assert.match((await page.textContent('#incidents-error')) ?? '', /403/);
  });

  test.run();
}
