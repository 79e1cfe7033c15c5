// Starts the service: registry, store (migrated), ingest pipeline, and the three listeners
// (OTLP/HTTP, OTLP/gRPC and the API). Used by `tenantscope serve` and, in-process, by the tests.
import type { AddressInfo } from 'node:net';
import { loadRegistry, type Registry } from './config/index.js';
import { DEFAULT_MERGE_NICE, lowerMergePriority } from './store/merge-priority.js';
import { ddlTarget, migrate, openStoreAt, type Store, type StoreLocation } from './store/index.js';
import { BatchWriter, type WriterOptions } from './ingest/writer.js';
import { WriteAheadLog, type WalOptions } from './ingest/wal.js';
import { join } from 'node:path';
import { IngestPipeline } from './ingest/pipeline.js';
import { buildOtlpHttpApp } from './http/otlp.js';
import { listenOtlpGrpc, type OtlpGrpcListener } from './grpc/otlp-grpc.js';
import { createOtlpReceiver, createQuotaGate } from './ingest/receive.js';
import { TenantQuotas } from './ingest/quota.js';
import { FairScheduler, type FairOptions } from './ingest/fair.js';
import { MemoryGuard, type MemoryLimits } from './ingest/memory.js';
import { totalmem } from 'node:os';
import { buildApiApp } from './http/api.js';
import type { DeclaredRoute } from './http/access.js';
import { TenantscopeMetrics, type MetricsOptions } from './telemetry/metrics.js';
import { ReportGauges } from './telemetry/report-gauges.js';
import { startSelfTracing, type SelfTraceOptions } from './telemetry/self-trace.js';
import { stageLogger } from './log.js';
import { tsError } from './errors.js';
import { ChainWriter } from './ingest/audit/chain.js';
import { AuditIngest } from './ingest/audit/ingest.js';
import { nodeId } from './node-id.js';
import { Redactor } from './ingest/redact/index.js';
import { RedactionStage } from './ingest/redact-stage.js';
import { redactionKey } from './ingest/redaction-key.js';
import { PolicyService } from './policy/service.js';
import type { StreamOptions } from './policy/stream.js';
import { fromRoot } from './paths.js';
import { loadEvidenceSigner } from './reports/evidence-sign.js';
import { Checkpointer, DEFAULT_CHECKPOINT_INTERVAL_MS, type WrittenCheckpoint } from './ingest/audit/checkpointer.js';
import { readCheckpoints, type CheckpointReading } from './ingest/audit/checkpoint.js';

/** Where the store is (data dir, or a ClickHouse server or cluster) and everything else `serve` takes. */
export interface ServeOptions extends StoreLocation {
  configPath: string;
  host: string;
  otlpHttpPort: number;
  otlpGrpcPort: number;
  apiPort: number;
  /** Redact cross-tenant identifiers, secrets and PII before storage (default true). */
  redaction?: boolean;
  /** Shared secret for redaction markers (all nodes of a deployment); default: a key in the data dir. */
  redactionKey?: string;
  /** Ed25519 private key (PKCS#8 PEM file) that signs evidence; default: a key generated once into the data dir. */
  evidenceKey?: string;
  /** Overrides the registry's `settings.max_request_bytes`. */
  maxRequestBytes?: number;
  /** Overrides the registry's `settings.limits.max_decompressed_bytes`. */
  maxDecompressedBytes?: number;
  writer?: Partial<WriterOptions>;
  /** Per-tenant ingest quotas from the registry (default true). */
  quotas?: boolean;
  /** Fair turns between tenants for ingest work (concurrency, queue bound per tenant). */
  fair?: Partial<FairOptions>;
  /** The global memory limit (503 above it). */
  memory?: Partial<MemoryLimits>;
  /** Write-ahead log options (fsync policy); the log lives in `<dataDir>/wal`. */
  wal?: Partial<WalOptions>;
  /** Nice value for the embedded engine's merge threads (default 10; 0 leaves them alone). */
  mergeNice?: number;
  /** Policy directory (default: the shipped policies/); 'off' evaluates no policies. */
  policies?: string;
  /** Scheduled policy interval in ms (default 5 minutes; 0: only on demand). */
  policyIntervalMs?: number;
  /** Streamed policy options (budget, timeouts). */
  policyStream?: Partial<StreamOptions>;
  /** Prometheus metrics: tenants with labels of their own, and how often the report gauges are recomputed. */
  metrics?: MetricsOptions & { refreshMs?: number };
  /** Export tenantscope's own traces over OTLP/HTTP (off when absent). */
  selfTrace?: SelfTraceOptions;
  /** Time between signed checkpoints of the audit chain's heads in ms (default 10 minutes; 0: no checkpoints). */
  checkpointIntervalMs?: number;
  /** A directory outside the data dir that gets a copy of every checkpoint (another disk, a mounted bucket). */
  checkpointDir?: string;
}

export interface RunningServer {
  otlpHttpUrl: string;
  /** The OTLP/gRPC endpoint as an exporter takes it (`http://host:port`, plaintext). */
  otlpGrpcUrl: string;
  /** The same as `host:port`, as a bare gRPC client takes it. */
  otlpGrpcAddress: string;
  apiUrl: string;
  registry: Registry;
  store: Store;
  /** Absent when policies are off. */
  policies?: PolicyService;
  metrics: TenantscopeMetrics;
  /** The API's routes with their access rules. */
  routes: readonly DeclaredRoute[];
  /** Store what ingest deferred (usage rows, rollup sums), as the API does before a read. */
  settle(): Promise<void>;
  /** Take a checkpoint of the audit chain now (as the interval does); rejects when checkpoints are off. */
  checkpoint(): Promise<WrittenCheckpoint>;
  /** Stop listening, flush queued rows, close the store. */
  close(): Promise<void>;
}

export const DEFAULT_POLICY_INTERVAL_MS = 5 * 60_000;

/** Start tenantscope; resolves once all three listeners accept connections. */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const log = stageLogger('server');
  const registry = loadRegistry(opts.configPath);
  // Before the store opens: a bad key file should stop the start, not the first evidence request.
  const evidenceSigner = loadEvidenceSigner({ dataDir: opts.dataDir, keyFile: opts.evidenceKey });
  const target = ddlTarget(opts);
  const store = await openStoreAt(opts);
  // The embedded engine merges inside this process: its merges yield to request work.
  const merges = store.kind === 'chdb' && opts.mergeNice !== 0 ? lowerMergePriority({ nice: opts.mergeNice ?? DEFAULT_MERGE_NICE }) : undefined;
  const applied = await migrate(store, target);
  log.info({ store: store.kind, location: store.location, cluster: target.cluster, migrationsApplied: applied }, 'store ready');

  // Blocks a previous run logged but did not store go in first, before any new request.
  const { wal, replay } = await WriteAheadLog.open(join(opts.dataDir, 'wal'), stageLogger('wal'), opts.wal);
  const metrics = new TenantscopeMetrics(registry, opts.metrics);
  const selfTrace = opts.selfTrace ? startSelfTracing(opts.selfTrace) : undefined;
  const writer = new BatchWriter(store, stageLogger('writer'), opts.writer, metrics.writerObserver(), wal);
  if (replay.length > 0) {
    await writer.replay(replay);
    log.info({ blocks: replay.length, rows: replay.reduce((a, b) => a + b.rows, 0), waiting: writer.depth() }, 'write-ahead log replayed');
  }
  const redaction = opts.redaction === false ? undefined : new RedactionStage(new Redactor(registry, redactionKey(opts.dataDir, opts.redactionKey)));
  if (!redaction) log.warn('redaction is switched off: cross-tenant identifiers, secrets and PII are stored as sent');
  const policyDir = opts.policies ?? fromRoot('policies');
  const policies =
    policyDir === 'off'
      ? undefined
      : await PolicyService.start(
          { dir: policyDir, intervalMs: opts.policyIntervalMs ?? DEFAULT_POLICY_INTERVAL_MS, stream: opts.policyStream, onEvaluated: (mode, ms) => metrics.policyEvaluated(mode, ms) },
          registry,
          store,
          // Findings are evidence that reports read, not the request: durable once logged, and
          // stored with the table's next insert (API reads settle first).
          (rows) => writer.write('violations', rows, { deferred: true }),
          stageLogger('policy'),
        );
  if (!policies) log.warn('policies are switched off: no isolation or retention violations are recorded');
  const quotas = opts.quotas === false ? undefined : new TenantQuotas(registry);
  if (!quotas) log.warn('ingest quotas are switched off: a tenant can send without limit');
  const pipeline = new IngestPipeline(registry, writer, stageLogger('ingest'), redaction, policies, quotas, metrics);
  const node = nodeId(opts.dataDir);
  const checkpointIntervalMs = opts.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
  const checkpointer =
    checkpointIntervalMs > 0
      ? new Checkpointer({ store, signer: evidenceSigner, nodeId: node, dataDir: opts.dataDir, outsideDir: opts.checkpointDir, intervalMs: checkpointIntervalMs, log: stageLogger('checkpoint'), onError: (code) => metrics.error(code, 'checkpoint') })
      : undefined;
  if (!checkpointer) log.warn('audit chain checkpoints are switched off: events deleted from the end of a chain segment cannot be seen');
  // Verification reads the checkpoints on disk, also those of other nodes and of earlier runs.
  const checkpoints = (): CheckpointReading => readCheckpoints(opts.dataDir, opts.checkpointDir, evidenceSigner.publicKeyPem);
  const audit = new AuditIngest(registry, new ChainWriter(store, node), (table, rows) => writer.write(table, rows), redaction, policies, (tenant, events, bytes, byClass) =>
    metrics.auditStored(tenant, events, bytes, byClass),
  );
  const { limits } = registry.settings;
  const maxRequestBytes = opts.maxRequestBytes ?? registry.settings.maxRequestBytes;
  // Never below the body limit: a flag raising only the body limit raises both, as it always did.
  const maxDecompressedBytes = Math.max(opts.maxDecompressedBytes ?? limits.maxDecompressedBytes, maxRequestBytes);
  const memory = new MemoryGuard({ ...defaultMemoryLimits(), ...opts.memory });
  const fair = new FairScheduler(opts.fair);
  const receive = createOtlpReceiver(registry, pipeline, { memory, fair }, limits);
  metrics.watchQueues({ writerDepth: () => writer.depth(), fairDepth: () => fair.load() });
  const gauges = new ReportGauges(store, registry, metrics, stageLogger('metrics'), checkpoints);
  const quotaGate = quotas ? createQuotaGate(registry, pipeline) : undefined;
  const otlp = buildOtlpHttpApp({
    registry, receive, quotaGate, audit, log: stageLogger('otlp-http'), maxRequestBytes, maxDecompressedBytes,
    onRequest: (signal, encoding, status, ms, _result, errorCode) => {
      metrics.request('http', signal, encoding, status, ms);
      if (errorCode) metrics.error(errorCode, 'otlp-http');
    },
  });
  const api = buildApiApp({
    registry, store, log: stageLogger('api'), policies, metrics,
    recordRead: (tenant, event, tokenName) => audit.record(tenant, [event], tokenName),
    evidence: { signer: evidenceSigner, runtime: { redaction: redaction !== undefined, quotas: quotas !== undefined, policies: policies !== undefined }, checkpoints },
    checkpoints,
    settle: () => writer.settle(),
    lifecycle: {
      signer: evidenceSigner,
      audit: (tenant, event, tokenName) => audit.record(tenant, [event], tokenName),
      platformAudit: (chain, event, tokenName) => audit.recordPlatform(chain, [event], tokenName),
      settle: () => writer.settle(),
      erased: (tenant) => audit.forgetChain(tenant),
      checkpoints,
      dataDir: opts.dataDir,
      ...(target.cluster ? { cluster: target.cluster } : {}),
    },
  });

  let grpc: OtlpGrpcListener;
  try {
    await otlp.listen({ host: opts.host, port: opts.otlpHttpPort });
    await api.listen({ host: opts.host, port: opts.apiPort });
    grpc = await listenOtlpGrpc({
      receive, log: stageLogger('otlp-grpc'), maxRequestBytes, host: opts.host, port: opts.otlpGrpcPort,
      onRequest: (signal, _transport, _code, ms, _result, error) => {
        metrics.request('grpc', signal, 'protobuf', error?.status ?? 200, ms);
        if (error) metrics.error(error.code, 'otlp-grpc');
      },
    });
  } catch (e) {
    // A port in use must not leave the other listeners, the policy worker and the store open.
    await otlp.close();
    await api.close();
    await policies?.close();
    await writer.close();
    merges?.stop();
    await store.close();
    await metrics.close();
    await selfTrace?.shutdown();
    throw e;
  }
  const url = (a: AddressInfo) => `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address === '0.0.0.0' ? '127.0.0.1' : a.address}:${a.port}`;
  const otlpHttpUrl = url(otlp.server.address() as AddressInfo);
  const apiUrl = url(api.server.address() as AddressInfo);
  const otlpGrpcAddress = grpc.address;
  const otlpGrpcUrl = `http://${otlpGrpcAddress}`;
  gauges.start(opts.metrics?.refreshMs);
  checkpointer?.start();
  log.info({ otlpHttpUrl, otlpGrpcUrl, apiUrl, node, tenants: registry.tenants().length, maxRequestBytes, evidenceKeyId: evidenceSigner.keyId }, 'tenantscope serving');

  let closing: Promise<void> | undefined;
  return {
    otlpHttpUrl,
    otlpGrpcUrl,
    otlpGrpcAddress,
    apiUrl,
    registry,
    metrics,
    routes: api.declaredRoutes,
    settle: () => writer.settle(),
    checkpoint: () => (checkpointer ? checkpointer.take() : Promise.reject(tsError('TS_ERR_CONFIG', ['audit chain checkpoints are switched off (--checkpoint-interval 0)']))),
    store,
    policies,
    close() {
      closing ??= (async () => {
        await Promise.all([otlp.close(), grpc.close()]);
        await api.close();
        await policies?.close();
        await pipeline.flushRefusals();
        await gauges.stop();
        await writer.close();
        // After the writer: the last acknowledged events are in the store, and so in the last checkpoint.
        await checkpointer?.stop(true);
        merges?.stop();
        await store.close();
        await metrics.close();
        await selfTrace?.shutdown();
      })();
      return closing;
    },
  };
}

/**
 * Default memory limits: three quarters of the machine's memory, at most 4 GiB, for the
 * process (the embedded store's memory included); 256 MiB of request bodies in progress.
 */
export function defaultMemoryLimits(): MemoryLimits {
  return { maxRssBytes: Math.min(4 * 1024 ** 3, Math.floor(totalmem() * 0.75)), maxInflightBytes: 256 * 1024 * 1024 };
}
