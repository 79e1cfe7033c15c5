// Cluster mode: the same migrations rendered for a ClickHouse cluster. No cluster can run here
// (Replicated tables need Keeper, Distributed tables a server), so ClickHouse itself parses
// every rendered statement: what reaches a cluster is at least valid ClickHouse SQL.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChdbStore, loadMigrations, renderStatements } from '../src/store/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tenantscope-cluster-'));
let store: ChdbStore;

test.before(async () => {
  store = await ChdbStore.open(dir);
});
test.after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('cluster DDL renders ON CLUSTER and replicated engines, and ClickHouse parses it', async () => {
  const [m] = loadMigrations();
  const statements = renderStatements(m!.sql, { cluster: 'tenantscope' });
  assert.ok(statements.length >= 4);
  for (const s of statements) {
    assert.match(s, /ON CLUSTER tenantscope/);
    assert.match(s, /ReplicatedMergeTree\('\/clickhouse\/tables\/\{shard\}\/\{database\}\/\w+', '\{replica\}'\)/);
    const [formatted] = await store.query<{ q: string }>('SELECT formatQuery({s:String}) AS q', { s });
    assert.match(formatted!.q, /ReplicatedMergeTree/);
  }
});

test.run();
