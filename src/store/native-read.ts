// Reads a query's answer in ClickHouse's Native format into columns: strings as strings,
// numbers as numbers, and arrays of UInt32 as typed arrays over one copied buffer. A report
// that hands over a million minute counts (the incidents report's burn windows) spends most of
// its time in JSON when they come as text; as Native they are a few megabytes copied once.
// The format is a varint and little-endian numbers, the same the encoder in native.ts writes,
// and no JavaScript library reads it, so it is read here, for the types reports ask for.
import { tsError } from '../errors.js';

export type NativeColumn = string[] | number[] | Uint32Array[];

/** A read position in Native bytes: the format's two variable-length pieces, and the bytes. */
export class NativeCursor {
  readonly buf: Buffer;
  off = 0;

  constructor(bytes: Uint8Array) {
    this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Whether bytes are left (another block follows). */
  more(): boolean {
    return this.off < this.buf.length;
  }

  /** An unsigned LEB128 number (sizes, string lengths). */
  varint(): number {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = this.buf[this.off++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 0x80;
    }
  }

  /** A length-prefixed UTF-8 string. */
  str(): string {
    const n = this.varint();
    const s = this.buf.toString('utf8', this.off, this.off + n);
    this.off += n;
    return s;
  }
}

/** The columns of the blocks in `bytes`, by name, every block's rows in order. */
export function readNative(bytes: Uint8Array): Map<string, NativeColumn> {
  const cur = new NativeCursor(bytes);
  const buf = cur.buf;
  const str = (): string => cur.str();
  const fixed = (n: number, size: number, read: (at: number) => number): number[] => {
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++, cur.off += size) out[i] = read(cur.off);
    return out;
  };
  const column = (type: string, n: number): NativeColumn => {
    switch (type) {
      case 'String':
        return Array.from({ length: n }, str);
      case 'UInt8':
      case 'Bool':
        return fixed(n, 1, (at) => buf[at]!);
      case 'UInt16':
        return fixed(n, 2, (at) => buf.readUInt16LE(at));
      case 'UInt32':
      case 'DateTime':
        return fixed(n, 4, (at) => buf.readUInt32LE(at));
      case 'UInt64':
        // Counts: exact as numbers below 2^53.
        return fixed(n, 8, (at) => Number(buf.readBigUInt64LE(at)));
      case 'Int64':
        return fixed(n, 8, (at) => Number(buf.readBigInt64LE(at)));
      case 'Float64':
        return fixed(n, 8, (at) => buf.readDoubleLE(at));
      case 'Array(UInt32)': {
        const ends = fixed(n, 8, (at) => Number(buf.readBigUInt64LE(at)));
        const total = n === 0 ? 0 : ends[n - 1]!;
        // One copy, so the values start 4-byte aligned whatever their offset in the answer.
        const values = new Uint32Array(total);
        Buffer.from(values.buffer).set(buf.subarray(cur.off, cur.off + total * 4));
        cur.off += total * 4;
        return ends.map((end, i) => values.subarray(i === 0 ? 0 : ends[i - 1]!, end));
      }
      default:
        throw tsError('TS_ERR_INTERNAL', [`reading a Native answer: no reader for column type ${type}; cast it to one of String, UInt8-64, Int64, Float64, Array(UInt32)`]);
    }
  };
  const columns = new Map<string, NativeColumn>();
  while (cur.more()) {
    const cols = cur.varint();
    const rows = cur.varint();
    for (let c = 0; c < cols; c++) {
      const name = str();
      const values = column(str(), rows);
      const had = columns.get(name);
      columns.set(name, had ? ([...had, ...values] as NativeColumn) : values);
    }
  }
  return columns;
}
