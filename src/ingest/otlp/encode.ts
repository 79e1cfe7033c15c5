// Replies of an OTLP receiver (PROTOCOL.md §4): Export*ServiceResponse for success and partial
// success, google.rpc.Status for failures, each in the request's encoding. The readers at the
// bottom exist so tests (and tools) can check what a reply says without a protobuf runtime.

import { tsError } from '../../errors.js';
import type { PartialSuccess, Signal } from './types.js';

export type Encoding = 'protobuf' | 'json';

/** google.rpc.BadRequest: which request fields were wrong and why. */
export interface BadRequestDetail {
  type: 'BadRequest';
  violations: Array<{ field: string; description: string }>;
}

/** google.rpc.RetryInfo: how long the client should wait before retrying. */
export interface RetryInfoDetail {
  type: 'RetryInfo';
  retryDelaySeconds: number;
}

export type StatusDetail = BadRequestDetail | RetryInfoDetail;

/** What encodeStatus writes: a google.rpc.Status. `code` is a gRPC code and may be left out. */
export interface StatusBody {
  code?: number;
  message: string;
  details?: StatusDetail[];
}

/** What decodeStatus reads back (absent code reads as 0; unknown detail types are skipped). */
export interface DecodedStatus {
  code: number;
  message: string;
  details: StatusDetail[];
}

const TYPE_PREFIX = 'type.googleapis.com/';
const BAD_REQUEST_URL = TYPE_PREFIX + 'google.rpc.BadRequest';
const RETRY_INFO_URL = TYPE_PREFIX + 'google.rpc.RetryInfo';

const REJECTED_KEY: Record<Signal, string> = {
  traces: 'rejectedSpans',
  metrics: 'rejectedDataPoints',
  logs: 'rejectedLogRecords',
};

// The spec caps a response (4 MiB by default) and says to shorten error_message first; a message
// longer than this is not read by anyone anyway.
const MAX_ERROR_MESSAGE_CHARS = 64 * 1024;

function capMessage(s: string): string {
  if (s.length <= MAX_ERROR_MESSAGE_CHARS) return s;
  return s.slice(0, MAX_ERROR_MESSAGE_CHARS) + '… (truncated)';
}

// ---------------------------------------------------------------------------------------------
// Protobuf writing: responses are tiny, so plain byte arrays and Buffer.concat are enough.

function varint(n: number | bigint): Buffer {
  let v = typeof n === 'bigint' ? BigInt.asUintN(64, n) : n < 0 ? BigInt.asUintN(64, BigInt(Math.trunc(n))) : n;
  const out: number[] = [];
  if (typeof v === 'bigint') {
    while (v > 0x7fn) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
  } else {
    v = Math.trunc(v);
    while (v > 0x7f) {
      out.push((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(v);
  }
  return Buffer.from(out);
}

function key(field: number, wire: number): Buffer {
  return varint((field << 3) | wire);
}

function lenField(field: number, payload: Buffer): Buffer {
  return Buffer.concat([key(field, 2), varint(payload.length), payload]);
}

function stringField(field: number, s: string): Buffer {
  return lenField(field, Buffer.from(s, 'utf8'));
}

function varintField(field: number, n: number | bigint): Buffer {
  return Buffer.concat([key(field, 0), varint(n)]);
}

function splitSeconds(seconds: number): { s: number; n: number } {
  const clamped = Number.isFinite(seconds) && seconds > 0 ? seconds : 0;
  let s = Math.floor(clamped);
  let n = Math.round((clamped - s) * 1e9);
  if (n >= 1e9) {
    s += 1;
    n -= 1e9;
  }
  return { s, n };
}

/** ProtoJSON form of a Duration: seconds with 0, 3, 6 or 9 fractional digits and an "s". */
function durationJson(seconds: number): string {
  const { s, n } = splitSeconds(seconds);
  if (n === 0) return `${s}s`;
  let frac = String(n).padStart(9, '0');
  if (n % 1e6 === 0) frac = frac.slice(0, 3);
  else if (n % 1e3 === 0) frac = frac.slice(0, 6);
  return `${s}.${frac}s`;
}

function detailProto(d: StatusDetail): Buffer {
  let url: string;
  let value: Buffer;
  if (d.type === 'BadRequest') {
    url = BAD_REQUEST_URL;
    value = Buffer.concat(
      d.violations.map((v) => lenField(1, Buffer.concat([stringField(1, v.field), stringField(2, v.description)]))),
    );
  } else {
    url = RETRY_INFO_URL;
    const { s, n } = splitSeconds(d.retryDelaySeconds);
    const parts: Buffer[] = [];
    if (s !== 0) parts.push(varintField(1, s));
    if (n !== 0) parts.push(varintField(2, n));
    value = lenField(1, Buffer.concat(parts));
  }
  return Buffer.concat([stringField(1, url), lenField(2, value)]);
}

function detailJson(d: StatusDetail): Record<string, unknown> {
  if (d.type === 'BadRequest') {
    return {
      '@type': BAD_REQUEST_URL,
      fieldViolations: d.violations.map((v) => ({ field: v.field, description: v.description })),
    };
  }
  return { '@type': RETRY_INFO_URL, retryDelay: durationJson(d.retryDelaySeconds) };
}

/** The Export<Signal>ServiceResponse body: empty on full success, else partial_success. */
export function encodeExportResponse(signal: Signal, partial: PartialSuccess, encoding: Encoding): Buffer {
  const rejected = Math.max(0, Math.trunc(partial.rejected || 0));
  const message = capMessage(partial.errorMessage || '');
  // A zero count with an empty message means the same as full success (PROTOCOL.md §4.2).
  if (rejected === 0 && message === '') return encoding === 'json' ? Buffer.from('{}') : Buffer.alloc(0);
  if (encoding === 'json') {
    const ps: Record<string, string> = {};
    if (rejected !== 0) ps[REJECTED_KEY[signal]] = String(rejected);
    if (message !== '') ps.errorMessage = message;
    return Buffer.from(JSON.stringify({ partialSuccess: ps }));
  }
  const parts: Buffer[] = [];
  if (rejected !== 0) parts.push(varintField(1, rejected));
  if (message !== '') parts.push(stringField(2, message));
  return lenField(1, Buffer.concat(parts));
}

/** A google.rpc.Status body (code, message, BadRequest/RetryInfo details) in `encoding`. */
export function encodeStatus(encoding: Encoding, status: StatusBody): Buffer {
  const message = capMessage(status.message);
  const details = status.details ?? [];
  if (encoding === 'json') {
    const out: Record<string, unknown> = {};
    if (status.code !== undefined && status.code !== 0) out.code = status.code;
    out.message = message;
    if (details.length > 0) out.details = details.map(detailJson);
    return Buffer.from(JSON.stringify(out));
  }
  const parts: Buffer[] = [];
  if (status.code !== undefined && status.code !== 0) parts.push(varintField(1, status.code));
  if (message !== '') parts.push(stringField(2, message));
  for (const d of details) parts.push(lenField(3, detailProto(d)));
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------
// Readers

class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    readonly what: string,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  fail(detail: string): never {
    throw tsError('TS_ERR_OTLP_DECODE', [this.what + ' (protobuf)', `${detail} at byte ${this.pos}`]);
  }

  varint(): bigint {
    let v = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = this.buf[this.pos++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, v);
    }
    this.fail('varint longer than 10 bytes');
  }

  /** The next key, or -1 at the end. */
  key(): number {
    if (this.pos >= this.end) return -1;
    return Number(this.varint());
  }

  bytes(): Buffer {
    const len = Number(this.varint());
    if (len > this.end - this.pos) this.fail(`length ${len} runs past the end`);
    const b = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 2) this.bytes();
    else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (this.end - this.pos < n) this.fail('truncated fixed-width field');
      this.pos += n;
    } else this.fail(`unsupported wire type ${wire}`);
  }

  /** Loop helper: calls `on(field, wire)` for each field; `on` returns false to have it skipped. */
  each(on: (field: number, wire: number) => boolean): void {
    for (let k = this.key(); k >= 0; k = this.key()) {
      const field = Math.floor(k / 8);
      const wire = k & 7;
      if (!on(field, wire)) this.skip(wire);
    }
  }
}

function int64Signed(v: bigint): number {
  return Number(BigInt.asIntN(64, v));
}

function decodeDetailProto(any: Buffer): StatusDetail | undefined {
  const r = new Reader(any, 'google.protobuf.Any');
  let url = '';
  let value: Buffer = Buffer.alloc(0);
  r.each((f, w) => {
    if (f === 1 && w === 2) url = r.bytes().toString('utf8');
    else if (f === 2 && w === 2) value = r.bytes();
    else return false;
    return true;
  });
  if (url === BAD_REQUEST_URL) {
    const violations: BadRequestDetail['violations'] = [];
    const br = new Reader(value, 'google.rpc.BadRequest');
    br.each((f, w) => {
      if (f !== 1 || w !== 2) return false;
      const vr = new Reader(br.bytes(), 'google.rpc.BadRequest.FieldViolation');
      let field = '';
      let description = '';
      vr.each((vf, vw) => {
        if (vf === 1 && vw === 2) field = vr.bytes().toString('utf8');
        else if (vf === 2 && vw === 2) description = vr.bytes().toString('utf8');
        else return false;
        return true;
      });
      violations.push({ field, description });
      return true;
    });
    return { type: 'BadRequest', violations };
  }
  if (url === RETRY_INFO_URL) {
    let seconds = 0;
    let nanos = 0;
    const ri = new Reader(value, 'google.rpc.RetryInfo');
    ri.each((f, w) => {
      if (f !== 1 || w !== 2) return false;
      const dr = new Reader(ri.bytes(), 'google.protobuf.Duration');
      dr.each((df, dw) => {
        if (df === 1 && dw === 0) seconds = int64Signed(dr.varint());
        else if (df === 2 && dw === 0) nanos = Number(BigInt.asIntN(32, dr.varint()));
        else return false;
        return true;
      });
      return true;
    });
    return { type: 'RetryInfo', retryDelaySeconds: seconds + nanos / 1e9 };
  }
  return undefined;
}

function parseJson(buf: Uint8Array, what: string): unknown {
  const text = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('utf8');
  try {
    return JSON.parse(text.trim() === '' ? '{}' : text);
  } catch (e) {
    throw tsError('TS_ERR_OTLP_DECODE', [what + ' (JSON)', `invalid JSON: ${(e as Error).message}`]);
  }
}

function jsonObject(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function durationSeconds(v: unknown): number {
  if (typeof v === 'string') {
    const m = /^(-?\d+(?:\.\d+)?)s$/.exec(v);
    if (m) return Number(m[1]);
  }
  if (typeof v === 'object' && v !== null) {
    const d = v as { seconds?: unknown; nanos?: unknown };
    return Number(d.seconds ?? 0) + Number(d.nanos ?? 0) / 1e9;
  }
  return 0;
}

/** Read a google.rpc.Status body written in `encoding` (by us or any other receiver). */
export function decodeStatus(buf: Uint8Array, encoding: Encoding): DecodedStatus {
  const out: DecodedStatus = { code: 0, message: '', details: [] };
  if (encoding === 'json') {
    const o = jsonObject(parseJson(buf, 'google.rpc.Status'));
    if (typeof o.code === 'number') out.code = o.code;
    if (typeof o.message === 'string') out.message = o.message;
    if (Array.isArray(o.details)) {
      for (const raw of o.details) {
        const d = jsonObject(raw);
        if (d['@type'] === BAD_REQUEST_URL) {
          const list = Array.isArray(d.fieldViolations) ? d.fieldViolations : [];
          out.details.push({
            type: 'BadRequest',
            violations: list.map((x) => {
              const v = jsonObject(x);
              return { field: String(v.field ?? ''), description: String(v.description ?? '') };
            }),
          });
        } else if (d['@type'] === RETRY_INFO_URL) {
          out.details.push({ type: 'RetryInfo', retryDelaySeconds: durationSeconds(d.retryDelay) });
        }
      }
    }
    return out;
  }
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const r = new Reader(b, 'google.rpc.Status');
  r.each((f, w) => {
    if (f === 1 && w === 0) out.code = Number(BigInt.asIntN(32, r.varint()));
    else if (f === 2 && w === 2) out.message = r.bytes().toString('utf8');
    else if (f === 3 && w === 2) {
      const d = decodeDetailProto(r.bytes());
      if (d) out.details.push(d);
    } else return false;
    return true;
  });
  return out;
}

/** Read an Export<Signal>ServiceResponse: rejected count and message (0 and "" on full success). */
export function decodeExportResponse(signal: Signal, buf: Uint8Array, encoding: Encoding): PartialSuccess {
  const out: PartialSuccess = { rejected: 0, errorMessage: '' };
  if (encoding === 'json') {
    const ps = jsonObject(jsonObject(parseJson(buf, 'Export response')).partialSuccess);
    const n = ps[REJECTED_KEY[signal]];
    if (typeof n === 'string' || typeof n === 'number') out.rejected = Number(n);
    if (typeof ps.errorMessage === 'string') out.errorMessage = ps.errorMessage;
    return out;
  }
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const r = new Reader(b, 'Export response');
  r.each((f, w) => {
    if (f !== 1 || w !== 2) return false;
    const pr = new Reader(r.bytes(), 'ExportPartialSuccess');
    pr.each((pf, pw) => {
      if (pf === 1 && pw === 0) out.rejected = int64Signed(pr.varint());
      else if (pf === 2 && pw === 2) out.errorMessage = pr.bytes().toString('utf8');
      else return false;
      return true;
    });
    return true;
  });
  return out;
}
