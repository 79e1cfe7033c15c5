// Starts the service: registry, store (migrated), ingest pipeline, and the two listeners
// (OTLP/HTTP and the API). Used by `tenantscope serve` and, in-process, by the tests.
import type { AddressInfo } from 'node:net';
import { loadRegistry, type Registry } from './config/index.js';
import { migrate, openStoreAt, type Store } from './store/index.js';
import { BatchWriter, DEFAULT_WRITER_OPTIONS, type WriterOptions } from './ingest/writer.js';
import { IngestPipeline } from './ingest/pipeline.js';
import { buildOtlpHttpApp } from './http/otlp.js';
import { buildApiApp } from './http/api.js';
import { stageLogger } from './log.js';
import { ChainWriter } from './ingest/audit/chain.js';
import { AuditIngest } from './ingest/audit/ingest.js';
import { nodeId } from './node-id.js';
import { Redactor } from './ingest/redact/index.js';
import { RedactionStage } from './ingest/redact-stage.js';
import { redactionKey } from './ingest/redaction-key.js';
import { PolicyService } from './policy/service.js';
import type { StreamOptions } from './policy/stream.js';
import { fromRoot } from './paths.js';

export interface ServeOptions {
  configPath: string;
  dataDir: string;
  host: string;
  otlpHttpPort: number;
  /** Accepted now; served once the gRPC receiver exists. */
  otlpGrpcPort: number;
  apiPort: number;
  clickhouseUrl?: string;
  clickhouseUser?: string;
  clickhousePassword?: string;
  clickhouseDatabase?: string;
  /** Redact cross-tenant identifiers, secrets and PII before storage (default true). */
  redaction?: boolean;
  /** Shared secret for redaction markers (all nodes of a deployment); default: a key in the data dir. */
  redactionKey?: string;
  /** Overrides the registry's `settings.max_request_bytes`. */
  maxRequestBytes?: number;
  /** Overrides the registry's `settings.limits.max_decompressed_bytes`. */
  maxDecompressedBytes?: number;
  writer?: Partial<WriterOptions>;
  /** Policy directory (default: the shipped policies/); 'off' evaluates no policies. */
  policies?: string;
  /** Scheduled policy interval in ms (default 5 minutes; 0: only on demand). */
  policyIntervalMs?: number;
  /** Streamed policy options (budget, timeouts). */
  policyStream?: Partial<StreamOptions>;
}

export interface RunningServer {
  otlpHttpUrl: string;
  apiUrl: string;
  registry: Registry;
  store: Store;
  /** Absent when policies are off. */
  policies?: PolicyService;
  /** Stop listening, flush queued rows, close the store. */
  close(): Promise<void>;
}

export const DEFAULT_POLICY_INTERVAL_MS = 5 * 60_000;

/** Start tenantscope; resolves once both listeners accept connections. */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const log = stageLogger('server');
  const registry = loadRegistry(opts.configPath);
  const store = await openStoreAt(opts);
  const applied = await migrate(store);
  log.info({ store: store.kind, location: store.location, migrationsApplied: applied }, 'store ready');

  const writer = new BatchWriter(store, stageLogger('writer'), { ...DEFAULT_WRITER_OPTIONS, ...opts.writer });
  const redaction = opts.redaction === false ? undefined : new RedactionStage(new Redactor(registry, redactionKey(opts.dataDir, opts.redactionKey)));
  if (!redaction) log.warn('redaction is switched off: cross-tenant identifiers, secrets and PII are stored as sent');
  const policyDir = opts.policies ?? fromRoot('policies');
  const policies =
    policyDir === 'off'
      ? undefined
      : await PolicyService.start(
          { dir: policyDir, intervalMs: opts.policyIntervalMs ?? DEFAULT_POLICY_INTERVAL_MS, stream: opts.policyStream },
          registry,
          store,
          (text, rows) => writer.write('violations', text, rows),
          stageLogger('policy'),
        );
  if (!policies) log.warn('policies are switched off: no isolation or retention violations are recorded');
  const pipeline = new IngestPipeline(registry, writer, stageLogger('ingest'), redaction, policies);
  const node = nodeId(opts.dataDir);
  const audit = new AuditIngest(registry, new ChainWriter(store, node), (table, text, rows) => writer.write(table, text, rows), redaction, policies);
  const { limits } = registry.settings;
  const maxRequestBytes = opts.maxRequestBytes ?? registry.settings.maxRequestBytes;
  // Never below the body limit: a flag raising only the body limit raises both, as it always did.
  const maxDecompressedBytes = Math.max(opts.maxDecompressedBytes ?? limits.maxDecompressedBytes, maxRequestBytes);
  const otlp = buildOtlpHttpApp({ registry, pipeline, audit, log: stageLogger('otlp-http'), maxRequestBytes, maxDecompressedBytes, limits });
  const api = buildApiApp({ registry, store, log: stageLogger('api'), policies });

  await otlp.listen({ host: opts.host, port: opts.otlpHttpPort });
  await api.listen({ host: opts.host, port: opts.apiPort });
  const url = (a: AddressInfo) => `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address === '0.0.0.0' ? '127.0.0.1' : a.address}:${a.port}`;
  const otlpHttpUrl = url(otlp.server.address() as AddressInfo);
  const apiUrl = url(api.server.address() as AddressInfo);
  log.info({ otlpHttpUrl, apiUrl, node, tenants: registry.tenants().length, grpcPort: opts.otlpGrpcPort }, 'tenantscope serving');

  let closing: Promise<void> | undefined;
  return {
    otlpHttpUrl,
    apiUrl,
    registry,
    store,
    policies,
    close() {
      closing ??= (async () => {
        await otlp.close();
        await api.close();
        await policies?.close();
        await writer.close();
        await store.close();
      })();
      return closing;
    },
  };
}
