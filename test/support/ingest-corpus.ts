// The ingest corpus (test/fixtures/ingest-corpus): OTLP requests replayed one by one against a
// fresh tenantscope, and what each left in the store. One replay serves the capture script
// (scripts/capture-ingest-corpus.ts, which writes expected.json) and the test that compares a
// new replay with it (test/e2e/ingest-corpus.test.ts), so both see the same thing the same way.
//
// What a request stored is the difference of each table before and after it (the server is
// settled in between, so deferred usage rows and rollup sums are in). Rows are read with every
// column except those that differ from run to run or from machine to machine, and put in a
// canonical total order (by their JSON text), so two replays compare row by row.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeExportResponse, decodeStatus, type Signal } from '../../src/ingest/otlp/index.js';
import { fromRoot } from '../../src/paths.js';
import { bearer, startTestServer, type TestServer } from './server.js';

export const CORPUS_DIR = fromRoot('test', 'fixtures', 'ingest-corpus');
export const EXPECTED_FILE = join(CORPUS_DIR, 'expected.json');

/**
 * The master key of redaction markers for the replay. From configuration, so the markers
 * (an HMAC under a per-tenant key derived from it) are the same on every run and are kept.
 */
export const CORPUS_REDACTION_KEY = 'ingest-corpus';

export interface CorpusRequest {
  name: string;
  signal: Signal;
  encoding: 'protobuf' | 'json';
  /** Demo token plaintext. */
  token: string;
  /** File of the body as sent. */
  body: string;
  /** OTLP/JSON the protobuf body is encoded from (by the capture script only). */
  source?: string;
  about: string;
}

export type Row = Record<string, unknown>;

/** The tables compared, each read as a query over every column that is the same on every run. */
export const TABLES = {
  // ingested_at (receipt time) and batch_id (the request digest) are not the data. The
  // materialized shared_resource is what the rollup and noisy-neighbour reports group by.
  spans: 'SELECT * EXCEPT (batch_id, ingested_at), shared_resource FROM spans',
  logs: 'SELECT * EXCEPT (batch_id, ingested_at) FROM logs',
  metric_points: 'SELECT * EXCEPT (batch_id, ingested_at) FROM metric_points',
  // minute is the minute the redaction happened (now).
  redactions: 'SELECT * EXCEPT (minute) FROM redactions',
  // time is receipt time; bytes, the size of the rows as encoded for the store, is compared
  // on its own (usage_bytes below) because it is what the cost report charges.
  ingest_usage: 'SELECT * EXCEPT (time, batch_id, bytes) FROM ingest_usage',
  // The rollup read as the reports read it: aggregate states merged per key; received (when
  // the spans arrived) left out.
  resource_minutes: `SELECT minute, resource, tenant_id, name, sum(requests) AS requests, sum(busy_ns) AS busy_ns,
                            argMaxMerge(slowest) AS slowest, max(retention_days) AS retention_days
                       FROM resource_minutes GROUP BY minute, resource, tenant_id, name`,
  // What each accepted or rejected slice was charged: the cost report's ingest volume.
  usage_bytes: 'SELECT tenant_id, signal, outcome, reason, records, bytes FROM ingest_usage',
} as const;

export type TableName = keyof typeof TABLES;
export const TABLE_NAMES = Object.keys(TABLES) as TableName[];

export interface TableChange {
  /** Rows the request added, in canonical order. */
  added: Row[];
  /** Rows that are gone after it (the rollup's merged rows it changed), in canonical order. */
  removed: Row[];
}

export interface CorpusOutcome {
  name: string;
  status: number;
  /** Export*ServiceResponse partial success (200), or google.rpc.Status (otherwise). */
  reply: Row;
  tables: Record<TableName, TableChange>;
}

export function loadCorpus(): CorpusRequest[] {
  return (JSON.parse(readFileSync(join(CORPUS_DIR, 'corpus.json'), 'utf8')) as { requests: CorpusRequest[] }).requests;
}

/** Strings longer than this are recorded as their digest and length, to keep expected.json readable. */
const LONG_STRING = 1024;

/** A value with every long string (at any depth: map values, array elements) replaced by its digest. */
function shorten(v: unknown): unknown {
  if (typeof v === 'string') {
    if (v.length <= LONG_STRING) return v;
    return `<${[...v].length} characters, sha256 ${createHash('sha256').update(v).digest('hex')}>`;
  }
  if (Array.isArray(v)) return v.map(shorten);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shorten(x)]));
  return v;
}

/** The canonical order of rows: by their JSON text (column order as the query gives it). */
function canonical(rows: Row[]): Row[] {
  return rows
    .map((r) => [JSON.stringify(r), r] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([, r]) => r);
}

/** Multiset difference: rows of `after` not in `before`, and the other way round. */
function difference(before: Row[], after: Row[]): TableChange {
  const count = new Map<string, number>();
  for (const r of before) count.set(JSON.stringify(r), (count.get(JSON.stringify(r)) ?? 0) + 1);
  const added: Row[] = [];
  for (const r of after) {
    const k = JSON.stringify(r);
    const n = count.get(k) ?? 0;
    if (n > 0) count.set(k, n - 1);
    else added.push(r);
  }
  const removed: Row[] = [];
  for (const r of before) {
    const k = JSON.stringify(r);
    const n = count.get(k) ?? 0;
    if (n > 0) {
      removed.push(r);
      count.set(k, n - 1);
    }
  }
  return { added: canonical(added), removed: canonical(removed) };
}

/** Replays corpus requests in order against one server, recording what each stored. */
export class CorpusReplay {
  private snapshot: Record<TableName, Row[]> | undefined;

  private constructor(readonly server: TestServer) {}

  /** A fresh server (demo registry, fixed redaction key) ready for the first request. */
  static async start(): Promise<CorpusReplay> {
    return new CorpusReplay(await startTestServer({ redactionKey: CORPUS_REDACTION_KEY }));
  }

  private async read(): Promise<Record<TableName, Row[]>> {
    await this.server.settle();
    const out = {} as Record<TableName, Row[]>;
    for (const t of TABLE_NAMES) out[t] = (await this.server.store.query<Row>(TABLES[t])).map((r) => shorten(r) as Row);
    return out;
  }

  /** Send one request and return its status, reply and what it changed in each table. */
  async send(req: CorpusRequest): Promise<CorpusOutcome> {
    this.snapshot ??= await this.read();
    const body = readFileSync(join(CORPUS_DIR, req.body));
    const type = req.encoding === 'json' ? 'application/json' : 'application/x-protobuf';
    const res = await fetch(`${this.server.otlpHttpUrl}/v1/${req.signal}`, { method: 'POST', body, headers: { 'content-type': type, ...bearer(req.token) } });
    const replyBody = new Uint8Array(await res.arrayBuffer());
    const reply: Row =
      res.status === 200
        ? { ...decodeExportResponse(req.signal, replyBody, req.encoding) }
        : { ...decodeStatus(replyBody, req.encoding), error: res.headers.get('x-tenantscope-error') ?? '' };
    const after = await this.read();
    const tables = {} as Record<TableName, TableChange>;
    for (const t of TABLE_NAMES) tables[t] = difference(this.snapshot[t], after[t]);
    this.snapshot = after;
    return { name: req.name, status: res.status, reply, tables };
  }

  async stop(): Promise<void> {
    await this.server.stop();
  }
}

/** What identifies a row to a reader, for messages: its name, ids or metric, as present. */
export function describeRow(row: Row): string {
  const keys = ['tenant_id', 'service_name', 'name', 'span_id', 'metric_name', 'time', 'severity_text', 'body', 'field', 'class', 'signal', 'outcome', 'reason', 'resource', 'minute'];
  return keys
    .filter((k) => row[k] !== undefined && row[k] !== '')
    .map((k) => `${k}=${JSON.stringify(row[k]).slice(0, 60)}`)
    .join(' ');
}
