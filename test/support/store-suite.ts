// The store specification: what every Store does, whichever engine is behind it. Migrations
// are versioned and safe to re-run, every telemetry table leads with tenant_id and is
// partitioned by time, rows expire by their own tenant's retention, values travel as bound
// parameters (typed as ClickHouse types them), in Native blocks (from bytes or from a file, as
// ingest writes them) or in JSONEachRow, with 64-bit integers exact,
// the per-minute resource rollup is backfilled once and then fed by its view, and a failing
// statement is a TS_ERR_STORE that carries the engine's own message.
// test/store.test.ts runs it on the embedded store, test/store-remote.test.ts on RemoteStore
// through the ClickHouse HTTP test server, test/store-clickhouse.test.ts on a real server.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { insertChunk, migrate, loadMigrations, RemoteStore, type RemoteStoreOptions, type Store } from '../../src/store/index.js';
import { BlockSchema, chunkOf, encodeBlock } from '../../src/store/native.js';
import { INGEST_USAGE, RESOURCE_MINUTE_SUMS, SPANS } from '../../src/store/schemas.js';
import { spanRows } from '../../src/ingest/rows.js';
import { isTenantscopeError, type TenantscopeError } from '../../src/errors.js';
import type { ResourceGroup, SpanRecord } from '../../src/ingest/otlp/types.js';

export interface StoreUnderTest {
  store: Store;
  /** Close the store and remove everything it stored. */
  discard(): Promise<void>;
}

/** Opens a new, empty store on each call; the specification keeps one open at a time. */
export type FreshStore = () => Promise<StoreUnderTest>;

/** Fresh stores on a ClickHouse server: one new database each, dropped when discarded. */
export function freshRemoteStores(conn: RemoteStoreOptions, prefix = 'tenantscope_test'): FreshStore {
  if (!/^\w+$/.test(prefix)) throw new Error(`invalid database prefix ${JSON.stringify(prefix)}`);
  return async () => {
    const admin = new RemoteStore({ ...conn, database: undefined });
    const database = `${prefix}_${randomUUID().replace(/-/g, '')}`;
    await admin.exec(`CREATE DATABASE ${database}`);
    const store = new RemoteStore({ ...conn, database });
    return {
      store,
      async discard() {
        await store.close();
        try {
          await admin.exec(`DROP DATABASE IF EXISTS ${database} SYNC`);
        } finally {
          await admin.close();
        }
      },
    };
  };
}

/** The engine's expression-compiling settings as a read on `store` sees them. */
export function compileSettings(store: Store): Promise<{ name: string; value: string }[]> {
  return store.query<{ name: string; value: string }>(
    "SELECT name, value FROM system.settings WHERE name IN ('compile_expressions', 'compile_aggregate_expressions', 'compile_sort_description') ORDER BY name",
  );
}

/** Every compiling setting is off. */
export function assertNoCompiling(rows: { name: string; value: string }[]): void {
  assert.equal(rows, [
    { name: 'compile_aggregate_expressions', value: '0' },
    { name: 'compile_expressions', value: '0' },
    { name: 'compile_sort_description', value: '0' },
  ]);
}

/** Register the store specification for the stores `fresh` opens, and run it. */
export function runStoreSpecification(name: string, fresh: FreshStore): void {
  const spec = suite(`${name}: schema, retention and values`);
  let under: StoreUnderTest;
  let store: Store;
  spec.before(async () => {
    under = await fresh();
    store = under.store;
  });
  spec.after(async () => {
    await under?.discard();
  });

  spec('the first start applies every migration and records it in schema_migrations', async () => {
    const applied = await migrate(store);
    const all = loadMigrations().map((m) => m.version);
    assert.equal(applied, all);
    const recorded = await store.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version');
    assert.equal(recorded.map((r) => r.version), all);
  });

  spec('running the migrations again applies nothing and keeps the data', async () => {
    await store.exec("INSERT INTO ingest_usage (tenant_id, time, signal, outcome, records, retention_days) VALUES ('acme-dist', now64(3), 'spans', 'accepted', 5, 30)");
    assert.equal(await migrate(store), []);
    const [n] = await store.query<{ n: string }>('SELECT count() AS n FROM ingest_usage');
    assert.is(n!.n, '1');
  });

  spec('reads run with no machine-code compiling of expressions (a third run would pay for the compile)', async () => {
    assertNoCompiling(await compileSettings(store));
  });

  spec('a migration edited after it was applied is refused with a clear message', async () => {
    const edited = loadMigrations().map((m) => (m.version === 1 ? { ...m, checksum: 'f'.repeat(64) } : m));
    const e = await failure(() => migrate(store, {}, edited));
    assert.match(e.message, /changed after it was applied/);
  });

  for (const table of ['spans', 'logs', 'metric_points', 'ingest_usage']) {
    spec(`${table} leads its sort key with tenant_id, is partitioned by time and has a TTL`, async () => {
      const [t] = await store.query<{ sorting_key: string; partition_key: string; create_table_query: string }>(
        'SELECT sorting_key, partition_key, create_table_query FROM system.tables WHERE database = currentDatabase() AND name = {t:String}',
        { t: table },
      );
      assert.ok(t, `${table} exists`);
      assert.ok(t!.sorting_key.startsWith('tenant_id'), t!.sorting_key);
      assert.match(t!.partition_key, /toDate|toYYYYMM/);
      assert.match(t!.create_table_query, /TTL .*retention_days/);
    });
  }

  spec('rows expire by their own retention: one table keeps a 60-day tenant and drops a 30-day one', async () => {
    const group: ResourceGroup<SpanRecord> = {
      resource: { attributes: { 'service.name': 'ttl-check' }, droppedAttributesCount: 0, schemaUrl: '' },
      items: [
        {
          scope: { name: '', version: '', attributes: {}, droppedAttributesCount: 0, schemaUrl: '' },
          traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', parentSpanId: '', traceState: '', flags: 0,
          name: 'GET /x', kind: 2, startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000100000000',
          attributes: {}, droppedAttributesCount: 0, events: [], droppedEventsCount: 0, links: [], droppedLinksCount: 0, statusCode: 0, statusMessage: '',
        },
      ],
    };
    // Both rows were received 45 days ago; only the tenant keeping spans 60 days still has them.
    const received = Date.now() - 45 * 86_400_000;
    for (const [tenantId, retentionDays] of [['short-keep', 30], ['long-keep', 60]] as const) {
      const enc = spanRows({ tenantId, retentionDays, batchId: 'ttl', receivedMs: received }, [group]);
      assert.equal(await insertChunk(store, enc.chunk), { rows: 1 });
    }
    await store.exec('OPTIMIZE TABLE spans FINAL');
    const rows = await store.query<{ tenant_id: string }>("SELECT tenant_id FROM spans WHERE service_name = 'ttl-check' ORDER BY tenant_id");
    assert.equal(rows.map((r) => r.tenant_id), ['long-keep']);
  });

  spec('values reach ClickHouse as bound parameters, so SQL in a value is inert', async () => {
    const evil = "x'); DROP TABLE spans; --";
    const [r] = await store.query<{ v: string }>('SELECT {v:String} AS v', { v: evil });
    assert.is(r!.v, evil);
    await store.exec('INSERT INTO ingest_usage (tenant_id, time, signal, outcome, records, retention_days) VALUES ({t:String}, now64(3), {s:String}, \'accepted\', 1, 30)', { t: 'inert', s: evil });
    const [stored] = await store.query<{ signal: string }>("SELECT signal FROM ingest_usage WHERE tenant_id = 'inert'");
    assert.is(stored!.signal, evil);
    const [n] = await store.query<{ n: string }>("SELECT count() AS n FROM system.tables WHERE name = 'spans' AND database = currentDatabase()");
    assert.is(n!.n, '1');
  });

  spec('typed parameters bind as ClickHouse binds them: escapes in strings, integers, arrays, DateTime64, Bool and NULL', async () => {
    const text = "it's a\ttab, a back\\slash,\na newline and a \\N";
    const [r] = await store.query<Record<string, unknown>>(
      `SELECT {s:String} AS s, {n:UInt32} AS n, {big:UInt64} AS big, {neg:Int64} AS neg, {f:Float64} AS f,
              {a:Array(String)} AS a, {ids:Array(UInt32)} AS ids, {t:DateTime64(3)} AS t, {b:Bool} AS b,
              {z:Nullable(String)} AS z, {zn:Nullable(UInt32)} AS zn, length({a:Array(String)}) AS a_len`,
      {
        s: text, n: 4294967295, big: '18446744073709551615', neg: '-9223372036854775808', f: 0.25,
        a: ["o'neil", 'back\\slash', 'tab\there', ''], ids: [3, 1, 2], t: '2026-11-20 10:00:01.123', b: true, z: null, zn: null,
      },
    );
    assert.equal(r, {
      s: text, n: 4294967295, big: '18446744073709551615', neg: '-9223372036854775808', f: 0.25,
      a: ["o'neil", 'back\\slash', 'tab\there', ''], ids: [3, 1, 2], t: '2026-11-20 10:00:01.123', b: true, z: null, zn: null, a_len: '4',
    });
  });

  spec('JSONEachRow inserts keep 64-bit integers exact, and reads return them as strings', async () => {
    // 2^53 + 1 has no exact double: a number anywhere on the way would come back as ...992.
    const row = { tenant_id: 'wide-ints', time: '2026-11-20 10:00:00.000', signal: 'spans', outcome: 'accepted', records: '18446744073709551615', bytes: '9007199254740993', retention_days: 30 };
    assert.equal(await store.insertJsonEachRow('ingest_usage', Buffer.from(`${JSON.stringify(row)}\n`), 1), { rows: 1 });
    const [r] = await store.query<{ records: string; bytes: string; next: string }>(
      "SELECT records, bytes, bytes + 1 AS next FROM ingest_usage WHERE tenant_id = 'wide-ints'",
    );
    assert.equal(r, { records: '18446744073709551615', bytes: '9007199254740993', next: '9007199254740994' });
  });

  spec("a failing statement is a TS_ERR_STORE that carries the engine's own message", async () => {
    const unknown = await failure(() => store.query('SELECT * FROM no_such_table'));
    assert.is(unknown.code, 'TS_ERR_STORE');
    assert.match(unknown.message, /no_such_table/);
    assert.match(unknown.message, /UNKNOWN_TABLE/);
    const badParam = await failure(() => store.query('SELECT {n:UInt32} AS n', { n: 'twelve' }));
    assert.match(badParam.message, /twelve cannot be parsed as UInt32/);
    const badRow = await failure(() => store.insertJsonEachRow('ingest_usage', Buffer.from('{"tenant_id":"x","records":"lots"}\n'), 1));
    assert.is(badRow.code, 'TS_ERR_STORE');
    assert.match(badRow.message, /INSERT INTO ingest_usage: .*Cannot parse input/);
    const [n] = await store.query<{ n: string }>("SELECT count() AS n FROM ingest_usage WHERE tenant_id = 'x'");
    assert.is(n!.n, '0', 'nothing of the refused insert is stored');
  });

  spec('an insert sent again with the same deduplication token is stored once, and its rollup sums counted once', async () => {
    const span = (id: string) => ({ tenant_id: 'dedup', service_name: 'api', kind: 2, name: 'GET /x', start_time: '1763632801000000000', end_time: '1763632801010000000', duration_ns: 10000000, trace_id: 't', span_id: id, retention_days: 30, ingested_at: Date.now() });
    const block = { bytes: encodeBlock(SPANS, [chunkOf(SPANS, [span('a'), span('b')])]) };
    for (let i = 0; i < 3; i++) await store.insertNative('spans', block, 2, { dedupToken: 'block-1' });
    await store.insertNative('spans', block, 2, { dedupToken: 'block-2' });
    const [n] = await store.query<{ n: string }>("SELECT count() AS n FROM spans WHERE tenant_id = 'dedup'");
    assert.is(n!.n, '4', 'three sends of block-1 and one of block-2');
    // The sums go through a table that keeps nothing; the rollup behind its view skips a resent
    // block. (Received now: the rollup keeps rows for their retention from receipt.)
    const sums = {
      bytes: encodeBlock(RESOURCE_MINUTE_SUMS, [
        chunkOf(RESOURCE_MINUTE_SUMS, [{ minute: 1763632800, resource: 'service:api', tenant_id: 'dedup', name: 'GET /x', requests: 2, busy_ns: 20000000, slowest_trace: 't', slowest_ns: 10000000, retention_days: 30, received: Math.floor(Date.now() / 1000) }]),
      ]),
    };
    for (let i = 0; i < 3; i++) await store.insertNative('resource_minute_sums', sums, 1, { dedupToken: 'sums-1' });
    await store.insertNative('resource_minute_sums', sums, 1, { dedupToken: 'sums-2' });
    const [r] = await store.query<{ n: string; slowest: string }>(
      "SELECT toString(sum(requests)) AS n, argMaxMerge(slowest) AS slowest FROM resource_minutes WHERE tenant_id = 'dedup' AND minute = toDateTime(1763632800)",
    );
    assert.equal(r, { n: '4', slowest: 't' }, 'three sends of sums-1 and one of sums-2');
  });

  spec('a Native block inserts from its bytes and from its file alike, several blocks in one insert included', async () => {
    const usage = (tenant: string, records: string) => ({ tenant_id: tenant, time: 1763632800123, signal: 'spans', outcome: 'accepted', records, bytes: 1, retention_days: 3650, kept_days: 30, batch_id: 'native' });
    const one = encodeBlock(INGEST_USAGE, [chunkOf(INGEST_USAGE, [usage('native-bytes', '18446744073709551615')])]);
    assert.equal(await store.insertNative('ingest_usage', { bytes: one }, 1), { rows: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'tenantscope-native-'));
    try {
      const path = join(dir, 'two-blocks.native');
      writeFileSync(path, Buffer.concat([encodeBlock(INGEST_USAGE, [chunkOf(INGEST_USAGE, [usage('native-file', '1')])]), encodeBlock(INGEST_USAGE, [chunkOf(INGEST_USAGE, [usage('native-file', '2'), usage('native-file', '3')])])]));
      assert.equal(await store.insertNative('ingest_usage', { path }, 3, { dedupToken: 'two-blocks' }), { rows: 3 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const rows = await store.query<{ tenant_id: string; records: string; outcome: string; time: string }>(
      "SELECT tenant_id, records, outcome, toString(time) AS time FROM ingest_usage WHERE tenant_id LIKE 'native-%' ORDER BY tenant_id, records",
    );
    assert.equal(rows, [
      { tenant_id: 'native-bytes', records: '18446744073709551615', outcome: 'accepted', time: '2025-11-20 10:00:00.123' },
      { tenant_id: 'native-file', records: '1', outcome: 'accepted', time: '2025-11-20 10:00:00.123' },
      { tenant_id: 'native-file', records: '2', outcome: 'accepted', time: '2025-11-20 10:00:00.123' },
      { tenant_id: 'native-file', records: '3', outcome: 'accepted', time: '2025-11-20 10:00:00.123' },
    ]);
  });

  spec('a Native block the table cannot take is a TS_ERR_STORE, and nothing of it is stored', async () => {
    const wrong = new BlockSchema('ingest_usage', [['tenant_id', 'String'], ['no_such_column', 'String']]);
    const bad = await failure(() => store.insertNative('ingest_usage', { bytes: encodeBlock(wrong, [chunkOf(wrong, [{ tenant_id: 'native-bad', no_such_column: 'x' }])]) }, 1));
    assert.is(bad.code, 'TS_ERR_STORE');
    assert.match(bad.message, /INSERT INTO ingest_usage/);
    assert.match(bad.message, /no_such_column/);
    const [n] = await store.query<{ n: string }>("SELECT count() AS n FROM ingest_usage WHERE tenant_id = 'native-bad'");
    assert.is(n!.n, '0');
  });


  spec.run();

  // The rollup needs a store at the migration before it, so it gets a store of its own.
  const rollup = suite(`${name}: resource rollup`);
  rollup('spans stored before the per-minute rollup existed are rolled up once by its migration, later ones by its view', async () => {
    const { store: s, discard } = await fresh();
    try {
      const all = loadMigrations();
      await migrate(s, {}, all.filter((m) => m.version < 6));
      const insert = (trace: string, ms: number) =>
        s.exec(
          `INSERT INTO spans (tenant_id, service_name, start_time, end_time, duration_ns, trace_id, span_id, name, kind, retention_days)
           VALUES ('acme-dist', 'order-api', '2026-11-20 10:00:01', '2026-11-20 10:00:01', {ns:UInt64}, {trace:String}, 'a', 'GET /x', 2, 30)`,
          { ns: ms * 1e6, trace },
        );
      await insert('before', 30);
      assert.equal(await migrate(s, {}, all.filter((m) => m.version <= 6)), [6]);
      await insert('after', 50);
      const rows = await s.query<{ resource: string; requests: string; busy_ns: string; slowest: string }>(
        `SELECT resource, sum(requests) AS requests, sum(busy_ns) AS busy_ns, argMaxMerge(slowest) AS slowest
           FROM resource_minutes WHERE minute = '2026-11-20 10:00:00' GROUP BY resource`,
      );
      assert.equal(rows, [{ resource: 'service:order-api', requests: '2', busy_ns: '80000000', slowest: 'after' }]);
    } finally {
      await discard();
    }
  });
  rollup.run();
}

/** The TenantscopeError a call fails with (the test fails if it succeeds). */
export async function failure(call: () => Promise<unknown>): Promise<TenantscopeError> {
  try {
    await call();
  } catch (e) {
    if (isTenantscopeError(e)) return e;
    throw e;
  }
  assert.unreachable('the call should have failed');
  throw new Error('unreachable');
}
