// Redaction end to end: leaks of every class are sent through the real service (its own
// process, OTLP/HTTP and /v1/audit), then every column of every table in its chDB and every
// line it logged are searched for the raw values. None may survive; the redaction counts must
// match what was sent; a tenant's own identifiers must stay as they were.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveCli, stopCli, type Serving } from '../support/cli.js';
import { bearer } from '../support/server.js';
import { ChdbStore } from '../../src/store/index.js';

const dataDir = mkdtempSync(join(tmpdir(), 'tenantscope-redaction-'));
let server: Serving;
let store: ChdbStore;

// Raw values that must not be found anywhere after ingest, with the class each is redacted as.
const LEAKS = {
  otherTenantCode: 'CUST-20517', // hooli-wholesale's customer code, inside an acme-dist span
  otherTenantDomain: 'globex-3pl.example.com', // in an acme-dist metric attribute
  jwt: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1LTE4NDIiLCJ0ZW5hbnQiOiJhY21lIn0.c2lnbmF0dXJlLW5vdC1yZWFsLWJ1dC1sb25n',
  card: '4111 1111 1111 1111',
  dbPassword: 'S3cr3tPassw0rd!x',
  awsKey: 'AKIAIOSFODNN7EXAMPLE',
  email: 'buyer.jane@example.org',
  basicAuth: 'Basic dXNlcjpodW50ZXIy',
  claimedTenantSecret: 'ghp_R2d2C3poX7wq9LmN4vB8kJ1tY6uE5sA0zQ3f', // sent as tenant.id: rejected, never echoed
};

function kv(key: string, value: string) {
  return { key, value: { stringValue: value } };
}

function traces(): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [kv('service.name', 'order-api')] },
        scopeSpans: [
          {
            spans: [
              {
                traceId: '0af7651916cd43dd8448eb211c80319c',
                spanId: 'b7ad6b7169203331',
                name: 'POST /orders',
                kind: 2,
                startTimeUnixNano: '1795162530000000000',
                endTimeUnixNano: '1795162530100000000',
                attributes: [
                  kv('order.note', `forwarded from ${LEAKS.otherTenantCode} by mistake`),
                  kv('order.customer', 'CUST-10442 (ACME) own account'),
                  kv('db.connection_string', `postgres://app:${LEAKS.dbPassword}@db:5432/orders`),
                  kv('enduser.email', LEAKS.email),
                  kv('http.request.header.authorization', LEAKS.basicAuth),
                ],
              },
            ],
          },
        ],
      },
    ],
  });
}

function logs(): string {
  return JSON.stringify({
    resourceLogs: [
      {
        resource: { attributes: [kv('service.name', 'edi-gateway')] },
        scopeLogs: [
          {
            logRecords: [
              {
                timeUnixNano: '1795162530000000000',
                severityNumber: 17,
                body: { stringValue: `token rejected: ${LEAKS.jwt}` },
                attributes: [kv('aws.key', `uploaded with ${LEAKS.awsKey}`)],
              },
            ],
          },
        ],
      },
    ],
  });
}

function metrics(): string {
  return JSON.stringify({
    resourceMetrics: [
      {
        resource: { attributes: [kv('service.name', 'billing-svc')] },
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'invoices.sent',
                sum: {
                  aggregationTemporality: 2,
                  isMonotonic: true,
                  dataPoints: [{ asInt: '3', timeUnixNano: '1795162530000000000', attributes: [kv('mail.domain', LEAKS.otherTenantDomain)] }],
                },
              },
            ],
          },
        ],
      },
    ],
  });
}

function auditEvent(): string {
  return JSON.stringify({
    time: '2026-11-20T08:15:30Z',
    actor: { id: 'support-7', type: 'support' },
    action: 'support.access',
    target: { type: 'payment', id: 'pm-1', tenant_id: 'acme-dist' },
    outcome: 'success',
    ticket: 'SUP-1182',
    attributes: { 'payment.card': LEAKS.card, reason: 'refund check' },
  });
}

const replies: string[] = [];

async function post(path: string, body: string): Promise<number> {
  const res = await fetch(`${server.otlpHttpUrl}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...bearer('demo-ingest-acme-dist') } });
  replies.push(await res.text());
  return res.status;
}

function spoofedTenant(): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [kv('service.name', 'spoof'), kv('tenant.id', LEAKS.claimedTenantSecret)] },
        scopeSpans: [{ spans: [{ traceId: '0af7651916cd43dd8448eb211c80319d', spanId: 'b7ad6b7169203332', name: 'x', startTimeUnixNano: '1', endTimeUnixNano: '2' }] }],
      },
    ],
  });
}

test.before(async () => {
  server = await serveCli(['--data-dir', dataDir, '--host', '127.0.0.1', '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--api-port', '0'], { TENANTSCOPE_LOG_LEVEL: 'debug' });
  assert.is(await post('/v1/traces', traces()), 200);
  assert.is(await post('/v1/logs', logs()), 200);
  assert.is(await post('/v1/metrics', metrics()), 200);
  assert.is(await post('/v1/audit', auditEvent()), 200);
  assert.is(await post('/v1/traces', spoofedTenant()), 200);
  assert.is(await stopCli(server), 0);
  store = await ChdbStore.open(dataDir);
});

test.after(async () => {
  await store?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('no raw leaked or secret value survives in any column of any table', async () => {
  const tables = await store.query<{ name: string }>('SELECT name FROM system.tables WHERE database = currentDatabase()');
  assert.ok(tables.length >= 7, tables.map((t) => t.name).join(','));
  let scanned = 0;
  for (const { name } of tables) {
    const rows = await store.query<Record<string, unknown>>(`SELECT * FROM ${name}`);
    const text = JSON.stringify(rows);
    scanned += rows.length;
    for (const [what, raw] of Object.entries(LEAKS)) {
      assert.not.ok(text.includes(raw), `${what} found in table ${name}`);
      assert.not.ok(text.includes(JSON.stringify(raw).slice(1, -1)), `${what} (escaped) found in table ${name}`);
    }
  }
  assert.ok(scanned > 0);
});

test('no raw value is echoed in any reply, including the rejection of a spoofed tenant.id', () => {
  const text = replies.join('\n');
  assert.match(text, /names no tenant this token writes for/);
  for (const [what, raw] of Object.entries(LEAKS)) assert.not.ok(text.includes(raw), `${what} found in a reply`);
});

test('no raw value appears in anything the server logged, even at debug level', () => {
  const text = server.log.join('\n');
  assert.ok(text.length > 0);
  for (const [what, raw] of Object.entries(LEAKS)) assert.not.ok(text.includes(raw), `${what} found in the log`);
});

test('each leak left a marker with its class in place of the value', async () => {
  const [span] = await store.query<{ attributes: Record<string, string> }>("SELECT attributes FROM spans WHERE service_name = 'order-api'");
  const a = span!.attributes;
  assert.match(a['order.note']!, /^forwarded from \[REDACTED:tenant_identifier:[0-9a-f]{8}\] by mistake$/);
  assert.match(a['db.connection_string']!, /^postgres:\/\/app:\[REDACTED:password:[0-9a-f]{8}\]@db:5432\/orders$/);
  assert.match(a['enduser.email']!, /^\[REDACTED:email:[0-9a-f]{8}\]$/);
  assert.match(a['http.request.header.authorization']!, /^\[REDACTED:secret_attribute:[0-9a-f]{8}\]$/);
  const [log] = await store.query<{ body: string; attributes: Record<string, string> }>("SELECT body, attributes FROM logs WHERE service_name = 'edi-gateway'");
  assert.match(log!.body, /^token rejected: \[REDACTED:jwt:[0-9a-f]{8}\]$/);
  assert.match(log!.attributes['aws.key']!, /\[REDACTED:cloud_key:[0-9a-f]{8}\]/);
  const [point] = await store.query<{ attributes: Record<string, string> }>("SELECT attributes FROM metric_points WHERE metric_name = 'invoices.sent'");
  assert.match(point!.attributes['mail.domain']!, /^\[REDACTED:tenant_identifier:[0-9a-f]{8}\]$/);
  const [ev] = await store.query<{ attributes: Record<string, string> }>("SELECT attributes FROM audit_events WHERE action = 'support.access'");
  assert.match(ev!.attributes['payment.card']!, /^\[REDACTED:card_number:[0-9a-f]{8}\]$/);
  assert.is(ev!.attributes.reason, 'refund check');
});

test("a tenant's own identifiers are kept as sent", async () => {
  const [span] = await store.query<{ attributes: Record<string, string> }>("SELECT attributes FROM spans WHERE service_name = 'order-api'");
  assert.is(span!.attributes['order.customer'], 'CUST-10442 (ACME) own account');
});

test('the redactions table counts every redaction by data class, field and class, and holds no values', async () => {
  const rows = await store.query<{ data_class: string; field: string; class: string; n: string }>(
    "SELECT data_class, field, class, toString(sum(count)) AS n FROM redactions WHERE tenant_id = 'acme-dist' GROUP BY data_class, field, class ORDER BY data_class, field, class",
  );
  assert.equal(rows, [
    { data_class: 'audit_events', field: 'audit.attributes.payment.card', class: 'card_number', n: '1' },
    { data_class: 'logs', field: 'log.attributes.aws.key', class: 'cloud_key', n: '1' },
    { data_class: 'logs', field: 'log.body', class: 'jwt', n: '1' },
    { data_class: 'metric_points', field: 'metric.attributes.mail.domain', class: 'tenant_identifier', n: '1' },
    { data_class: 'spans', field: 'span.attributes.db.connection_string', class: 'password', n: '1' },
    { data_class: 'spans', field: 'span.attributes.enduser.email', class: 'email', n: '1' },
    { data_class: 'spans', field: 'span.attributes.http.request.header.authorization', class: 'secret_attribute', n: '1' },
    { data_class: 'spans', field: 'span.attributes.order.note', class: 'tenant_identifier', n: '1' },
  ]);
});

test('the audit chain covers the redacted values and still verifies', async () => {
  const { verifyChain } = await import('../../src/ingest/audit/chain.js');
  const v = await verifyChain(store, 'acme-dist');
  assert.is(v.status, 'ok');
  assert.is(v.events, 1);
});

test.run();
