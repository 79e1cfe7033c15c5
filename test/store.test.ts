// The embedded store: the store specification (test/support/store-suite.ts) on chDB, and what
// only an embedded engine has to say: one data directory per process, and a directory held
// by another process is refused naming that process.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ChdbStore } from '../src/store/index.js';
import { fromRoot } from '../src/paths.js';
import { assertNoCompiling, compileSettings, failure, runStoreSpecification } from './support/store-suite.js';

runStoreSpecification('ChdbStore', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tenantscope-store-'));
  const store = await ChdbStore.open(dir);
  return {
    store,
    async discard() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

const embedded = suite('ChdbStore: one data directory per process');
const dir = mkdtempSync(join(tmpdir(), 'tenantscope-store-'));
embedded.after(() => rmSync(dir, { recursive: true, force: true }));

embedded('a second data directory in the same process is refused with a clear message', async () => {
  const store = await ChdbStore.open(join(dir, 'first'));
  try {
    const e = await failure(() => ChdbStore.open(join(dir, 'other')));
    assert.is(e.code, 'TS_ERR_STORE');
    assert.match(e.message, /already has .* open/);
  } finally {
    await store.close();
  }
});

embedded('a data directory another process holds is refused naming that process', async () => {
  const held = join(dir, 'held');
  const chdbModule = pathToFileURL(fromRoot('dist', 'src', 'store', 'chdb.js')).href;
  const holder = spawn(
    process.execPath,
    ['--input-type=module', '-e', `const { ChdbStore } = await import(${JSON.stringify(chdbModule)}); await ChdbStore.open(${JSON.stringify(held)}); console.log('open'); setInterval(() => {}, 1000);`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const [line] = (await once(holder.stdout!, 'data')) as [Buffer];
    assert.is(line.toString().trim(), 'open');
    const e = await failure(() => ChdbStore.open(held));
    assert.is(e.code, 'TS_ERR_STORE_LOCKED');
    assert.ok(e.message.includes(`pid ${holder.pid}`), e.message);
  } finally {
    const exited = holder.exitCode === null ? once(holder, 'exit') : undefined;
    holder.kill('SIGKILL');
    await exited;
  }
});

/**
 * Run `reads` while a `seconds`-long statement holds the main connection, and check they
 * answered before it ended (`what` says which reads, for the failure message).
 */
async function besideLongStatement<T>(store: ChdbStore, seconds: number, what: string, reads: () => Promise<T>): Promise<T> {
  let longDone = false;
  const long = store.query(`SELECT sleep(${seconds}) AS s`).then(() => (longDone = true));
  const answer = await reads();
  assert.not.ok(longDone, `${what} did not wait for the ${seconds}-second statement`);
  await long;
  return answer;
}

embedded('a read made while a statement runs is answered beside it, and sees what was written before', async () => {
  const store = await ChdbStore.open(join(dir, 'busy'));
  try {
    await store.exec('CREATE TABLE t (x UInt32) ENGINE = MergeTree ORDER BY x');
    await store.exec('INSERT INTO t VALUES (1), (2), (3)');
    const [row] = await besideLongStatement(store, 2, 'the short read', () => store.query<{ n: string }>('SELECT toString(sum(x)) AS n FROM t'));
    assert.is(row!.n, '6');
    // Writes keep to one connection, in order; a read after them sees them on either.
    await store.exec('INSERT INTO t VALUES (4)');
    const again = store.query('SELECT sleep(1) AS s');
    assert.equal(await store.query('SELECT toString(sum(x)) AS n FROM t'), [{ n: '10' }]);
    await again;
  } finally {
    await store.close();
  }
});

embedded('reads made while a long statement holds the main connection all queue beside it, none behind it', async () => {
  const store = await ChdbStore.open(join(dir, 'queue'));
  try {
    // Three at once: the second connection takes them in turn; none waits on the first.
    const reads = await besideLongStatement(store, 2, 'the short reads', () => Promise.all([1, 2, 3].map((i) => store.query<{ i: number }>(`SELECT ${i} AS i`))));
    assert.equal(reads.map(([r]) => r!.i), [1, 2, 3]);
  } finally {
    await store.close();
  }
});

embedded('the engine compiles no expressions to machine code on either connection', async () => {
  // Compiling costs the third run of an expression hundreds of milliseconds (README,
  // "Benchmarks"); the setting must hold for reads on the second connection too.
  const store = await ChdbStore.open(join(dir, 'compile'));
  try {
    assertNoCompiling(await besideLongStatement(store, 1, 'the settings read on the second connection', () => compileSettings(store)));
    assertNoCompiling(await compileSettings(store));
  } finally {
    await store.close();
  }
});

embedded.run();
