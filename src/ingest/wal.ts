// The write-ahead log: every block the writer is about to insert is appended here first, so a
// block is durable before the client hears "accepted" even when the store is slow or down,
// and a crash loses nothing that was acknowledged. Blocks not yet marked stored are replayed
// at start. The log also remembers which request batches it holds, so a client retrying a
// request whose reply it never received is not stored twice.
//
// Hand-written: the log is a few framed records in append-only files; the embedded key-value
// stores on npm either need a native build we would add only for this, or are in-memory.
//
// Format: a block's payload is the ClickHouse Native block the store inserts, in a file of
// its own, `blocks/<id>.native`, so the embedded engine reads it from there (`INSERT … FROM
// INFILE`): the block is written once, made durable once, and read from the page cache.
// The log proper is files `<seq>.wal` (12-digit sequence) of records [u32 LE payload
// length][u32 LE CRC-32 of payload][payload]. Payload: one kind byte, then
//   1 block   JSON {id, table, rows, batches, bytes, crc[, replaces][, after]}: the block file
//             is durable before this record is written (not in parallel: a record that outlived
//             its file would make its batch ids look stored, and a client's retry would be
//             dropped), and `bytes`/`crc` (CRC-32) must match it to replay it; `replaces` names earlier blocks whose rows this one carries (the
//             writer's deferred rows), settled by this record: one record, so a crash leaves
//             either them or it to replay, never both; `after` is the batch whose rows must be
//             in the log for this block to be replayed (a request's deferred rows)
//   2 stored  JSON {id}: the block is in the store
//   3 dropped JSON {id, reason}: the store refused the block for good; never replayed
//   4 batches JSON {batches: [[id, ms], ...]}: batch ids carried over from a removed file
//   6 inline  [u32 LE header length][header JSON as for kind 1, without crc][Native block]: a
//             small block of deferred rows kept in the record itself (the record's CRC covers
//             it): a file per request's usage or rollup rows would cost a file creation, an
//             fsync and a removal each, several per request
//   5 group   JSON {id, table, members}: the logged blocks `members` go to the store together,
//             in one insert whose deduplication token is `id`; durable before that insert
//             starts, so a replay makes the same insert again (same blocks, same token) and
//             the store recognises it. `stored`/`dropped` of the group settle its members.
// Reading stops at the first torn or corrupt record of a file (a crash mid-append); that
// record was never acknowledged. New records always go to a new file after start. A block
// file goes as soon as its block is settled; a block record whose file is gone was settled
// (its mark may not have reached the disk), since a record is only written after its file.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { open, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Logger } from '../log.js';
import type { TableName } from '../store/types.js';

/** When appended records reach the disk: before each acknowledgement, on a timer, or when the OS decides. */
export type FsyncPolicy = 'always' | 'interval' | 'off';

export interface WalOptions {
  fsync: FsyncPolicy;
  /** fsync period for the `interval` policy. */
  fsyncIntervalMs: number;
  /** Start a new file once the current one is this large. */
  segmentBytes: number;
  /** How long a stored batch id is remembered to recognise client retries. */
  batchWindowMs: number;
}

export const DEFAULT_WAL_OPTIONS: WalOptions = {
  fsync: 'always',
  fsyncIntervalMs: 200,
  segmentBytes: 64 * 1024 * 1024,
  batchWindowMs: 10 * 60_000,
};

/** One insert as the writer makes it: a table's rows from one or more requests. */
export interface WalBlock {
  /** Unique; also the store's insert deduplication token, so a replayed block is stored once. */
  id: string;
  table: TableName;
  rows: number;
  /** Request batch ids whose rows of their primary table are in this block. */
  batches: string[];
  /** Earlier logged blocks whose rows this block carries; settled once this one is logged. */
  replaces?: string[];
  /** A request's deferred rows: the batch id of its own rows, without which they are not replayed. */
  after?: string;
  /** The Native block; may be let go once the block is logged (`path` holds it). */
  body?: Buffer;
  /** Size of the block in bytes. */
  bytes: number;
  /** The block's file, once logged. */
  path?: string;
  /** Kept in the log record itself, not in a file (small deferred rows); its body stays in memory. */
  inline?: boolean;
  /** A group insert (see `group`): the logged blocks it carries, and where each one's bytes are, in order. */
  members?: string[];
  parts?: BlockPart[];
}

/** Where a logged block's bytes are: its file, or (inline blocks) in memory. */
export interface BlockPart {
  path?: string;
  body?: Buffer;
}

const KIND_BLOCK = 1;
const KIND_STORED = 2;
const KIND_DROPPED = 3;
const KIND_BATCHES = 4;
const KIND_GROUP = 5;
const KIND_INLINE = 6;

interface Segment {
  seq: number;
  path: string;
  /** Blocks in this file not yet stored or dropped. */
  open: Set<string>;
  /** Batch ids recorded in this file, with when they were recorded. */
  batches: Map<string, number>;
}

export class WriteAheadLog {
  private readonly segments: Segment[] = [];
  private active!: Segment;
  private fh!: FileHandle;
  private activeBytes = 0;
  private readonly blockSegment = new Map<string, Segment>();
  /** Files of the blocks not yet settled. */
  private readonly blockPath = new Map<string, string>();
  /** Batch ids in the log or remembered from removed files, with their time. */
  private readonly known = new Map<string, number>();
  private queue: { buf: Buffer; sync: boolean; file?: { path: string; body: Buffer }; done: (e?: unknown) => void }[] = [];
  private readonly blockDir: string;
  /** Group inserts not yet settled, with their members. */
  private readonly groups = new Map<string, string[]>();
  private draining = false;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    readonly dir: string,
    private readonly opts: WalOptions,
    private readonly log: Logger,
  ) {
    this.blockDir = join(dir, 'blocks');
  }

  /** Open the log in `dir`, read what a previous run left, and return the blocks to replay. */
  static async open(dir: string, log: Logger, opts: Partial<WalOptions> = {}): Promise<{ wal: WriteAheadLog; replay: WalBlock[] }> {
    mkdirSync(join(dir, 'blocks'), { recursive: true });
    const wal = new WriteAheadLog(dir, { ...DEFAULT_WAL_OPTIONS, ...opts }, log);
    const replay = wal.recover();
    await wal.startSegment();
    wal.trim();
    if (wal.opts.fsync === 'interval') {
      wal.timer = setInterval(() => void wal.syncNow(), wal.opts.fsyncIntervalMs);
      wal.timer.unref();
    }
    return { wal, replay };
  }

  /** Whether a request batch with this id is already held (in the log or recently stored). */
  hasBatch(batchId: string): boolean {
    return this.known.has(batchId);
  }

  /** Append a block (its body is the Native block); resolves once it is as durable as the fsync policy makes it. */
  append(block: WalBlock): Promise<void> {
    const body = block.body;
    if (!body) return Promise.reject(new Error(`block ${block.id} has no body to log`));
    const path = join(this.blockDir, `${block.id}.native`);
    const fields = { id: block.id, table: block.table, rows: block.rows, batches: block.batches, bytes: body.length, ...(block.replaces ? { replaces: block.replaces } : {}), ...(block.after ? { after: block.after } : {}) };
    let payload: Buffer;
    if (block.inline) {
      const header = Buffer.from(JSON.stringify(fields));
      const len = Buffer.alloc(4);
      len.writeUInt32LE(header.length, 0);
      payload = Buffer.concat([Buffer.of(KIND_INLINE), len, header, body]);
    } else payload = Buffer.concat([Buffer.of(KIND_BLOCK), Buffer.from(JSON.stringify({ ...fields, crc: crc32(body) }))]);
    const seg = this.active;
    this.openIn(seg, block.id);
    if (!block.inline) this.blockPath.set(block.id, path);
    const now = Date.now();
    for (const b of block.batches) {
      seg.batches.set(b, now);
      this.known.set(b, now);
    }
    const written = this.write(frame(payload), this.opts.fsync === 'always', block.inline ? undefined : { path, body })
      .then(() => {
        if (!block.inline) block.path = path;
      })
      .catch((e: unknown) => {
        // Not logged, so not acknowledged: a retry of its requests must be taken as new.
        this.forget(block.id);
        for (const b of block.batches) {
          seg.batches.delete(b);
          this.known.delete(b);
        }
        throw e;
      });
    // The replaced blocks are settled by this record, once it is written (not before: their
    // file may be removed as soon as they are settled).
    return block.replaces ? written.then(() => block.replaces!.forEach((id) => this.forget(id))) : written;
  }

  /**
   * Log that the logged blocks `members` will be inserted together under the token `id`
   * (a group insert); resolves once that is durable, and only then may the insert start.
   */
  group(id: string, table: TableName, members: string[]): Promise<void> {
    const seg = this.active;
    // The record must outlive its members' files: its file is kept while the group is open.
    this.openIn(seg, id);
    this.groups.set(id, members);
    const payload = Buffer.concat([Buffer.of(KIND_GROUP), Buffer.from(JSON.stringify({ id, table, members }))]);
    return this.write(frame(payload), true).catch((e: unknown) => {
      this.groups.delete(id);
      this.forget(id);
      throw e;
    });
  }

  /** Mark a block (or a group insert, and so its members) stored; its file goes once every block in it is settled. */
  stored(id: string): void {
    this.settle(id, KIND_STORED, { id });
  }

  /** Mark a block the store refused for good, so it is not replayed. */
  dropped(id: string, reason: string): void {
    this.settle(id, KIND_DROPPED, { id, reason: reason.slice(0, 500) });
  }

  /** Write out anything queued, fsync, and close the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.write(Buffer.alloc(0), true);
    await this.fh.close();
    this.trim();
  }

  private settle(id: string, kind: number, body: object): void {
    const members = this.groups.get(id);
    this.groups.delete(id);
    if (!this.forget(id)) return;
    // Losing this record to a crash costs only a replay, which the store deduplicates.
    void this.write(frame(Buffer.concat([Buffer.of(kind), Buffer.from(JSON.stringify(body))])), false).catch(() => undefined);
    for (const m of members ?? []) this.forget(m);
  }

  // Take a block off its file's open set (removing the file once nothing in it is open);
  // false when the block is not open.
  private forget(id: string): boolean {
    const seg = this.blockSegment.get(id);
    if (!seg) return false;
    this.blockSegment.delete(id);
    seg.open.delete(id);
    this.removeBlockFile(id);
    if (seg.open.size === 0 && seg !== this.active) this.trim();
    return true;
  }

  private removeBlockFile(id: string): void {
    const path = this.blockPath.get(id);
    if (path === undefined) return;
    this.blockPath.delete(id);
    unlink(path).catch((e: unknown) => {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn({ path, err: String(e) }, 'cannot remove a settled write-ahead log block');
    });
  }

  // Appends are written in order by one drain loop; appends queued while a write and fsync
  // are under way share the next one (group commit).
  private write(buf: Buffer, sync: boolean, file?: { path: string; body: Buffer }): Promise<void> {
    if (this.closed && buf.length > 0) return Promise.reject(new Error(`write-ahead log ${this.dir} is closed`));
    return new Promise((resolve, reject) => {
      this.queue.push({ buf, sync, ...(file ? { file } : {}), done: (e) => (e ? reject(e) : resolve()) });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        try {
          // Block files first, each durable, and their names in the directory, before the
          // records that name them.
          const files = batch.filter((b) => b.file !== undefined);
          if (files.length > 0) {
            const sync = this.opts.fsync === 'always';
            await Promise.all(files.map((b) => writeBlockFile(b.file!.path, b.file!.body, sync)));
            if (sync) fsyncDir(this.blockDir);
          }
          const bufs = batch.map((b) => b.buf).filter((b) => b.length > 0);
          if (bufs.length > 0) {
            await this.fh.writev(bufs);
            this.activeBytes += bufs.reduce((a, b) => a + b.length, 0);
            this.dirty = true;
          }
          if (batch.some((b) => b.sync) && this.dirty && this.opts.fsync !== 'off') {
            await this.fh.datasync();
            this.dirty = false;
          }
          for (const b of batch) b.done();
        } catch (e) {
          this.log.error({ dir: this.dir, err: e instanceof Error ? e.message : String(e) }, 'write-ahead log append failed');
          for (const b of batch) b.done(e);
          // The file may now end in part of a record, and reading stops there: later records
          // go to a new file.
          if (!this.closed) await this.replaceFile();
          continue;
        }
        if (this.activeBytes >= this.opts.segmentBytes && !this.closed) await this.rotate();
      }
    } finally {
      this.draining = false;
    }
  }

  // Start a new file after a failed write; if that fails too, the next write tries again.
  private async replaceFile(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    try {
      await this.startSegment();
      this.trim();
    } catch (e) {
      this.log.error({ dir: this.dir, err: e instanceof Error ? e.message : String(e) }, 'cannot start a new write-ahead log file');
    }
  }

  private async syncNow(): Promise<void> {
    if (!this.dirty || this.closed) return;
    await this.write(Buffer.alloc(0), true).catch(() => undefined);
  }

  private async rotate(): Promise<void> {
    if (this.dirty && this.opts.fsync !== 'off') await this.fh.datasync();
    await this.fh.close();
    await this.startSegment();
    this.trim();
  }

  private async startSegment(): Promise<void> {
    const seq = (this.segments.at(-1)?.seq ?? 0) + 1;
    const path = join(this.dir, `${String(seq).padStart(12, '0')}.wal`);
    this.fh = await open(path, 'a');
    this.activeBytes = 0;
    this.dirty = false;
    this.active = { seq, path, open: new Set(), batches: new Map() };
    this.segments.push(this.active);
    // The new file (and its name in the directory) must survive a crash before anything relies on it.
    if (this.opts.fsync !== 'off') fsyncDir(this.dir);
  }

  // Settled files are removed oldest first, stopping at the first with unsettled blocks so
  // replay order stays the order of arrival. Batch ids still inside the retry window are
  // carried into the active file first.
  private trim(): void {
    const cutoff = Date.now() - this.opts.batchWindowMs;
    for (const [b, t] of this.known) if (t < cutoff) this.known.delete(b);
    while (this.segments.length > 1 && this.segments[0]!.open.size === 0) {
      const seg = this.segments.shift()!;
      const carry = [...seg.batches].filter(([, t]) => t >= cutoff);
      if (carry.length > 0) {
        for (const [b, t] of carry) this.active.batches.set(b, t);
        void this.write(frame(Buffer.concat([Buffer.of(KIND_BATCHES), Buffer.from(JSON.stringify({ batches: carry }))])), true).catch(() => undefined);
      }
      try {
        unlinkSync(seg.path);
      } catch (e) {
        this.log.warn({ path: seg.path, err: String(e) }, 'cannot remove settled write-ahead log file');
      }
    }
  }

  // Read every file in order; collect unsettled blocks (to replay) and batch ids.
  private recover(): WalBlock[] {
    const files = readdirSync(this.dir).filter((f) => /^\d{12}\.wal$/.test(f)).sort();
    const blocks = new Map<string, WalBlock>();
    const groups = new Map<string, { table: TableName; members: string[] }>();
    let torn = 0;
    for (const f of files) {
      const seg: Segment = { seq: Number(f.slice(0, 12)), path: join(this.dir, f), open: new Set(), batches: new Map() };
      this.segments.push(seg);
      const data = readFileSync(seg.path);
      let off = 0;
      while (off + 8 <= data.length) {
        const len = data.readUInt32LE(off);
        const sum = data.readUInt32LE(off + 4);
        if (off + 8 + len > data.length) break;
        const payload = data.subarray(off + 8, off + 8 + len);
        if (crc32(payload) !== sum || len === 0) break;
        off += 8 + len;
        this.readRecord(payload, seg, blocks, groups);
      }
      torn += data.length - off;
      for (const [b, t] of seg.batches) this.known.set(b, t);
    }
    if (torn > 0) this.log.warn({ dir: this.dir, bytes: torn }, 'write-ahead log ends in a torn record (a crash mid-append); it was never acknowledged and is ignored');
    // A request's deferred rows whose own rows never reached the log: the request was not
    // acknowledged, and its retry brings them again.
    const orphans = [...blocks.values()].filter((b) => b.after !== undefined && !this.known.has(b.after));
    for (const b of orphans) this.forgetRecovered(b.id, blocks, groups);
    if (orphans.length > 0) this.log.info({ blocks: orphans.length }, 'write-ahead log holds deferred rows of requests whose data it does not hold (never acknowledged); dropped');
    this.removeStrayFiles();
    const replay = this.replayUnits(blocks, groups);
    if (replay.length > 0) this.log.info({ blocks: replay.length, rows: replay.reduce((a, b) => a + b.rows, 0) }, 'write-ahead log holds blocks not yet stored; replaying');
    return replay;
  }

  // What to replay, in log order: each open group insert as it was made (same blocks, same
  // token), where its first member was; the other open blocks one by one.
  private replayUnits(blocks: Map<string, WalBlock>, groups: Map<string, { table: TableName; members: string[] }>): WalBlock[] {
    const groupOf = new Map<string, string>();
    for (const [id, g] of groups) for (const m of g.members) groupOf.set(m, id);
    const units: WalBlock[] = [];
    const done = new Set<string>();
    for (const b of blocks.values()) {
      const gid = groupOf.get(b.id);
      if (gid === undefined) {
        units.push(b);
        continue;
      }
      if (done.has(gid)) continue;
      done.add(gid);
      const members = groups.get(gid)!.members.map((m) => blocks.get(m)).filter((m): m is WalBlock => m !== undefined);
      this.groups.set(gid, members.map((m) => m.id));
      units.push({
        id: gid,
        table: b.table,
        rows: members.reduce((a, m) => a + m.rows, 0),
        batches: members.flatMap((m) => m.batches),
        bytes: members.reduce((a, m) => a + m.bytes, 0),
        members: members.map((m) => m.id),
        parts: members.map((m) => (m.path !== undefined ? { path: m.path } : { body: m.body! })),
      });
    }
    // A group none of whose members is left was stored (its mark may not have reached the disk).
    for (const id of groups.keys()) if (!done.has(id)) this.forget(id);
    return units;
  }

  private readRecord(payload: Buffer, seg: Segment, blocks: Map<string, WalBlock>, groups: Map<string, { table: TableName; members: string[] }>): void {
    const kind = payload[0];
    if (kind === KIND_BLOCK) {
      const h = JSON.parse(payload.subarray(1).toString('utf8')) as { id: string; table: TableName; rows: number; batches: string[]; bytes: number; crc: number; replaces?: string[]; after?: string };
      for (const id of h.replaces ?? []) this.forgetRecovered(id, blocks, groups);
      // The file's time is unknown after a restart; count the ids as fresh so the window starts now.
      for (const b of h.batches) seg.batches.set(b, Date.now());
      const path = join(this.blockDir, `${h.id}.native`);
      const problem = blockFileProblem(path, h.bytes, h.crc);
      if (problem === 'gone') return;
      if (problem) {
        this.log.warn({ block: h.id, table: h.table, rows: h.rows, path, problem }, 'write-ahead log block file does not match its record (its data never reached the disk); not replayed');
        return;
      }
      blocks.set(h.id, { id: h.id, table: h.table, rows: h.rows, batches: h.batches, bytes: h.bytes, path, ...(h.after ? { after: h.after } : {}) });
      this.openIn(seg, h.id);
      this.blockPath.set(h.id, path);
    } else if (kind === KIND_STORED || kind === KIND_DROPPED) {
      const { id } = JSON.parse(payload.subarray(1).toString('utf8')) as { id: string };
      this.forgetRecovered(id, blocks, groups);
    } else if (kind === KIND_INLINE) {
      const hlen = payload.readUInt32LE(1);
      const h = JSON.parse(payload.subarray(5, 5 + hlen).toString('utf8')) as { id: string; table: TableName; rows: number; batches: string[]; bytes: number; after?: string };
      const body = Buffer.from(payload.subarray(5 + hlen));
      for (const b of h.batches) seg.batches.set(b, Date.now());
      if (body.length !== h.bytes) return;
      blocks.set(h.id, { id: h.id, table: h.table, rows: h.rows, batches: h.batches, bytes: h.bytes, body, inline: true, ...(h.after ? { after: h.after } : {}) });
      this.openIn(seg, h.id);
    } else if (kind === KIND_GROUP) {
      const g = JSON.parse(payload.subarray(1).toString('utf8')) as { id: string; table: TableName; members: string[] };
      groups.set(g.id, { table: g.table, members: g.members });
      this.openIn(seg, g.id);
    } else if (kind === KIND_BATCHES) {
      const { batches } = JSON.parse(payload.subarray(1).toString('utf8')) as { batches: [string, number][] };
      for (const [b, t] of batches) seg.batches.set(b, t);
    }
  }

  // A block or group not yet settled keeps the file its record is in.
  private openIn(seg: Segment, id: string): void {
    seg.open.add(id);
    this.blockSegment.set(id, seg);
  }

  // While reading: a block settled by a later record is not replayed; a settled group settles its members.
  private forgetRecovered(id: string, blocks: Map<string, WalBlock>, groups: Map<string, { table: TableName; members: string[] }>): void {
    const g = groups.get(id);
    if (g) {
      groups.delete(id);
      for (const m of g.members) this.forgetRecovered(m, blocks, groups);
    }
    blocks.delete(id);
    this.blockSegment.get(id)?.open.delete(id);
    this.blockSegment.delete(id);
    this.removeBlockFile(id);
  }

  // Block files no record names (written before a crash, their record never was): removed.
  private removeStrayFiles(): void {
    for (const f of readdirSync(this.blockDir)) {
      const id = f.replace(/\.native$/, '');
      if (!this.blockPath.has(id)) {
        try {
          unlinkSync(join(this.blockDir, f));
        } catch {
          // gone already
        }
      }
    }
  }
}

function frame(payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32LE(payload.length, 0);
  head.writeUInt32LE(crc32(payload), 4);
  return Buffer.concat([head, payload]);
}

async function writeBlockFile(path: string, body: Buffer, sync: boolean): Promise<void> {
  if (!sync) return writeFile(path, body);
  const fh = await open(path, 'w');
  try {
    await fh.writeFile(body);
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

// Why a logged block's file cannot be replayed: 'gone' (settled), a size or checksum that
// differs from its record, or '' when it can.
function blockFileProblem(path: string, bytes: number, crc: number): string {
  if (!existsSync(path)) return 'gone';
  const data = readFileSync(path);
  if (data.length !== bytes) return `${data.length} bytes, the record says ${bytes}`;
  if (crc32(data) !== crc) return 'its checksum differs from the record';
  return '';
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
