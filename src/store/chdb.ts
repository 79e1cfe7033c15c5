// The embedded store: chDB (ClickHouse in-process) on a data directory.
//
// chDB binds one data directory per process and its synchronous calls block the event loop,
// so this store uses only the async calls and refuses a second directory in one process.
//
// A connection runs one statement at a time. Reads that arrive while the main connection is
// busy go to a second connection on the same directory (the engine behind both is one), so a
// read does not wait behind a long analysis: the incidents report's minutes and counts beside
// its noisy-neighbour analysis, an API request beside another's report. Writes and
// schema changes stay on the main connection, in the order they were made. chdb also runs
// statements with bound parameters one at a time, whatever the connection; a read whose
// parameters are all numbers is sent with them written in, so it is not held to that.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { unlink, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { Session, drainPending } from 'chdb';
import { tsError } from '../errors.js';
import { CLUSTER_SETTINGS, NO_EXPRESSION_COMPILING, nativeBytes, transientStoreFailure, quoteString, type FileFormat, type InsertOptions, type InsertResult, type NativeInput, type Params, type Store, type TableName } from './types.js';

// Output settings the rest of the code relies on: 64-bit integers as JSON strings (exact in
// JS) and NaN/Inf as strings rather than null. The Distributed settings matter only on a
// cluster layout (see CLUSTER_SETTINGS in types.ts); NO_EXPRESSION_COMPILING is there too.
const CONNECTION_ARGS = [
  '--output_format_json_quote_64bit_integers=1',
  '--output_format_json_quote_denormals=1',
  // Tables load before the session answers, not in the background: the write-ahead log's
  // replay right after start must meet each table with its deduplication log loaded. With the
  // recovery views in the database, crash-recovery runs stored replayed blocks twice in about
  // one run of five while loading was asynchronous (the engine's default), and none of 7 since.
  '--async_load_databases=0',
  ...Object.entries({ ...CLUSTER_SETTINGS, ...NO_EXPRESSION_COMPILING }).map(([k, v]) => `--${k}=${v}`),
];

export interface ChdbOpenOptions {
  /**
   * A ClickHouse server configuration file for the engine, e.g. one declaring a cluster in
   * `remote_servers` (the tests run the cluster layout on one node this way).
   */
  configFile?: string;
}

let openPath: string | undefined;

export class ChdbStore implements Store {
  readonly kind = 'chdb' as const;
  readonly location: string;
  private session: Session | undefined;
  /** The second connection, for reads while the main one is busy. */
  private reader: Session | undefined;
  /** Statements in flight on each connection. */
  private busy = { main: 0, reader: 0 };

  private constructor(path: string, session: Session, reader: Session | undefined) {
    this.location = path;
    this.session = session;
    this.reader = reader;
  }

  /** Open (creating if needed) the chDB data directory at `dataDir`. */
  static async open(dataDir: string, opts: ChdbOpenOptions = {}): Promise<ChdbStore> {
    const path = resolve(dataDir);
    if (openPath !== undefined && openPath !== path) {
      throw tsError('TS_ERR_STORE', [`chDB already has ${openPath} open in this process; close it before opening ${path}`]);
    }
    mkdirSync(path, { recursive: true });
    await drainPending();
    let session: Session;
    let reader: Session;
    try {
      const args = opts.configFile ? [...CONNECTION_ARGS, `--config-file=${resolve(opts.configFile)}`] : CONNECTION_ARGS;
      session = new Session(path, { connectionArgs: args });
      reader = new Session(path, { connectionArgs: args });
    } catch (e) {
      const owner = lockOwner(path);
      if (owner !== undefined) throw tsError('TS_ERR_STORE_LOCKED', [`${path} (pid ${owner})`]);
      throw storeError(e, `open ${path}`);
    }
    openPath = path;
    return new ChdbStore(path, session, reader);
  }

  private get s(): Session {
    if (!this.session) throw tsError('TS_ERR_STORE', [`chDB store at ${this.location} is closed`]);
    return this.session;
  }

  /** Run a statement on the main connection. */
  private async onMain<T>(run: (s: Session) => Promise<T>): Promise<T> {
    const s = this.s;
    this.busy.main++;
    try {
      return await run(s);
    } finally {
      this.busy.main--;
    }
  }

  /**
   * Run a read on the main connection when it is idle, else on the reader: reads queue there
   * rather than behind whatever holds the main connection (a long analysis, a write).
   */
  private async read<T>(run: (s: Session) => Promise<T>): Promise<T> {
    const reader = this.reader;
    if (!reader || !this.session || this.busy.main === 0) return this.onMain(run);
    this.busy.reader++;
    try {
      return await run(reader);
    } finally {
      this.busy.reader--;
    }
  }

  async exec(sql: string, params?: Params): Promise<void> {
    try {
      await this.onMain((s) => (params ? s.queryBindAsync(sql, params, { format: 'TSV' }) : s.queryAsync(sql, { format: 'TSV' })));
    } catch (e) {
      throw storeError(e, sql);
    }
  }

  async query<T = Record<string, unknown>>(sql: string, params?: Params): Promise<T[]> {
    let text: string;
    try {
      const r = await this.read((s) => send(s, sql, params, 'JSONEachRow'));
      text = r.text();
    } catch (e) {
      throw storeError(e, sql);
    }
    return parseJsonEachRow<T>(text);
  }

  async queryNative(sql: string, params?: Params): Promise<Uint8Array> {
    try {
      const r = await this.read((s) => send(s, sql, params, 'Native'));
      return r.bytes();
    } catch (e) {
      throw storeError(e, sql);
    }
  }

  async insertJsonEachRow(table: TableName, body: Buffer, rows: number, opts: InsertOptions = {}): Promise<InsertResult> {
    if (rows === 0) return { rows: 0 };
    try {
      const settings = opts.dedupToken ? { insert_deduplication_token: opts.dedupToken } : undefined;
      await this.onMain((s) => s.insert({ table, values: body, format: 'JSONEachRow', settings }));
    } catch (e) {
      throw storeError(e, `INSERT INTO ${table}`);
    }
    return { rows };
  }

  // chDB's in-memory insert takes text formats only; a file takes Native. A block that comes
  // without one (no write-ahead log) is written to a scratch file under the data directory.
  async insertNative(table: TableName, block: NativeInput, rows: number, opts: InsertOptions = {}): Promise<InsertResult> {
    if (rows === 0) return { rows: 0 };
    let path = block.paths ? filesPattern(block.paths) : block.path;
    let scratch: string | undefined;
    if (path === undefined) {
      const bytes = await nativeBytes(block);
      if (!bytes) throw tsError('TS_ERR_INTERNAL', [`a Native insert into ${table} has neither bytes nor a file`]);
      const dir = join(this.location, 'tmp-inserts');
      mkdirSync(dir, { recursive: true });
      scratch = path = join(dir, `${randomUUID()}.native`);
      await writeFile(path, bytes);
    }
    try {
      // The file's name is ours (a UUID under our directories), written as a string literal:
      // INFILE takes no query parameter.
      // A column the table does not have is refused, not skipped: a block is all or nothing.
      const settings = `input_format_skip_unknown_fields = 0${opts.dedupToken ? `, insert_deduplication_token = ${quoteString(opts.dedupToken)}` : ''}`;
      await this.onMain((s) => s.queryAsync(`INSERT INTO ${table} FROM INFILE ${quoteString(path)} SETTINGS ${settings} FORMAT Native`, { format: 'TSV' }));
    } catch (e) {
      throw storeError(e, `INSERT INTO ${table} FORMAT Native`);
    } finally {
      if (scratch) await unlink(scratch).catch(() => undefined);
    }
    return { rows };
  }

  // The engine's result comes back as one buffer; it is written out as it is. A tenant's
  // export of a table is held in memory once this way (its compressed Parquet bytes).
  async queryToFile(sql: string, params: Params, format: FileFormat, path: string): Promise<number> {
    let bytes: Uint8Array;
    try {
      bytes = (await this.onMain((s) => s.queryBindAsync(sql, params, { format }))).bytes();
    } catch (e) {
      throw storeError(e, sql);
    }
    await writeFile(path, bytes);
    return bytes.length;
  }

  async insertFromFile(sql: (source: string) => string, file: { path: string; format: FileFormat; structure: string }, params?: Params): Promise<void> {
    // file() takes no query parameter: the path and structure are string literals (our own names and types).
    const statement = sql(`file(${quoteString(resolve(file.path))}, ${file.format}, ${quoteString(file.structure)})`);
    try {
      await this.onMain((s) => (params ? s.queryBindAsync(statement, params, { format: 'TSV' }) : s.queryAsync(statement, { format: 'TSV' })));
    } catch (e) {
      throw storeError(e, statement);
    }
  }

  async close(): Promise<void> {
    if (!this.session) return;
    this.reader?.close();
    this.reader = undefined;
    this.session.close();
    this.session = undefined;
    await drainPending();
    openPath = undefined;
  }
}

/** A read on `s`: its parameters written in when they are all finite numbers (see the header), bound otherwise. */
function send(s: Session, sql: string, params: Params | undefined, format: string) {
  const written = params && numbersWrittenIn(sql, params);
  if (written !== undefined) return s.queryAsync(written, { format });
  return params ? s.queryBindAsync(sql, params, { format }) : s.queryAsync(sql, { format });
}

/** `sql` with every `{name:Type}` replaced by its number cast to the type, if each is a finite number of a numeric type; undefined otherwise. */
function numbersWrittenIn(sql: string, params: Params): string | undefined {
  let all = true;
  const written = sql.replace(/\{(\w+):([^}]+)\}/g, (placeholder, name: string, type: string) => {
    const v = params[name];
    const numeric = /^(U?Int(8|16|32|64)|Float(32|64))$/.test(type);
    if (typeof v !== 'number' || !Number.isFinite(v) || !numeric || (!type.startsWith('Float') && !Number.isInteger(v))) {
      all = false;
      return placeholder;
    }
    return `CAST(${v} AS ${type})`;
  });
  return all ? written : undefined;
}

// chDB reports a data directory held by another process only as "Failed to create
// connection"; the engine's status file names the holder's pid while it runs.
function lockOwner(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(join(path, 'status'), 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(/PID:\s*(\d+)/.exec(text)?.[1]);
  if (!Number.isInteger(pid) || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}


/** Parse JSONEachRow text into objects. */
export function parseJsonEachRow<T>(text: string): T[] {
  const out: T[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (end > start) out.push(JSON.parse(text.slice(start, end)) as T);
    start = end + 1;
  }
  return out;
}

// The engine runs in-process, so every failure carries a ClickHouse code; its code decides
// whether the writer retries.
function storeError(e: unknown, what: string): Error {
  const msg = e instanceof Error ? e.message : String(e);
  const code = Number(/Code: (\d+)/.exec(msg)?.[1] ?? -1);
  return tsError('TS_ERR_STORE', [`${what.slice(0, 120)}: ${msg.split('\n')[0]}`], { cause: msg, transient: code >= 0 && transientStoreFailure(code) });
}

// Several block files as one INFILE: the engine expands `dir/{a,b}.native` and squashes their
// blocks into one part. It skips a name that matches no file, so each must exist; names with
// glob characters of their own go through a scratch file instead (undefined).
function filesPattern(paths: string[]): string | undefined {
  if (paths.length === 1) return paths[0];
  const dir = dirname(paths[0]!);
  const names = paths.map((p) => basename(p));
  if (paths.some((p) => dirname(p) !== dir) || names.some((n) => /[{},*?\[\]'\\]/.test(n))) return undefined;
  for (const p of paths) if (!existsSync(p)) throw tsError('TS_ERR_INTERNAL', [`block file ${p} of a Native insert is missing`]);
  return join(dir, `{${names.join(',')}}`);
}
