// The storage boundary. Everything above this line speaks `Store`; chDB (embedded) and a
// ClickHouse server (remote) sit behind it with the same SQL. Values always travel as bound
// parameters (`{name:Type}`) or inside a data format, never spliced into SQL text.

export type TableName = 'spans' | 'logs' | 'metric_points' | 'ingest_usage' | 'audit_events' | 'redactions' | 'violations' | 'schema_migrations';

/** Query parameters bound server-side as `{name:Type}` placeholders. */
export type Params = Record<string, string | number | boolean | null | ReadonlyArray<string | number>>;

export interface InsertResult {
  rows: number;
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
  /** Insert rows already encoded as JSONEachRow (one JSON object per line). */
  insertJsonEachRow(table: TableName, body: Buffer, rows: number): Promise<InsertResult>;
  /** Release the connection; pending work finishes first. */
  close(): Promise<void>;
}
