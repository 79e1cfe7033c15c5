// The embedded engine's merges step back for ingest: its merge threads are reniced, and no
// other thread of the process is.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChdbStore } from '../src/store/index.js';
import { MERGE_THREAD_PREFIXES, lowerMergePriority } from '../src/store/merge-priority.js';

/** Id, name and niceness of every thread of this process. */
function threads(): Array<{ tid: string; name: string; nice: number }> {
  return readdirSync('/proc/self/task').flatMap((t) => {
    try {
      const stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      return [{ tid: t, name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), nice: Number(stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[16]) }];
    } catch {
      return [];
    }
  });
}

const isMerge = (name: string) => MERGE_THREAD_PREFIXES.some((p) => name.startsWith(p));

if (!existsSync('/proc/self/task')) {
  console.log('merge-priority: skipped, this system has no /proc/self/task (renicing threads is Linux-only)');
} else {
  test("the engine's merge threads run at the given niceness and every other thread is left as it was", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tenantscope-nice-'));
    const store = await ChdbStore.open(dir);
    try {
      await store.exec('CREATE TABLE parts (x UInt32) ENGINE = MergeTree ORDER BY x');
      const before = threads();
      assert.ok(before.some((t) => isMerge(t.name)), `chDB started merge threads (threads: ${[...new Set(before.map((t) => t.name))].join(', ')})`);
      const lowered = lowerMergePriority({ nice: 7, intervalMs: 50 });
      try {
        // Inserts make parts to merge, and may start more pool threads, which the sweep catches.
        for (let i = 0; i < 5; i++) await store.exec(`INSERT INTO parts VALUES (${i})`);
        await new Promise((r) => setTimeout(r, 150));
        const after = threads();
        const merges = after.filter((t) => isMerge(t.name));
        assert.ok(merges.length > 0);
        for (const t of merges) assert.is(t.nice, 7, `${t.name} reniced`);
        for (const t of after.filter((x) => !isMerge(x.name))) {
          const was = before.find((b) => b.tid === t.tid);
          assert.not.equal(t.nice, 7, `${t.name} left alone`);
          if (was) assert.is(t.nice, was.nice, `${t.name} keeps its niceness`);
        }
        assert.ok(lowered.reniced() >= merges.length);
      } finally {
        lowered.stop();
      }
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test.run();
