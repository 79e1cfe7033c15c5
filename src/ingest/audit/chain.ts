// The per-tenant audit hash chain. Each event stores prev_hash and
// hash = SHA-256(canonical(event) + "\n" + prev_hash), where canonical() is JSON with sorted
// keys over exactly the stored fields (including segment and sequence number), so
// verification can recompute every hash from the rows alone.
//
// Every writing node appends to its own segment per tenant (segment_id = the node's id), so
// nodes never contend for one head; a segment starts from an empty prev_hash and
// verification walks every segment. After a tenant is erased its new events start segments of
// a new generation (`<node>.<erasure ms>`), so a restore of the erased events never meets
// newer events in the same segment. Appends of one tenant are serialised on this node and the
// head only moves once the rows are stored, so a failed insert never leaves a gap.
import { chunkOf, type ColumnChunk } from '../../store/native.js';
import { AUDIT_EVENTS } from '../../store/schemas.js';
import { createHash } from 'node:crypto';
import type { Store } from '../../store/types.js';
import type { AuditEvent, ChainedAuditEvent } from './types.js';

/** The canonical text hashed for an event: sorted-key JSON of its stored fields. */
export function canonicalEvent(e: ChainedAuditEvent): string {
  const attrs: Record<string, string> = {};
  for (const k of Object.keys(e.attributes).sort()) attrs[k] = e.attributes[k]!;
  // Keys listed in sorted order by hand: the shape is fixed, and sorting at run time would
  // only re-derive this order.
  return JSON.stringify({
    action: e.action,
    actor: { id: e.actorId, tenant_id: e.actorTenantId, type: e.actorType },
    attributes: attrs,
    flags: [...e.flags].sort(),
    id: e.eventId,
    outcome: e.outcome,
    region: e.region,
    segment_id: e.segmentId,
    seq: e.seq,
    source_ip: e.sourceIp,
    target: { id: e.targetId, tenant_id: e.targetTenantId, type: e.targetType },
    tenant_id: e.tenantId,
    ticket: e.ticket,
    time_ns: e.timeNs,
  });
}

/** The hash of an event given its predecessor's hash. */
export function eventHash(e: ChainedAuditEvent): string {
  return createHash('sha256').update(canonicalEvent(e)).update('\n').update(e.prevHash).digest('hex');
}


/** Chained events as a chunk of `audit_events` rows. */
export function auditRows(events: ChainedAuditEvent[], retentionDays: number, tokenName: string): ColumnChunk {
  return chunkOf(
    AUDIT_EVENTS,
    events.map((e) => ({
      tenant_id: e.tenantId, segment_id: e.segmentId, seq: e.seq, event_id: e.eventId, time: e.timeNs, actor_id: e.actorId, actor_type: e.actorType,
      actor_tenant_id: e.actorTenantId, action: e.action, target_type: e.targetType, target_id: e.targetId, target_tenant_id: e.targetTenantId,
      outcome: e.outcome, region: e.region, source_ip: e.sourceIp, ticket: e.ticket, attributes: e.attributes, flags: e.flags,
      prev_hash: e.prevHash, hash: e.hash, token_name: tokenName, retention_days: retentionDays,
    })),
  );
}

interface Head {
  segment: string;
  seq: number;
  hash: string;
}

/** The audit chain of events about the platform itself (tenant erasures), verified with `audit verify --platform`. */
export const PLATFORM_CHAIN = '_platform';
/** The platform chain's action for an erased tenant. */
export const ERASED_ACTION = 'tenant.erased';

/** Appends events to this node's chain segment of each tenant. */
export class ChainWriter {
  private readonly heads = new Map<string, Head>();
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: Store,
    /** This node's segment id. */
    readonly segmentId: string,
  ) {}

  /**
   * Chain `events` (all of one tenant) after the segment head and hand them to `persist`;
   * the head moves only when `persist` resolves. Appends of one tenant run one at a time.
   */
  append(tenantId: string, events: AuditEvent[], persist: (chained: ChainedAuditEvent[]) => Promise<void>): Promise<ChainedAuditEvent[]> {
    const prior = this.locks.get(tenantId) ?? Promise.resolve();
    const run = prior.then(async () => {
      const head = await this.head(tenantId);
      let { seq, hash } = head;
      const segment = head.segment;
      const chained = events.map((e) => {
        const c: ChainedAuditEvent = { ...e, segmentId: segment, seq: ++seq, prevHash: hash, hash: '' };
        c.hash = eventHash(c);
        hash = c.hash;
        return c;
      });
      await persist(chained);
      this.heads.set(tenantId, { segment, seq, hash });
      return chained;
    });
    const settled = run.catch(() => undefined);
    this.locks.set(tenantId, settled);
    void settled.then(() => {
      if (this.locks.get(tenantId) === settled) this.locks.delete(tenantId);
    });
    return run;
  }

  /** Forget a tenant's cached head (its chain was erased or restored underneath): the next append reads it again. */
  forget(tenantId: string): void {
    this.heads.delete(tenantId);
  }

  // A tenant that was ever erased writes, on every node, into segments of a new generation
  // (`<node>.<erasure ms>`): events recorded after the erasure must not take sequence numbers
  // that a later restore of the erased events brings back into the old segment.
  private async head(tenantId: string): Promise<Head> {
    const known = this.heads.get(tenantId);
    if (known) return known;
    let segment = this.segmentId;
    if (tenantId !== PLATFORM_CHAIN) {
      const [erased] = await this.store.query<{ n: string; ms: string }>(
        `SELECT count() AS n, toString(toUnixTimestamp64Milli(max(time))) AS ms FROM audit_events
          WHERE tenant_id = {platform:String} AND action = {action:String} AND target_id = {tenant:String}`,
        { platform: PLATFORM_CHAIN, action: ERASED_ACTION, tenant: tenantId },
      );
      if (erased && Number(erased.n) > 0) segment = `${this.segmentId}.${erased.ms}`;
    }
    const rows = await this.store.query<{ seq: string; hash: string }>(
      `SELECT seq, hash FROM audit_events
        WHERE tenant_id = {tenant:String} AND segment_id = {segment:String}
        ORDER BY seq DESC LIMIT 1`,
      { tenant: tenantId, segment },
    );
    const head = rows[0] ? { segment, seq: Number(rows[0].seq), hash: rows[0].hash } : { segment, seq: 0, hash: '' };
    this.heads.set(tenantId, head);
    return head;
  }
}

export interface SegmentHead {
  segment_id: string;
  events: number;
  head_seq: number;
  head_hash: string;
}

export interface BrokenLink {
  segment_id: string;
  seq: number;
  event_id: string;
  reason: 'hash_mismatch' | 'prev_hash_mismatch' | 'missing_events';
  expected_hash: string;
  found_hash: string;
  detail: string;
}

/** A segment head as a checkpoint signed it. */
export interface CheckpointSegment extends SegmentHead {
  /**
   * Set when this head was no longer in the store when the checkpoint was taken: the time of
   * the checkpoint that first signed it, carried forward so a later checkpoint cannot hide
   * the loss. The segment's current head is then listed beside it.
   */
  carried_from?: string;
}

/** One tenant's part of a checkpoint: never another tenant's heads. */
export interface TenantCheckpoint {
  /** The checkpoint file's name (the same in the data dir and the outside dir). */
  file: string;
  /** Where the copy that verified was read: `<data-dir>/checkpoints` or `--checkpoint-dir`. */
  source: 'data_dir' | 'checkpoint_dir';
  /** SHA-256 of the whole file, to find the same file in either directory later. */
  sha256: string;
  time: string;
  node_id: string;
  key_id: string;
  segments: CheckpointSegment[];
}

/** Why a checkpoint file was not trusted. */
export type CheckpointFailure = 'unreadable' | 'not_json' | 'bad_shape' | 'not_as_written' | 'not_as_named' | 'key_mismatch' | 'signature_mismatch';

/** A checkpoint file newer than the one used that failed verification (reported, never trusted). */
export interface RefusedCheckpoint {
  file: string;
  source: 'data_dir' | 'checkpoint_dir';
  reason: CheckpointFailure;
  message: string;
}

/** The checkpoint a verification was checked against. */
export interface CheckpointCheck {
  /** The tenant's part of the newest checkpoint that verified; null when there is none. */
  latest: TenantCheckpoint | null;
  refused: RefusedCheckpoint[];
}

/** A segment that lost events up to a checkpointed head: the tail deletion a bare chain cannot see. */
export interface TruncatedSegment {
  segment_id: string;
  /** missing: no stored event at the checkpointed seq; replaced: another event holds its place. */
  reason: 'missing' | 'replaced';
  /** The range of seqs whose checkpointed events are gone, both ends included. */
  from_seq: number;
  to_seq: number;
  checkpoint_head_seq: number;
  checkpoint_head_hash: string;
  /** When the head was signed. */
  checkpointed_at: string;
  /** The segment's highest stored seq now (0: nothing stored). */
  stored_head_seq: number;
  /** Hash of the event stored at the checkpointed seq; '' when there is none. */
  found_hash: string;
  detail: string;
}

/**
 * What `audit verify` answers. Precedence: `broken` (a stored event changed, or a gap inside
 * the stored chain) over `truncated` (the chain is intact but ends before, or diverges from, a
 * checkpointed head) over `ok`. A broken result still lists the truncated segments found.
 * `checkpoint` is present when the verification looked for checkpoints.
 */
export type VerifyResult =
  | { tenant: string; status: 'ok'; events: number; segments: SegmentHead[]; checkpoint?: CheckpointCheck }
  | { tenant: string; status: 'broken'; events: number; segments: SegmentHead[]; broken: BrokenLink; truncated?: TruncatedSegment[]; checkpoint?: CheckpointCheck }
  | { tenant: string; status: 'truncated'; events: number; segments: SegmentHead[]; truncated: TruncatedSegment[]; checkpoint?: CheckpointCheck };

interface AuditRow {
  tenant_id: string;
  segment_id: string;
  seq: string;
  event_id: string;
  time_ns: string;
  actor_id: string;
  actor_type: string;
  actor_tenant_id: string;
  action: string;
  target_type: string;
  target_id: string;
  target_tenant_id: string;
  outcome: string;
  region: string;
  source_ip: string;
  ticket: string;
  attributes: Record<string, string>;
  flags: string[];
  prev_hash: string;
  hash: string;
}

function fromRow(r: AuditRow): ChainedAuditEvent {
  return {
    tenantId: r.tenant_id,
    eventId: r.event_id,
    timeNs: r.time_ns,
    actorId: r.actor_id,
    actorType: r.actor_type,
    actorTenantId: r.actor_tenant_id,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    targetTenantId: r.target_tenant_id,
    outcome: r.outcome,
    region: r.region,
    sourceIp: r.source_ip,
    ticket: r.ticket,
    attributes: r.attributes,
    flags: r.flags as ChainedAuditEvent['flags'],
    segmentId: r.segment_id,
    seq: Number(r.seq),
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

const PAGE = 10_000;

/**
 * Recompute every segment of a tenant's chain; name the first broken link, if any. With
 * `from` (the segments of an earlier ok result), each segment is checked only after the head
 * verified then: new links are checked, the old ones are trusted as verified.
 */
export async function verifyChain(store: Store, tenantId: string, from?: readonly SegmentHead[]): Promise<VerifyResult> {
  const segmentRows = await store.query<{ segment_id: string }>(
    'SELECT DISTINCT segment_id FROM audit_events WHERE tenant_id = {tenant:String} ORDER BY segment_id',
    { tenant: tenantId },
  );
  const verified = new Map((from ?? []).map((h) => [h.segment_id, h]));
  const segments: SegmentHead[] = [];
  let total = 0;
  for (const { segment_id } of segmentRows) {
    const known = verified.get(segment_id);
    let prevHash = known?.head_hash ?? '';
    let prevSeq = known?.head_seq ?? 0;
    let events = known?.events ?? 0;
    for (;;) {
      const rows = await store.query<AuditRow>(
        `SELECT *, toString(toUnixTimestamp64Nano(time)) AS time_ns FROM audit_events
          WHERE tenant_id = {tenant:String} AND segment_id = {segment:String} AND seq > {after:UInt64}
          ORDER BY seq LIMIT ${PAGE}`,
        { tenant: tenantId, segment: segment_id, after: prevSeq },
      );
      for (const row of rows) {
        const e = fromRow(row);
        const head = (): SegmentHead => ({ segment_id, events, head_seq: prevSeq, head_hash: prevHash });
        const broken = (b: Omit<BrokenLink, 'segment_id' | 'seq' | 'event_id'>): VerifyResult => ({
          tenant: tenantId,
          status: 'broken',
          events: total + events,
          segments: [...segments, head()],
          broken: { segment_id, seq: e.seq, event_id: e.eventId, ...b },
        });
        if (e.seq !== prevSeq + 1) {
          return broken({
            reason: 'missing_events',
            expected_hash: prevHash,
            found_hash: e.prevHash,
            detail: `events ${prevSeq + 1}..${e.seq - 1} of segment ${segment_id} are missing before event ${e.eventId}`,
          });
        }
        if (e.prevHash !== prevHash) {
          return broken({
            reason: 'prev_hash_mismatch',
            expected_hash: prevHash,
            found_hash: e.prevHash,
            detail: `event ${e.eventId} does not link to the event before it`,
          });
        }
        const recomputed = eventHash(e);
        if (recomputed !== e.hash) {
          return broken({
            reason: 'hash_mismatch',
            expected_hash: recomputed,
            found_hash: e.hash,
            detail: `event ${e.eventId} was changed after it was stored`,
          });
        }
        prevHash = e.hash;
        prevSeq = e.seq;
        events++;
      }
      if (rows.length < PAGE) break;
    }
    segments.push({ segment_id, events, head_seq: prevSeq, head_hash: prevHash });
    total += events;
  }
  return { tenant: tenantId, status: 'ok', events: total, segments };
}
