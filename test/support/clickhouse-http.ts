// A ClickHouse HTTP-interface test server that executes the SQL in chDB in this process, so
// RemoteStore (@clickhouse/client over HTTP) can be tested where no modern ClickHouse server
// can be installed. Hand-written because no package offers a ClickHouse HTTP endpoint over an
// embedded engine; it is a test double, not a ClickHouse server.
//
// It implements ONLY what @clickhouse/client 1.x sends for RemoteStore (read from the client's
// source and from logged requests), the way a ClickHouse server answers it:
// - GET /ping and GET / without a query: 200 "Ok.".
// - POST / with the statement in the body, or its head in the `query` URL parameter followed
//   by a line break and the body (how inserts travel: `INSERT INTO t FORMAT JSONEachRow` in
//   the URL, rows streamed in the body); for `INSERT INTO t FORMAT Native` the binary body is
//   handed to the engine as a file (`FROM INFILE`), since it is not SQL text.
// - `INSERT … SELECT … FROM input('structure') … FORMAT <fmt>` in the URL with the rows in the
//   body (how a restore sends a Parquet file): input() is read from the body, here through a
//   file in that format.
// - `database`: the request's current database.
// - `param_<name>`: query parameters in ClickHouse's text form, handed to the engine as text
//   (`SET param_<name> = '<text>'`), so the engine parses `{v:String}`, `{n:UInt32}`,
//   `{a:Array(String)}`, DateTime64, Nullable (`\N`) ... exactly as a server does. chDB's own
//   binding is not used: it takes JS values and re-escapes strings, which would
//   double-escape text the client already escaped.
// - `default_format`, and a FORMAT clause in the statement (which wins), for the output.
// - every other URL parameter is a setting for this request only (output_format_*,
//   insert_deduplication_token, async_insert, ...), unknown ones refused by the engine.
//   `query_id` is echoed; `wait_end_of_query` and `buffer_size` are accepted (the answer is
//   always sent after the statement ended).
// - one statement per request: a second statement is refused as ClickHouse refuses it.
// - request bodies with Content-Encoding: gzip (RemoteStore compresses what it sends).
// - answers: X-ClickHouse-Query-Id, X-ClickHouse-Format, X-ClickHouse-Summary (result_rows,
//   result_bytes, elapsed_ns: what chDB reports); errors as non-2xx with ClickHouse's status
//   for the exception code, X-ClickHouse-Exception-Code and a `Code: N. DB::Exception: ...`
//   text body, before any data (results are buffered, so no error arrives mid-stream).
// Not implemented, refused with NOT_IMPLEMENTED so a change on the client side shows up
// here: request encodings other than gzip, ClickHouse's native `compress`/`decompress`,
// sessions (`session_id`), roles, and queries by GET. Answers are never compressed
// (RemoteStore does not ask; HTTP lets a server ignore Accept-Encoding anyway). Credentials
// are accepted, not checked.
//
// Each request runs in a fresh chDB connection on one data directory (settings, parameters
// and the current database live in the connection, as they live in a request on a server),
// and requests run one at a time. chDB binds one data directory per process: while this
// server runs, the process must not open a ChdbStore.
//
// `unavailable()` takes the server down for an outage test, `available()` brings it back.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { Session, drainPending } from 'chdb';

/**
 * How the server is down: `refuse` stops listening (connections are refused), `reset`
 * accepts connections and closes them at once, `503` answers every request with 503 the way
 * a proxy in front of a stopped server does.
 */
export type Outage = 'refuse' | 'reset' | '503';

export interface ClickHouseTestServer {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** Requests answered so far (including errors), for tests that check traffic happened. */
  readonly requests: number;
  /** Take the server down until `available()`; open connections are closed. */
  unavailable(how: Outage): Promise<void>;
  /** Serve again, on the same port. */
  available(): Promise<void>;
  /** Stop serving, close chDB and remove the data directory. */
  close(): Promise<void>;
}

// HTTP-level parameters a server consumes itself; everything else in the URL is a setting.
const HANDLED = new Set(['query', 'database', 'default_format', 'query_id', 'wait_end_of_query', 'buffer_size', 'user', 'password']);
const NOT_IMPLEMENTED = new Set(['session_id', 'session_timeout', 'session_check', 'close_session', 'role', 'compress', 'decompress']);

// The HTTP status a ClickHouse server gives an exception, by exception name (from its
// exceptionCodeToHTTPStatus); anything not listed is 500.
const STATUS_BY_EXCEPTION: Record<string, number> = {
  REQUIRED_PASSWORD: 401,
  ...Object.fromEntries(['UNKNOWN_USER', 'WRONG_PASSWORD', 'AUTHENTICATION_FAILED', 'SET_NON_GRANTED_ROLE', 'ACCESS_DENIED'].map((n) => [n, 403])),
  ...Object.fromEntries(
    [
      'BAD_ARGUMENTS', 'CANNOT_COMPILE_REGEXP', 'CANNOT_PARSE_TEXT', 'CANNOT_PARSE_ESCAPE_SEQUENCE', 'CANNOT_PARSE_QUOTED_STRING',
      'CANNOT_PARSE_DATE', 'CANNOT_PARSE_DATETIME', 'CANNOT_PARSE_NUMBER', 'CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING', 'CANNOT_PARSE_IPV4',
      'CANNOT_PARSE_IPV6', 'CANNOT_PARSE_INPUT_ASSERTION_FAILED', 'CANNOT_PARSE_UUID', 'DUPLICATE_COLUMN', 'ILLEGAL_COLUMN',
      'UNKNOWN_ELEMENT_IN_AST', 'UNKNOWN_TYPE_OF_AST_NODE', 'THERE_IS_NO_COLUMN', 'TOO_DEEP_AST', 'TOO_BIG_AST', 'UNEXPECTED_AST_STRUCTURE',
      'SYNTAX_ERROR', 'INCORRECT_DATA', 'TYPE_MISMATCH', 'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE',
    ].map((n) => [n, 400]),
  ),
  ...Object.fromEntries(
    [
      'UNKNOWN_TABLE', 'UNKNOWN_FUNCTION', 'UNKNOWN_IDENTIFIER', 'UNKNOWN_TYPE', 'UNKNOWN_STORAGE', 'UNKNOWN_DATABASE', 'UNKNOWN_SETTING',
      'UNKNOWN_DIRECTION_OF_SORTING', 'UNKNOWN_AGGREGATE_FUNCTION', 'UNKNOWN_FORMAT', 'UNKNOWN_DATABASE_ENGINE', 'UNKNOWN_TYPE_OF_QUERY', 'UNKNOWN_ROLE',
    ].map((n) => [n, 404]),
  ),
  QUERY_IS_TOO_LARGE: 413,
  NOT_IMPLEMENTED: 501,
  SOCKET_TIMEOUT: 503,
  CANNOT_OPEN_FILE: 503,
  CANNOT_SCHEDULE_TASK: 503,
  HTTP_LENGTH_REQUIRED: 411,
  TIMEOUT_EXCEEDED: 408,
  UNSUPPORTED_MEDIA_TYPE: 415,
};

/** An exception as a ClickHouse server reports it: its code and its `Code: N. DB::Exception: ...` text. */
class ServerException extends Error {
  constructor(readonly code: number, readonly text: string) {
    super(text);
  }
}

/** Start the server on a free loopback port with a fresh chDB data directory. */
export async function startClickHouseTestServer(): Promise<ClickHouseTestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tenantscope-clickhouse-http-'));
  await drainPending();
  // Held for the server's lifetime so the engine stays up between per-request connections.
  let engine: Session;
  try {
    engine = new Session(dataDir);
  } catch (e) {
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  const engineVersion = (await engine.queryAsync('SELECT version()', { format: 'TabSeparated' })).text().trim();
  // Exception names and codes from the engine itself, so no code number is written down here.
  const names = new Map<number, string>();
  const codes = new Map<string, number>();
  for (const line of (await engine.queryAsync('SELECT number, errorCodeToName(number) FROM numbers(2000) WHERE errorCodeToName(number) != \'\'', { format: 'TabSeparated' })).text().split('\n')) {
    const [n, name] = line.split('\t');
    if (!name) continue;
    names.set(Number(n), name);
    codes.set(name, Number(n));
  }
  const exception = (name: string, message: string) => {
    const code = codes.get(name) ?? 0;
    return new ServerException(code, `Code: ${code}. DB::Exception: ${message}. (${name})`);
  };

  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = tail.then(fn);
    tail = p.catch(() => undefined);
    return p;
  };

  async function execute(req: IncomingMessage, url: URL, body: Buffer): Promise<{ data: Uint8Array; format: string; summary: Record<string, string> }> {
    if (req.method !== 'POST') throw exception('NOT_IMPLEMENTED', `${req.method} queries are not implemented by this test server; the client sends POST`);
    const encoding = req.headers['content-encoding'];
    if (encoding === 'gzip') {
      try {
        body = gunzipSync(body);
      } catch (e) {
        throw exception('ZLIB_INFLATE_FAILED', `the gzip request body does not inflate: ${errorText(e)}`);
      }
    } else if (encoding && encoding !== 'identity') {
      throw exception('NOT_IMPLEMENTED', `request Content-Encoding ${encoding} is not implemented by this test server`);
    }
    const settings: Array<[string, string]> = [];
    const params: Array<[string, string]> = [];
    for (const [key, value] of url.searchParams) {
      if (key.startsWith('param_')) {
        const name = key.slice(6);
        if (!/^\w+$/.test(name)) throw exception('BAD_ARGUMENTS', `invalid query parameter name ${JSON.stringify(name)}`);
        params.push([name, value]);
      } else if (NOT_IMPLEMENTED.has(key)) {
        throw exception('NOT_IMPLEMENTED', `the URL parameter ${key} is not implemented by this test server`);
      } else if (!HANDLED.has(key)) {
        if (!/^[A-Za-z_]\w*$/.test(key)) throw exception('UNKNOWN_SETTING', `Unknown setting '${key}'`);
        settings.push([key, value]);
      }
    }
    const head = url.searchParams.get('query') ?? '';
    // A binary body (`INSERT INTO t [(cols)] FORMAT Native`) is not SQL text: as a server
    // reads it from the request, the engine here reads it from a file.
    const native = /^\s*INSERT\s+INTO\s+([\w.`]+)\s*(\([^)]*\))?\s*FORMAT\s+Native\s*$/i.exec(head);
    // `INSERT … SELECT … FROM input('structure') … FORMAT <binary>`: a server reads input()'s
    // rows from the request body; the engine here reads them from a file in that format.
    const input = native ? null : /^\s*INSERT\b[\s\S]*\binput\(('(?:[^'\\]|\\.)*')\)[\s\S]*?\s+FORMAT\s+(\w+)\s*$/i.exec(head);
    let scratch: string | undefined;
    if (native || input) {
      scratch = join(dataDir, `insert-${randomUUID()}.${native ? 'native' : 'input'}`);
      writeFileSync(scratch, body);
    }
    const sql = native
      ? `INSERT INTO ${native[1]} ${native[2] ?? ''} FROM INFILE ${quoteString(scratch!)} FORMAT Native`
      : input
        ? head.replace(/\s+FORMAT\s+\w+\s*$/i, '').replace(`input(${input[1]})`, `file(${quoteString(scratch!)}, ${input[2]}, ${input[1]})`)
        : head
          ? `${head}\n${body.toString('utf8')}`
          : body.toString('utf8');
    if (sql.trim() === '') throw exception('SYNTAX_ERROR', 'Empty query');
    const format = url.searchParams.get('default_format') ?? 'TabSeparated';

    return serial(async () => {
      const s = new Session(dataDir);
      try {
        await refuseMultiStatements(s, head || sql);
        const database = url.searchParams.get('database');
        if (database) await run(s, `USE ${quoteIdentifier(database)}`);
        const assignments = [...settings.map(([k, v]) => `${k} = ${quoteString(v)}`), ...params.map(([k, v]) => `param_${k} = ${quoteString(v)}`)];
        if (assignments.length) await run(s, `SET ${assignments.join(', ')}`);
        const r = await run(s, sql, format);
        return {
          data: r.bytes(),
          format: outputFormat(head ? '' : sql) ?? format,
          summary: { result_rows: String(r.rowsRead), result_bytes: String(r.bytesRead), elapsed_ns: String(Math.round(r.elapsed * 1e9)) },
        };
      } finally {
        s.close();
        if (scratch) rmSync(scratch, { force: true });
      }
    });
  }

  // The statement is parsed once more by the engine's formatQuery only to learn whether it
  // holds more than one statement; any other parse error is left to the real execution.
  async function refuseMultiStatements(s: Session, statement: string): Promise<void> {
    try {
      await s.queryBindAsync('SELECT formatQuery({q:String})', { q: statement }, { format: 'TabSeparated' });
    } catch (e) {
      const m = /(Syntax error \(Multi-statements are not allowed\):[^]*?)\.? : In scope/.exec(errorText(e));
      if (m) throw exception('SYNTAX_ERROR', m[1]!);
    }
  }

  async function run(s: Session, sql: string, format = 'TabSeparated') {
    try {
      return await s.queryAsync(sql, { format });
    } catch (e) {
      const text = errorText(e);
      const code = /^Code: (\d+)\./.exec(text)?.[1];
      throw code ? new ServerException(Number(code), text) : exception('STD_EXCEPTION', text);
    }
  }

  let requests = 0;
  let outage: Outage | undefined;
  const sockets = new Set<Socket>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    requests++;
    if (outage === '503') {
      res.writeHead(503, { 'content-type': 'text/plain; charset=UTF-8' }).end('503 Service Unavailable: the ClickHouse test server is switched off\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const queryId = url.searchParams.get('query_id') ?? randomUUID();
    if (req.method === 'GET' && (path === '/ping' || (path === '/' && !url.searchParams.has('query')))) {
      res.writeHead(200, { 'content-type': 'text/html; charset=UTF-8' }).end('Ok.\n');
      return;
    }
    if (path !== '/') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=UTF-8' }).end(`There is no handle ${path}\n`);
      return;
    }
    try {
      const r = await execute(req, url, Buffer.concat(chunks));
      res.writeHead(200, {
        'content-type': 'text/plain; charset=UTF-8',
        'x-clickhouse-query-id': queryId,
        'x-clickhouse-format': r.format,
        'x-clickhouse-summary': JSON.stringify(r.summary),
      });
      res.end(r.data);
    } catch (e) {
      const ex = e instanceof ServerException ? e : exception('STD_EXCEPTION', errorText(e));
      const name = names.get(ex.code) ?? '';
      const text = /\(version [^)]*\)/.test(ex.text) ? ex.text : `${ex.text} (version ${engineVersion})`;
      res.writeHead(STATUS_BY_EXCEPTION[name] ?? 500, {
        'content-type': 'text/plain; charset=UTF-8',
        'x-clickhouse-query-id': queryId,
        'x-clickhouse-exception-code': String(ex.code),
      });
      res.end(`${text.trimEnd()}\n`);
    }
  }

  // ClickHouse accepts URLs up to 1 MiB (http_max_uri_size); Node's default header limit
  // (16 KiB, request line included) would refuse long query parameters a server takes.
  const server = createServer({ maxHeaderSize: 1 << 20 }, (req, res) => {
    res.on('error', () => undefined);
    // Only a request that broke off while its body was read gets here.
    handle(req, res).catch(() => res.destroy());
  });
  server.on('connection', (socket: Socket) => {
    if (outage === 'reset') {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stopListening = () => new Promise<void>((resolve) => server.close(() => resolve()));
  const dropConnections = () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
  };

  await listen(0);
  const port = (server.address() as AddressInfo).port;
  let closed = false;

  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    async unavailable(how: Outage) {
      if (outage === 'refuse') await listen(port);
      outage = how;
      if (how === 'refuse') {
        const stopped = stopListening();
        dropConnections();
        await stopped;
      } else if (how === 'reset') {
        dropConnections();
      }
    },
    async available() {
      if (outage === 'refuse') await listen(port);
      outage = undefined;
    },
    async close() {
      if (closed) return;
      closed = true;
      const stopped = outage === 'refuse' ? Promise.resolve() : stopListening();
      dropConnections();
      await stopped;
      await tail;
      engine.close();
      await drainPending();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A ClickHouse string literal holding exactly `s`. */
function quoteString(s: string): string {
  return `'${s.replace(/[\\'\0]/g, (c) => (c === '\0' ? '\\0' : `\\${c}`))}'`;
}

function quoteIdentifier(name: string): string {
  return `\`${name.replace(/[\\`]/g, (c) => `\\${c}`)}\``;
}

// The output format a statement names in a trailing FORMAT clause (which wins over
// default_format), as the X-ClickHouse-Format header reports it.
function outputFormat(sql: string): string | undefined {
  if (/^\s*INSERT\b/i.test(sql)) return undefined;
  return /\bFORMAT\s+(\w+)\s*;?\s*$/i.exec(sql)?.[1];
}
