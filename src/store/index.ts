// The storage module's public surface.
import { ChdbStore } from './chdb.js';
import { RemoteStore, type RemoteStoreOptions } from './remote.js';
import type { Store } from './types.js';

export type { Store, TableName, Params, InsertResult } from './types.js';
export { migrate, loadMigrations, renderStatements, type DdlTarget } from './migrate.js';
export { ChdbStore, RemoteStore, type RemoteStoreOptions };

/** Open the embedded store at `dataDir`, or the remote one when a ClickHouse URL is given. */
export async function openStore(opts: { dataDir: string; clickhouse?: RemoteStoreOptions }): Promise<Store> {
  if (opts.clickhouse?.url) return new RemoteStore(opts.clickhouse);
  return ChdbStore.open(opts.dataDir);
}
