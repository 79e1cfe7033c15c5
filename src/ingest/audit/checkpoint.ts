// Signed checkpoints of the audit chain: the head of every segment of every tenant, signed
// with the evidence key and written as one file per checkpoint, so `audit verify` can see
// what a bare hash chain cannot: events deleted from the end of a segment.
//
// Document: { checkpoint, signature }. `checkpoint` holds the format, time, node id, key id
// and, per tenant, every segment's { segment_id, head_seq, head_hash, events }; `signature` is
// Ed25519 over the RFC 8785 canonical form of `checkpoint` (the evidence conventions,
// evidence-sign.ts). The file is two-space JSON and a newline, named
// `<time as 20261122T101500123Z>-<node id>.json`, written once and never rewritten: into
// `<data-dir>/checkpoints` and, when configured, into a directory outside the data directory.
//
// Reading takes the newest file (by its name, which must match its signed time and node)
// that verifies against the trusted key; newer files that do not verify are reported as
// refused, never trusted. A segment checks out when the store still holds the checkpointed
// head: an event at head_seq with head_hash. Otherwise it is truncated, with the range gone.
//
// A checkpoint is taken against the previous one: a segment that lost a checkpointed head
// keeps that head in every later checkpoint (marked `carried_from`), so waiting for the next
// checkpoint cannot launder a deletion. Its current head is listed beside it, so events
// written after the loss are covered too.
import { createHash, verify, type KeyObject } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tsError } from '../../errors.js';
import { stageLogger } from '../../log.js';
import type { Store } from '../../store/types.js';
import { canonicalBytes, evidenceKeyId, evidencePublicKey, isObject, parsePublicKey, signDetached, strictBase64, type DetachedSignature, type EvidenceSigner } from '../../reports/evidence-sign.js';
import { ERASED_ACTION, PLATFORM_CHAIN, verifyChain, type CheckpointCheck, type CheckpointFailure, type CheckpointSegment, type RefusedCheckpoint, type SegmentHead, type TenantCheckpoint, type TruncatedSegment, type VerifyResult } from './chain.js';

/** Format marker of a checkpoint; bumped when its shape changes incompatibly. */
export const CHECKPOINT_FORMAT = 'tenantscope-checkpoint/1';

/** The checkpoints' folder inside the data directory. */
export const CHECKPOINTS_DIR = 'checkpoints';

/** What a checkpoint signs. */
export interface CheckpointContent {
  format: typeof CHECKPOINT_FORMAT;
  /** When the heads were read (ISO 8601, milliseconds, UTC). */
  time: string;
  /** The node that took it. */
  node_id: string;
  /** The signing key (evidence key id). */
  key_id: string;
  /** Per tenant id (sorted), every segment's head (by segment id, then seq). */
  tenants: Record<string, CheckpointSegment[]>;
}

/** An Ed25519 signature over the RFC 8785 canonical form of `checkpoint` (the evidence key's detached signature). */
export type CheckpointSignature = DetachedSignature;

/** A checkpoint document as written to its file. */
export interface Checkpoint {
  checkpoint: CheckpointContent;
  signature: CheckpointSignature;
}

/** A checkpointed segment of one tenant that lost its head. */
export interface TenantTruncation {
  tenant: string;
  truncated: TruncatedSegment;
}

/** A checkpoint just taken, and the segments found truncated against the previous one. */
export interface TakenCheckpoint {
  checkpoint: Checkpoint;
  truncated: TenantTruncation[];
}

/** The newest checkpoint that verified, where it was read, and the newer files refused. */
export interface CheckpointReading {
  latest?: { checkpoint: Checkpoint; file: string; source: TenantCheckpoint['source']; sha256: string };
  refused: RefusedCheckpoint[];
}

/**
 * Read the head of every segment of every tenant from the store and sign it. With `previous`,
 * its heads the store no longer holds are carried into this checkpoint and returned as
 * truncated.
 */
export async function takeCheckpoint(store: Store, signer: EvidenceSigner, nodeId: string, previous?: Checkpoint, nowMs = Date.now()): Promise<TakenCheckpoint> {
  const time = new Date(nowMs).toISOString();
  const tenants = await storedHeads(store);
  const lost = previous ? await findTruncations(store, checkedEntries(previous.checkpoint)) : [];
  for (const l of lost) (tenants[l.tenant] ??= []).push({ ...l.entry, carried_from: l.signedAt });
  const sorted: Record<string, CheckpointSegment[]> = {};
  for (const id of Object.keys(tenants).sort()) sorted[id] = tenants[id]!.sort((a, b) => (a.segment_id < b.segment_id ? -1 : a.segment_id > b.segment_id ? 1 : a.head_seq - b.head_seq));
  const content: CheckpointContent = { format: CHECKPOINT_FORMAT, time, node_id: nodeId, key_id: signer.keyId, tenants: sorted };
  const signature: CheckpointSignature = signDetached(signer, content);
  return { checkpoint: { checkpoint: content, signature }, truncated: lost.map((l) => ({ tenant: l.tenant, truncated: l.truncated })) };
}

/** The file form of a checkpoint: two-space JSON and a newline, the bytes verification expects. */
export function checkpointJson(cp: Checkpoint): string {
  return `${JSON.stringify(cp, null, 2)}\n`;
}

/** `<time as 20261122T101500123Z>-<node id>.json`: names sort by time. */
export function checkpointFileName(content: Pick<CheckpointContent, 'time' | 'node_id'>): string {
  return `${content.time.replace(/[-:.]/g, '')}-${content.node_id}.json`;
}

const FILE_NAME = /^\d{8}T\d{9}Z-[a-z0-9-]{4,64}\.json$/;

/** `<data-dir>/checkpoints`. */
export function checkpointsDir(dataDir: string): string {
  return join(dataDir, CHECKPOINTS_DIR);
}

/**
 * Write a checkpoint into `dir` (which must exist) under its own name; returns the path. The
 * file is never replaced: a file of that name with other bytes is an error, the same bytes are
 * already written. Throws TS_ERR_CHECKPOINT with the directory and cause.
 */
export function writeCheckpoint(cp: Checkpoint, dir: string): string {
  return writeCheckpointText(checkpointFileName(cp.checkpoint), checkpointJson(cp), dir);
}

/** Write a checkpoint file's text under `name` into `dir`: written whole (temporary file, fsync, rename) or not at all. */
export function writeCheckpointText(name: string, text: string, dir: string): string {
  const path = join(dir, name);
  const fail = (e: NodeJS.ErrnoException) => tsError('TS_ERR_CHECKPOINT', [name, dir, e.message], { file: name, dir, errno: e.code });
  let existing: string | undefined;
  try {
    existing = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fail(e as NodeJS.ErrnoException);
  }
  if (existing !== undefined) {
    if (existing === text) return path;
    throw tsError('TS_ERR_CHECKPOINT', [name, dir, 'a different file of that name exists and is never replaced'], { file: name, dir });
  }
  const tmp = join(dir, `.${name}.${process.pid}.tmp`);
  try {
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw fail(e as NodeJS.ErrnoException);
  }
  return path;
}

/** What `verifyCheckpoint` found. */
export type CheckpointVerification = { valid: true; checkpoint: Checkpoint } | { valid: false; reason: CheckpointFailure; message: string };

const refuse = (reason: CheckpointFailure, message: string): CheckpointVerification => ({ valid: false, reason, message });

/**
 * Verify a checkpoint file's text: JSON of the expected shape, byte for byte as written, named
 * for its own time and node (when `name` is given), and signed by `publicKey`. Messages never
 * name a tenant: they may be shown to any tenant's reader.
 */
export function verifyCheckpoint(text: string, publicKey: string | KeyObject, name?: string): CheckpointVerification {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    // Not the parser's message: it quotes the text, which may name a tenant.
    return refuse('not_json', 'the file is not JSON (cut short or damaged)');
  }
  const field = shapeProblem(doc);
  if (field) return refuse('bad_shape', field);
  const cp = doc as Checkpoint;
  if (text !== checkpointJson(cp)) return refuse('not_as_written', 'the file is not byte for byte as tenantscope wrote it (spacing, key order, escapes or a duplicate key changed)');
  if (name !== undefined && name !== checkpointFileName(cp.checkpoint)) return refuse('not_as_named', `the file is named ${name}, but holds the checkpoint ${checkpointFileName(cp.checkpoint)}`);
  const trusted = typeof publicKey === 'string' ? parsePublicKey(publicKey) : publicKey;
  if (!trusted) return refuse('key_mismatch', 'the trusted key is not an Ed25519 public key');
  const embedded = parsePublicKey(cp.signature.public_key);
  const trustedId = evidenceKeyId(trusted);
  if (!embedded || !embedded.equals(trusted) || cp.signature.key_id !== trustedId || cp.checkpoint.key_id !== trustedId) {
    return refuse('key_mismatch', `signed by key ${cp.signature.key_id}, not by the trusted evidence key ${trustedId}`);
  }
  if (!verify(null, canonicalBytes(cp.checkpoint), trusted, strictBase64(cp.signature.value)!)) {
    return refuse('signature_mismatch', 'the signature does not match the checkpoint: it was changed after it was signed');
  }
  return { valid: true, checkpoint: cp };
}

/** The first field that does not have the checkpoint shape, as `path: what was expected`; undefined when none. */
function shapeProblem(doc: unknown): string | undefined {
  if (!isObject(doc)) return '(document): expected a JSON object with checkpoint and signature';
  const { checkpoint: c, signature: s } = doc;
  if (!isObject(c)) return 'checkpoint: expected an object';
  if (!isObject(s)) return 'signature: expected an object';
  if (s.algorithm !== 'Ed25519') return 'signature.algorithm: expected "Ed25519"';
  if (s.canonicalization !== 'RFC 8785') return 'signature.canonicalization: expected "RFC 8785"';
  for (const k of ['key_id', 'public_key']) if (typeof s[k] !== 'string' || s[k] === '') return `signature.${k}: expected a non-empty string`;
  const value = typeof s.value === 'string' ? strictBase64(s.value) : undefined;
  if (!value || value.length !== 64) return 'signature.value: expected a 64-byte Ed25519 signature in base64';
  if (c.format !== CHECKPOINT_FORMAT) return `checkpoint.format: expected "${CHECKPOINT_FORMAT}"`;
  if (!isTime(c.time)) return 'checkpoint.time: expected an ISO 8601 UTC time with milliseconds';
  if (typeof c.node_id !== 'string' || !/^[a-z0-9-]{4,64}$/.test(c.node_id)) return 'checkpoint.node_id: expected a node id';
  if (typeof c.key_id !== 'string') return 'checkpoint.key_id: expected a string';
  if (!isObject(c.tenants)) return 'checkpoint.tenants: expected an object';
  for (const segments of Object.values(c.tenants)) {
    // Which tenant is not said: the message may reach another tenant's reader.
    if (!Array.isArray(segments)) return 'checkpoint.tenants[*]: expected an array of segments';
    for (const x of segments as unknown[]) {
      if (!isObject(x) || typeof x.segment_id !== 'string') return 'checkpoint.tenants[*][*].segment_id: expected a string';
      if (!isCount(x.head_seq) || !isCount(x.events)) return 'checkpoint.tenants[*][*]: head_seq and events must be whole numbers >= 0';
      // Whatever the store held is signed as it was: a malformed stored hash must not make the checkpoint unreadable.
      if (typeof x.head_hash !== 'string') return 'checkpoint.tenants[*][*].head_hash: expected a string';
      if (x.carried_from !== undefined && !isTime(x.carried_from)) return 'checkpoint.tenants[*][*].carried_from: expected an ISO 8601 UTC time';
    }
  }
  return undefined;
}

const isCount = (x: unknown) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
const isTime = (x: unknown) => typeof x === 'string' && !Number.isNaN(Date.parse(x)) && new Date(Date.parse(x)).toISOString() === x;

/**
 * The newest checkpoint in `<dataDir>/checkpoints` and `outsideDir` that verifies against
 * `publicKey` (default: the evidence key kept in the data dir), and every newer copy refused
 * with its reason. Without any trusted key, every file is refused.
 */
export function readCheckpoints(dataDir: string, outsideDir?: string, publicKey?: string | KeyObject): CheckpointReading {
  const dirs: Array<{ source: TenantCheckpoint['source']; path: string }> = [{ source: 'data_dir', path: checkpointsDir(dataDir) }];
  if (outsideDir) dirs.push({ source: 'checkpoint_dir', path: outsideDir });
  const refused: RefusedCheckpoint[] = [];
  const copies = new Map<string, typeof dirs>();
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir.path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // A data dir without checkpoints yet is normal; an outside dir that is gone is not.
      if (code !== 'ENOENT' || dir.source === 'checkpoint_dir') refused.push({ file: '.', source: dir.source, reason: 'unreadable', message: `the directory cannot be listed (${code ?? 'error'})` });
      continue;
    }
    for (const name of names) if (FILE_NAME.test(name)) copies.set(name, [...(copies.get(name) ?? []), dir]);
  }
  const key = publicKey ?? evidencePublicKey({ dataDir });
  for (const name of [...copies.keys()].sort().reverse()) {
    for (const dir of copies.get(name)!) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(join(dir.path, name));
      } catch (e) {
        refused.push({ file: name, source: dir.source, reason: 'unreadable', message: `the file cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})` });
        continue;
      }
      const result = key ? verifyCheckpoint(bytes.toString('utf8'), key, name) : refuse('key_mismatch', 'there is no evidence key to check it against (configure --evidence-key)');
      if (result.valid) return { latest: { checkpoint: result.checkpoint, file: name, source: dir.source, sha256: createHash('sha256').update(bytes).digest('hex') }, refused };
      refused.push({ file: name, source: dir.source, reason: result.reason, message: result.message });
    }
  }
  return { refused };
}

/**
 * The newest valid checkpoint in the data dir and the outside dir (see readCheckpoints);
 * refused files are logged, not returned.
 */
export function readLatestCheckpoint(dataDir: string, outsideDir?: string, publicKey?: string | KeyObject): Checkpoint | undefined {
  const reading = readCheckpoints(dataDir, outsideDir, publicKey);
  const log = stageLogger('checkpoint');
  for (const r of reading.refused) log.warn({ file: r.file, source: r.source, reason: r.reason, detail: r.message }, 'checkpoint refused: not trusted');
  return reading.latest?.checkpoint;
}

/** One tenant's part of a checkpoint read from a file; null without a checkpoint. */
export function tenantCheckpoint(reading: CheckpointReading, tenantId: string): TenantCheckpoint | null {
  const l = reading.latest;
  if (!l) return null;
  const c = l.checkpoint.checkpoint;
  return { file: l.file, source: l.source, sha256: l.sha256, time: c.time, node_id: c.node_id, key_id: c.key_id, segments: c.tenants[tenantId] ?? [] };
}

/**
 * Verify a tenant's chain and check every segment of its part of the latest checkpoint. See
 * VerifyResult for the precedence of broken over truncated over ok.
 */
export async function verifyWithCheckpoint(store: Store, tenantId: string, reading: CheckpointReading): Promise<VerifyResult> {
  const chain = await verifyChain(store, tenantId);
  const truncated = await truncatedSegments(store, tenantId, reading);
  const checkpoint: CheckpointCheck = { latest: tenantCheckpoint(reading, tenantId), refused: reading.refused };
  if (chain.status === 'broken') return truncated.length > 0 ? { ...chain, truncated, checkpoint } : { ...chain, checkpoint };
  if (truncated.length > 0) return { tenant: chain.tenant, status: 'truncated', events: chain.events, segments: chain.segments, truncated, checkpoint };
  return { ...chain, checkpoint };
}

/** The segments of a tenant whose head in the latest checkpoint the store no longer holds. */
export async function truncatedSegments(store: Store, tenantId: string, reading: CheckpointReading): Promise<TruncatedSegment[]> {
  const latest = tenantCheckpoint(reading, tenantId);
  if (!latest) return [];
  const lost = await findTruncations(store, latest.segments.map((entry) => ({ tenant: tenantId, entry, signedAt: entry.carried_from ?? latest.time })));
  return lost.map((l) => l.truncated);
}

/** When each of `tenants` was last erased (ms), from the platform chain. */
async function erasures(store: Store, tenants: readonly string[]): Promise<Map<string, number>> {
  if (tenants.length === 0) return new Map();
  const rows = await store.query<{ tenant: string; ms: string }>(
    `SELECT target_id AS tenant, toString(toUnixTimestamp64Milli(max(time))) AS ms FROM audit_events
      WHERE tenant_id = {platform:String} AND action = {action:String} AND target_id IN {tenants:Array(String)}
      GROUP BY target_id`,
    { platform: PLATFORM_CHAIN, action: ERASED_ACTION, tenants: [...tenants] },
  );
  return new Map(rows.map((r) => [r.tenant, Number(r.ms)]));
}

/** A checkpointed head to look for in the store, and when it was first signed. */
interface HeadCheck {
  tenant: string;
  entry: CheckpointSegment;
  signedAt: string;
}

function checkedEntries(c: CheckpointContent): HeadCheck[] {
  return Object.entries(c.tenants).flatMap(([tenant, segments]) => segments.map((entry) => ({ tenant, entry, signedAt: entry.carried_from ?? c.time })));
}

/** The checkpointed heads the store no longer holds, with what is gone. */
// A head signed before its tenant was erased is gone by that erasure, which the platform chain
// records and signs (tenant.erased): that is not a truncation, and the head is not carried on.
async function findTruncations(store: Store, checks: readonly HeadCheck[]): Promise<Array<HeadCheck & { truncated: TruncatedSegment }>> {
  const erased = await erasures(store, [...new Set(checks.map((c) => c.tenant))]);
  checks = checks.filter((c) => !(Date.parse(c.signedAt) < (erased.get(c.tenant) ?? -Infinity)));
  const found = await hashesAt(store, checks.map((c) => ({ tenant: c.tenant, segment: c.entry.segment_id, seq: c.entry.head_seq })));
  const out: Array<HeadCheck & { truncated: TruncatedSegment }> = [];
  for (const c of checks) {
    const hashes = found.get(positionKey(c.tenant, c.entry.segment_id, c.entry.head_seq)) ?? [];
    if (!hashes.includes(c.entry.head_hash)) out.push({ ...c, truncated: await describeTruncation(store, c) });
  }
  return out;
}

/** Every segment's head in the store, per tenant. */
async function storedHeads(store: Store): Promise<Record<string, CheckpointSegment[]>> {
  // Key columns only: the hashes are read at the heads alone (an index lookup per segment).
  const heads = await store.query<{ tenant_id: string; segment_id: string; head_seq: string; events: string }>(
    'SELECT tenant_id, segment_id, max(seq) AS head_seq, count() AS events FROM audit_events GROUP BY tenant_id, segment_id',
  );
  const hashes = await hashesAt(store, heads.map((h) => ({ tenant: h.tenant_id, segment: h.segment_id, seq: Number(h.head_seq) })));
  const out: Record<string, SegmentHead[]> = {};
  for (const h of heads) {
    const seq = Number(h.head_seq);
    // Two rows at one seq only exist in a broken chain; the checkpoint signs one of them, the same one every time.
    const hash = (hashes.get(positionKey(h.tenant_id, h.segment_id, seq)) ?? []).sort()[0];
    // Deleted between the two queries: this checkpoint leaves the segment out (the previous one still counts).
    if (hash === undefined) continue;
    (out[h.tenant_id] ??= []).push({ segment_id: h.segment_id, events: Number(h.events), head_seq: seq, head_hash: hash });
  }
  return out;
}

const positionKey = (tenant: string, segment: string, seq: number) => JSON.stringify([tenant, segment, seq]);

/** The hashes stored at each (tenant, segment, seq), in one query. */
async function hashesAt(store: Store, positions: ReadonlyArray<{ tenant: string; segment: string; seq: number }>): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (positions.length === 0) return out;
  const rows = await store.query<{ tenant_id: string; segment_id: string; seq: string; hash: string }>(
    `SELECT tenant_id, segment_id, seq, hash FROM audit_events
      WHERE (tenant_id, segment_id, seq) IN (
        SELECT tupleElement(p, 1), tupleElement(p, 2), tupleElement(p, 3)
          FROM (SELECT arrayJoin(arrayZip({tenants:Array(String)}, {segments:Array(String)}, {seqs:Array(UInt64)})) AS p))`,
    { tenants: positions.map((p) => p.tenant), segments: positions.map((p) => p.segment), seqs: positions.map((p) => p.seq) },
  );
  for (const r of rows) {
    const k = positionKey(r.tenant_id, r.segment_id, Number(r.seq));
    out.set(k, [...(out.get(k) ?? []), r.hash]);
  }
  return out;
}

/** What is gone from a segment whose checkpointed head the store no longer holds. */
async function describeTruncation(store: Store, c: HeadCheck): Promise<TruncatedSegment> {
  const { entry, signedAt } = c;
  const [row] = await store.query<{ stored_head: string; below: string; later_from: string; found: string }>(
    `SELECT max(seq) AS stored_head, maxIf(seq, seq < {head:UInt64}) AS below,
            minIf(seq, seq <= {head:UInt64} AND received_at > fromUnixTimestamp64Milli({signed:Int64})) AS later_from,
            anyIf(hash, seq = {head:UInt64}) AS found
       FROM audit_events WHERE tenant_id = {tenant:String} AND segment_id = {segment:String}`,
    { tenant: c.tenant, segment: entry.segment_id, head: entry.head_seq, signed: Date.parse(signedAt) },
  );
  const storedHead = Number(row?.stored_head ?? 0);
  const found = row?.found ?? '';
  const base = { segment_id: entry.segment_id, to_seq: entry.head_seq, checkpoint_head_seq: entry.head_seq, checkpoint_head_hash: entry.head_hash, checkpointed_at: signedAt, stored_head_seq: storedHead, found_hash: found };
  const head = `the head checkpointed at ${signedAt} (seq ${entry.head_seq})`;
  if (found === '') {
    const from = Number(row?.below ?? 0) + 1;
    const now = storedHead === 0 ? 'no event of the segment is stored' : storedHead < entry.head_seq ? `the segment now ends at seq ${storedHead}` : 'later events are stored';
    return { ...base, reason: 'missing', from_seq: from, detail: `events ${from}..${entry.head_seq} of segment ${entry.segment_id} are gone, up to ${head}; ${now}` };
  }
  // Events received after the checkpoint cannot be the ones it signed: where they start is
  // where the replacement starts, as far as the stored receipt times tell.
  const later = Number(row?.later_from ?? 0);
  const from = later > 0 ? later : 1;
  const how = later > 0 ? `events received after the checkpoint hold seqs ${from}..${entry.head_seq}` : 'the stored chain up to that seq is not the checkpointed one';
  return { ...base, reason: 'replaced', from_seq: from, detail: `the event stored at seq ${entry.head_seq} of segment ${entry.segment_id} is not ${head}: ${how}` };
}

/** Whether a file name is a checkpoint's (for directory listings). */
export function isCheckpointFileName(name: string): boolean {
  return FILE_NAME.test(name);
}
