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

/** Where the store is, as `serve` and the other commands take it (flags and settings). */
export interface StoreLocation {
  dataDir: string;
  clickhouseUrl?: string;
  clickhouseUser?: string;
  clickhousePassword?: string;
  clickhouseDatabase?: string;
}

/** Open the store a command's or the server's settings name. */
export function openStoreAt(l: StoreLocation): Promise<Store> {
  return openStore({
    dataDir: l.dataDir,
    clickhouse: l.clickhouseUrl ? { url: l.clickhouseUrl, username: l.clickhouseUser, password: l.clickhousePassword, database: l.clickhouseDatabase } : undefined,
  });
}
