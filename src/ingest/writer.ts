// Batches rows from many concurrent requests into few large inserts per table, and settles
// each request's promise only once its rows are durable: an OTLP request is acknowledged
// after its data is stored, or (with a write-ahead log) after it is in the log, never before.
// ClickHouse prefers few large inserts over many small ones (each insert makes a part, and on
// a small machine the parts, not the rows, are what ingest costs: a 3,600-row part costs the
// engine about twice the CPU per row of a 16,000-row one, mostly in merges), so rows wait up
// to `lingerMs` for company.
//
// With a log, a table's pending rows are appended to it as a block of their own after their
// linger; inserts take every block logged and waiting, as one insert (one part) whose
// deduplication token is recorded in the log first, so a replay after a crash makes the same
// insert and the store recognises it. While an insert is under way (or its turn, every
// `insertEveryMs`, has not come), newly logged blocks are acknowledged at once: senders go on,
// and the next insert is larger rather than the inserts more frequent. On an idle table a
// block is inserted at once and answered after the insert, so a reader following an answer
// sees the rows. Blocks the store could not take are retried with backoff; their requests
// were answered once logged.
//
// Deferred rows (a request's usage, redaction and rollup rows) are kept but read by nobody at
// once: they are logged at once as blocks of their own, acknowledged, and ride with their
// table's next insert within `deferMs`. Deferred rows that belong to a request's data wait
// until that data is logged before an insert takes them; after a crash, such rows whose data
// never reached the log are dropped with the unacknowledged request, whose retry brings them
// again.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { NativeInput, Store, TableName } from '../store/types.js';
import { encodeBlock, type ColumnChunk } from '../store/native.js';
import type { Logger } from '../log.js';
import { isTenantscopeError, tsError } from '../errors.js';
import type { WalBlock, WriteAheadLog } from './wal.js';
import { SpanStatusCode, trace } from '@opentelemetry/api';

// A no-op unless self-tracing is switched on (src/telemetry/self-trace.ts).
const tracer = trace.getTracer('tenantscope');

export interface WriterOptions {
  /** Flush a table once this many rows wait. */
  maxRows: number;
  /** Flush a table once this many bytes wait. */
  maxBytes: number;
  /** Longest a row waits for others before its table is flushed. */
  lingerMs: number;
  /** With a log: acknowledge a logged block after this long even if its insert has not returned. */
  ackAfterMs: number;
  /** With a log: bytes held for a store that is behind before new writes are refused (503). */
  maxBacklogBytes: number;
  /** First and longest wait between insert retries of a block the store could not take. */
  retryMinMs: number;
  retryMaxMs: number;
  /** Longest a deferred row waits for its table's next insert (with a log). */
  deferMs: number;
  /**
   * With a log, under load: a table's inserts start at most this often, and the blocks logged
   * in between go in together (their requests are answered once logged). Idle, a block is
   * inserted at once.
   */
  insertEveryMs: number;
}

export const DEFAULT_WRITER_OPTIONS: WriterOptions = {
  maxRows: 50_000,
  maxBytes: 32 * 1024 * 1024,
  lingerMs: 20,
  ackAfterMs: 2_000,
  maxBacklogBytes: 256 * 1024 * 1024,
  retryMinMs: 100,
  retryMaxMs: 5_000,
  deferMs: 1_000,
  insertEveryMs: 250,
};

/** How a write is queued. */
export interface WriteOptions {
  /** The request whose primary rows these are, so a retry of it can be recognised. */
  batchId?: string;
  /**
   * Rows the request needs kept but nobody reads at once (usage, rollup sums): with a log, durable
   * once logged and inserted with their table's next insert, within `deferMs`, so they add
   * rows to inserts, not inserts. Without a log they are written like any other rows.
   */
  deferred?: boolean;
  /** With `deferred`: the batch id of the request's own rows, which must be logged first (see the header). */
  after?: string;
}

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface Pending {
  chunks: ColumnChunk[];
  rows: number;
  bytes: number;
  batches: string[];
  waiters: Waiter[];
}

/** A logged block waiting for the store, and the requests not yet told it is durable. */
interface Logged {
  block: WalBlock;
  waiters: Waiter[];
  /** Replayed after a restart: inserted exactly as it was logged (alone, or as its group). */
  fixed: boolean;
  /** Deferred rows (no request waits for their insert). */
  deferred?: boolean;
  /** Acknowledges the waiters after ackAfterMs even if the insert has not returned. */
  timer?: NodeJS.Timeout;
}

/** One insert of logged blocks: one block, or a group of them (one part, one token). */
interface Insert {
  block: WalBlock;
  entries: Logged[];
  /** The group record is in the log (a single block needs none). */
  logged: boolean;
}

interface TableQueue {
  table: TableName;
  pending: Pending;
  /** Deferred rows, each logged as a block of its own, waiting to ride with the next insert. */
  deferred: DeferredBlock[];
  deferredBytes: number;
  /** Logged blocks the store has not taken yet, oldest first. */
  backlog: Logged[];
  /** Bytes of the backlog and of the insert under way or waiting to be retried. */
  backlogBytes: number;
  /** The insert under way or waiting to be retried (with its token, it is never re-formed). */
  current: Insert | undefined;
  /** A pump is logging pending rows (with a log) or inserting them (without). */
  logging: boolean;
  /** An insert loop is running (with a log). */
  inserting: boolean;
  /** Deferred rows are wanted in the store now (settle, close). */
  urgent: boolean;
  timer: NodeJS.Timeout | undefined;
  /** When `timer` fires (performance.now() ms). */
  timerDue: number;
  retryTimer: NodeJS.Timeout | undefined;
  retryAt: number;
  retryDelay: number;
  /** When the table's last insert started (performance.now() ms). */
  lastInsertAt: number;
  /** Resolved each time the table's loops have stopped (idle, lingering or waiting to retry). */
  idle: Array<() => void>;
}

/** Observations the writer reports (batch sizes, insert latency), for self-metrics. */
export interface WriterObserver {
  onFlush?(table: TableName, rows: number, bytes: number, ms: number, error?: unknown): void;
}

function emptyPending(): Pending {
  return { chunks: [], rows: 0, bytes: 0, batches: [], waiters: [] };
}

/** Deferred rows: their logged block, waiting to join the table's next insert. */
interface DeferredBlock extends WalBlock {
  loggedAt: number;
}

type InsertOutcome = { ok: true } | { ok: false; transient: boolean; error: unknown };

/** Most logged blocks one insert carries (the engine is handed their file names in one statement). */
const MAX_GROUP_BLOCKS = 256;

export class BatchWriter {
  private readonly queues = new Map<TableName, TableQueue>();
  private closed = false;
  private readonly opts: WriterOptions;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    opts: Partial<WriterOptions> = {},
    private readonly observer: WriterObserver = {},
    /** Absent: acknowledge only what is stored, and fail requests whose insert fails. */
    private readonly wal?: WriteAheadLog,
  ) {
    this.opts = { ...DEFAULT_WRITER_OPTIONS, ...opts };
  }

  /** Queue a chunk of `table`'s rows; resolves once it is durable, rejects if it cannot be. */
  write(table: TableName, chunk: ColumnChunk, opts: WriteOptions = {}): Promise<void> {
    const { batchId } = opts;
    const rows = chunk.rows;
    if (rows === 0) return Promise.resolve();
    if (chunk.schema.table !== table) return Promise.reject(tsError('TS_ERR_INTERNAL', [`a ${chunk.schema.table} chunk was written to ${table}`]));
    if (this.closed) return Promise.reject(new Error('writer is closed'));
    const held = this.heldBytes();
    if (this.wal && held > this.opts.maxBacklogBytes) {
      return Promise.reject(tsError('TS_ERR_STORE', [`the store is behind and ${Math.round(held / 1048576)} MiB wait for it`], { transient: true }));
    }
    const q = this.queue(table);
    if (opts.deferred && this.wal) return this.defer(q, chunk, opts.after);
    const p = q.pending;
    p.chunks.push(chunk);
    p.rows += rows;
    p.bytes += chunk.bytes();
    if (batchId) p.batches.push(batchId);
    const done = new Promise<void>((resolve, reject) => p.waiters.push({ resolve, reject }));
    if (p.rows >= this.opts.maxRows || p.bytes >= this.opts.maxBytes) this.wake(q, 0);
    else this.wake(q, this.opts.lingerMs);
    return done;
  }

  /** Insert every deferred row now and wait for it, so a read that follows sees them. */
  async settle(): Promise<void> {
    await Promise.all([...this.queues.values()].filter((q) => !this.quiet(q)).map((q) => this.untilIdle(q)));
  }

  // Log deferred rows as a block of their own (acknowledged once logged); the table's next
  // insert carries them.
  private async defer(q: TableQueue, chunk: ColumnChunk, after: string | undefined): Promise<void> {
    const body = encodeBlock(chunk.schema, [chunk]);
    const block: DeferredBlock = { id: randomUUID(), table: q.table, rows: chunk.rows, batches: [], body, bytes: body.length, loggedAt: 0, inline: true };
    if (after) block.after = after;
    try {
      await this.wal!.append(block);
    } catch (e) {
      // Not logged, so not acknowledged: the request fails and its rows must not be stored.
      throw tsError('TS_ERR_STORE', [`cannot append to the write-ahead log: ${e instanceof Error ? e.message : String(e)}`], { transient: true });
    }
    // Kept in the log record itself, so its (small) bytes stay in memory for the insert.
    block.loggedAt = performance.now();
    q.deferred.push(block);
    q.deferredBytes += block.bytes;
    this.wake(q, q.deferred.reduce((a, b) => a + b.rows, 0) >= this.opts.maxRows ? 0 : this.opts.deferMs);
  }

  /** Whether a request batch with this id is already durable here (a client retry). */
  hasBatch(batchId: string): boolean {
    return this.wal?.hasBatch(batchId) ?? false;
  }

  /** Rows waiting or being inserted, per table (queue depth). */
  depth(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [t, q] of this.queues) out[t] = q.pending.rows + q.deferred.reduce((a, b) => a + b.rows, 0) + unstoredRows(q);
    return out;
  }

  /** Queue blocks a previous run logged but did not store; resolves once each table has tried them. */
  async replay(blocks: WalBlock[]): Promise<void> {
    for (const b of blocks) {
      const q = this.queue(b.table);
      q.backlog.push({ block: b, waiters: [], fixed: true });
      q.backlogBytes += b.bytes;
    }
    await Promise.all([...this.queues.values()].filter((q) => q.backlog.length > 0).map((q) => this.untilIdle(q)));
  }

  /** Flush everything queued and wait for it; later writes are refused. Blocks the store cannot take stay in the log. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.queues.values()].map((q) => this.untilIdle(q)));
    for (const q of this.queues.values()) {
      if (q.timer) clearTimeout(q.timer);
      if (q.retryTimer) clearTimeout(q.retryTimer);
    }
    await this.wal?.close();
  }

  private queue(table: TableName): TableQueue {
    let q = this.queues.get(table);
    if (!q) {
      q = {
        table, pending: emptyPending(), deferred: [], deferredBytes: 0, backlog: [], backlogBytes: 0, current: undefined, logging: false, inserting: false, urgent: false,
        timer: undefined, timerDue: 0, retryTimer: undefined, retryAt: 0, retryDelay: this.opts.retryMinMs, lastInsertAt: -Infinity, idle: [],
      };
      this.queues.set(table, q);
    }
    return q;
  }

  private heldBytes(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.backlogBytes + q.pending.bytes + q.deferredBytes;
    return n;
  }

  private quiet(q: TableQueue): boolean {
    return !q.logging && !q.inserting && q.pending.rows === 0 && q.deferred.length === 0 && q.backlog.length === 0 && q.current === undefined;
  }

  // Run the table's pump now, or after `ms` unless it is already due sooner.
  private wake(q: TableQueue, ms: number): void {
    if (ms <= 0) {
      if (q.timer) clearTimeout(q.timer);
      q.timer = undefined;
      void this.pump(q);
      return;
    }
    const due = performance.now() + ms;
    if (q.timer && q.timerDue <= due) return;
    if (q.timer) clearTimeout(q.timer);
    q.timerDue = due;
    q.timer = setTimeout(() => {
      q.timer = undefined;
      void this.pump(q);
    }, ms);
  }

  private untilIdle(q: TableQueue): Promise<void> {
    const p = new Promise<void>((resolve) => q.idle.push(resolve));
    q.urgent = true;
    this.wake(q, 0);
    return p;
  }

  // Idle waiters are told once neither loop runs: what is left waits for a timer (linger, a
  // retry of a store that is down) or for rows not yet written.
  private notifyIdle(q: TableQueue): void {
    if (q.logging || q.inserting) return;
    q.urgent = false;
    const waiters = q.idle;
    q.idle = [];
    for (const w of waiters) w();
  }

  private pump(q: TableQueue): Promise<void> {
    return this.wal ? this.logLoop(q) : this.insertLoopDirect(q);
  }

  // ---------------------------------------------------------------------------------------
  // With a log. Pending rows are logged after their linger as a block of their own; inserts
  // take every logged block waiting, as one insert (one part) under one token. While an
  // insert is under way, the next blocks are logged and acknowledged at once, so the senders
  // go on and the next insert is larger: at a higher rate, parts grow instead of multiplying
  // (the engine's cost is per part written and merged). When the store is idle a block is
  // inserted at once and its requests are answered after the insert, so a reader that follows
  // an answer sees the rows. Above 2 x maxRows waiting, answers wait for the insert again
  // (or ackAfterMs): the senders slow to the store's pace.

  private async logLoop(q: TableQueue): Promise<void> {
    if (q.logging) return;
    q.logging = true;
    try {
      while (q.pending.rows > 0) await this.logPending(q);
      this.admitDeferred(q);
    } finally {
      q.logging = false;
    }
    this.startInserts(q);
    // Deferred rows still waiting: for their company (deferMs), or for their request's rows.
    if (q.deferred.length > 0 && !this.closed) this.wake(q, q.deferred.some((b) => this.isReady(b)) ? this.opts.deferMs : this.opts.lingerMs);
    this.notifyIdle(q);
  }

  // Log the table's pending rows as one block; acknowledge them now if an insert is under way
  // (and the store is not too far behind), else once their insert returns.
  private async logPending(q: TableQueue): Promise<void> {
    const p = q.pending;
    q.pending = emptyPending();
    const body = encodeBlock(p.chunks[0]!.schema, p.chunks);
    const block: WalBlock = { id: randomUUID(), table: q.table, rows: p.rows, batches: p.batches, body, bytes: body.length };
    try {
      await this.wal!.append(block);
    } catch (e) {
      const err = tsError('TS_ERR_STORE', [`cannot append to the write-ahead log: ${e instanceof Error ? e.message : String(e)}`], { transient: true });
      for (const w of p.waiters) w.reject(err);
      return;
    }
    // Its bytes are in its file now, which the insert reads.
    delete block.body;
    const busy = q.inserting || q.backlog.length > 0 || q.current !== undefined;
    const entry: Logged = { block, waiters: p.waiters, fixed: false };
    q.backlog.push(entry);
    q.backlogBytes += block.bytes;
    if (busy && unstoredRows(q) <= 2 * this.opts.maxRows) this.ack(entry);
    else entry.timer = setTimeout(() => this.ack(entry), this.opts.ackAfterMs);
  }

  private ack(entry: Logged): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = undefined;
    const waiters = entry.waiters;
    entry.waiters = [];
    for (const w of waiters) w.resolve();
  }

  // Ready deferred rows join the backlog when an insert of their table is due anyway, when
  // they have waited deferMs, when there are many, or when they are wanted now.
  private admitDeferred(q: TableQueue): void {
    if (q.deferred.length === 0) return;
    const now = performance.now();
    const ready: DeferredBlock[] = [];
    const waiting: DeferredBlock[] = [];
    for (const b of q.deferred) (this.isReady(b) ? ready : waiting).push(b);
    if (ready.length === 0) return;
    const due =
      q.urgent || this.closed || q.backlog.some((e) => !e.deferred) ||
      ready.some((b) => now - b.loggedAt >= this.opts.deferMs) ||
      ready.reduce((a, b) => a + b.rows, 0) >= this.opts.maxRows;
    if (!due) return;
    q.deferred = waiting;
    for (const b of ready) {
      q.deferredBytes -= b.bytes;
      q.backlog.push({ block: b, waiters: [], fixed: false, deferred: true });
      q.backlogBytes += b.bytes;
    }
  }

  private startInserts(q: TableQueue): void {
    if (q.inserting || (q.backlog.length === 0 && q.current === undefined)) return;
    q.inserting = true;
    void this.insertLoop(q);
  }

  // One insert at a time per table: every logged block waiting, oldest first, as one insert.
  private async insertLoop(q: TableQueue): Promise<void> {
    try {
      for (;;) {
        if (!q.current) {
          this.admitDeferred(q);
          if (q.backlog.length === 0) break;
          // Under load, the next insert waits for its turn and takes all that was logged
          // meanwhile; never while a request waits for it (one logged on an idle table).
          const turn = q.lastInsertAt + this.opts.insertEveryMs - performance.now();
          if (turn > 0 && !q.urgent && !this.closed && unstoredRows(q) < this.opts.maxRows && q.backlog.every((e) => e.waiters.length === 0)) {
            q.retryTimer ??= setTimeout(() => {
              q.retryTimer = undefined;
              this.startInserts(q);
            }, turn);
            break;
          }
          q.current = this.nextInsert(q);
        }
        const wait = q.retryAt - Date.now();
        if (wait > 0) {
          if (this.closed) break;
          if (!q.retryTimer) {
            q.retryTimer = setTimeout(() => {
              q.retryTimer = undefined;
              this.startInserts(q);
            }, wait);
          }
          break;
        }
        const ins = q.current;
        if (ins.block.members && !ins.logged) {
          try {
            await this.wal!.group(ins.block.id, q.table, ins.block.members);
            ins.logged = true;
          } catch (e) {
            // Its blocks are logged; without the group record they are inserted later, as a new group.
            q.current = undefined;
            q.backlog.unshift(...ins.entries);
            this.backOff(q, ins.block, e);
            if (this.closed) break;
            continue;
          }
        }
        q.lastInsertAt = performance.now();
        const r = await this.insert(ins.block);
        if (r.ok || !r.transient) {
          q.current = undefined;
          q.backlogBytes -= ins.block.bytes;
          q.retryDelay = this.opts.retryMinMs;
          if (r.ok) {
            this.wal!.stored(ins.block.id);
            for (const e of ins.entries) this.ack(e);
          } else {
            const acknowledged = ins.entries.every((e) => e.waiters.length === 0);
            this.refused(ins.block, r.error, acknowledged);
            for (const e of ins.entries) {
              if (e.timer) clearTimeout(e.timer);
              for (const w of e.waiters) w.reject(r.error);
              e.waiters = [];
            }
          }
        } else {
          // Logged, so safe: its requests are answered, and the same insert is retried.
          for (const e of ins.entries) this.ack(e);
          this.backOff(q, ins.block, r.error);
          if (this.closed) break;
        }
      }
    } finally {
      q.inserting = false;
    }
    this.notifyIdle(q);
  }

  // The oldest logged blocks, up to maxRows and maxBytes (at least one): one block, or a group.
  // A replayed block or group is inserted exactly as it was logged, alone.
  private nextInsert(q: TableQueue): Insert {
    const first = q.backlog.shift()!;
    const entries = [first];
    let rows = first.block.rows;
    let bytes = first.block.bytes;
    if (!first.fixed) {
      while (q.backlog.length > 0 && entries.length < MAX_GROUP_BLOCKS) {
        const e = q.backlog[0]!;
        if (e.fixed || rows + e.block.rows > this.opts.maxRows || bytes + e.block.bytes > this.opts.maxBytes) break;
        q.backlog.shift();
        entries.push(e);
        rows += e.block.rows;
        bytes += e.block.bytes;
      }
    }
    if (entries.length === 1) return { block: first.block, entries, logged: true };
    const block: WalBlock = {
      id: randomUUID(),
      table: q.table,
      rows,
      batches: entries.flatMap((e) => e.block.batches),
      bytes,
      members: entries.map((e) => e.block.id),
      parts: entries.map((e) => (e.block.path !== undefined ? { path: e.block.path } : { body: e.block.body! })),
    };
    return { block, entries, logged: false };
  }

  // Whether a deferred block may be stored: its request's own rows are in the log.
  private isReady(b: WalBlock): boolean {
    return b.after === undefined || this.wal!.hasBatch(b.after);
  }

  // ---------------------------------------------------------------------------------------
  // Without a log: a table's pending rows are one block and one insert, answered after it.

  private async insertLoopDirect(q: TableQueue): Promise<void> {
    if (q.logging) return;
    q.logging = true;
    try {
      while (q.pending.rows > 0) {
        const p = q.pending;
        q.pending = emptyPending();
        const body = encodeBlock(p.chunks[0]!.schema, p.chunks);
        const r = await this.insert({ id: randomUUID(), table: q.table, rows: p.rows, batches: p.batches, body, bytes: body.length });
        for (const w of p.waiters) r.ok ? w.resolve() : w.reject(r.error);
        // Rows that came during the insert wait out their linger, unless there are many.
        if (q.pending.rows > 0 && q.pending.rows < this.opts.maxRows && q.pending.bytes < this.opts.maxBytes && !this.closed && !q.urgent) {
          q.logging = false;
          this.wake(q, this.opts.lingerMs);
          this.notifyIdle(q);
          return;
        }
      }
    } finally {
      q.logging = false;
    }
    this.notifyIdle(q);
  }

  private backOff(q: TableQueue, block: WalBlock, error: unknown): void {
    this.log.warn({ table: q.table, block: block.id, rows: block.rows, backlog: q.backlog.length, retryInMs: q.retryDelay, err: message(error) }, 'store did not take a block; it is in the write-ahead log and will be retried');
    q.retryAt = Date.now() + q.retryDelay;
    q.retryDelay = Math.min(q.retryDelay * 2, this.opts.retryMaxMs);
  }

  private refused(block: WalBlock, error: unknown, acknowledged: boolean): void {
    this.wal?.dropped(block.id, message(error));
    this.log.error(
      { table: block.table, block: block.id, rows: block.rows, acknowledged, err: message(error) },
      acknowledged ? 'store refused an acknowledged block for good; its rows are lost' : 'store refused a block; its requests fail',
    );
  }

  private async insert(block: WalBlock): Promise<InsertOutcome> {
    const started = performance.now();
    const span = tracer.startSpan('tenantscope.store.insert', { attributes: { 'tenantscope.table': block.table, 'tenantscope.rows': block.rows, 'tenantscope.bytes': block.bytes } });
    try {
      await this.store.insertNative(block.table, await nativeInput(block), block.rows, { dedupToken: block.id });
      span.end();
      this.observer.onFlush?.(block.table, block.rows, block.bytes, performance.now() - started);
      return { ok: true };
    } catch (e) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: message(e) });
      span.end();
      this.observer.onFlush?.(block.table, block.rows, block.bytes, performance.now() - started, e);
      if (!this.wal) this.log.error({ table: block.table, rows: block.rows, err: message(e) }, 'insert failed');
      return { ok: false, transient: isTenantscopeError(e) && e.context.transient === true, error: e };
    }
  }
}

/** What the store reads for a block or group: files where every block has one, else the bytes. */
async function nativeInput(block: WalBlock): Promise<NativeInput> {
  if (!block.parts) return { ...(block.body ? { bytes: block.body } : {}), ...(block.path ? { path: block.path } : {}) };
  const parts = block.parts;
  if (parts.every((p) => p.path !== undefined)) return { paths: parts.map((p) => p.path!) };
  return { bytes: Buffer.concat(await Promise.all(parts.map((p) => p.body ?? readFile(p.path!)))) };
}

/** Rows logged and not yet in the store: the backlog and the insert under way. */
function unstoredRows(q: TableQueue): number {
  let n = q.current?.block.rows ?? 0;
  for (const e of q.backlog) n += e.block.rows;
  return n;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
