// The storage boundary. Everything above this line speaks `Store`; chDB (embedded) and a
// ClickHouse server (remote) sit behind it with the same SQL. Values always travel as bound
// parameters (`{name:Type}`) or inside a data format, never spliced into SQL text.

import { readFile } from 'node:fs/promises';

export type TableName = 'spans' | 'logs' | 'metric_points' | 'ingest_usage' | 'audit_events' | 'redactions' | 'violations' | 'resource_minute_sums' | 'resource_minutes' | 'recovery_events' | 'schema_migrations';

/** Query parameters bound server-side as `{name:Type}` placeholders. */
export type Params = Record<string, string | number | boolean | null | ReadonlyArray<string | number>>;

/**
 * Settings every connection carries so the same SQL is right on a cluster's Distributed
 * tables: a subquery over a Distributed table inside IN or JOIN runs once on the node asking
 * and its result is shipped to the shards (instead of being refused, or run per shard), and
 * an insert returns only once every shard has its rows (not when they are queued on the
 * receiving node). Neither changes anything on one node.
 */
export const CLUSTER_SETTINGS = { distributed_product_mode: 'global', insert_distributed_sync: 1 } as const;

/**
 * No machine code for expressions, on every connection (embedded or server). The engine
 * compiles an expression the third time it meets it, which costs that statement hundreds of
 * milliseconds once: a report repeated over the same period (a dashboard's refresh, the
 * benchmark) pays it on its third run, and one over a moving period never reuses what was
 * compiled. On tenantscope's statements compiled code saves a few percent at best; the
 * incidents report's p95 on the benchmark was set by these compiles.
 */
export const NO_EXPRESSION_COMPILING = { compile_expressions: 0, compile_aggregate_expressions: 0, compile_sort_description: 0 } as const;

/** A ClickHouse string literal holding exactly `s` (for the few places that take no query parameter). */
export function quoteString(s: string): string {
  return `'${s.replace(/[\\'\0]/g, (c) => (c === '\0' ? '\\0' : `\\${c}`))}'`;
}

/** File formats of exports and restores. */
export type FileFormat = 'Parquet';

export interface InsertOptions {
  /** ClickHouse's insert_deduplication_token: the block is stored once per token. */
  dedupToken?: string;
}

/**
 * ClickHouse error codes that say "not now" rather than "never": overload, timeouts, network,
 * read-only or Keeper trouble. A block refused with one of these is kept and retried.
 */
const TRANSIENT_CODES = new Set([159, 164, 202, 209, 210, 241, 242, 252, 279, 319, 394, 425, 999]);

/** Whether a store failure may pass: a listed ClickHouse code, or no code at all (the server was not reached). */
export function transientStoreFailure(clickhouseCode: number | undefined): boolean {
  return clickhouseCode === undefined || TRANSIENT_CODES.has(clickhouseCode);
}

export interface InsertResult {
  rows: number;
}

/**
 * A ClickHouse Native block (src/store/native.ts) to insert: its bytes, its file, or both.
 * The embedded store reads the file where there is one (the write-ahead log's); the remote
 * store sends the bytes (read from the file when only the file is given).
 */
export interface NativeInput {
  bytes?: Buffer;
  path?: string;
  /** Several files whose blocks are inserted as one (in this order): one insert, one part. */
  paths?: string[];
}

/** A Native input's bytes: as given, or read from its file(s) (several files' blocks in order). */
export async function nativeBytes(input: NativeInput): Promise<Buffer | undefined> {
  if (input.bytes) return input.bytes;
  if (input.paths) return Buffer.concat(await Promise.all(input.paths.map((f) => readFile(f))));
  return input.path !== undefined ? readFile(input.path) : undefined;
}

export interface Store {
  /** `chdb` (embedded) or `remote` (ClickHouse over HTTP). */
  readonly kind: 'chdb' | 'remote';
  /** Where the data lives, for logs and health checks. */
  readonly location: string;
  /** Run a statement that returns no rows (DDL, ALTER, ...). */
  exec(sql: string, params?: Params): Promise<void>;
  /** Run a query and return its rows (JSONEachRow; 64-bit integers as strings). */
  query<T = Record<string, unknown>>(sql: string, params?: Params): Promise<T[]>;
  /** Run a query and return its answer in the Native format (read it with readNative). */
  queryNative(sql: string, params?: Params): Promise<Uint8Array>;
  /**
   * Insert one or more Native blocks of `table` (the columns each block names). With a
   * dedupToken, a second insert with the same token is ignored by the store (a replay or a
   * retry).
   */
  insertNative(table: TableName, block: NativeInput, rows: number, opts?: InsertOptions): Promise<InsertResult>;
  /**
   * Insert rows encoded as JSONEachRow (one JSON object per line): for rows written by hand
   * (fixtures, tools), not for ingest, which writes Native blocks.
   */
  insertJsonEachRow(table: TableName, body: Buffer, rows: number, opts?: InsertOptions): Promise<InsertResult>;
  /**
   * Run a query and write its result to `path` in `format` (e.g. Parquet); resolves with the
   * file's size in bytes.
   */
  queryToFile(sql: string, params: Params, format: FileFormat, path: string): Promise<number>;
  /**
   * Insert from a file: `sql(source)` is the INSERT … SELECT to run, where `source` stands for
   * the file's rows read as `structure` (`name Type, …`), in `format`. The embedded store reads
   * the file where it is (the file() table function); the remote store sends its bytes as the
   * body of the request and reads them through the input() table function.
   */
  insertFromFile(sql: (source: string) => string, file: { path: string; format: FileFormat; structure: string }, params?: Params): Promise<void>;
  /** Release the connection; pending work finishes first. */
  close(): Promise<void>;
}
