// The remote store: a ClickHouse server (or cluster) over HTTP with @clickhouse/client.
// Same SQL as the embedded store; only the transport differs.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createClient, ClickHouseError, ClickHouseLogLevel, type ClickHouseClient, type Logger as ClientLogger } from '@clickhouse/client';
import { tsError } from '../errors.js';
import { stageLogger } from '../log.js';
import { CLUSTER_SETTINGS, NO_EXPRESSION_COMPILING, nativeBytes, transientStoreFailure, quoteString, type FileFormat, type InsertOptions, type InsertResult, type NativeInput, type Params, type Store, type TableName } from './types.js';

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
      clickhouse_settings: { output_format_json_quote_64bit_integers: 1, output_format_json_quote_denormals: 1, ...CLUSTER_SETTINGS, ...NO_EXPRESSION_COMPILING },
      // Written out rather than left to the client's defaults, which have changed between
      // releases. What tenantscope sends (inserts above all) is gzipped at level 1: measured
      // on span rows with random ids, about 7 µs of one core per row for a body 12 times
      // smaller; at 100k spans/s that turns some 90 MB/s of JSON into 8 MB/s on the wire to
      // a server that is across a network. Answers (report rows) are small and stay as is.
      compression: { request: { codec: 'gzip', level: 1 }, response: false },
      log: { LoggerClass: ClientLog, level: ClickHouseLogLevel.WARN },
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

  async queryNative(sql: string, params?: Params): Promise<Uint8Array> {
    try {
      const r = await this.client.exec({ query: `${sql} FORMAT Native`, query_params: params });
      const parts: Buffer[] = [];
      for await (const part of r.stream) parts.push(part as Buffer);
      return Buffer.concat(parts);
    } catch (e) {
      throw remoteError(e, sql);
    }
  }

  async insertNative(table: TableName, block: NativeInput, rows: number, opts: InsertOptions = {}): Promise<InsertResult> {
    if (rows === 0) return { rows: 0 };
    const body = await nativeBytes(block);
    if (!body) throw tsError('TS_ERR_INTERNAL', [`a Native insert into ${table} has neither bytes nor a file`]);
    return this.insertBody(table, 'Native', body, rows, opts);
  }

  async insertJsonEachRow(table: TableName, body: Buffer, rows: number, opts: InsertOptions = {}): Promise<InsertResult> {
    if (rows === 0) return { rows: 0 };
    return this.insertBody(table, 'JSONEachRow', body, rows, opts);
  }

  private async insertBody(table: TableName, format: 'Native' | 'JSONEachRow', body: Buffer, rows: number, opts: InsertOptions): Promise<InsertResult> {
    try {
      // The rows are already encoded. The client's insert() wants rows as objects, so the
      // bytes go through exec(), which sends the statement in the URL and the body as it is
      // (gzipped), as a server expects.
      const r = await this.client.exec({
        query: `INSERT INTO ${table} FORMAT ${format}`,
        values: Readable.from([body], { objectMode: false }),
        // A column the table does not have is refused, not skipped: a block is all or nothing.
        clickhouse_settings: { ...(format === 'Native' ? { input_format_skip_unknown_fields: 0 } : {}), ...(opts.dedupToken ? { insert_deduplication_token: opts.dedupToken } : {}) },
      });
      for await (const _ of r.stream) {
        // the answer of an insert is empty; reading it to the end frees the connection
      }
    } catch (e) {
      throw remoteError(e, `INSERT INTO ${table}`);
    }
    return { rows };
  }

  async queryToFile(sql: string, params: Params, format: FileFormat, path: string): Promise<number> {
    try {
      const r = await this.client.exec({ query: `${sql} FORMAT ${format}`, query_params: params });
      await pipeline(r.stream, createWriteStream(path));
    } catch (e) {
      throw remoteError(e, sql);
    }
    return (await stat(path)).size;
  }

  async insertFromFile(sql: (source: string) => string, file: { path: string; format: FileFormat; structure: string }, params?: Params): Promise<void> {
    const statement = `${sql(`input(${quoteString(file.structure)})`)} FORMAT ${file.format}`;
    try {
      const r = await this.client.exec({ query: statement, query_params: params, values: createReadStream(file.path) });
      for await (const _ of r.stream) {
        // empty answer; read to the end to free the connection
      }
    } catch (e) {
      throw remoteError(e, statement);
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}


// The client's own log lines go to pino instead of the console. Its errors are the ones
// every call throws as TS_ERR_STORE, logged by whoever handles them, so they are debug here;
// its warnings (sockets, keep-alive) stay warnings.
class ClientLog implements ClientLogger {
  private readonly log = stageLogger('store', { client: '@clickhouse/client' });
  trace(p: Parameters<ClientLogger['trace']>[0]): void {
    this.log.trace({ module: p.module, args: p.args }, p.message);
  }
  debug(p: Parameters<ClientLogger['debug']>[0]): void {
    this.log.debug({ module: p.module, args: p.args }, p.message);
  }
  info(p: Parameters<ClientLogger['info']>[0]): void {
    this.log.info({ module: p.module, args: p.args }, p.message);
  }
  warn(p: Parameters<ClientLogger['warn']>[0]): void {
    this.log.warn({ module: p.module, args: p.args, err: p.err?.message }, p.message);
  }
  error(p: Parameters<ClientLogger['error']>[0]): void {
    this.log.debug({ module: p.module, args: p.args, err: p.err.message }, p.message);
  }
}

// A server exception keeps its name (UNKNOWN_TABLE, ...) next to its message; a transport
// failure (refused, reset, a proxy's 503 page) says what happened to the connection. The
// exception's code decides whether the writer retries; a failure without one never reached
// the server and may pass.
function remoteError(e: unknown, what: string): Error {
  let msg = e instanceof Error ? e.message.trim() : String(e);
  let clickhouseCode: number | undefined;
  if (e instanceof ClickHouseError) {
    clickhouseCode = Number(e.code);
    msg = `${msg.replace(/\.$/, '')} (${e.type}, code ${e.code})`;
  } else {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && !msg.includes(code)) msg = msg ? `${msg} (${code})` : code;
    if (!msg) msg = 'no answer from the server';
  }
  return tsError('TS_ERR_STORE', [`${what.slice(0, 120)}: ${msg.split('\n')[0]}`], { cause: msg, transient: transientStoreFailure(clickhouseCode) });
}
