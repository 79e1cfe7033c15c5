// The store a report test runs on: one node, or the cluster layout (every table a `_local`
// table under a `Distributed` table, the rollup's view on the local tables, the cluster's
// connection settings) when the runner sets TENANTSCOPE_TEST_TOPOLOGY=cluster. The cluster is
// one shard served by the embedded engine itself: chDB reads a `remote_servers` section from a
// config file, and a shard whose host is this node is queried in-process. Replicated tables
// and ON CLUSTER need Keeper, which cannot run here; those are checked by parsing
// (test/store-cluster.test.ts).
import { writeFileSync } from 'node:fs';
import { ChdbStore, migrate, type DdlTarget } from '../../src/store/index.js';

export const TEST_CLUSTER = 'ts_test';

/** Whether this run uses the cluster layout. */
export function clusterTopology(): boolean {
  return process.env.TENANTSCOPE_TEST_TOPOLOGY === 'cluster';
}

/** Open a migrated embedded store at `dir` in the run's topology. */
export async function openTestStore(dir: string): Promise<ChdbStore> {
  if (!clusterTopology()) {
    const store = await ChdbStore.open(dir);
    await migrate(store);
    return store;
  }
  // tcp_port makes the engine recognise localhost:9000 as itself, so the shard is local.
  const configFile = `${dir.replace(/\/+$/, '')}-cluster.xml`;
  writeFileSync(
    configFile,
    `<clickhouse><tcp_port>9000</tcp_port><remote_servers><${TEST_CLUSTER}><shard><replica><host>localhost</host><port>9000</port></replica></shard></${TEST_CLUSTER}></remote_servers></clickhouse>\n`,
  );
  const store = await ChdbStore.open(dir, { configFile });
  const target: DdlTarget = { cluster: TEST_CLUSTER, replicated: false };
  await migrate(store, target);
  return store;
}
