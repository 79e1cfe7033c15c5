// The storage module's public surface.
import { ChdbStore } from './chdb.js';
import { RemoteStore, type RemoteStoreOptions } from './remote.js';
import type { InsertOptions, InsertResult, Store } from './types.js';
import { encodeBlock, type ColumnChunk } from './native.js';
import { type DdlTarget } from './migrate.js';
import { tsError } from '../errors.js';

export type { Store, TableName, Params, InsertResult, InsertOptions, NativeInput } from './types.js';
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
  /** A ClickHouse cluster name: tables are laid out for it (remote store only). */
  clickhouseCluster?: string;
}

/** Open the store a command's or the server's settings name. */
export function openStoreAt(l: StoreLocation): Promise<Store> {
  return openStore({
    dataDir: l.dataDir,
    clickhouse: l.clickhouseUrl ? { url: l.clickhouseUrl, username: l.clickhouseUser, password: l.clickhousePassword, database: l.clickhouseDatabase } : undefined,
  });
}

/** How the migrations are laid out for a store location: one node, or its named cluster. */
export function ddlTarget(l: StoreLocation): DdlTarget {
  if (!l.clickhouseCluster) return {};
  if (!l.clickhouseUrl) throw tsError('TS_ERR_CONFIG', ['--clickhouse-cluster needs --clickhouse-url: the embedded store is one node']);
  return { cluster: l.clickhouseCluster };
}

/** Insert one chunk of rows as a Native block (for tools and tests; ingest goes through the writer). */
export function insertChunk(store: Store, chunk: ColumnChunk, opts?: InsertOptions): Promise<InsertResult> {
  return store.insertNative(chunk.schema.table as Parameters<Store['insertNative']>[0], { bytes: encodeBlock(chunk.schema, [chunk]) }, chunk.rows, opts);
}
