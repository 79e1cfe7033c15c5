// Native answers read back into columns: what the engine writes for each type the reports
// ask for, across several blocks, and a clear refusal of a type the reader does not know.
// runs-on: single, cluster
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChdbStore } from '../src/store/index.js';
import { readNative } from '../src/store/native-read.js';
import { openTestStore } from './support/topology.js';

const dir = mkdtempSync(join(tmpdir(), 'tenantscope-native-read-'));
let store: ChdbStore;

test.before(async () => {
  store = await openTestStore(dir);
});
test.after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('every column type a report asks for reads back as the engine computed it', async () => {
  const cols = readNative(await store.queryNative(
    `SELECT concat('tenant-', toString(number), if(number = 1, ' naïve "quoted"', '')) AS s, toUInt8(number) AS u8, toUInt16(number * 300) AS u16,
            toUInt32(number * 70000) AS u32, toUInt64(number) * 1000000000000 AS u64, toInt64(number) - 2 AS i64, number / 4 AS f64,
            arrayMap(x -> toUInt32(x * 4000000000 / 4), range(number)) AS arr
       FROM numbers(3)`,
  ));
  assert.equal(cols.get('s'), ['tenant-0', 'tenant-1 naïve "quoted"', 'tenant-2']);
  assert.equal(cols.get('u8'), [0, 1, 2]);
  assert.equal(cols.get('u16'), [0, 300, 600]);
  assert.equal(cols.get('u32'), [0, 70000, 140000]);
  assert.equal(cols.get('u64'), [0, 1e12, 2e12]);
  assert.equal(cols.get('i64'), [-2, -1, 0]);
  assert.equal(cols.get('f64'), [0, 0.25, 0.5]);
  assert.equal((cols.get('arr') as Uint32Array[]).map((a) => [...a]), [[], [0], [0, 1000000000]]);
});

test('an answer of several blocks reads as one column per name, rows in order', async () => {
  const bytes = await store.queryNative('SELECT number AS n, [toUInt32(number)] AS a FROM numbers(10) SETTINGS max_block_size = 3');
  const cols = readNative(bytes);
  assert.equal(cols.get('n'), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal((cols.get('a') as Uint32Array[]).map((a) => a[0]), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('parameters bind as in query(), and an empty answer has no rows', async () => {
  const cols = readNative(await store.queryNative('SELECT {x:String} AS x FROM numbers(2) WHERE number < {n:UInt8}', { x: "it's", n: 2 }));
  assert.equal(cols.get('x'), ["it's", "it's"]);
  const none = readNative(await store.queryNative('SELECT number FROM numbers(5) WHERE number > 10'));
  assert.equal(none.get('number') ?? [], []);
});

test('a column type the reader does not know is refused, naming the type', async () => {
  const bytes = await store.queryNative("SELECT toLowCardinality('x') AS lc");
  assert.throws(() => readNative(bytes), /LowCardinality\(String\)/);
});

test.run();
