// The write-ahead log on its own and under the writer: what a crash leaves behind is read
// back, replayed once, and trimmed; a torn last record is ignored; batch ids outlive the
// files they were written in for the retry window; a resent request is recognised; deferred
// rows are logged at once and stored once, by whichever block carries them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChdbStore, migrate } from '../src/store/index.js';
import { chunkOf, encodeBlock, type ColumnChunk } from '../src/store/native.js';
import { INGEST_USAGE, SPANS } from '../src/store/schemas.js';
import { readBlocks } from './support/native-read.js';
import { WriteAheadLog, type WalBlock } from '../src/ingest/wal.js';
import { BatchWriter } from '../src/ingest/writer.js';
import { rootLogger } from '../src/log.js';

const root = mkdtempSync(join(tmpdir(), 'tenantscope-wal-'));
const log = rootLogger.child({ stage: 'wal-test' });
let store: ChdbStore;
let n = 0;

test.before(async () => {
  store = await ChdbStore.open(join(root, 'data'));
  await migrate(store);
});
test.after(async () => {
  await store.close();
  rmSync(root, { recursive: true, force: true });
});

function walDir(): string {
  return join(root, `wal-${++n}`);
}

/** `rows` usage rows for `tenant`, each with a distinct record count to tell them apart. */
function usageChunk(tenant: string, rows: number): ColumnChunk {
  return chunkOf(INGEST_USAGE, Array.from({ length: rows }, (_, i) => ({ tenant_id: tenant, time: Date.now(), signal: 'spans', outcome: 'accepted', records: i + 1, retention_days: 30 })));
}

/** A logged block of `usageChunk` rows. */
function usageBlock(id: string, tenant: string, rows: number, batches: string[] = []): WalBlock {
  const body = encodeBlock(INGEST_USAGE, [usageChunk(tenant, rows)]);
  return { id, table: 'ingest_usage', rows, batches, body, bytes: body.length };
}

async function rowsOf(tenant: string): Promise<number> {
  const [r] = await store.query<{ n: string }>('SELECT count() AS n FROM ingest_usage WHERE tenant_id = {t:String}', { t: tenant });
  return Number(r!.n);
}

test('a logged block not marked stored is replayed at the next start', async () => {
  const dir = walDir();
  const first = await WriteAheadLog.open(dir, log);
  assert.equal(first.replay, []);
  await first.wal.append(usageBlock('b1', 'replay-a', 3, ['req-1']));
  await first.wal.append(usageBlock('b2', 'replay-a', 2));
  first.wal.stored('b2');
  await first.wal.close();

  const again = await WriteAheadLog.open(dir, log);
  assert.equal(again.replay.map((b) => [b.id, b.rows, b.batches]), [['b1', 3, ['req-1']]]);
  assert.ok(again.wal.hasBatch('req-1'), 'the batch id of a logged block is known after a restart');
  await again.wal.close();
});

test('a block replayed after its first insert had landed is stored once (the insert deduplication token)', async () => {
  const dir = walDir();
  const { wal } = await WriteAheadLog.open(dir, log);
  const block = usageBlock('landed-1', 'replay-b', 4);
  await wal.append(block);
  // The insert reached the store, then the process died before the log said so.
  await store.insertNative('ingest_usage', { path: block.path! }, block.rows, { dedupToken: block.id });
  await wal.close();

  const reopened = await WriteAheadLog.open(dir, log);
  assert.is(reopened.replay.length, 1);
  const writer = new BatchWriter(store, log, {}, {}, reopened.wal);
  await writer.replay(reopened.replay);
  assert.equal(writer.depth(), { ingest_usage: 0 });
  await writer.close();
  assert.is(await rowsOf('replay-b'), 4);

  const third = await WriteAheadLog.open(dir, log);
  assert.equal(third.replay, [], 'once stored, the block is not replayed again');
  await third.wal.close();
});

test('a torn last record (a crash in the middle of an append) is ignored; the records before it are replayed', async () => {
  const dir = walDir();
  const { wal } = await WriteAheadLog.open(dir, log);
  await wal.append(usageBlock('whole', 'torn', 2));
  await wal.append(usageBlock('torn', 'torn', 50));
  await wal.close();
  const [file] = readdirSync(dir).filter((f) => f.endsWith('.wal'));
  const path = join(dir, file!);
  truncateSync(path, statSync(path).size - 20);
  const reopened = await WriteAheadLog.open(dir, log);
  assert.equal(reopened.replay.map((b) => b.id), ['whole']);
  await reopened.wal.close();

  // Garbage after a whole record (a crash before the length was written) is ignored the same way.
  const dir2 = walDir();
  const w2 = await WriteAheadLog.open(dir2, log);
  await w2.wal.append(usageBlock('kept', 'torn', 1));
  await w2.wal.close();
  const [f2] = readdirSync(dir2).filter((f) => f.endsWith('.wal'));
  appendFileSync(join(dir2, f2!), Buffer.from([0xff, 0xff, 0x00]));
  const r2 = await WriteAheadLog.open(dir2, log);
  assert.equal(r2.replay.map((b) => b.id), ['kept']);
  await r2.wal.close();
});

test('settled files are removed, and their batch ids are still recognised inside the retry window', async () => {
  const dir = walDir();
  const { wal } = await WriteAheadLog.open(dir, log, { segmentBytes: 2_000 });
  for (let i = 0; i < 12; i++) {
    await wal.append(usageBlock(`s${i}`, 'trim', 5, [`batch-${i}`]));
    wal.stored(`s${i}`);
  }
  await wal.close();
  const files = readdirSync(dir).filter((f) => f.endsWith('.wal'));
  assert.ok(files.length <= 2, `only the newest files remain: ${files.join(', ')}`);
  const reopened = await WriteAheadLog.open(dir, log, { segmentBytes: 2_000 });
  assert.equal(reopened.replay, []);
  for (let i = 0; i < 12; i++) assert.ok(reopened.wal.hasBatch(`batch-${i}`), `batch-${i} remembered`);
  await reopened.wal.close();

  const expired = await WriteAheadLog.open(dir, log, { batchWindowMs: -1 });
  await expired.wal.close();
  const after = await WriteAheadLog.open(dir, log);
  assert.not.ok(after.wal.hasBatch('batch-0'), 'outside the window the id is forgotten');
  await after.wal.close();
});

test('the writer stores through the log: rows land once, the log is left with nothing to replay', async () => {
  const dir = walDir();
  const { wal } = await WriteAheadLog.open(dir, log);
  const writer = new BatchWriter(store, log, { lingerMs: 5 }, {}, wal);
  await Promise.all([writer.write('ingest_usage', usageChunk('writer-wal', 7), { batchId: 'req-a' }), writer.write('ingest_usage', usageChunk('writer-wal', 7), { batchId: 'req-b' })]);
  assert.ok(writer.hasBatch('req-a') && writer.hasBatch('req-b'));
  await writer.close();
  assert.is(await rowsOf('writer-wal'), 14);
  const reopened = await WriteAheadLog.open(dir, log);
  assert.equal(reopened.replay, []);
  await reopened.wal.close();
});

test('deferred rows are acknowledged once logged and ride with the next insert of their table: one insert for many requests', async () => {
  const dir = walDir();
  const { wal } = await WriteAheadLog.open(dir, log);
  const inserts: number[] = [];
  const writer = new BatchWriter(store, log, { lingerMs: 5, deferMs: 60_000 }, { onFlush: (_t, rows) => inserts.push(rows) }, wal);
  const one = () => usageChunk('deferred-a', 1);
  await Promise.all(Array.from({ length: 5 }, () => writer.write('ingest_usage', one(), { deferred: true })));
  assert.equal(inserts, [], 'acknowledged without an insert');
  assert.is(await rowsOf('deferred-a'), 0);
  assert.equal(writer.depth(), { ingest_usage: 5 });
  await writer.write('ingest_usage', one());
  assert.equal(inserts, [6], 'the next insert of the table carried the five deferred rows');
  assert.is(await rowsOf('deferred-a'), 6);
  await writer.write('ingest_usage', one(), { deferred: true });
  await writer.settle();
  assert.equal(inserts, [6, 1], 'settle stores what is deferred at once');
  await writer.close();
  const reopened = await WriteAheadLog.open(dir, log);
  assert.equal(reopened.replay, [], 'nothing left to replay');
  await reopened.wal.close();
});

test('blocks logged while an insert is under way are answered once logged, and the next insert takes them all: one insert, one part', async () => {
  const dir = walDir();
  const { wal } = await WriteAheadLog.open(dir, log);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const insertStarted = new Promise<void>((r) => (entered = r));
  let first = true;
  // The store as the writer sees it, with its first insert held until the test lets it go.
  const slow = Object.create(store) as ChdbStore;
  slow.insertNative = async (...args: Parameters<ChdbStore['insertNative']>) => {
    if (first) {
      first = false;
      entered();
      await gate;
    }
    return store.insertNative(...args);
  };
  const inserts: number[] = [];
  const writer = new BatchWriter(slow, log, { lingerMs: 5, insertEveryMs: 0 }, { onFlush: (_t, rows) => inserts.push(rows) }, wal);
  // Parts are counted below: no merge may join them first.
  await store.exec('SYSTEM STOP MERGES ingest_usage');
  const head = writer.write('ingest_usage', usageChunk('group-a', 1), { batchId: 'g-0' });
  await insertStarted;
  // The store is busy with the first block: these are logged and answered without waiting for it.
  await Promise.all([2, 3, 4].map((n, i) => writer.write('ingest_usage', usageChunk('group-a', n), { batchId: `g-${i + 1}` })));
  assert.equal(inserts, [], 'answered while the first insert is still under way');
  release();
  await head;
  await writer.settle();
  assert.equal(inserts, [1, 9], 'the three blocks logged meanwhile went in as one insert');
  assert.is(await rowsOf('group-a'), 10);
  const [parts] = await store.query<{ n: string }>("SELECT uniqExact(_part) AS n FROM ingest_usage WHERE tenant_id = 'group-a'");
  await store.exec('SYSTEM START MERGES ingest_usage');
  assert.is(parts!.n, '2', 'one part per insert');
  await writer.close();
  const reopened = await WriteAheadLog.open(dir, log);
  assert.equal(reopened.replay, [], 'the group settled its blocks');
  assert.equal(readdirSync(join(dir, 'blocks')), []);
  await reopened.wal.close();
});

test('a group insert replays as it was made (same blocks, same token), so one that had landed is stored once', async () => {
  const dir = walDir();
  const first = await WriteAheadLog.open(dir, log);
  const blocks = [usageBlock('m1', 'group-b', 2, ['gb-1']), usageBlock('m2', 'group-b', 3, ['gb-2']), usageBlock('m3', 'group-b', 1, ['gb-3'])];
  for (const b of blocks) await first.wal.append(b);
  await first.wal.group('grp-1', 'ingest_usage', ['m1', 'm2']);
  // The group's insert reached the store, then the process died before the log said so.
  await store.insertNative('ingest_usage', { paths: [blocks[0]!.path!, blocks[1]!.path!] }, 5, { dedupToken: 'grp-1' });
  await first.wal.close();

  const again = await WriteAheadLog.open(dir, log);
  assert.equal(again.replay.map((b) => [b.id, b.rows, b.members ?? []]), [['grp-1', 5, ['m1', 'm2']], ['m3', 1, []]]);
  const writer = new BatchWriter(store, log, {}, {}, again.wal);
  await writer.replay(again.replay);
  await writer.close();
  assert.is(await rowsOf('group-b'), 6, 'the group once, the block outside it once');
  const third = await WriteAheadLog.open(dir, log);
  assert.equal(third.replay, []);
  assert.ok(third.wal.hasBatch('gb-1') && third.wal.hasBatch('gb-3'), 'their batch ids are still known');
  await third.wal.close();
});

test('a block that replaces deferred blocks settles them: a crash replays either them or it, never both', async () => {
  const dir = walDir();
  const first = await WriteAheadLog.open(dir, log);
  await first.wal.append(usageBlock('d1', 'replace-a', 1));
  await first.wal.append(usageBlock('d2', 'replace-a', 1));
  await first.wal.close();
  // A crash after the deferred blocks were logged, before an insert carried them: both replay.
  const second = await WriteAheadLog.open(dir, log);
  assert.equal(second.replay.map((b) => b.id), ['d1', 'd2']);
  const combined = { ...usageBlock('c1', 'replace-a', 2), replaces: ['d1', 'd2'] };
  await second.wal.append(combined);
  await second.wal.close();
  // A crash after the combined block was logged, before it was stored: only it replays.
  const third = await WriteAheadLog.open(dir, log);
  assert.equal(third.replay.map((b) => [b.id, b.rows]), [['c1', 2]]);
  const writer = new BatchWriter(store, log, {}, {}, third.wal);
  await writer.replay(third.replay);
  await writer.close();
  assert.is(await rowsOf('replace-a'), 2, 'the deferred rows are stored once');
  const fourth = await WriteAheadLog.open(dir, log);
  assert.equal(fourth.replay, []);
  assert.equal(readdirSync(dir).filter((f) => f.endsWith('.wal')).length, 1, 'settled log files are removed');
  assert.equal(readdirSync(join(dir, 'blocks')), [], 'and so are the files of settled blocks');
  await fourth.wal.close();
});

test('deferred rows live in their log record, not in a file of their own, and replay from it, alone or in their group', async () => {
  const dir = walDir();
  const first = await WriteAheadLog.open(dir, log);
  const writer = new BatchWriter(store, log, { lingerMs: 5, deferMs: 60_000 }, {}, first.wal);
  await Promise.all([1, 2, 3].map((n) => writer.write('ingest_usage', usageChunk('inline-a', n), { deferred: true })));
  assert.equal(readdirSync(join(dir, 'blocks')), [], 'no block file for deferred rows');
  // A crash now: the log is gone before any insert (the writer's close then stores nothing).
  await first.wal.close();
  await writer.close();
  assert.is(await rowsOf('inline-a'), 0);
  const second = await WriteAheadLog.open(dir, log);
  assert.equal(second.replay.map((b) => [b.rows, b.inline, b.body?.length === b.bytes]).sort(), [[1, true, true], [2, true, true], [3, true, true]]);
  const [a, b] = second.replay;
  await second.wal.group('inline-group', 'ingest_usage', [a!.id, b!.id]);
  await second.wal.close();
  // Another crash, after the group was logged: the group replays as made, from the records' bytes.
  const third = await WriteAheadLog.open(dir, log);
  assert.equal(third.replay.map((u) => [u.id, u.rows]), [['inline-group', a!.rows + b!.rows], [second.replay[2]!.id, second.replay[2]!.rows]]);
  const again = new BatchWriter(store, log, {}, {}, third.wal);
  await again.replay(third.replay);
  await again.close();
  assert.is(await rowsOf('inline-a'), 6, 'every deferred row once');
  const fourth = await WriteAheadLog.open(dir, log);
  assert.equal(fourth.replay, []);
  await fourth.wal.close();
});

test("a request's deferred rows replay only with its own rows: a crash between the two drops them with the unacknowledged request", async () => {
  const dir = walDir();
  const first = await WriteAheadLog.open(dir, log);
  await first.wal.append({ ...usageBlock('usage-of-a', 'after-a', 1), after: 'req-a' });
  await first.wal.append({ ...usageBlock('usage-of-b', 'after-a', 1), after: 'req-b' });
  // req-a's own rows reached the log; req-b's did not before the crash.
  await first.wal.append(usageBlock('rows-of-a', 'after-a', 3, ['req-a']));
  await first.wal.close();
  const again = await WriteAheadLog.open(dir, log);
  assert.equal(again.replay.map((b) => b.id).sort(), ['rows-of-a', 'usage-of-a']);
  await again.wal.close();
});

test("the writer stores a request's deferred rows only once its own rows are logged", async () => {
  const dir = walDir();
  const { wal } = await WriteAheadLog.open(dir, log);
  const inserts: string[] = [];
  const writer = new BatchWriter(store, log, { lingerMs: 5, deferMs: 60_000 }, { onFlush: (t, rows) => inserts.push(`${t} ${rows}`) }, wal);
  await writer.write('ingest_usage', usageChunk('after-b', 1), { deferred: true, after: 'req-c' });
  await writer.settle();
  assert.equal(inserts, [], 'held: the rows of req-c are not logged');
  await writer.write('spans', chunkOf(SPANS, [{ tenant_id: 'after-b', span_id: 'x', retention_days: 1, start_time: '0', end_time: '0' }]), { batchId: 'req-c' });
  await writer.settle();
  assert.equal(inserts, ['spans 1', 'ingest_usage 1']);
  await writer.close();
});

test('a failed append is refused, its batch is not taken as stored, and later records go to a new file that replays', async () => {
  const dir = walDir();
  const { wal } = await WriteAheadLog.open(dir, log);
  await wal.append(usageBlock('before', 'fail-a', 1, ['req-before']));
  // The file goes away under the log (here: its handle is closed), so the next write fails.
  await (wal as unknown as { fh: FileHandle }).fh.close();
  let refused = false;
  await wal.append(usageBlock('lost', 'fail-a', 1, ['req-lost'])).catch(() => (refused = true));
  assert.ok(refused, 'the append is refused');
  assert.not.ok(wal.hasBatch('req-lost'), "a retry of the failed request is taken as new, not as already stored");
  await wal.append(usageBlock('after', 'fail-a', 1, ['req-after']));
  await wal.close();
  const again = await WriteAheadLog.open(dir, log);
  assert.equal(again.replay.map((b) => b.id), ['before', 'after'], 'the record after the failure is in a file of its own and is read');
  await again.wal.close();
});

test('without a log deferred rows are written like any others: stored before the write resolves', async () => {
  const writer = new BatchWriter(store, log, { lingerMs: 5, deferMs: 60_000 });
  await writer.write('ingest_usage', usageChunk('deferred-nolog', 2), { deferred: true });
  assert.is(await rowsOf('deferred-nolog'), 2);
  await writer.close();
});

test('a logged block is the Native block the store inserts, in a file of its own, and the insert reads that file', async () => {
  const dir = walDir();
  const { wal } = await WriteAheadLog.open(dir, log);
  const block = usageBlock('file-1', 'block-file', 3);
  const body = block.body!;
  await wal.append(block);
  assert.is(block.path, join(dir, 'blocks', 'file-1.native'));
  assert.ok(readFileSync(block.path!).equals(body), 'the file holds exactly the block');
  assert.equal(readBlocks(readFileSync(block.path!)).map((r) => r.records), ['1', '2', '3']);
  const inserted: string[] = [];
  const spy = new Proxy(store, {
    get: (t, p) => (p === 'insertNative' ? (table: 'ingest_usage', input: { path?: string; bytes?: Buffer }, rows: number, opts: object) => (inserted.push(input.path ?? 'bytes'), t.insertNative(table, input, rows, opts)) : Reflect.get(t, p)),
  });
  const writer = new BatchWriter(spy, log, {}, {}, wal);
  await writer.replay([{ ...block, body: undefined }]);
  await writer.close();
  assert.equal(inserted, [block.path]);
  assert.is(await rowsOf('block-file'), 3);
  assert.equal(readdirSync(join(dir, 'blocks')), [], 'stored, the file is gone');
});

test('a block file that does not match its record (its data never reached the disk) is not replayed; a stray file is removed', async () => {
  const dir = walDir();
  const first = await WriteAheadLog.open(dir, log);
  await first.wal.append(usageBlock('short', 'mismatch', 4));
  await first.wal.append(usageBlock('flipped', 'mismatch', 4));
  await first.wal.append(usageBlock('fine', 'mismatch', 4));
  await first.wal.close();
  truncateSync(join(dir, 'blocks', 'short.native'), 10);
  const flipped = readFileSync(join(dir, 'blocks', 'flipped.native'));
  flipped[flipped.length - 1] ^= 0xff;
  writeFileSync(join(dir, 'blocks', 'flipped.native'), flipped);
  writeFileSync(join(dir, 'blocks', 'stray.native'), Buffer.from('no record names me'));
  const again = await WriteAheadLog.open(dir, log);
  assert.equal(again.replay.map((b) => b.id), ['fine']);
  assert.equal(readdirSync(join(dir, 'blocks')).sort(), ['fine.native'], 'files no replayable record names are removed');
  await again.wal.close();
});

test.run();
