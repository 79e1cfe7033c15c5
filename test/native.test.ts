// The Native block encoder (src/store/native.ts) and the block schemas (src/store/schemas.ts),
// tested against the engine itself: every block is inserted into chDB
// (`INSERT … FROM INFILE … FORMAT Native`) and read back with queries that make comparison
// exact (hex of strings, bits of floats, 64-bit integers and time ticks as decimal text), a
// few blocks are compared byte for byte with the engine's own `FORMAT Native` output, and the
// schemas are compared with the tables the migrations make.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChdbStore } from '../src/store/chdb.js';
import { migrate } from '../src/store/migrate.js';
import { BlockSchema, ByteSink, ColumnChunk, blockRows, chunkOf, encodeBlock, valueWriter, writeDecimal64 } from '../src/store/native.js';
import {
  AUDIT_EVENTS,
  INGEST_USAGE,
  LOGS,
  METRIC_POINTS,
  METRIC_TYPE,
  REDACTIONS,
  RESOURCE_MINUTE_SUMS,
  SCHEMAS,
  SPANS,
  VIOLATIONS,
} from '../src/store/schemas.js';
import { SEED } from './support/hostile.js';

const dir = mkdtempSync(join(tmpdir(), 'tenantscope-native-'));
let store: ChdbStore;

test.before(async () => {
  store = await ChdbStore.open(join(dir, 'data'));
  await migrate(store, {});
});

test.after(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Helpers: scratch tables, inserting a block, reading back exactly.

type Row = Record<string, unknown>;
/** A scratch column: name, the type the block sends, and the table's type when it differs. */
type ScratchColumn = readonly [name: string, sent: string, target?: string];

let files = 0;
let tables = 0;

/** Insert a Native block into `table` (columns as the schema lists them) through a file. */
async function insertBlock(table: string, schema: BlockSchema, block: Uint8Array): Promise<void> {
  const file = join(dir, `block-${++files}.native`);
  writeFileSync(file, block);
  await store.exec(`INSERT INTO ${table} ${schema.columnList()} FROM INFILE '${file}' FORMAT Native`);
}

/** The engine's own Native output of a query, as bytes. */
async function engineNative(select: string): Promise<Buffer> {
  const file = join(dir, `engine-${++files}.native`);
  await store.exec(`${select} INTO OUTFILE '${file}' FORMAT Native`);
  return readFileSync(file);
}

/**
 * A fresh MergeTree table with a row number `i UInt32` and the given columns, and the block
 * schema that feeds it (`i` first, then the columns with their sent types).
 */
async function scratch(columns: readonly ScratchColumn[]): Promise<{ table: string; schema: BlockSchema }> {
  const table = `scratch_${++tables}`;
  const defs = columns.map(([name, sent, target]) => `${name} ${target ?? sent}`);
  await store.exec(`CREATE TABLE ${table} (i UInt32, ${defs.join(', ')}) ENGINE = MergeTree ORDER BY tuple()`);
  return { table, schema: new BlockSchema(table, [['i', 'UInt32'], ...columns.map(([name, sent]) => [name, sent] as const)]) };
}

/** Rows numbered by `i` in the order given. */
function numbered(rows: readonly Row[], from = 0): Row[] {
  return rows.map((r, k) => ({ i: from + k, ...r }));
}

/** Read `exprs` (key → SQL expression) from `table`, ordered by `orderBy`. */
async function read(table: string, exprs: Record<string, string>, orderBy = 'i'): Promise<Row[]> {
  const list = Object.entries(exprs).map(([k, e]) => `${e} AS out_${k}`);
  const rows = await store.query(`SELECT ${list.join(', ')} FROM ${table} ORDER BY ${orderBy}`);
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k.slice('out_'.length), v])));
}

/** Insert `rows` into a scratch table made of `columns`, as one block, and read `exprs` back. */
async function roundTrip(columns: readonly ScratchColumn[], rows: readonly Row[], exprs: Record<string, string>): Promise<Row[]> {
  const { table, schema } = await scratch(columns);
  await insertBlock(table, schema, encodeBlock(schema, [chunkOf(schema, numbered(rows))]));
  return read(table, exprs);
}

/** The bits of a double as the engine's `reinterpretAsUInt64` prints them. */
function bits(x: number): string {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(x);
  return b.readBigUInt64LE().toString();
}

/** Uppercase hex of a string's UTF-8 bytes, as the engine's `hex()` prints it. */
function hexUtf8(s: string): string {
  return Buffer.from(s, 'utf8').toString('hex').toUpperCase();
}

// A SQL expression reading a column of `type` (as sent) back in a form that compares exactly
// in JSON, and the same form of the value a row gave; used where a test compares whole rows.
function exact(type: string, e: string, depth = 0): string {
  const agg = /^SimpleAggregateFunction\(\w+, (.*)\)$/.exec(type);
  if (agg) return exact(agg[1]!, e, depth);
  let m = /^Nullable\((.*)\)$/.exec(type);
  if (m) return `if(isNull(${e}), NULL, ${exact(m[1]!, `assumeNotNull(${e})`, depth)})`;
  m = /^Array\((.*)\)$/.exec(type);
  if (m) return `arrayMap(x${depth} -> ${exact(m[1]!, `x${depth}`, depth + 1)}, ${e})`;
  m = /^Map\((\w+), (.*)\)$/.exec(type);
  if (m) {
    const k = `arrayMap(k${depth} -> ${exact(m[1]!, `k${depth}`, depth + 1)}, mapKeys(${e}))`;
    const v = `arrayMap(v${depth} -> ${exact(m[2]!, `v${depth}`, depth + 1)}, mapValues(${e}))`;
    return `arrayZip(${k}, ${v})`;
  }
  if (type === 'Float64') return `toString(reinterpretAsUInt64(${e}))`;
  if (type === 'UInt64' || type === 'Int64' || type.startsWith('Enum8(')) return `toString(${e})`;
  if (type.startsWith('DateTime64(')) return `toString(reinterpretAsInt64(${e}))`;
  if (type === 'DateTime') return `toUnixTimestamp(${e})`;
  return e;
}

function expected(type: string, v: unknown): unknown {
  const agg = /^SimpleAggregateFunction\(\w+, (.*)\)$/.exec(type);
  if (agg) return expected(agg[1]!, v);
  let m = /^Nullable\((.*)\)$/.exec(type);
  if (m) return v === null || v === undefined ? null : expected(m[1]!, v);
  m = /^Array\((.*)\)$/.exec(type);
  if (m) return ((v ?? []) as unknown[]).map((x) => expected(m![1]!, x));
  m = /^Map\((\w+), (.*)\)$/.exec(type);
  if (m) return Object.entries((v ?? {}) as Row).map(([k, x]) => [k, expected(m![2]!, x)]);
  if (type === 'Float64') return bits(Number(v ?? 0));
  if (type === 'UInt64') return BigInt.asUintN(64, BigInt((v ?? 0) as string | number | bigint)).toString();
  if (type === 'Int64' || type.startsWith('DateTime64(')) return BigInt.asIntN(64, BigInt((v ?? 0) as string | number | bigint)).toString();
  if (type.startsWith('Enum8(')) {
    if (typeof v !== 'number') return v;
    const name = [...type.matchAll(/'([^']*)' = (-?\d+)/g)].find((x) => Number(x[2]) === v)?.[1];
    return name;
  }
  if (type === 'Bool') return v === true;
  if (type === 'String') return v ?? '';
  return Number(v ?? 0);
}

/** Read every column of `schema` from `table` exactly. */
function exprsOf(schema: BlockSchema): Record<string, string> {
  return Object.fromEntries(schema.columns.map((c) => [c.name, exact(c.type, c.name)]));
}

/** `rows` in the form `exprsOf(schema)` reads them. */
function expectedRows(schema: BlockSchema, rows: readonly Row[]): Row[] {
  return rows.map((r) => Object.fromEntries(schema.columns.map((c) => [c.name, expected(c.type, r[c.name])])));
}

// ---------------------------------------------------------------------------------------------
// 1. Every column type round-trips.

const SHORT_MAX = 42; // the encoder's one-length-byte path takes strings of up to 42 UTF-16 units

const STRINGS = [
  '',
  'checkout',
  'é', // 2-byte UTF-8
  '€', // 3-byte
  '😀', // 4-byte (a surrogate pair)
  'naïve — 東京 🚚 delivery',
  'é' + 'a'.repeat(SHORT_MAX - 2) + '€', // 42 units, non-ASCII at both ends
  '😀' + 'a'.repeat(SHORT_MAX - 3) + '€', // 42 units, a 4-byte char first
  'é' + 'a'.repeat(SHORT_MAX - 1) + '€', // 43 units
  'a'.repeat(SHORT_MAX - 1) + '😀', // 43 units ending in half a pair at the boundary
  '€'.repeat(SHORT_MAX), // 126 bytes: the most one length byte holds on the short path
  '€'.repeat(SHORT_MAX + 1), // 129 bytes: a 2-byte length
  'x'.repeat(127), // the last 1-byte length
  'x'.repeat(128), // the first 2-byte length
  '東'.repeat(6000), // 18000 bytes: a 3-byte length
  'ü'.repeat(8192) + '😀', // 16388 bytes
];

test('a String column keeps empty strings, 2-, 3- and 4-byte UTF-8 and strings of every length prefix byte for byte', async () => {
  // The edges are what they claim to be.
  assert.is(STRINGS[6]!.length, 42);
  assert.is(STRINGS[8]!.length, 43);
  assert.is(STRINGS[9]!.length, 43);
  assert.is(Buffer.byteLength(STRINGS[11]!), 129);
  assert.ok(Buffer.byteLength(STRINGS[14]!) > 16384 && Buffer.byteLength(STRINGS[15]!) > 16384);
  const got = await roundTrip([['s', 'String']], STRINGS.map((s) => ({ s })), { len: 'toUInt32(length(s))', hex: 'hex(s)' });
  assert.equal(
    got,
    STRINGS.map((s) => ({ len: Buffer.byteLength(s), hex: hexUtf8(s) })),
  );
});

test('an absent or null String value is stored as the empty string', async () => {
  const got = await roundTrip([['s', 'String']], [{ s: null }, {}, { s: 'x' }], { s: 's' });
  assert.equal(got, [{ s: '' }, { s: '' }, { s: 'x' }]);
});

test('every integer width keeps 0 and its extremes, 64-bit ones given as numbers, decimal strings and bigints', async () => {
  const columns: ScratchColumn[] = [
    ['u8', 'UInt8'],
    ['u16', 'UInt16'],
    ['u32', 'UInt32'],
    ['u64', 'UInt64'],
    ['i32', 'Int32'],
    ['i64', 'Int64'],
  ];
  const rows: Row[] = [
    { u8: 0, u16: 0, u32: 0, u64: 0, i32: 0, i64: 0 },
    { u8: 255, u16: 65535, u32: 4294967295, u64: '18446744073709551615', i32: 2147483647, i64: '9223372036854775807' },
    { u8: 1, u16: 1, u32: 1, u64: 18446744073709551615n, i32: -2147483648, i64: '-9223372036854775808' },
    { u8: 7, u16: 443, u32: 65536, u64: Number.MAX_SAFE_INTEGER, i32: -1, i64: 9223372036854775807n },
    { u8: 0, u16: 0, u32: 0, u64: '0', i32: -42, i64: -9223372036854775808n },
    { u8: 0, u16: 0, u32: 0, u64: 0n, i32: 0, i64: -Number.MAX_SAFE_INTEGER },
    { u8: 0, u16: 0, u32: 0, u64: '9223372036854775808', i32: 0, i64: -1 },
  ];
  const got = await roundTrip(columns, rows, Object.fromEntries(columns.map(([c]) => [c, `toString(${c})`])));
  assert.equal(got, [
    { u8: '0', u16: '0', u32: '0', u64: '0', i32: '0', i64: '0' },
    { u8: '255', u16: '65535', u32: '4294967295', u64: '18446744073709551615', i32: '2147483647', i64: '9223372036854775807' },
    { u8: '1', u16: '1', u32: '1', u64: '18446744073709551615', i32: '-2147483648', i64: '-9223372036854775808' },
    { u8: '7', u16: '443', u32: '65536', u64: '9007199254740991', i32: '-1', i64: '9223372036854775807' },
    { u8: '0', u16: '0', u32: '0', u64: '0', i32: '-42', i64: '-9223372036854775808' },
    { u8: '0', u16: '0', u32: '0', u64: '0', i32: '0', i64: '-9007199254740991' },
    { u8: '0', u16: '0', u32: '0', u64: '9223372036854775808', i32: '0', i64: '-1' },
  ]);
});

/** writeDecimal64's bytes for `s`. */
function decimalBytes(s: string): string {
  const out = new ByteSink(8);
  writeDecimal64(out, s);
  return out.view().toString('hex');
}

/** The 64-bit two's complement of `v`, little-endian, as BigInt computes it. */
function bigintBytes(v: bigint): string {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, v));
  return b.toString('hex');
}

const TWO_64 = 2n ** 64n;
const TWO_63 = 2n ** 63n;

test('writeDecimal64 writes every decimal string of 1 to 20 digits, and every negative one, as the 64-bit integer BigInt reads', () => {
  // Hand-picked: the edges of each path (15 digits and fewer as a double, 16 to 20 split in
  // halves, negative through BigInt) and of both halves of the unsigned range.
  const edges = [
    '0', '1', '999999999999999', '100000000000000', // 15 digits
    '1000000000000000', '9007199254740991', '9007199254740993', '9999999999999999', // 16
    '1000000000000000000', '9223372036854775807', '9223372036854775808', '9999999999999999999', // 19
    '10000000000000000000', '18446744073709551615', '18446744073709551614', '12345678901234567890', // 20
    '-1', '-999999999999999', '-9007199254740993', '-9223372036854775807', '-9223372036854775808',
  ];
  for (const s of edges) assert.is(decimalBytes(s), bigintBytes(BigInt(s)), s);

  const ofDigits = fc.integer({ min: 1, max: 20 }).chain((d) => {
    const min = d === 1 ? 0n : 10n ** BigInt(d - 1);
    const max = 10n ** BigInt(d) - 1n < TWO_64 - 1n ? 10n ** BigInt(d) - 1n : TWO_64 - 1n;
    return fc.bigInt({ min, max });
  });
  const values = fc.oneof(
    ofDigits,
    fc.bigInt({ min: 0n, max: TWO_63 - 1n }), // lower half
    fc.bigInt({ min: TWO_63, max: TWO_64 - 1n }), // upper half
    fc.bigInt({ min: -TWO_63, max: -1n }), // negative (Int64)
  );
  fc.assert(
    fc.property(values, (v) => decimalBytes(v.toString()) === bigintBytes(v)),
    { seed: SEED, numRuns: 5000 },
  );
});

test('decimal strings of 15, 16, 19 and 20 digits reach UInt64 and Int64 columns as the engine reads them', async () => {
  const unsigned = ['999999999999999', '1000000000000000', '9007199254740993', '9223372036854775807', '9223372036854775808', '10000000000000000000', '12345678901234567890', '18446744073709551615'];
  const signed = ['-999999999999999', '1000000000000000', '-9007199254740993', '9007199254740993', '9223372036854775807', '-9223372036854775808', '-1000000000000000000', '-1'];
  const got = await roundTrip(
    [['u', 'UInt64'], ['s', 'Int64']],
    unsigned.map((u, k) => ({ u, s: signed[k] })),
    { u: 'toString(u)', s: 'toString(s)' },
  );
  assert.equal(got, unsigned.map((u, k) => ({ u, s: signed[k] })));
});

test('a Float64 column keeps NaN, both infinities, -0, the smallest subnormal and the largest double bit for bit', async () => {
  const values: unknown[] = [0, -0, NaN, Infinity, -Infinity, 5e-324, Number.MAX_VALUE, -Number.MAX_VALUE, 0.1, 1e300, '2.5', '-0', 'Infinity'];
  const got = await roundTrip([['f', 'Float64']], values.map((f) => ({ f })), { f: 'toString(reinterpretAsUInt64(f))' });
  assert.equal(got, [
    { f: '0' },
    { f: '9223372036854775808' }, // -0: the sign bit alone
    { f: '9221120237041090560' }, // NaN: 0x7FF8000000000000
    { f: '9218868437227405312' }, // +Inf: 0x7FF0000000000000
    { f: '18442240474082181120' }, // -Inf: 0xFFF0000000000000
    { f: '1' },
    { f: '9218868437227405311' }, // 0x7FEFFFFFFFFFFFFF
    { f: '18442240474082181119' },
    { f: bits(0.1) },
    { f: bits(1e300) },
    { f: bits(2.5) },
    { f: '9223372036854775808' },
    { f: '9218868437227405312' },
  ]);
});

test('Bool keeps true and false, and Enum8 keeps each value given by name or by code', async () => {
  const got = await roundTrip(
    [['b', 'Bool'], ['e', METRIC_TYPE]],
    [
      { b: true, e: 'gauge' },
      { b: false, e: 'sum' },
      { b: true, e: 3 },
      { b: false, e: 'exponential_histogram' },
      { b: true, e: 5 },
    ],
    { b: 'toString(b)', e: 'toString(e)', code: 'toInt8(e)' },
  );
  assert.equal(got, [
    { b: 'true', e: 'gauge', code: 1 },
    { b: 'false', e: 'sum', code: 2 },
    { b: 'true', e: 'histogram', code: 3 },
    { b: 'false', e: 'exponential_histogram', code: 4 },
    { b: 'true', e: 'summary', code: 5 },
  ]);
});

test('DateTime, DateTime64(3) and DateTime64(9) keep the epoch, their last instants and times given as numbers, strings and bigints', async () => {
  const got = await roundTrip(
    [['dt', 'DateTime'], ['ms', 'DateTime64(3)'], ['ns', 'DateTime64(9)']],
    [
      { dt: 0, ms: '0', ns: '0' },
      { dt: 4294967295, ms: 1700000000123, ns: '9223372036854775807' },
      { dt: 1700000000, ms: '1700000000123', ns: 1700000000123456789n },
      { dt: '1795305600', ms: 4102444799999, ns: '-1' },
    ],
    {
      dt: "toString(dt, 'UTC')",
      ms: "toString(ms, 'UTC')",
      ns: "toString(ns, 'UTC')",
      ns_ticks: 'toString(toUnixTimestamp64Nano(ns))',
    },
  );
  assert.equal(got, [
    { dt: '1970-01-01 00:00:00', ms: '1970-01-01 00:00:00.000', ns: '1970-01-01 00:00:00.000000000', ns_ticks: '0' },
    { dt: '2106-02-07 06:28:15', ms: '2023-11-14 22:13:20.123', ns: '2262-04-11 23:47:16.854775807', ns_ticks: '9223372036854775807' },
    { dt: '2023-11-14 22:13:20', ms: '2023-11-14 22:13:20.123', ns: '2023-11-14 22:13:20.123456789', ns_ticks: '1700000000123456789' },
    { dt: '2026-11-22 00:00:00', ms: '2099-12-31 23:59:59.999', ns: '1969-12-31 23:59:59.999999999', ns_ticks: '-1' },
  ]);
});

test('Nullable(Int64) and Nullable(Float64) keep null apart from 0 and from values', async () => {
  const got = await roundTrip(
    [['n', 'Nullable(Int64)'], ['f', 'Nullable(Float64)']],
    [
      { n: null, f: null },
      { n: 0, f: 0 },
      { n: undefined, f: undefined },
      { n: '-9223372036854775808', f: -0 },
      { n: 9223372036854775807n, f: NaN },
      { n: 42, f: 2.5 },
    ],
    { n_null: 'isNull(n)', n: 'toString(n)', f_null: 'isNull(f)', f: 'if(isNull(f), NULL, toString(reinterpretAsUInt64(assumeNotNull(f))))' },
  );
  assert.equal(got, [
    { n_null: 1, n: null, f_null: 1, f: null },
    { n_null: 0, n: '0', f_null: 0, f: '0' },
    { n_null: 1, n: null, f_null: 1, f: null },
    { n_null: 0, n: '-9223372036854775808', f_null: 0, f: '9223372036854775808' },
    { n_null: 0, n: '9223372036854775807', f_null: 0, f: '9221120237041090560' },
    { n_null: 0, n: '42', f_null: 0, f: bits(2.5) },
  ]);
});

test('Array(String), Array(UInt32), Array(UInt64), Array(Float64) and Array(DateTime64(9)) keep empty arrays and every element in order', async () => {
  const got = await roundTrip(
    [['s', 'Array(String)'], ['u32', 'Array(UInt32)'], ['u64', 'Array(UInt64)'], ['f', 'Array(Float64)'], ['t', 'Array(DateTime64(9))']],
    [
      { s: [], u32: [], u64: [], f: [], t: [] },
      { s: ['', 'é', '😀', '€'.repeat(43)], u32: [0, 4294967295], u64: ['18446744073709551615', 0, 7n], f: [-0, NaN, -Infinity, 0.25], t: ['0', '9223372036854775807'] },
      { s: ['only'], u32: [1], u64: [], f: [1e-300], t: [1700000000123456789n] },
      {},
      { s: ['a', 'b', 'c'], u32: [3, 2, 1], u64: ['1', '2', '3'], f: [3, 2, 1], t: ['3', '2', '1'] },
    ],
    {
      s: 'arrayMap(x -> hex(x), s)',
      u32: 'u32',
      u64: 'arrayMap(x -> toString(x), u64)',
      f: 'arrayMap(x -> toString(reinterpretAsUInt64(x)), f)',
      t: 'arrayMap(x -> toString(toUnixTimestamp64Nano(x)), t)',
    },
  );
  assert.equal(got, [
    { s: [], u32: [], u64: [], f: [], t: [] },
    {
      s: ['', hexUtf8('é'), hexUtf8('😀'), hexUtf8('€'.repeat(43))],
      u32: [0, 4294967295],
      u64: ['18446744073709551615', '0', '7'],
      f: ['9223372036854775808', '9221120237041090560', '18442240474082181120', bits(0.25)],
      t: ['0', '9223372036854775807'],
    },
    { s: [hexUtf8('only')], u32: [1], u64: [], f: [bits(1e-300)], t: ['1700000000123456789'] },
    { s: [], u32: [], u64: [], f: [], t: [] },
    { s: ['61', '62', '63'], u32: [3, 2, 1], u64: ['1', '2', '3'], f: [bits(3), bits(2), bits(1)], t: ['3', '2', '1'] },
  ]);
});

test('a Map(String, String) column keeps empty maps, empty keys and values and 4-byte UTF-8 as sent, keys in order', async () => {
  const maps: Row[] = [
    {},
    { '': '' },
    { 'service.name': 'checkout', 'deployment.environment': 'prod', 'tenant.id': 'acme-dist' },
    { '😀': '東京', 'é': '', 'long': '€'.repeat(43) },
    {},
    { k: 'v' },
  ];
  const got = await roundTrip([['m', 'Map(String, String)']], [...maps.map((m) => ({ m })), {}], {
    keys: 'arrayMap(k -> hex(k), mapKeys(m))',
    values: 'arrayMap(v -> hex(v), mapValues(m))',
  });
  assert.equal(got, [...maps, {}].map((m) => ({ keys: Object.keys(m).map(hexUtf8), values: Object.values(m).map((v) => hexUtf8(v as string)) })));
});

test('an Array(Map(String, String)) column keeps empty arrays, arrays of empty maps and maps of several keys', async () => {
  const arrays: Row[][] = [
    [],
    [{}],
    [{}, { 'exception.type': 'TimeoutError', 'exception.message': 'upstream 😀 timed out' }, {}],
    [{ a: '1' }, { b: '2', c: '3' }],
    [],
  ];
  const got = await roundTrip([['am', 'Array(Map(String, String))']], arrays.map((am) => ({ am })), {
    keys: 'arrayMap(m -> mapKeys(m), am)',
    values: 'arrayMap(m -> mapValues(m), am)',
  });
  assert.equal(got, arrays.map((am) => ({ keys: am.map((m) => Object.keys(m)), values: am.map((m) => Object.values(m)) })));
});

test('LowCardinality(String), Map(LowCardinality(String), String) and SimpleAggregateFunction columns take values sent as String, Map(String, String) and the aggregate type', async () => {
  const got = await roundTrip(
    [
      ['lc', 'String', 'LowCardinality(String)'],
      ['lcm', 'Map(String, String)', 'Map(LowCardinality(String), String)'],
      ['lca', 'Array(String)', 'Array(LowCardinality(String))'],
      ['lcam', 'Array(Map(String, String))', 'Array(Map(LowCardinality(String), String))'],
      ['last', 'SimpleAggregateFunction(anyLast, String)', 'SimpleAggregateFunction(anyLast, LowCardinality(String))'],
      ['total', 'SimpleAggregateFunction(sum, UInt64)'],
      ['seen', 'SimpleAggregateFunction(max, DateTime64(3))'],
      ['days', 'SimpleAggregateFunction(max, UInt16)'],
    ],
    [
      { lc: '', lcm: {}, lca: [], lcam: [], last: '', total: 0, seen: 0, days: 0 },
      { lc: 'acme-dist', lcm: { region: 'us-east-1', '😀': 'é' }, lca: ['a', 'a', ''], lcam: [{}, { x: 'y' }], last: 'critical', total: '18446744073709551615', seen: 1795305600123, days: 400 },
      { lc: 'acme-dist', lcm: { region: 'us-west-2' }, lca: ['b'], lcam: [{ x: 'z' }], last: 'é'.repeat(100), total: 1, seen: '1795305600124', days: 65535 },
    ],
    {
      lc: 'lc',
      lcm: 'arrayZip(mapKeys(lcm), mapValues(lcm))',
      lca: 'lca',
      lcam: 'arrayMap(m -> arrayZip(mapKeys(m), mapValues(m)), lcam)',
      last: 'last',
      total: 'toString(total)',
      seen: 'toString(toUnixTimestamp64Milli(seen))',
      days: 'days',
    },
  );
  assert.equal(got, [
    { lc: '', lcm: [], lca: [], lcam: [], last: '', total: '0', seen: '0', days: 0 },
    { lc: 'acme-dist', lcm: [['region', 'us-east-1'], ['😀', 'é']], lca: ['a', 'a', ''], lcam: [[], [['x', 'y']]], last: 'critical', total: '18446744073709551615', seen: '1795305600123', days: 400 },
    { lc: 'acme-dist', lcm: [['region', 'us-west-2']], lca: ['b'], lcam: [[['x', 'z']]], last: 'é'.repeat(100), total: '1', seen: '1795305600124', days: 65535 },
  ]);
});

/** One column of every type the schemas send, with the table type the migrations give it. */
const EVERY_TYPE: ScratchColumn[] = [
  ['s', 'String'],
  ['lc', 'String', 'LowCardinality(String)'],
  ['u8', 'UInt8'],
  ['u16', 'UInt16'],
  ['u32', 'UInt32'],
  ['u64', 'UInt64'],
  ['i32', 'Int32'],
  ['i64', 'Int64'],
  ['f', 'Float64'],
  ['b', 'Bool'],
  ['dt', 'DateTime'],
  ['ms', 'DateTime64(3)'],
  ['ns', 'DateTime64(9)'],
  ['e', METRIC_TYPE],
  ['n', 'Nullable(Int64)'],
  ['nf', 'Nullable(Float64)'],
  ['as', 'Array(String)'],
  ['alc', 'Array(String)', 'Array(LowCardinality(String))'],
  ['a32', 'Array(UInt32)'],
  ['a64', 'Array(UInt64)'],
  ['af', 'Array(Float64)'],
  ['ans', 'Array(DateTime64(9))'],
  ['m', 'Map(String, String)'],
  ['mlc', 'Map(String, String)', 'Map(LowCardinality(String), String)'],
  ['am', 'Array(Map(String, String))', 'Array(Map(LowCardinality(String), String))'],
  ['agg', 'SimpleAggregateFunction(anyLast, String)', 'SimpleAggregateFunction(anyLast, LowCardinality(String))'],
];

const EVERY_TYPE_ROWS: Row[] = [
  {
    s: '', lc: '', u8: 0, u16: 0, u32: 0, u64: '0', i32: 0, i64: '0', f: 0, b: false, dt: 0, ms: '0', ns: '0', e: 'gauge',
    n: null, nf: null, as: [], alc: [], a32: [], a64: [], af: [], ans: [], m: {}, mlc: {}, am: [], agg: '',
  },
  {
    s: '😀' + 'x'.repeat(40) + '€', lc: 'globex-3pl', u8: 255, u16: 65535, u32: 4294967295, u64: '18446744073709551615', i32: -2147483648,
    i64: '-9223372036854775808', f: NaN, b: true, dt: 4294967295, ms: 1795305600123, ns: '9223372036854775807', e: 'summary',
    n: '9223372036854775807', nf: -0, as: ['', 'é'], alc: ['x', 'x'], a32: [4294967295], a64: ['18446744073709551615', '1'],
    af: [Infinity, -Infinity], ans: ['0', '1795305600123456789'], m: { '': '', k: '東京' }, mlc: { region: 'eu-central-1' },
    am: [{}, { a: '😀' }], agg: 'warning',
  },
  {
    s: 'ü'.repeat(9000), lc: 'globex-3pl', u8: 3, u16: 30, u32: 300, u64: 18446744073709551615n, i32: 2147483647, i64: 9223372036854775807n,
    f: -Infinity, b: true, dt: 1795305600, ms: '1795305600999', ns: 1795305600999999999n, e: 4,
    n: 0, nf: 1e-300, as: ['ü'.repeat(9000)], alc: [], a32: [0, 1, 2], a64: [], af: [0.1], ans: [], m: { a: 'b', c: 'd' }, mlc: {},
    am: [{ x: '1', y: '2' }], agg: 'é'.repeat(50),
  },
];

test('one block with a column of every type the schemas send inserts into a table of their migrated types and reads back equal', async () => {
  const { table, schema } = await scratch(EVERY_TYPE);
  const rows = numbered(EVERY_TYPE_ROWS);
  await insertBlock(table, schema, encodeBlock(schema, [chunkOf(schema, rows)]));
  assert.equal(await read(table, exprsOf(schema)), expectedRows(schema, rows));
});

// ---------------------------------------------------------------------------------------------
// 2. Joining chunks.

const JOINED: ScratchColumn[] = [
  ['s', 'String'],
  ['tags', 'Array(String)'],
  ['counts', 'Array(UInt64)'],
  ['attrs', 'Map(String, String)', 'Map(LowCardinality(String), String)'],
  ['events', 'Array(Map(String, String))'],
  ['times', 'Array(DateTime64(9))'],
  ['n', 'Nullable(Int64)'],
];

const CHUNK_A: Row[] = [
  { s: 'a0', tags: ['x', 'y'], counts: [1, 2, 3], attrs: { k: 'v' }, events: [{ e: '1' }, {}], times: ['1'], n: 1 },
  { s: 'a1', tags: [], counts: [], attrs: {}, events: [], times: [], n: null },
  { s: 'a2', tags: ['z'], counts: ['18446744073709551615'], attrs: { a: '1', b: '2' }, events: [{ f: '2', g: '3' }], times: ['2', '3'], n: -5 },
];
const CHUNK_B: Row[] = [
  { s: 'b0', tags: ['p', 'q', 'r'], counts: [9], attrs: { z: 'é' }, events: [{}, {}, { h: '😀' }], times: ['9223372036854775807'], n: null },
  { s: 'b1', tags: ['s'], counts: [10, 11], attrs: {}, events: [{ i: '4' }], times: [], n: 0 },
];
const CHUNK_C: Row[] = [{ s: 'c0', tags: [], counts: [], attrs: { last: 'row' }, events: [], times: ['0'], n: 7 }];

test('chunks joined into one block insert the same rows, in order, as each chunk inserted alone, array and map totals running across chunks', async () => {
  const joined = await scratch(JOINED);
  const alone = await scratch(JOINED);
  const a = numbered(CHUNK_A, 0);
  const b = numbered(CHUNK_B, a.length);
  const c = numbered(CHUNK_C, a.length + b.length);
  const chunks = [a, [], b, c].map((rows) => chunkOf(joined.schema, rows));
  await insertBlock(joined.table, joined.schema, encodeBlock(joined.schema, chunks));
  for (const rows of [a, b, c]) await insertBlock(alone.table, alone.schema, encodeBlock(alone.schema, [chunkOf(alone.schema, rows)]));

  const fromJoined = await read(joined.table, exprsOf(joined.schema));
  const fromAlone = await read(alone.table, exprsOf(alone.schema));
  assert.equal(fromJoined, fromAlone);
  assert.equal(fromJoined, expectedRows(joined.schema, [...a, ...b, ...c]));
});

test('a block joined from chunks is byte for byte the block of all their rows in one chunk, and empty chunks add nothing', () => {
  const schema = new BlockSchema('joined', JOINED.map(([name, sent]) => [name, sent] as const));
  const all = [...CHUNK_A, ...CHUNK_B, ...CHUNK_C];
  const one = encodeBlock(schema, [chunkOf(schema, all)]);
  const empty = () => new ColumnChunk(schema);
  assert.equal(encodeBlock(schema, [chunkOf(schema, CHUNK_A), chunkOf(schema, CHUNK_B), chunkOf(schema, CHUNK_C)]), one);
  assert.equal(encodeBlock(schema, [empty(), chunkOf(schema, CHUNK_A), empty(), chunkOf(schema, CHUNK_B), empty(), chunkOf(schema, CHUNK_C), empty()]), one);
  // Rows split one per chunk: every running total is carried over every chunk boundary.
  assert.equal(encodeBlock(schema, all.map((r) => chunkOf(schema, [r]))), one);
});

test('a block of 0 rows inserts nothing', async () => {
  const { table, schema } = await scratch(JOINED);
  await insertBlock(table, schema, encodeBlock(schema, [chunkOf(schema, numbered(CHUNK_C))]));
  const noChunks = encodeBlock(schema, []);
  const emptyChunks = encodeBlock(schema, [new ColumnChunk(schema), new ColumnChunk(schema)]);
  assert.is(blockRows(noChunks), 0);
  assert.equal(emptyChunks, noChunks);
  await insertBlock(table, schema, noChunks);
  await insertBlock(table, schema, emptyChunks);
  assert.equal(await store.query(`SELECT count() AS n FROM ${table}`), [{ n: '1' }]);
});

// ---------------------------------------------------------------------------------------------
// 3. The engine writes the same bytes.

/**
 * The engine's Native output of rows given in its Values format (expressions allowed) for
 * columns of the given types. (The `values()` table function cannot take an empty map inside
 * an array; the Values input format can.)
 */
function engineValues(columns: ReadonlyArray<readonly [string, string]>, rows: readonly string[]): Promise<Buffer> {
  const structure = columns.map(([n, t]) => `${n} ${t}`).join(', ').replace(/'/g, "\\'");
  return engineNative(`SELECT * FROM format(Values, '${structure}', $$${rows.join(', ')}$$)`);
}

test('encodeBlock writes the same bytes as the engine writes with FORMAT Native for scalar columns', async () => {
  const columns = [
    ['s', 'String'], ['u8', 'UInt8'], ['u16', 'UInt16'], ['u32', 'UInt32'], ['u64', 'UInt64'], ['i32', 'Int32'], ['i64', 'Int64'],
    ['f', 'Float64'], ['b', 'Bool'], ['dt', 'DateTime'], ['ms', 'DateTime64(3)'], ['ns', 'DateTime64(9)'], ['e', METRIC_TYPE],
    ['agg', 'SimpleAggregateFunction(anyLast, String)'],
  ] as const;
  const rows: Row[] = [
    { s: '', u8: 0, u16: 0, u32: 0, u64: '0', i32: -2147483648, i64: '-9223372036854775808', f: -0, b: false, dt: 0, ms: '0', ns: '0', e: 'gauge', agg: '' },
    {
      s: '😀 naïve — 東京', u8: 255, u16: 65535, u32: 4294967295, u64: 18446744073709551615n, i32: 2147483647, i64: 9223372036854775807n,
      f: NaN, b: true, dt: 4294967295, ms: 1795305600123, ns: '9223372036854775807', e: 'summary', agg: 'x'.repeat(200),
    },
    { s: 'é'.repeat(43), u8: 7, u16: 443, u32: 65536, u64: '12345678901234567890', i32: -1, i64: '-1', f: -Infinity, b: true, dt: 1795305600, ms: '1795305600999', ns: 1795305600123456789n, e: 3, agg: 'warning' },
  ];
  const sql = [
    `('', 0, 0, 0, 0, -2147483648, -9223372036854775808, -0., false, toDateTime(0), fromUnixTimestamp64Milli(toInt64(0)), fromUnixTimestamp64Nano(toInt64(0)), 'gauge', '')`,
    `('😀 naïve — 東京', 255, 65535, 4294967295, 18446744073709551615, 2147483647, 9223372036854775807, nan, true, toDateTime(4294967295), fromUnixTimestamp64Milli(toInt64(1795305600123)), fromUnixTimestamp64Nano(toInt64(9223372036854775807)), 'summary', repeat('x', 200))`,
    `(repeat('é', 43), 7, 443, 65536, 12345678901234567890, -1, -1, -inf, true, toDateTime(1795305600), fromUnixTimestamp64Milli(toInt64(1795305600999)), fromUnixTimestamp64Nano(toInt64(1795305600123456789)), 'histogram', 'warning')`,
  ];
  const engine = await engineValues(columns, sql);
  const schema = new BlockSchema('scalars', columns);
  assert.is(encodeBlock(schema, [chunkOf(schema, rows)]).toString('hex'), engine.toString('hex'));
});

test('encodeBlock writes the same bytes as the engine writes with FORMAT Native for Nullable, Array and Map columns', async () => {
  const columns = [
    ['n', 'Nullable(Int64)'], ['nf', 'Nullable(Float64)'], ['as', 'Array(String)'], ['a32', 'Array(UInt32)'], ['a64', 'Array(UInt64)'],
    ['af', 'Array(Float64)'], ['at', 'Array(DateTime64(9))'], ['m', 'Map(String, String)'], ['am', 'Array(Map(String, String))'],
  ] as const;
  const rows: Row[] = [
    { n: null, nf: 1.5, as: [], a32: [1, 4294967295], a64: ['18446744073709551615', 0], af: [], at: ['0', '1795305600123456789'], m: {}, am: [] },
    { n: '-9223372036854775808', nf: null, as: ['', 'ü'], a32: [], a64: [], af: [-0, Infinity], at: [], m: { '': '', 'service.name': 'checkout' }, am: [{}, { a: '1', b: '😀' }] },
    { n: 0, nf: NaN, as: ['x'.repeat(130)], a32: [7], a64: [9n], af: [0.1], at: ['9223372036854775807'], m: { k: '東京' }, am: [{ c: '' }] },
  ];
  const sql = [
    `(NULL, 1.5, [], [1, 4294967295], [18446744073709551615, 0], [], [fromUnixTimestamp64Nano(toInt64(0)), fromUnixTimestamp64Nano(toInt64(1795305600123456789))], {}, [])`,
    `(-9223372036854775808, NULL, ['', 'ü'], [], [], [-0., inf], [], {'': '', 'service.name': 'checkout'}, [{}, {'a': '1', 'b': '😀'}])`,
    `(0, nan, [repeat('x', 130)], [7], [9], [0.1], [fromUnixTimestamp64Nano(toInt64(9223372036854775807))], {'k': '東京'}, [{'c': ''}])`,
  ];
  const engine = await engineValues(columns, sql);
  const schema = new BlockSchema('nested', columns);
  assert.is(encodeBlock(schema, [chunkOf(schema, rows)]).toString('hex'), engine.toString('hex'));
});

// ---------------------------------------------------------------------------------------------
// 4. blockRows.

test('blockRows reads the row count of a block, 1-, 2- and 3-byte varints alike', () => {
  const schema = new BlockSchema('counts', [['n', 'UInt8']]);
  for (const rows of [0, 1, 127, 128, 300, 16383, 16384, 70000]) {
    const block = encodeBlock(schema, [chunkOf(schema, Array.from({ length: rows }, (_, k) => ({ n: k })))]);
    assert.is(blockRows(block), rows, `${rows} rows`);
  }
});

test('blockRows reads the row count of a block of 300 rows the engine wrote, the same bytes encodeBlock writes', async () => {
  const engine = await engineNative('SELECT toUInt32(number * 7) AS n FROM numbers(300)');
  assert.is(blockRows(engine), 300);
  const schema = new BlockSchema('numbers', [['n', 'UInt32']]);
  assert.equal(encodeBlock(schema, [chunkOf(schema, Array.from({ length: 300 }, (_, k) => ({ n: k * 7 })))]), engine);
});

test('blockRows refuses a block that ends inside its head', () => {
  assert.throws(() => blockRows(Uint8Array.of(0x02)), /ends inside its head/);
  assert.throws(() => blockRows(Uint8Array.of(0x02, 0x80)), /ends inside its head/);
});

// ---------------------------------------------------------------------------------------------
// 5. Every schema matches its migrated table.

/** A table type as a block sends it: LowCardinality(T) is sent as T, wherever it is nested. */
function asSent(type: string): string {
  let t = type;
  for (let prev = ''; prev !== t; ) {
    prev = t;
    t = t.replace(/LowCardinality\(([^()]*)\)/g, '$1');
  }
  return t;
}

interface Described {
  name: string;
  type: string;
  default_type: string;
}

for (const [table, schema] of Object.entries(SCHEMAS)) {
  test(`the ${table} schema names columns of the migrated ${table} table, each once, with the table's type (LowCardinality sent as its inner type)`, async () => {
    const described = await store.query<Described>(`DESCRIBE TABLE ${table}`);
    const types = new Map(described.map((c) => [c.name, asSent(c.type)]));
    const names = schema.columns.map((c) => c.name);
    assert.equal(names, [...new Set(names)], 'a column listed twice');
    assert.equal(
      schema.columns.map((c) => [c.name, c.type]),
      schema.columns.map((c) => [c.name, types.get(c.name) ?? '(not in the table)']),
    );
  });

  test(`every column of the migrated ${table} table that the ${table} schema leaves out has a DEFAULT or MATERIALIZED expression`, async () => {
    const described = await store.query<Described>(`DESCRIBE TABLE ${table}`);
    const sent = new Set(schema.columns.map((c) => c.name));
    const leftOut = described.filter((c) => !sent.has(c.name));
    assert.equal(
      leftOut.filter((c) => c.default_type !== 'DEFAULT' && c.default_type !== 'MATERIALIZED').map((c) => c.name),
      [],
    );
  });
}

test("every schema column's writer fills exactly the streams its BlockSchema makes for it", () => {
  for (const schema of Object.values(SCHEMAS)) {
    assert.equal(
      schema.columns.map((c) => `${c.name}: ${valueWriter(c.type).streams}`),
      schema.columns.map((c, k) => `${c.name}: ${schema.streams[k]}`),
      schema.table,
    );
  }
});

// ---------------------------------------------------------------------------------------------
// 6. A block of realistic rows for each schema inserts into its migrated table.

const T0 = 1795305600; // 2026-11-22 00:00:00 UTC, seconds
const NS = (s: number, frac: string) => `${T0 + s}${frac}`; // a DateTime64(9) as decimal ticks

const TABLE_ROWS: Array<{ schema: BlockSchema; orderBy: string; rows: Row[] }> = [
  {
    schema: SPANS,
    orderBy: 'span_id',
    rows: [
      {
        tenant_id: 'acme-dist', service_name: 'checkout', retention_days: 30, batch_id: 'b-01JDX7Q4', ingested_at: (T0 + 2) * 1000 + 17,
        resource_attributes: { 'service.name': 'checkout', 'deployment.environment': 'prod', 'cloud.region': 'us-east-1' },
        resource_schema_url: 'https://opentelemetry.io/schemas/1.26.0', scope_name: 'io.opentelemetry.http', scope_version: '1.26.0', scope_attributes: {},
        start_time: NS(0, '123456789'), end_time: NS(1, '373456789'), duration_ns: '1250000000',
        trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: '00f067aa0ba902b7', parent_span_id: '', trace_state: 'rojo=00f067aa0ba902b7',
        flags: 1, name: 'POST /orders', kind: 2, status_code: 2, status_message: 'upstream timed out — réessayer',
        attributes: { 'http.request.method': 'POST', 'http.route': '/orders', 'http.response.status_code': '504' }, dropped_attributes_count: 0,
        event_times: [NS(1, '300000000')], event_names: ['exception'],
        event_attributes: [{ 'exception.type': 'TimeoutError', 'exception.message': 'inventory did not answer in 1 s' }], dropped_events_count: 0,
        link_trace_ids: ['0af7651916cd43dd8448eb211c80319c'], link_span_ids: ['b7ad6b7169203331'], link_trace_states: [''],
        link_attributes: [{ 'link.reason': 'retry' }], link_flags: [1], dropped_links_count: 2,
      },
      {
        tenant_id: 'acme-dist', service_name: 'inventory', retention_days: 30, batch_id: 'b-01JDX7Q4', ingested_at: (T0 + 2) * 1000 + 17,
        resource_attributes: { 'service.name': 'inventory' }, resource_schema_url: '', scope_name: 'pg', scope_version: '', scope_attributes: { 'scope.kind': 'db' },
        start_time: NS(0, '200000000'), end_time: NS(0, '200000000'), duration_ns: 0,
        trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: '53995c3f42cd8ad8', parent_span_id: '00f067aa0ba902b7', trace_state: '',
        flags: 0, name: 'SELECT stock', kind: 3, status_code: 0, status_message: '',
        attributes: { 'db.system': 'postgresql', 'db.client.connection.pool.name': 'inventory-primary', 'db.statement': 'SELECT qty FROM stock WHERE sku = $1' },
        dropped_attributes_count: 1, event_times: [], event_names: [], event_attributes: [], dropped_events_count: 0,
        link_trace_ids: [], link_span_ids: [], link_trace_states: [], link_attributes: [], link_flags: [], dropped_links_count: 0,
      },
    ],
  },
  {
    schema: LOGS,
    orderBy: 'observed_time',
    rows: [
      {
        tenant_id: 'globex-3pl', service_name: 'dispatch', retention_days: 90, batch_id: 'b-01JDX7R2', ingested_at: (T0 + 5) * 1000,
        resource_attributes: { 'service.name': 'dispatch', 'k8s.namespace.name': 'globex' }, resource_schema_url: '', scope_name: 'dispatch.router', scope_version: '2.4.1',
        scope_attributes: {}, time: NS(3, '000000001'), observed_time: NS(3, '000500000'), severity_number: 17, severity_text: 'ERROR',
        body: 'route 🚚 A12 → Köln failed: no driver', body_kind: 'string', event_name: '', trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
        span_id: '00f067aa0ba902b7', flags: 1, attributes: { 'route.id': 'A12', 'user.email': '[redacted:email]' }, dropped_attributes_count: 0,
      },
      {
        tenant_id: 'globex-3pl', service_name: 'dispatch', retention_days: 90, batch_id: 'b-01JDX7R2', ingested_at: (T0 + 5) * 1000,
        resource_attributes: {}, resource_schema_url: '', scope_name: '', scope_version: '', scope_attributes: {},
        time: '0', observed_time: NS(4, '000000000'), severity_number: 0, severity_text: '', body: '{"kvlist":{"a":1}}', body_kind: 'kvlist',
        event_name: 'dispatch.assigned', trace_id: '', span_id: '', flags: 0, attributes: {}, dropped_attributes_count: 3,
      },
    ],
  },
  {
    schema: METRIC_POINTS,
    orderBy: 'metric_name',
    rows: [
      {
        tenant_id: 'stark-logistics', service_name: 'warehouse', retention_days: 180, batch_id: 'b-01JDX7S9', ingested_at: (T0 + 10) * 1000,
        resource_attributes: { 'service.name': 'warehouse' }, resource_schema_url: '', scope_name: 'meter', scope_version: '1', scope_attributes: {},
        metric_name: 'http.server.request.duration', metric_description: 'Duration of HTTP server requests.', metric_unit: 's', metric_type: 'histogram',
        temporality: 2, is_monotonic: false, start_time: NS(-60, '000000000'), time: NS(0, '000000000'), flags: 0, value: 0, int_value: null,
        count: '1234', sum: 98.125, min: 0.002, max: 4.75, bucket_counts: ['10', '200', '1000', '24', '0'], explicit_bounds: [0.005, 0.05, 0.5, 5],
        scale: 0, zero_count: 0, zero_threshold: 0, positive_offset: 0, positive_bucket_counts: [], negative_offset: 0, negative_bucket_counts: [],
        quantiles: [], quantile_values: [], exemplar_times: [NS(-3, '141592653')], exemplar_values: [4.75],
        exemplar_trace_ids: ['4bf92f3577b34da6a3ce929d0e0e4736'], exemplar_span_ids: ['00f067aa0ba902b7'], exemplar_attributes: [{ 'http.route': '/pick' }],
        attributes: { 'http.route': '/pick', 'http.request.method': 'GET' },
      },
      {
        tenant_id: 'stark-logistics', service_name: 'warehouse', retention_days: 180, batch_id: 'b-01JDX7S9', ingested_at: (T0 + 10) * 1000,
        resource_attributes: { 'service.name': 'warehouse' }, resource_schema_url: '', scope_name: 'meter', scope_version: '1', scope_attributes: {},
        metric_name: 'warehouse.pick.queue', metric_description: '', metric_unit: '{item}', metric_type: 'sum', temporality: 2, is_monotonic: true,
        start_time: NS(-3600, '000000000'), time: NS(0, '000000000'), flags: 0, value: 0, int_value: '-9223372036854775808',
        count: 0, sum: null, min: null, max: null, bucket_counts: [], explicit_bounds: [], scale: -3, zero_count: '18446744073709551615', zero_threshold: 1e-9,
        positive_offset: -2, positive_bucket_counts: [1, 2], negative_offset: 5, negative_bucket_counts: [3], quantiles: [0, 0.5, 1], quantile_values: [1, 2.5, NaN],
        exemplar_times: [], exemplar_values: [], exemplar_trace_ids: [], exemplar_span_ids: [], exemplar_attributes: [], attributes: { zone: 'B-7' },
      },
    ],
  },
  {
    schema: INGEST_USAGE,
    orderBy: 'outcome',
    rows: [
      {
        tenant_id: 'acme-dist', time: (T0 + 2) * 1000 + 17, signal: 'spans', outcome: 'accepted', reason: '', claimed_tenant: 'acme-dist', records: 2,
        bytes: 1834, encoding: 'protobuf', token_name: 'acme-dist-ingest', detail: '', retention_days: 400, kept_days: 30, batch_id: 'b-01JDX7Q4',
      },
      {
        tenant_id: 'acme-dist', time: (T0 + 3) * 1000, signal: 'logs', outcome: 'rejected', reason: 'tenant_mismatch', claimed_tenant: 'globex-3pl',
        records: '18446744073709551615', bytes: '9007199254740993', encoding: 'json', token_name: 'acme-dist-ingest',
        detail: 'resource tenant.id "globex-3pl" does not match the token’s tenant', retention_days: 400, kept_days: 0, batch_id: '',
      },
    ],
  },
  {
    schema: REDACTIONS,
    orderBy: 'field',
    rows: [
      { tenant_id: 'acme-dist', minute: T0, data_class: 'pii', field: 'attributes.user.email', class: 'email', count: 3, retention_days: 400 },
      { tenant_id: 'acme-dist', minute: T0, data_class: 'pii', field: 'body', class: 'phone', count: '18446744073709551615', retention_days: 400 },
    ],
  },
  {
    schema: AUDIT_EVENTS,
    orderBy: 'seq',
    rows: [
      {
        tenant_id: 'umbrella-pharma', segment_id: 'node-a', seq: 1, event_id: '01JDX7T0A1', time: NS(7, '000000001'), actor_id: 'support-jane',
        actor_type: 'operator', actor_tenant_id: '', action: 'tenant.read', target_type: 'spans', target_id: '4bf92f3577b34da6a3ce929d0e0e4736',
        target_tenant_id: 'umbrella-pharma', outcome: 'allowed', region: 'eu-central-1', source_ip: '10.0.4.17', ticket: 'SUP-2207',
        attributes: { reason: 'customer asked about an órder' }, flags: ['support_window', 'cross_region'],
        prev_hash: '', hash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', token_name: 'demo-admin', retention_days: 2555,
      },
      {
        tenant_id: 'umbrella-pharma', segment_id: 'node-a', seq: '18446744073709551615', event_id: '01JDX7T0A2', time: NS(8, '999999999'),
        actor_id: 'umbrella-pharma-reader', actor_type: 'token', actor_tenant_id: 'umbrella-pharma', action: 'report.read', target_type: 'report',
        target_id: 'cost', target_tenant_id: 'umbrella-pharma', outcome: 'allowed', region: 'eu-central-1', source_ip: '2001:db8::17', ticket: '',
        attributes: {}, flags: [], prev_hash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        hash: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', token_name: 'umbrella-pharma-read', retention_days: 2555,
      },
    ],
  },
  {
    schema: VIOLATIONS,
    orderBy: 'subject',
    rows: [
      {
        tenant_id: 'hooli-wholesale', policy: 'pii', rule: 'no_email_in_logs', subject: 'logs:checkout', source: 'stream', severity: 'high',
        message: 'an email address reached logs.body 3 times', evidence: '{"field":"body","count":3}', first_seen: (T0 + 1) * 1000,
        last_seen: (T0 + 61) * 1000, count: 3, resolved_at: 0, retention_days: 365,
      },
      {
        tenant_id: 'hooli-wholesale', policy: 'residency', rule: 'allowed_regions', subject: 'spans:eu-west-1', source: 'scheduled', severity: 'critical',
        message: 'spans stored outside us-west-2, us-east-1 — Région non autorisée', evidence: '', first_seen: '1795305600000',
        last_seen: '1795309200000', count: '18446744073709551615', resolved_at: '1795312800000', retention_days: 65535,
      },
    ],
  },
];

for (const { schema, orderBy, rows } of TABLE_ROWS) {
  test(`${/^[aeiou]/.test(schema.table) ? 'an' : 'a'} ${schema.table} block built with chunkOf from realistic rows inserts into the migrated ${schema.table} table and reads back equal`, async () => {
    await insertBlock(schema.table, schema, encodeBlock(schema, [chunkOf(schema, rows)]));
    assert.equal(await read(schema.table, exprsOf(schema), orderBy), expectedRows(schema, rows));
  });
}

test('a resource_minute_sums block inserts into its Null table and reaches resource_minutes through the view, summed per minute and resource', async () => {
  const rows: Row[] = [
    { minute: T0, resource: 'db:inventory-primary', tenant_id: 'initech-retail', name: 'SELECT stock', requests: 40, busy_ns: '8000000000', slowest_trace: 'aaaa0000000000000000000000000001', slowest_ns: 900_000_000, retention_days: 30, received: T0 + 2 },
    { minute: T0 + 60, resource: 'service:checkout', tenant_id: 'initech-retail', name: 'POST /orders', requests: 1, busy_ns: 1, slowest_trace: 'bbbb0000000000000000000000000002', slowest_ns: 1, retention_days: 30, received: T0 + 61 },
    // A second request's sums for the first key: its slowest span is slower.
    { minute: T0, resource: 'db:inventory-primary', tenant_id: 'initech-retail', name: 'SELECT stock', requests: 2, busy_ns: 3_000_000_000, slowest_trace: 'cccc0000000000000000000000000003', slowest_ns: '2500000000', retention_days: 45, received: T0 + 3 },
  ];
  const schema = RESOURCE_MINUTE_SUMS;
  await insertBlock(schema.table, schema, encodeBlock(schema, [chunkOf(schema, rows)]));
  assert.equal(await store.query(`SELECT count() AS n FROM ${schema.table}`), [{ n: '0' }], 'a Null table keeps nothing');
  const got = await store.query(
    `SELECT toUnixTimestamp(minute) AS at, resource AS on_resource, tenant_id AS tenant, name AS span_name, toString(sum(requests)) AS calls,
            toString(sum(busy_ns)) AS busy, argMaxMerge(slowest) AS slowest_trace, max(retention_days) AS days, toUnixTimestamp(max(received)) AS last_received
       FROM resource_minutes WHERE tenant_id = 'initech-retail' GROUP BY minute, resource, tenant_id, name ORDER BY at`,
  );
  assert.equal(got, [
    { at: T0, on_resource: 'db:inventory-primary', tenant: 'initech-retail', span_name: 'SELECT stock', calls: '42', busy: '11000000000', slowest_trace: 'cccc0000000000000000000000000003', days: 45, last_received: T0 + 3 },
    { at: T0 + 60, on_resource: 'service:checkout', tenant: 'initech-retail', span_name: 'POST /orders', calls: '1', busy: '1', slowest_trace: 'bbbb0000000000000000000000000002', days: 30, last_received: T0 + 61 },
  ]);
});

// ---------------------------------------------------------------------------------------------
// 7. Refusals.

test('valueWriter refuses a type the encoder does not write, naming the type', () => {
  const refused: Array<[type: string, named: string]> = [
    ['Decimal(18, 4)', 'Decimal(18, 4)'],
    ['UUID', 'UUID'],
    ['LowCardinality(String)', 'LowCardinality(String)'],
    ["DateTime64(9, 'UTC')", "DateTime64(9, 'UTC')"],
    ['Tuple(String, UInt64)', 'Tuple(String, UInt64)'],
    ['Array(Int16)', 'Int16'],
    ['Map(String, IPv6)', 'IPv6'],
  ];
  for (const [type, named] of refused) {
    assert.throws(
      () => valueWriter(type),
      (e: Error) => e.message === `the Native encoder does not write ${named}`,
      type,
    );
  }
});

const OUTCOME = "Enum8('accepted' = 1, 'rejected' = 2)";

test('an Enum8 value given by a name outside the enum is refused, naming the value and the enum', () => {
  const sink = new ByteSink(16);
  for (const v of ['throttled', 'Accepted', '', null]) {
    assert.throws(
      () => valueWriter(OUTCOME).write([sink], 0, v),
      (e: Error) => e.message === `${JSON.stringify(v)} is not a value of ${OUTCOME}`,
      String(v),
    );
  }
  assert.is(sink.len, 0, 'nothing written for a refused value');
});

test('an Enum8 value given by a code outside the enum is refused, naming the code and the enum', () => {
  // A code the enum does not have, once sent, is stored: every later read of the table then
  // fails with "Unexpected value 9 in enum" (UNKNOWN_ELEMENT_OF_ENUM).
  const sink = new ByteSink(16);
  for (const v of [0, 3, 9, -1, 257]) {
    assert.throws(
      () => valueWriter(OUTCOME).write([sink], 0, v),
      (e: Error) => e.message === `${v} is not a value of ${OUTCOME}`,
      String(v),
    );
  }
  assert.is(sink.len, 0, 'nothing written for a refused value');
});

test.run();
