// ClickHouse Native blocks: the column builders ingest writes into and the encoder that turns
// them into the bytes the engine inserts (`INSERT … FORMAT Native`) and the write-ahead log
// keeps.
//
// Hand-written: no npm package writes Native or RowBinary (the official client reads and
// writes text formats only; the other ClickHouse packages on npm send TSV or JSON). The
// format is small for the types our schema uses, and the engine itself checks every type
// this module writes (test/native.test.ts: encode → insert → select → equal).
//
// What a block is (as the engine writes it with `FORMAT Native` and reads it back):
//   varint columns, varint rows, then per column: name and type as varint-length strings
//   and the column's data, which for nested types is a sequence of streams:
//     String            per row: varint byte length, UTF-8 bytes
//     (U)IntN, Float64  per row: little-endian, fixed width; Bool is UInt8, Enum8 is Int8
//     DateTime64(p)     per row: Int64 ticks of 10^-p s
//     Nullable(T)       a UInt8 per row (1 = null), then T's data (a default where null)
//     Array(T)          a UInt64 per row, the running total of elements, then T's data for
//                       all elements
//     Map(K, V)         as Array(Tuple(K, V)): running totals, then every key, then every value
// LowCardinality columns are sent as their inner type: the engine converts on input at
// nearly no cost (measured, ARCHITECTURE.md), and an encoder needs no dictionaries.
//
// Column builders hold each stream in its own growable buffer; array and map sizes are kept
// per row, not as running totals, so the writer can join the rows of many requests into one
// block (`encodeBlock`) by copying each stream in turn: the running totals are made while
// the block is written.

const INITIAL_BYTES = 4096;

/** A growable byte buffer with the writes column data needs. */
export class ByteSink {
  buf: Buffer;
  len = 0;

  constructor(size = INITIAL_BYTES) {
    this.buf = Buffer.allocUnsafe(Math.max(size, 16));
  }

  /** Make room for `n` more bytes. */
  reserve(n: number): void {
    const need = this.len + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  u8(v: number): void {
    if (this.len + 1 > this.buf.length) this.reserve(1);
    this.buf[this.len++] = v;
  }

  // Fixed-width writes store bytes directly: cheaper than Buffer#writeUInt32LE's checks.
  u16(v: number): void {
    if (this.len + 2 > this.buf.length) this.reserve(2);
    const b = this.buf;
    const at = this.len;
    b[at] = v;
    b[at + 1] = v >>> 8;
    this.len = at + 2;
  }

  u32(v: number): void {
    if (this.len + 4 > this.buf.length) this.reserve(4);
    const b = this.buf;
    const at = this.len;
    b[at] = v;
    b[at + 1] = v >>> 8;
    b[at + 2] = v >>> 16;
    b[at + 3] = v >>> 24;
    this.len = at + 4;
  }

  i32(v: number): void {
    this.u32(v | 0);
  }

  /** An unsigned 64-bit integer from a non-negative safe integer. */
  u64(v: number): void {
    const lo = v % 4294967296;
    this.halves(lo, (v - lo) / 4294967296);
  }

  /** A signed 64-bit integer from a safe integer. */
  i64(v: number): void {
    const lo = ((v % 4294967296) + 4294967296) % 4294967296;
    this.halves(lo, Math.floor(v / 4294967296) | 0);
  }

  /** A 64-bit integer from its two's complement halves (as uint32). */
  halves(lo: number, hi: number): void {
    if (this.len + 8 > this.buf.length) this.reserve(8);
    const b = this.buf;
    const at = this.len;
    b[at] = lo;
    b[at + 1] = lo >>> 8;
    b[at + 2] = lo >>> 16;
    b[at + 3] = lo >>> 24;
    b[at + 4] = hi;
    b[at + 5] = hi >>> 8;
    b[at + 6] = hi >>> 16;
    b[at + 7] = hi >>> 24;
    this.len = at + 8;
  }

  f64(v: number): void {
    this.reserve(8);
    this.buf.writeDoubleLE(v, this.len);
    this.len += 8;
  }

  varint(v: number): void {
    this.reserve(10);
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
  }

  /** A varint-length UTF-8 string. */
  string(s: string): void {
    const n = s.length;
    // Short strings: one length byte is enough when even 3 bytes per UTF-16 unit fit 127,
    // and plain ASCII is copied by a loop, cheaper at these lengths than a Buffer#write call.
    if (n <= 42) {
      this.reserve(1 + n * 3);
      const buf = this.buf;
      const at = this.len;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[at + 1 + i] = c;
      }
      const bytes = i === n ? n : i + buf.utf8Write(s.slice(i), at + 1 + i);
      buf[at] = bytes;
      this.len = at + 1 + bytes;
      return;
    }
    const bytes = Buffer.byteLength(s, 'utf8');
    this.varint(bytes);
    this.reserve(bytes);
    this.buf.utf8Write(s, this.len, bytes);
    this.len += bytes;
  }

  /** Raw bytes, copied (short ones by a loop: cheaper than a call into the runtime). */
  bytes(b: Uint8Array): void {
    const n = b.length;
    if (this.len + n > this.buf.length) this.reserve(n);
    if (n > 32) this.buf.set(b, this.len);
    else {
      const buf = this.buf;
      const at = this.len;
      for (let i = 0; i < n; i++) buf[at + i] = b[i]!;
    }
    this.len += n;
  }


  /** `pattern` written `times` times: once, then doubled in place (a native copy per doubling, not one per row). */
  repeat(pattern: Uint8Array, times: number): void {
    const n = pattern.length;
    if (times <= 0 || n === 0) return;
    const total = n * times;
    if (this.len + total > this.buf.length) this.reserve(total);
    const buf = this.buf;
    const at = this.len;
    buf.set(pattern, at);
    let done = n;
    while (done < total) {
      const step = Math.min(done, total - done);
      buf.copyWithin(at + done, at, at + step);
      done += step;
    }
    this.len = at + total;
  }

  /** The bytes written so far (a view, valid until the next write). */
  view(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

// Buffer#utf8Write exists at run time (it is what Buffer#write uses for 'utf8') but is not in
// @types/node; it skips the encoding lookup of Buffer#write.
declare module 'node:buffer' {
  interface Buffer {
    utf8Write(s: string, offset?: number, length?: number): number;
  }
}

/** Per-row sizes of an array or map column, turned into running totals when encoded. */
export class SizeSink {
  sizes: Uint32Array;
  len = 0;

  constructor(capacity = 256) {
    this.sizes = new Uint32Array(Math.max(capacity, 16));
  }

  push(n: number): void {
    if (this.len === this.sizes.length) this.grow(1);
    this.sizes[this.len++] = n;
  }

  /** The size `n` for `times` rows. */
  fill(n: number, times: number): void {
    if (this.len + times > this.sizes.length) this.grow(times);
    this.sizes.fill(n, this.len, this.len + times);
    this.len += times;
  }

  private grow(more: number): void {
    let size = this.sizes.length * 2;
    while (size < this.len + more) size *= 2;
    const next = new Uint32Array(size);
    next.set(this.sizes.subarray(0, this.len));
    this.sizes = next;
  }
}

/** A stream of a column: bytes, or sizes that become running totals. */
export type Stream = ByteSink | SizeSink;

/** A column's type as it is sent, and how many streams its data has (in order). */
export interface ColumnSpec {
  readonly name: string;
  /** The ClickHouse type as sent (LowCardinality already stripped). */
  readonly type: string;
}

/** The columns of one table in the order they are sent. */
export class BlockSchema {
  readonly columns: readonly ColumnSpec[];
  /** How many streams each column's data has. */
  readonly streams: readonly number[];
  /** Column name and type, encoded once: the head of each column in a block. */
  readonly heads: readonly Buffer[];

  constructor(readonly table: string, columns: ReadonlyArray<readonly [string, string]>) {
    this.columns = columns.map(([name, type]) => ({ name, type }));
    this.streams = this.columns.map((c) => streamCount(c.type));
    this.heads = this.columns.map((c) => {
      const s = new ByteSink(64);
      s.string(c.name);
      s.string(c.type);
      return Buffer.from(s.view());
    });
  }

  /** `(a, b, c)`: the column list for an INSERT. */
  columnList(): string {
    return `(${this.columns.map((c) => c.name).join(', ')})`;
  }

  /**
   * Starting capacity per stream (flattened over columns): the sizes the last chunk that asked
   * for it ended with, so a workload's next request starts at its size instead of growing to
   * it by doubling and copying.
   */
  private hints: number[] = [];

  /** Empty streams for every column, for a builder to fill. */
  newStreams(): Stream[][] {
    let i = 0;
    const hints = this.hints;
    const next = () => hints[i++] || undefined;
    return this.columns.map((c) => newStreams(c.type, next));
  }

  /** Remember a finished chunk's stream sizes as the next chunks' starting capacity (at most 1 MiB each). */
  noteSizes(chunk: ColumnChunk): void {
    const hints: number[] = [];
    for (const col of chunk.streams) for (const s of col) hints.push(Math.min(s.len, MAX_HINT));
    this.hints = hints;
  }
}

const MAX_HINT = 1 << 20;

// Streams of a type, in the order Native writes them; `size` gives each its starting capacity.
function newStreams(type: string, size: () => number | undefined = () => undefined): Stream[] {
  const inner = unwrap(type);
  if (inner.kind === 'array') return [new SizeSink(size()), ...newStreams(inner.of, size)];
  if (inner.kind === 'map') {
    const sizes = new SizeSink(size());
    return [sizes, ...newStreams(inner.key, size), ...newStreams(inner.value, size)];
  }
  if (inner.kind === 'nullable') {
    const nulls = new ByteSink(size());
    return [nulls, ...newStreams(inner.of, size)];
  }
  return [new ByteSink(size())];
}

function streamCount(type: string): number {
  return newStreams(type).length;
}

type Parsed = { kind: 'array'; of: string } | { kind: 'map'; key: string; value: string } | { kind: 'nullable'; of: string } | { kind: 'plain' };

function unwrap(type: string): Parsed {
  const m = /^(Array|Map|Nullable)\((.*)\)$/.exec(type);
  if (!m) return { kind: 'plain' };
  if (m[1] === 'Array') return { kind: 'array', of: m[2]! };
  if (m[1] === 'Nullable') return { kind: 'nullable', of: m[2]! };
  // Map(K, V): split at the top-level comma.
  let depth = 0;
  const body = m[2]!;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) return { kind: 'map', key: body.slice(0, i).trim(), value: body.slice(i + 1).trim() };
  }
  throw new Error(`cannot read the Map type ${type}`);
}

/**
 * Rows of one table held as column streams: what a request contributes to a block. The
 * caller fills `streams` in the schema's order (see the table's row builder) and counts `rows`.
 */
export class ColumnChunk {
  readonly streams: Stream[][];
  rows = 0;

  constructor(readonly schema: BlockSchema) {
    this.streams = schema.newStreams();
  }

  /** Bytes held (an estimate of the block's size). */
  bytes(): number {
    let n = 0;
    for (const col of this.streams) for (const s of col) n += s instanceof ByteSink ? s.len : s.len * 8;
    return n;
  }
}

/** Encode chunks of one table as one Native block. */
export function encodeBlock(schema: BlockSchema, chunks: readonly ColumnChunk[]): Buffer {
  let rows = 0;
  let size = 20;
  for (const c of chunks) {
    if (c.schema !== schema) throw new Error(`a ${c.schema.table} chunk cannot join a ${schema.table} block`);
    rows += c.rows;
    size += c.bytes();
  }
  for (const h of schema.heads) size += h.length;
  const out = new ByteSink(size);
  out.varint(schema.columns.length);
  out.varint(rows);
  for (let col = 0; col < schema.columns.length; col++) {
    out.bytes(schema.heads[col]!);
    for (let st = 0; st < schema.streams[col]!; st++) {
      const first = chunks[0]?.streams[col]![st];
      if (first === undefined || first instanceof ByteSink) {
        for (const c of chunks) {
          const s = c.streams[col]![st] as ByteSink;
          out.reserve(s.len);
          s.buf.copy(out.buf, out.len, 0, s.len);
          out.len += s.len;
        }
      } else {
        let total = 0;
        for (const c of chunks) {
          const s = c.streams[col]![st] as SizeSink;
          out.reserve(s.len * 8);
          for (let i = 0; i < s.len; i++) {
            total += s.sizes[i]!;
            out.u64(total);
          }
        }
      }
    }
  }
  return out.buf.subarray(0, out.len);
}

/** Rows in a Native block (its second varint), without reading the rest. */
export function blockRows(block: Uint8Array): number {
  let off = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = block[off++];
      if (b === undefined) throw new Error('a Native block ends inside its head');
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 0x80;
    }
  };
  varint();
  return varint();
}

/** The value of decimal digits `s[from, to)` (at most 15 digits, so exact). */
export function digits(s: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) v = v * 10 + (s.charCodeAt(i) - 48);
  return v;
}

/** A decimal integer string as 64-bit two's complement (negative or unsigned up to 2^64 - 1). */
export function writeDecimal64(out: ByteSink, s: string): void {
  const n = s.length;
  if (n <= 15 && s.charCodeAt(0) !== 45) {
    out.u64(digits(s, 0, n));
    return;
  }
  if (s.charCodeAt(0) === 45 || n > 20) {
    out.reserve(8);
    out.buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(s)), out.len);
    out.len += 8;
    return;
  }
  // value = hi * 1e9 + lo with hi < 2^35, split so that every product stays exact in a double.
  writeParts(out, digits(s, 0, n - 9), digits(s, n - 9, n));
}

/** The unsigned 64-bit integer `hi * 1e9 + lo` (hi < 2^35, lo < 1e9). */
export function writeParts(out: ByteSink, hi: number, lo: number): void {
  const hiLow = hi % 65536;
  const a = hiLow * 1e9 + lo;
  const b = ((hi - hiLow) / 65536) * 1e9;
  const bLow = b % 65536;
  const sum = bLow * 65536 + a;
  const low32 = sum % 4294967296;
  out.halves(low32, (b - bLow) / 65536 + (sum - low32) / 4294967296);
}

/** Writes one value of a column type into its streams, starting at stream `at`. */
interface ValueWriter {
  readonly streams: number;
  write(streams: Stream[], at: number, v: unknown): void;
}

const writers = new Map<string, ValueWriter>();

/** The writer for values of `type`, made once per type. */
export function valueWriter(type: string): ValueWriter {
  let w = writers.get(type);
  if (!w) {
    w = makeWriter(type);
    writers.set(type, w);
  }
  return w;
}

function fixed(fn: (out: ByteSink, v: unknown) => void): ValueWriter {
  return { streams: 1, write: (s, at, v) => fn(s[at] as ByteSink, v) };
}

function int64(out: ByteSink, v: unknown): void {
  if (typeof v === 'string') writeDecimal64(out, v);
  else if (typeof v === 'bigint') {
    out.reserve(8);
    out.buf.writeBigUInt64LE(BigInt.asUintN(64, v), out.len);
    out.len += 8;
  } else out.i64(Math.trunc(Number(v ?? 0)));
}

function makeWriter(type: string): ValueWriter {
  // A simple aggregate's state is its value.
  const simple = /^SimpleAggregateFunction\(\w+, (.*)\)$/.exec(type);
  if (simple) return valueWriter(simple[1]!);
  const p = unwrap(type);
  if (p.kind === 'array') {
    const inner = valueWriter(p.of);
    return {
      streams: 1 + inner.streams,
      write(s, at, v) {
        const xs = (v ?? []) as unknown[];
        (s[at] as SizeSink).push(xs.length);
        for (const x of xs) inner.write(s, at + 1, x);
      },
    };
  }
  if (p.kind === 'map') {
    const k = valueWriter(p.key);
    const val = valueWriter(p.value);
    return {
      streams: 1 + k.streams + val.streams,
      write(s, at, v) {
        const m = (v ?? {}) as Record<string, unknown>;
        let n = 0;
        for (const key in m) {
          k.write(s, at + 1, key);
          val.write(s, at + 1 + k.streams, m[key]);
          n++;
        }
        (s[at] as SizeSink).push(n);
      },
    };
  }
  if (p.kind === 'nullable') {
    const inner = valueWriter(p.of);
    const empty = defaultOf(p.of);
    return {
      streams: 1 + inner.streams,
      write(s, at, v) {
        const isNull = v === null || v === undefined;
        (s[at] as ByteSink).u8(isNull ? 1 : 0);
        inner.write(s, at + 1, isNull ? empty : v);
      },
    };
  }
  const enumMatch = /^Enum8\((.*)\)$/.exec(type);
  if (enumMatch) {
    const codes = new Map<string, number>();
    for (const m of enumMatch[1]!.matchAll(/'((?:[^'\\]|\\.)*)'\s*=\s*(-?\d+)/g)) codes.set(m[1]!, Number(m[2]));
    const known = new Set(codes.values());
    return fixed((out, v) => {
      const code = typeof v === 'number' ? (known.has(v) ? v : undefined) : codes.get(String(v));
      if (code === undefined) throw new Error(`${JSON.stringify(v)} is not a value of ${type}`);
      out.u8(code & 0xff);
    });
  }
  if (/^DateTime64\(\d\)$/.test(type)) return fixed(int64);
  switch (type) {
    case 'String':
      return fixed((out, v) => out.string(v === undefined || v === null ? '' : String(v)));
    case 'UInt8':
    case 'Int8':
      return fixed((out, v) => out.u8(Number(v ?? 0) & 0xff));
    case 'Bool':
      return fixed((out, v) => out.u8(v === true || v === 1 || v === 'true' ? 1 : 0));
    case 'UInt16':
      return fixed((out, v) => out.u16(Number(v ?? 0)));
    case 'UInt32':
    case 'DateTime':
      return fixed((out, v) => out.u32(Number(v ?? 0)));
    case 'Int32':
      return fixed((out, v) => out.i32(Number(v ?? 0)));
    case 'UInt64':
    case 'Int64':
      return fixed(int64);
    case 'Float64':
      return fixed((out, v) => out.f64(typeof v === 'string' ? Number(v) : Number(v ?? 0)));
    default:
      throw new Error(`the Native encoder does not write ${type}`);
  }
}

function defaultOf(type: string): unknown {
  if (type === 'String') return '';
  if (/^(Array|Map)\(/.test(type)) return [];
  return 0;
}

/** Append one row given as an object keyed by column name (for small tables and tests). */
export function appendObject(chunk: ColumnChunk, row: Record<string, unknown>): void {
  const cols = chunk.schema.columns;
  for (let i = 0; i < cols.length; i++) valueWriter(cols[i]!.type).write(chunk.streams[i]!, 0, row[cols[i]!.name]);
  chunk.rows++;
}

/** A chunk of `rows` objects. */
export function chunkOf(schema: BlockSchema, rows: readonly Record<string, unknown>[]): ColumnChunk {
  const c = new ColumnChunk(schema);
  for (const r of rows) appendObject(c, r);
  return c;
}
