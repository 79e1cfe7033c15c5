// The backup and recovery vocabulary: facts arrive as audit events or as OTLP log records named
// for the action, are checked against one schema (a refusal names the field), and land in
// recovery_events whichever way they came. Platform-scope facts come only from an admin token.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer, bearer, type TestServer } from './support/server.js';

let server: TestServer;
test.before(async () => {
  server = await startTestServer();
});
test.after(async () => {
  await server.stop();
});

interface AuditReply {
  accepted: number;
  rejected: number;
  events: Array<{ index: number; status: string; segment_id?: string; errors?: string[] }>;
  error?: { code: string; message: string };
}

async function postAudit(token: string, body: unknown): Promise<{ status: number; body: AuditReply }> {
  const res = await fetch(`${server.otlpHttpUrl}/v1/audit`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...bearer(token) } });
  return { status: res.status, body: (await res.json()) as AuditReply };
}

let n = 0;
function backup(attributes: Record<string, string> = {}, over: Record<string, unknown> = {}): Record<string, unknown> {
  n++;
  return {
    id: `bk-${n}`,
    time: '2026-12-07T04:00:00Z',
    actor: { id: 'backup-operator', type: 'service' },
    action: 'backup.completed',
    target: { type: 'database', id: 'orders-db' },
    outcome: 'success',
    attributes: {
      component: 'database',
      scope: 'tenant',
      snapshot_time: '2026-12-07T03:55:00Z',
      size_bytes: '734003200',
      encryption_key_id: 'kms-stark-logistics-1',
      retention_days: '35',
      location_region: 'us-east-1',
      ...attributes,
    },
    ...over,
  };
}

async function facts(where: string, params: Record<string, string>) {
  return server.store.query<Record<string, any>>(
    `SELECT tenant_id, kind, component, scope, tiers, regions, toString(time) AS time, toString(snapshot_time) AS snapshot_time, outcome,
            size_bytes, encryption_key_id, backup_retention_days, location_region, duration_seconds, verified_records, source, event_id
       FROM recovery_events WHERE ${where} ORDER BY time, event_id`,
    params,
  );
}

test('a backup.completed audit event becomes a recovery fact with every attribute', async () => {
  const r = await postAudit('demo-ingest-stark-logistics', backup());
  assert.is(r.status, 200, JSON.stringify(r.body));
  const [f] = await facts('event_id = {id:String}', { id: `bk-${n}` });
  assert.ok(f, 'the fact is stored');
  assert.is(f!.tenant_id, 'stark-logistics');
  assert.is(f!.kind, 'backup.completed');
  assert.is(f!.component, 'database');
  assert.is(f!.snapshot_time, '2026-12-07 03:55:00.000');
  assert.is(f!.time, '2026-12-07 04:00:00.000');
  assert.is(Number(f!.size_bytes), 734003200);
  assert.is(f!.encryption_key_id, 'kms-stark-logistics-1');
  assert.is(Number(f!.backup_retention_days), 35);
  assert.is(f!.location_region, 'us-east-1');
  assert.is(f!.outcome, 'success');
  assert.is(f!.source, 'audit');
});

test('each required attribute of a backup.completed, when missing, is named in a 400', async () => {
  for (const field of ['component', 'scope', 'snapshot_time', 'retention_days', 'location_region']) {
    const e = backup();
    delete (e.attributes as Record<string, string>)[field];
    const r = await postAudit('demo-ingest-stark-logistics', e);
    assert.is(r.status, 400, field);
    assert.ok(r.body.events[0]!.errors!.includes(`/attributes: missing required field "${field}"`), `${field}: ${JSON.stringify(r.body.events[0]!.errors)}`);
  }
});

test('a wrong attribute value is refused with what was expected, and the valid events beside it are stored', async () => {
  const bad = [
    backup({ component: 'disk' }),
    backup({ snapshot_time: 'last night' }),
    backup({ size_bytes: '-5' }),
    backup({ retention_days: '0' }),
    backup({ location_region: 'US East; DROP TABLE spans' }),
    backup({ tiers: 'shared' }),
  ];
  const good = backup();
  const r = await postAudit('demo-ingest-stark-logistics', [...bad, good]);
  assert.is(r.status, 200);
  assert.is(r.body.accepted, 1);
  const errs = r.body.events.slice(0, bad.length).map((e) => e.errors!.join('; '));
  assert.match(errs[0]!, /\/attributes\/component: must be one of database, object_storage, queue, config, integration_state/);
  assert.match(errs[1]!, /\/attributes\/snapshot_time: must be an RFC 3339 time/);
  assert.match(errs[2]!, /\/attributes\/size_bytes: must be a whole number/);
  assert.match(errs[3]!, /\/attributes\/retention_days: must be a whole number of days from 1/);
  assert.match(errs[4]!, /\/attributes\/location_region: must be a region name/);
  assert.match(errs[5]!, /\/attributes\/tiers: only platform-scope facts name tiers or regions/);
  const stored = await facts("tenant_id = 'stark-logistics' AND event_id IN {ids:Array(String)}", { ids: [...bad, good].map((e) => e.id as string) } as never);
  assert.equal(stored.map((f) => f.event_id), [good.id]);
});

test('the outcome must fit the action: a backup.completed that failed, a test whose attributes disagree', async () => {
  const r1 = await postAudit('demo-ingest-stark-logistics', backup({}, { outcome: 'failure' }));
  assert.is(r1.status, 400);
  assert.ok(r1.body.events[0]!.errors!.includes('/outcome: must be "success" for this action'), JSON.stringify(r1.body));
  const test1 = { ...backup(), action: 'restore.tested', attributes: { component: 'database', scope: 'tenant', duration_seconds: '1520', outcome: 'failure' } };
  const r2 = await postAudit('demo-ingest-stark-logistics', test1);
  assert.is(r2.status, 400);
  assert.match(r2.body.events[0]!.errors!.join(), /\/attributes\/outcome: "failure" disagrees with the event's outcome "success"/);
  const noDuration = { ...backup(), action: 'restore.tested', attributes: { component: 'database', scope: 'tenant' } };
  const r3 = await postAudit('demo-ingest-stark-logistics', noDuration);
  assert.ok(r3.body.events[0]!.errors!.includes('/attributes: missing required field "duration_seconds"'));
});

test("a tenant's token cannot record a platform-scope fact, which would count for other tenants", async () => {
  const r = await postAudit('demo-ingest-acme-dist', backup({ scope: 'platform', tiers: 'shared' }));
  assert.is(r.status, 400);
  assert.match(r.body.events[0]!.errors!.join(), /\/attributes\/scope: a platform-scope fact counts for every tenant of its tiers; only an admin token records one/);
  assert.is((await facts("tenant_id = '_platform' AND event_id = {id:String}", { id: `bk-${n}` })).length, 0);
});

test('an admin token records platform-scope facts in the platform chain, with the tiers and regions they cover', async () => {
  const e = backup({ scope: 'platform', tiers: 'shared,segmented', regions: 'us-east-1,us-east-2', encryption_key_id: 'kms-platform-1' });
  const r = await postAudit('demo-admin', e);
  assert.is(r.status, 200, JSON.stringify(r.body));
  assert.match(r.body.events[0]!.segment_id!, /./);
  const [f] = await facts("tenant_id = '_platform' AND event_id = {id:String}", { id: e.id as string });
  assert.equal(f!.tiers, ['shared', 'segmented']);
  assert.equal(f!.regions, ['us-east-1', 'us-east-2']);
  const [chain] = await server.store.query<{ n: string }>("SELECT count() AS n FROM audit_events WHERE tenant_id = '_platform' AND event_id = {id:String}", { id: e.id as string });
  assert.is(Number(chain!.n), 1);
});

test('an admin token records tenant-scope facts only for the tenant it names, and nothing but recovery facts', async () => {
  const named = backup({}, { target: { type: 'database', id: 'orders-db', tenant_id: 'globex-3pl' } });
  const r1 = await postAudit('demo-admin', named);
  assert.is(r1.status, 200, JSON.stringify(r1.body));
  assert.is((await facts("tenant_id = 'globex-3pl' AND event_id = {id:String}", { id: named.id as string })).length, 1);
  const r2 = await postAudit('demo-admin', backup());
  assert.is(r2.status, 400);
  assert.match(r2.body.events[0]!.errors!.join(), /\/target\/tenant_id: an admin token must name the tenant/);
  const r3 = await postAudit('demo-admin', { ...backup(), action: 'data.export', attributes: {}, target: { type: 'dataset', id: 'x', tenant_id: 'acme-dist' } });
  assert.is(r3.status, 400);
  assert.match(r3.body.events[0]!.errors!.join(), /\/action: an admin token records only backup and recovery facts/);
});

function otlpLogs(records: Array<{ eventName: string; attributes: Record<string, string | number> }>): string {
  return JSON.stringify({
    resourceLogs: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'backup-operator' } }] },
      scopeLogs: [{
        scope: { name: 'backup' },
        logRecords: records.map((r) => ({
          timeUnixNano: '1796616000000000000',
          eventName: r.eventName,
          body: { stringValue: r.eventName },
          attributes: Object.entries(r.attributes).map(([key, v]) => ({ key, value: typeof v === 'number' ? { intValue: String(v) } : { stringValue: v } })),
        })),
      }],
    }],
  });
}

test('OTLP log records named for the actions become the same facts; a wrong one is refused by name and the rest kept', async () => {
  const ok = { component: 'object_storage', scope: 'tenant', snapshot_time: '2026-12-07T03:50:00Z', size_bytes: 52428800, retention_days: 90, location_region: 'us-west-2', encryption_key_id: 'kms-globex-3pl-1' };
  const drill = { component: 'database', scope: 'tenant', duration_seconds: '840', outcome: 'success', verified_records: 120000 };
  const body = otlpLogs([
    { eventName: 'backup.completed', attributes: ok },
    { eventName: 'restore.tested', attributes: drill },
    { eventName: 'backup.completed', attributes: { ...ok, component: 'tape' } },
    { eventName: 'app.started', attributes: { component: 'tape' } },
  ]);
  const res = await fetch(`${server.otlpHttpUrl}/v1/logs`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...bearer('demo-ingest-globex-3pl') } });
  assert.is(res.status, 200);
  const reply = (await res.json()) as { partialSuccess?: { rejectedLogRecords?: string; errorMessage?: string } };
  assert.is(Number(reply.partialSuccess?.rejectedLogRecords), 1);
  assert.match(reply.partialSuccess!.errorMessage!, /log record "backup.completed": attributes.component: must be one of database, object_storage/);
  const stored = await facts("tenant_id = 'globex-3pl' AND source = 'log'", {});
  assert.equal(stored.map((f) => [f.kind, f.component, f.outcome]), [['backup.completed', 'object_storage', 'success'], ['restore.tested', 'database', 'success']]);
  assert.is(Number(stored[0]!.size_bytes), 52428800);
  assert.is(Number(stored[0]!.backup_retention_days), 90);
  assert.is(stored[0]!.snapshot_time, '2026-12-07 03:50:00.000');
  assert.is(Number(stored[1]!.duration_seconds), 840);
  assert.is(Number(stored[1]!.verified_records), 120000);
  const [logs] = await server.store.query<{ n: string }>("SELECT count() AS n FROM logs WHERE tenant_id = 'globex-3pl' AND service_name = 'backup-operator'");
  assert.is(Number(logs!.n), 3, 'the two facts and the ordinary record are stored as logs; the refused one is not');
});

test('an OTLP record cannot carry a platform-scope fact or a test without its outcome', async () => {
  const body = otlpLogs([
    { eventName: 'backup.failed', attributes: { component: 'database', scope: 'platform' } },
    { eventName: 'failover.tested', attributes: { scope: 'tenant', location_region: 'us-east-1', duration_seconds: '300' } },
  ]);
  const res = await fetch(`${server.otlpHttpUrl}/v1/logs`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...bearer('demo-ingest-globex-3pl') } });
  const reply = (await res.json()) as { partialSuccess?: { rejectedLogRecords?: string; errorMessage?: string } };
  assert.is(Number(reply.partialSuccess?.rejectedLogRecords), 2);
  assert.match(reply.partialSuccess!.errorMessage!, /attributes.scope: a platform-scope fact counts for every tenant of its tiers; send it to \/v1\/audit with an admin token/);
});

test.run();
