// Public surface of OTLP decoding and reply encoding. Callers pick the decoder by the request's
// Content-Type and get the same rows from either encoding (types.ts): collected per resource
// group (decodeOtlp), or handed to a sink one by one as they are decoded (decodeOtlpInto,
// what ingest uses).
//
// Decoding contract:
// - undecodable input throws TS_ERR_OTLP_DECODE with the field path and (protobuf) byte offset
//   in the message and in `context.path` / `context.offset`;
// - an AnyValue nested deeper than the limits' maxDepth (default MAX_ANYVALUE_DEPTH) throws
//   TS_ERR_OTLP_NESTING;
// - attributes over the count limit or with over-long keys are dropped and counted, long
//   strings are cut (limits.ts); what was dropped or cut is in `limits`, for a warning;
// - individually invalid items (bad or missing ids) land in `invalid` and count as rejected;
// - resource envelopes left without items are dropped (PROTOCOL.md §2.5 allows it), so every
//   collected group has at least one item (a sink sees the empty group open and close).

import { decodeJsonInto } from './decode-json.js';
import { decodeProtobufInto } from './decode-proto.js';
import { GroupCollector } from './collect.js';
import type { Encoding } from './encode.js';
import { DEFAULT_DECODE_LIMITS } from './limits.js';
import type { AnyDecoded, DecodeLimits, DecodeOutcome, DecodeSink, DecodedLogs, DecodedMetrics, DecodedTraces, Signal } from './types.js';
import { tsError } from '../../errors.js';

export type * from './types.js';
export { MAX_ANYVALUE_DEPTH } from './flatten.js';
export { DEFAULT_DECODE_LIMITS, DEFAULT_MAX_ATTRIBUTES, DEFAULT_MAX_DEPTH, DEFAULT_MAX_STRING_LENGTH, limitWarning, truncateChars } from './limits.js';
export { decodeJson } from './decode-json.js';
export { decodeProtobuf } from './decode-proto.js';
export {
  encodeExportResponse,
  encodeStatus,
  decodeStatus,
  decodeExportResponse,
  type Encoding,
  type StatusBody,
  type StatusDetail,
  type BadRequestDetail,
  type RetryInfoDetail,
  type DecodedStatus,
} from './encode.js';

/** Decode an OTLP Export*ServiceRequest body of `signal` in `encoding` into grouped rows, within `limits`. */
export function decodeOtlp(signal: 'traces', body: Uint8Array, encoding: Encoding, limits?: DecodeLimits): DecodedTraces;
export function decodeOtlp(signal: 'metrics', body: Uint8Array, encoding: Encoding, limits?: DecodeLimits): DecodedMetrics;
export function decodeOtlp(signal: 'logs', body: Uint8Array, encoding: Encoding, limits?: DecodeLimits): DecodedLogs;
export function decodeOtlp(signal: Signal, body: Uint8Array, encoding: Encoding, limits?: DecodeLimits): AnyDecoded;
export function decodeOtlp(signal: Signal, body: Uint8Array, encoding: Encoding, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): AnyDecoded {
  const into = new GroupCollector();
  return into.decoded(decodeOtlpInto(signal, body, encoding, into, limits));
}

/** Decode an OTLP Export*ServiceRequest body of `signal` in `encoding`, handing each group and item to `into` as it is decoded. */
export function decodeOtlpInto(signal: Signal, body: Uint8Array, encoding: Encoding, into: DecodeSink<unknown>, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): DecodeOutcome {
  if (signal !== 'traces' && signal !== 'metrics' && signal !== 'logs') {
    throw tsError('TS_ERR_INTERNAL', [`decodeOtlp called with unknown signal ${JSON.stringify(signal)}`]);
  }
  if (encoding === 'protobuf') return decodeProtobufInto(signal, body, into, limits);
  if (encoding === 'json') return decodeJsonInto(signal, body, into, limits);
  throw tsError('TS_ERR_INTERNAL', [`decodeOtlp called with unknown encoding ${JSON.stringify(encoding)}`]);
}

/** Number of decoded (accepted) items: spans, data points or log records; `invalid` excluded. */
export function countItems(decoded: AnyDecoded): number {
  let n = 0;
  for (const g of decoded.groups) n += g.items.length;
  return n;
}
