// The remote store over HTTP: the store specification (test/support/store-suite.ts) on
// RemoteStore against the ClickHouse HTTP test server (test/support/clickhouse-http.ts, chDB
// behind ClickHouse's HTTP interface), then the test server's own answers as a ClickHouse
// client sees them, and RemoteStore through an outage.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { RemoteStore } from '../src/store/index.js';
import { startClickHouseTestServer, type Outage } from './support/clickhouse-http.js';
import { failure, freshRemoteStores, runStoreSpecification } from './support/store-suite.js';

const server = await startClickHouseTestServer();

runStoreSpecification('RemoteStore over the ClickHouse HTTP test server', freshRemoteStores({ url: server.url }));

async function post(sql: string, params: Record<string, string> = {}, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}/?${new URLSearchParams(params)}`, { method: 'POST', body: sql, headers });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

const http = suite('the ClickHouse HTTP test server answers as a ClickHouse server does');
http.after(async () => {
  await server.close();
});

http('ping and a bare GET answer Ok.', async () => {
  for (const path of ['/ping', '/']) {
    const res = await fetch(`${server.url}${path}`);
    assert.is(res.status, 200, path);
    assert.is(await res.text(), 'Ok.\n', path);
  }
});

http('an exception is a non-2xx status with its code in a header and "Code: N. DB::Exception" text', async () => {
  const unknown = await post('SELECT * FROM no_such_table');
  assert.is(unknown.status, 404);
  assert.is(unknown.headers.get('x-clickhouse-exception-code'), '60');
  assert.match(unknown.body, /^Code: 60\. DB::Exception: .*no_such_table.*\(UNKNOWN_TABLE\) \(version \d+\.\d+/);
  const syntax = await post('SELEC 1');
  assert.is(syntax.status, 400);
  assert.match(syntax.body, /^Code: 62\. DB::Exception: Syntax error/);
  const empty = await post('  ');
  assert.is(empty.status, 400);
  assert.match(empty.body, /Empty query/);
});

http('a request holds one statement: a second one is refused and the first does not run', async () => {
  const r = await post('CREATE TABLE two_statements (a UInt8) ENGINE = Memory; SELECT 1');
  assert.is(r.status, 400);
  assert.match(r.body, /^Code: 62\. DB::Exception: Syntax error \(Multi-statements are not allowed\)/);
  const exists = await post("SELECT count() FROM system.tables WHERE name = 'two_statements'");
  assert.is(exists.body, '0\n');
});

http('URL settings, parameters and the database apply to their own request only', async () => {
  const quoted = await post('SELECT toUInt64(1) AS x FORMAT JSONEachRow', { output_format_json_quote_64bit_integers: '1' });
  assert.is(quoted.body, '{"x":"1"}\n');
  const plain = await post('SELECT toUInt64(1) AS x FORMAT JSONEachRow', { output_format_json_quote_64bit_integers: '0' });
  assert.is(plain.body, '{"x":1}\n');
  const param = await post("SELECT {a:Array(String)} AS a, {z:Nullable(UInt8)} AS z FORMAT JSONEachRow", { "param_a": "['it\\'s','back\\\\slash']", param_z: '\\N' });
  assert.is(param.body, '{"a":["it\'s","back\\\\slash"],"z":null}\n');
  const unset = await post('SELECT {a:Array(String)} AS a');
  assert.match(unset.body, /UNKNOWN_QUERY_PARAMETER/);
  assert.is((await post('SELECT currentDatabase()', { database: 'system' })).body, 'system\n');
  assert.is((await post('SELECT currentDatabase()')).body, 'default\n');
  const noDb = await post('SELECT 1', { database: 'no_such_database' });
  assert.is(noDb.status, 404);
  assert.match(noDb.body, /UNKNOWN_DATABASE/);
  const noSetting = await post('SELECT 1', { no_such_setting: '1' });
  assert.is(noSetting.status, 404);
  assert.match(noSetting.body, /UNKNOWN_SETTING/);
});

http('answers carry the query id, the output format and a summary', async () => {
  const r = await post('SELECT number FROM numbers(3) FORMAT JSONEachRow', { query_id: 'q-123' });
  assert.is(r.headers.get('x-clickhouse-query-id'), 'q-123');
  assert.is(r.headers.get('x-clickhouse-format'), 'JSONEachRow');
  assert.is((JSON.parse(r.headers.get('x-clickhouse-summary')!) as { result_rows: string }).result_rows, '3');
  const byDefault = await post('SELECT 1', { default_format: 'JSONCompactEachRow' });
  assert.is(byDefault.headers.get('x-clickhouse-format'), 'JSONCompactEachRow');
  assert.is(byDefault.body, '[1]\n');
});

http('a gzip request body is inflated; what the client does not use is refused as not implemented, not half-served', async () => {
  const res = await fetch(`${server.url}/`, { method: 'POST', body: gzipSync('SELECT 40 + 2'), headers: { 'content-encoding': 'gzip' } });
  assert.equal([res.status, await res.text()], [200, '42\n']);
  const notGzip = await post('SELECT 1', {}, { 'content-encoding': 'gzip' });
  assert.match(notGzip.body, /ZLIB_INFLATE_FAILED/);
  const brotli = await fetch(`${server.url}/`, { method: 'POST', body: brotliCompressSync('SELECT 1'), headers: { 'content-encoding': 'br' } });
  assert.is(brotli.status, 501);
  const session = await post('SELECT 1', { session_id: 's1' });
  assert.is(session.status, 501);
  assert.match(session.body, /NOT_IMPLEMENTED/);
});

const outages: Array<[Outage, RegExp]> = [
  // A keep-alive socket the client pooled before the outage may be the one that fails: then
  // it is the reset of that connection, not a refused new one, that says why.
  ['refuse', /ECONNREFUSED|socket hang up|ECONNRESET/],
  ['reset', /socket hang up|ECONNRESET/],
  ['503', /503 Service Unavailable/],
];
for (const [how, says] of outages) {
  http(`while the server is down (${how}) the store fails with TS_ERR_STORE saying why, and works again once it is back`, async () => {
    const store = new RemoteStore({ url: server.url });
    try {
      assert.equal(await store.query('SELECT 1 AS ok'), [{ ok: 1 }]);
      await server.unavailable(how);
      const e = await failure(() => store.query('SELECT 1 AS ok'));
      assert.is(e.code, 'TS_ERR_STORE');
      assert.match(e.message, says);
      await server.available();
      assert.equal(await store.query('SELECT 1 AS ok'), [{ ok: 1 }]);
    } finally {
      await server.available();
      await store.close();
    }
  });
}

http.run();
