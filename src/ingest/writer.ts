// Batches rows from many concurrent requests into few large inserts per table, and settles
// each request's promise only once its rows are durable: an OTLP request is acknowledged
// after its data is stored, or (with a write-ahead log) after it is in the log while the
// store is slow or down, never before. ClickHouse prefers few large inserts over many small
// ones (each insert makes a part), so rows wait up to `lingerMs` for company.
//
// With a log, every block is appended to it before the insert and carries a unique id that
// is also the store's insert deduplication token: a block replayed after a crash, or retried
// after an insert whose answer was lost, is stored once. Blocks the store could not take are
// retried in order with backoff; the client's request was acknowledged when the block
// reached the log.
//
// Deferred rows (a request's usage row and rollup sums) are kept but read by nobody at once.
// With a log they are logged at once as blocks of their own, acknowledged, and inserted later
// together: the next insert of their table carries them, and names their blocks as replaced
// in its own log record, so a crash replays either them or it, never both. Deferred rows that belong to a
// request's data wait until that data is logged before an insert takes them; after a crash,
// such rows whose data never reached the log are dropped with the unacknowledged request,
// whose retry brings them again. Every insert makes a part for the engine to write and
// merge, and on a small machine those parts, not the rows, are what ingest costs.
import { randomUUID } from 'node:crypto';
import type { Store, TableName } from '../store/types.js';
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
}

export const DEFAULT_WRITER_OPTIONS: WriterOptions = {
  maxRows: 50_000,
  maxBytes: 8 * 1024 * 1024,
  lingerMs: 20,
  ackAfterMs: 2_000,
  maxBacklogBytes: 256 * 1024 * 1024,
  retryMinMs: 100,
  retryMaxMs: 5_000,
  deferMs: 1_000,
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

interface TableQueue {
  table: TableName;
  pending: Pending;
  /** Deferred rows, each logged as a block of its own, waiting to ride with the next insert. */
  deferred: DeferredBlock[];
  deferredBytes: number;
  /** Logged blocks the store has not taken yet, oldest first. */
  backlog: WalBlock[];
  backlogBytes: number;
  running: boolean;
  timer: NodeJS.Timeout | undefined;
  /** When `timer` fires (performance.now() ms). */
  timerDue: number;
  retryAt: number;
  retryDelay: number;
  /** Resolved each time the table's pump stops (idle, lingering or waiting to retry). */
  idle: Array<() => void>;
}

/** Observations the writer reports (batch sizes, insert latency), for self-metrics. */
export interface WriterObserver {
  onFlush?(table: TableName, rows: number, bytes: number, ms: number, error?: unknown): void;
}

function emptyPending(): Pending {
  return { chunks: [], rows: 0, bytes: 0, batches: [], waiters: [] };
}

/** Deferred rows: their logged block, and their columns, to join the table's next block. */
interface DeferredBlock extends WalBlock {
  chunk: ColumnChunk;
}

type InsertOutcome = { ok: true } | { ok: false; transient: boolean; error: unknown };

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
    // While older blocks wait for the store, new rows go to the log at once (and are acknowledged).
    if (p.rows >= this.opts.maxRows || p.bytes >= this.opts.maxBytes || (this.wal && q.backlog.length > 0)) this.wake(q, 0);
    else this.wake(q, this.opts.lingerMs);
    return done;
  }

  /** Insert every deferred row now and wait for it, so a read that follows sees them. */
  async settle(): Promise<void> {
    // Running queues too: an insert under way may carry deferred rows taken from the queue.
    await Promise.all([...this.queues.values()].filter((q) => q.deferred.length > 0 || q.running).map((q) => this.untilIdle(q)));
  }

  // Log deferred rows as a block of their own (acknowledged once logged); the table's next
  // insert carries them.
  private async defer(q: TableQueue, chunk: ColumnChunk, after: string | undefined): Promise<void> {
    const body = encodeBlock(chunk.schema, [chunk]);
    const block: DeferredBlock = { id: randomUUID(), table: q.table, rows: chunk.rows, batches: [], body, bytes: body.length, chunk };
    if (after) block.after = after;
    q.deferred.push(block);
    q.deferredBytes += block.bytes;
    if (q.pending.rows + q.deferred.reduce((a, b) => a + b.rows, 0) >= this.opts.maxRows || q.pending.bytes + q.deferredBytes >= this.opts.maxBytes) this.wake(q, 0);
    else this.wake(q, this.opts.deferMs);
    try {
      await this.wal!.append(block);
      // Its columns join the next block; the logged bytes are needed only for a replay.
      delete block.body;
    } catch (e) {
      // Not logged, so not acknowledged: the request fails and its rows must not be stored.
      const i = q.deferred.indexOf(block);
      if (i >= 0) {
        q.deferred.splice(i, 1);
        q.deferredBytes -= block.bytes;
      }
      throw tsError('TS_ERR_STORE', [`cannot append to the write-ahead log: ${e instanceof Error ? e.message : String(e)}`], { transient: true });
    }
  }

  /** Whether a request batch with this id is already durable here (a client retry). */
  hasBatch(batchId: string): boolean {
    return this.wal?.hasBatch(batchId) ?? false;
  }

  /** Rows waiting or being inserted, per table (queue depth). */
  depth(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [t, q] of this.queues) out[t] = q.pending.rows + q.deferred.reduce((a, b) => a + b.rows, 0) + q.backlog.reduce((a, b) => a + b.rows, 0);
    return out;
  }

  /** Queue blocks a previous run logged but did not store; resolves once each table has tried them. */
  async replay(blocks: WalBlock[]): Promise<void> {
    for (const b of blocks) {
      const q = this.queue(b.table);
      q.backlog.push(b);
      q.backlogBytes += b.bytes;
    }
    await Promise.all([...this.queues.values()].filter((q) => q.backlog.length > 0).map((q) => this.untilIdle(q)));
  }

  /** Flush everything queued and wait for it; later writes are refused. Blocks the store cannot take stay in the log. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.queues.values()].map((q) => this.untilIdle(q)));
    await this.wal?.close();
  }

  private queue(table: TableName): TableQueue {
    let q = this.queues.get(table);
    if (!q) {
      q = { table, pending: emptyPending(), deferred: [], deferredBytes: 0, backlog: [], backlogBytes: 0, running: false, timer: undefined, timerDue: 0, retryAt: 0, retryDelay: this.opts.retryMinMs, idle: [] };
      this.queues.set(table, q);
    }
    return q;
  }

  private heldBytes(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.backlogBytes + q.pending.bytes + q.deferredBytes;
    return n;
  }

  // Run the table's pump now, or after `ms` unless it is already due sooner or running.
  private wake(q: TableQueue, ms: number): void {
    if (q.running) return;
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
    this.wake(q, 0);
    return p;
  }

  // One pump per table at a time: older logged blocks first (in order), then new rows.
  private async pump(q: TableQueue): Promise<void> {
    if (q.running) return;
    q.running = true;
    let recheck = false;
    try {
      for (;;) {
        if (q.backlog.length > 0) {
          // The store is behind: log new rows at once so their requests are acknowledged.
          if ((q.pending.rows > 0 || this.deferredReady(q)) && this.wal) await this.logPending(q);
          const wait = q.retryAt - Date.now();
          if (wait > 0) {
            if (this.closed) break;
            if (!q.timer) {
              q.timerDue = performance.now() + wait;
              q.timer = setTimeout(() => {
                q.timer = undefined;
                void this.pump(q);
              }, wait);
            }
            break;
          }
          const block = q.backlog[0]!;
          const r = await this.insert(block);
          if (r.ok || !r.transient) {
            q.backlog.shift();
            q.backlogBytes -= block.bytes;
            q.retryDelay = this.opts.retryMinMs;
            if (r.ok) this.wal?.stored(block.id);
            else this.refused(block, r.error, true);
          } else {
            this.backOff(q, block, r.error);
            if (this.closed) break;
          }
          continue;
        }
        if (q.pending.rows === 0 && !this.deferredReady(q)) {
          // Deferred rows whose request's own rows are not logged yet: look again shortly.
          recheck = q.deferred.length > 0 && !this.closed;
          break;
        }
        await this.flushPending(q);
        const waiting = q.pending.rows > 0 ? this.opts.lingerMs : q.deferred.length > 0 ? this.opts.deferMs : 0;
        if (q.backlog.length === 0 && waiting > 0 && q.pending.rows < this.opts.maxRows && q.pending.bytes < this.opts.maxBytes && !this.closed) {
          q.running = false;
          this.wake(q, waiting);
          this.notifyIdle(q);
          return;
        }
      }
    } finally {
      q.running = false;
    }
    if (recheck) this.wake(q, this.opts.lingerMs);
    this.notifyIdle(q);
  }

  private notifyIdle(q: TableQueue): void {
    const waiters = q.idle;
    q.idle = [];
    for (const w of waiters) w();
  }

  // Whether a deferred block may be stored: its request's own rows are in the log.
  private isReady(b: WalBlock): boolean {
    return b.after === undefined || this.wal!.hasBatch(b.after);
  }

  private deferredReady(q: TableQueue): boolean {
    return q.deferred.some((b) => this.isReady(b));
  }

  // The table's pending rows and its ready deferred blocks as one block, which replaces them.
  // One Native block: each flush of a table is one block and one insert.
  private takePending(q: TableQueue): { block: WalBlock; waiters: Waiter[]; deferred: DeferredBlock[] } {
    const p = q.pending;
    const deferred: DeferredBlock[] = [];
    const waiting: DeferredBlock[] = [];
    for (const b of q.deferred) (this.isReady(b) ? deferred : waiting).push(b);
    q.pending = emptyPending();
    q.deferred = waiting;
    q.deferredBytes = waiting.reduce((a, b) => a + b.bytes, 0);
    const chunks = [...deferred.map((b) => b.chunk), ...p.chunks];
    const body = encodeBlock(chunks[0]!.schema, chunks);
    const block: WalBlock = {
      id: randomUUID(),
      table: q.table,
      rows: p.rows + deferred.reduce((a, b) => a + b.rows, 0),
      batches: p.batches,
      body,
      bytes: body.length,
    };
    if (deferred.length > 0) block.replaces = deferred.map((b) => b.id);
    return { block, waiters: p.waiters, deferred };
  }

  // A combined block that could not be logged leaves its deferred blocks as they were: logged,
  // acknowledged, and still to be inserted.
  private restoreDeferred(q: TableQueue, deferred: DeferredBlock[]): void {
    if (deferred.length === 0) return;
    q.deferred.unshift(...deferred);
    q.deferredBytes += deferred.reduce((a, b) => a + b.bytes, 0);
  }

  // Log (if there is a log), insert, and settle the waiters: on success; or, once logged, when
  // the insert fails for a reason that may pass or takes longer than ackAfterMs.
  private async flushPending(q: TableQueue): Promise<void> {
    const { block, waiters, deferred } = this.takePending(q);
    if (this.wal) {
      try {
        await this.wal.append(block);
      } catch (e) {
        const err = tsError('TS_ERR_STORE', [`cannot append to the write-ahead log: ${e instanceof Error ? e.message : String(e)}`], { transient: true });
        for (const w of waiters) w.reject(err);
        this.restoreDeferred(q, deferred);
        return;
      }
    }
    let acked = false;
    const ack = () => {
      if (acked) return;
      acked = true;
      for (const w of waiters) w.resolve();
    };
    const early = this.wal ? setTimeout(ack, this.opts.ackAfterMs) : undefined;
    const r = await this.insert(block);
    clearTimeout(early);
    if (r.ok) {
      this.wal?.stored(block.id);
      ack();
    } else if (this.wal && r.transient) {
      ack();
      this.toBacklog(q, block);
      this.backOff(q, block, r.error);
    } else {
      this.refused(block, r.error, acked);
      if (!acked) for (const w of waiters) w.reject(r.error);
    }
  }

  // Move new rows straight to the log while older blocks wait for the store.
  private async logPending(q: TableQueue): Promise<void> {
    const { block, waiters, deferred } = this.takePending(q);
    try {
      await this.wal!.append(block);
    } catch (e) {
      const err = tsError('TS_ERR_STORE', [`cannot append to the write-ahead log: ${e instanceof Error ? e.message : String(e)}`], { transient: true });
      for (const w of waiters) w.reject(err);
      this.restoreDeferred(q, deferred);
      return;
    }
    this.toBacklog(q, block);
    for (const w of waiters) w.resolve();
  }

  // A logged block waiting for the store: its bytes stay in its file, not in memory.
  private toBacklog(q: TableQueue, block: WalBlock): void {
    if (block.path) delete block.body;
    q.backlog.push(block);
    q.backlogBytes += block.bytes;
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
      await this.store.insertNative(block.table, { ...(block.body ? { bytes: block.body } : {}), ...(block.path ? { path: block.path } : {}) }, block.rows, { dedupToken: block.id });
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

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
