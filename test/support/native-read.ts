// Reads Native blocks back into row objects, for tests that look at what the writer or the
// write-ahead log holds without a store. Covers the types src/store/schemas.ts sends; 64-bit
// integers and times come back as decimal strings, Enum8 as its code.
import { encodeBlock, type ColumnChunk } from '../../src/store/native.js';
import { NativeCursor } from '../../src/store/native-read.js';

type Reader = (n: number) => unknown[];

/** The rows of one or more concatenated Native blocks. */
export function readBlocks(bytes: Uint8Array): Record<string, unknown>[] {
  const cur = new NativeCursor(bytes);
  const buf = cur.buf;
  const str = (): string => cur.str();
  const fixed = (size: number, read: (at: number) => unknown): Reader => (n) => {
    const out: unknown[] = [];
    for (let i = 0; i < n; i++, cur.off += size) out.push(read(cur.off));
    return out;
  };
  const sizes = (n: number): number[] => {
    const out: number[] = [];
    let prev = 0;
    for (let i = 0; i < n; i++, cur.off += 8) {
      const total = Number(buf.readBigUInt64LE(cur.off));
      out.push(total - prev);
      prev = total;
    }
    return out;
  };
  const reader = (type: string): Reader => {
    const simple = /^SimpleAggregateFunction\(\w+, (.*)\)$/.exec(type);
    if (simple) return reader(simple[1]!);
    const nested = /^(Array|Nullable|Map)\((.*)\)$/.exec(type);
    if (nested?.[1] === 'Array') {
      const inner = reader(nested[2]!);
      return (n) => {
        const counts = sizes(n);
        const all = inner(counts.reduce((a, b) => a + b, 0));
        let at = 0;
        return counts.map((c) => all.slice(at, (at += c)));
      };
    }
    if (nested?.[1] === 'Nullable') {
      const inner = reader(nested[2]!);
      return (n) => {
        const nulls = fixed(1, (at) => buf[at])(n);
        return inner(n).map((v, i) => (nulls[i] ? null : v));
      };
    }
    if (nested?.[1] === 'Map') {
      const [k, v] = nested[2]!.split(', ');
      const keys = reader(k!);
      const values = reader(v!);
      return (n) => {
        const counts = sizes(n);
        const total = counts.reduce((a, b) => a + b, 0);
        const ks = keys(total);
        const vs = values(total);
        let at = 0;
        return counts.map((c) => {
          const m: Record<string, unknown> = {};
          for (let i = 0; i < c; i++, at++) m[ks[at] as string] = vs[at];
          return m;
        });
      };
    }
    if (type.startsWith('Enum8(')) return fixed(1, (at) => buf.readInt8(at));
    if (type.startsWith('DateTime64(') || type === 'UInt64') return fixed(8, (at) => buf.readBigUInt64LE(at).toString());
    switch (type) {
      case 'String':
        return (n) => Array.from({ length: n }, str);
      case 'UInt8':
        return fixed(1, (at) => buf[at]);
      case 'Bool':
        return fixed(1, (at) => buf[at] === 1);
      case 'UInt16':
        return fixed(2, (at) => buf.readUInt16LE(at));
      case 'UInt32':
      case 'DateTime':
        return fixed(4, (at) => buf.readUInt32LE(at));
      case 'Int32':
        return fixed(4, (at) => buf.readInt32LE(at));
      case 'Int64':
        return fixed(8, (at) => buf.readBigInt64LE(at).toString());
      case 'Float64':
        return fixed(8, (at) => buf.readDoubleLE(at));
      default:
        throw new Error(`test reader: no ${type}`);
    }
  };
  const rows: Record<string, unknown>[] = [];
  while (cur.more()) {
    const cols = cur.varint();
    const n = cur.varint();
    const block: Record<string, unknown>[] = Array.from({ length: n }, () => ({}));
    for (let c = 0; c < cols; c++) {
      const name = str();
      const values = reader(str())(n);
      values.forEach((v, i) => (block[i]![name] = v));
    }
    rows.push(...block);
  }
  return rows;
}

/** The rows of a chunk. */
export function readChunk(chunk: ColumnChunk): Record<string, unknown>[] {
  return readBlocks(encodeBlock(chunk.schema, [chunk]));
}
