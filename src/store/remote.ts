// The remote store: a ClickHouse server (or cluster) over HTTP with @clickhouse/client.
// Same SQL as the embedded store; only the transport differs.
import { Readable } from 'node:stream';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { tsError } from '../errors.js';
import { CLUSTER_SETTINGS, transientStoreFailure, type InsertOptions, type InsertResult, type Params, type Store, type TableName } from './types.js';

export interface RemoteStoreOptions {
  url: string;
  username?: string;
  password?: string;
  database?: string;
}

export class RemoteStore implements Store {
  readonly kind = 'remote' as const;
  readonly location: string;
  private readonly client: ClickHouseClient;

  constructor(opts: RemoteStoreOptions) {
    const u = new URL(opts.url);
    this.location = `${u.protocol}//${u.host}/${opts.database ?? 'default'}`;
    this.client = createClient({
      url: opts.url,
      username: opts.username,
      password: opts.password,
      database: opts.database,
      clickhouse_settings: { output_format_json_quote_64bit_integers: 1, output_format_json_quote_denormals: 1, ...CLUSTER_SETTINGS },
    });
  }

  async exec(sql: string, params?: Params): Promise<void> {
    try {
      await this.client.command({ query: sql, query_params: params });
    } catch (e) {
      throw remoteError(e, sql);
    }
  }

  async query<T = Record<string, unknown>>(sql: string, params?: Params): Promise<T[]> {
    try {
      const rs = await this.client.query({ query: sql, query_params: params, format: 'JSONEachRow' });
      return await rs.json<T>();
    } catch (e) {
      throw remoteError(e, sql);
    }
  }

  async insertJsonEachRow(table: TableName, body: Buffer, rows: number, opts: InsertOptions = {}): Promise<InsertResult> {
    if (rows === 0) return { rows: 0 };
    try {
      await this.client.insert({
        table,
        values: Readable.from([body]),
        format: 'JSONEachRow',
        clickhouse_settings: opts.dedupToken ? { insert_deduplication_token: opts.dedupToken } : undefined,
      });
    } catch (e) {
      throw remoteError(e, `INSERT INTO ${table}`);
    }
    return { rows };
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

// A ClickHouse exception carries its numeric code; a failure without one never reached the
// server (refused, reset, timed out, a proxy's 5xx) and may pass.
function remoteError(e: unknown, what: string): Error {
  const msg = e instanceof Error ? e.message : String(e);
  const raw = (e as { code?: unknown } | null)?.code;
  const code = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : undefined;
  return tsError('TS_ERR_STORE', [`${what.slice(0, 120)}: ${msg.split('\n')[0]}`], { cause: msg, transient: transientStoreFailure(code) });
}
