// A lifecycle command run on a data directory (the CLI without --api): the store opened and
// migrated, whatever the write-ahead log still held stored first (an erase must not be undone
// by a later replay; an export must include every acknowledged row), the evidence key, and
// audit recorders writing into this node's chain segments.
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { loadRegistry, type Registry } from '../config/index.js';
import { ddlTarget, insertChunk, migrate, openStoreAt, type StoreLocation } from '../store/index.js';
import type { Store } from '../store/types.js';
import { loadEvidenceSigner, type EvidenceSigner } from '../reports/evidence-sign.js';
import { WriteAheadLog } from '../ingest/wal.js';
import { BatchWriter } from '../ingest/writer.js';
import { AuditIngest } from '../ingest/audit/ingest.js';
import { ChainWriter } from '../ingest/audit/chain.js';
import { nodeId } from '../node-id.js';
import { stageLogger } from '../log.js';
import type { AuditRecorder } from './restore.js';

export interface LifecycleContext {
  store: Store;
  registry: Registry;
  signer: EvidenceSigner;
  /** Writes into a tenant's chain. */
  audit: AuditRecorder;
  /** Writes into a chain of no tenant (the platform chain). */
  platformAudit: AuditRecorder;
  /** Who runs the command, as the audit events name them. */
  actor: string;
  dataDir: string;
  cluster?: string;
}

export interface OfflineFlags extends StoreLocation {
  config: string;
  evidenceKey?: string;
}

/** Run `fn` with the data directory's store open for a lifecycle command. */
export async function withLifecycle<T>(flags: OfflineFlags, fn: (ctx: LifecycleContext) => Promise<T>): Promise<T> {
  const registry = loadRegistry(flags.config);
  const signer = loadEvidenceSigner({ dataDir: flags.dataDir, keyFile: flags.evidenceKey });
  const target = ddlTarget(flags);
  const store = await openStoreAt(flags);
  try {
    await migrate(store, target);
    const { wal, replay } = await WriteAheadLog.open(join(flags.dataDir, 'wal'), stageLogger('wal'));
    const writer = new BatchWriter(store, stageLogger('writer'), {}, {}, wal);
    if (replay.length > 0) await writer.replay(replay);
    await writer.close();
    const actor = `cli:${userInfo().username}`;
    const audit = new AuditIngest(registry, new ChainWriter(store, nodeId(flags.dataDir)), (_table, rows) => insertChunk(store, rows).then(() => undefined));
    return await fn({
      store,
      registry,
      signer,
      audit: (tenant, event) => audit.record(tenant, [event], actor),
      platformAudit: (chain, event) => audit.recordPlatform(chain, [event], actor),
      actor,
      dataDir: flags.dataDir,
      ...(target.cluster ? { cluster: target.cluster } : {}),
    });
  } finally {
    await store.close();
  }
}
