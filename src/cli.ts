#!/usr/bin/env node
// The `tenantscope` command. Every setting has a flag and an environment variable; flags win.
import './threadpool.js';
import { Command, Option, InvalidArgumentError } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { createHash } from 'node:crypto';
import type { StoreLocation } from './store/index.js';
import { isTenantscopeError } from './errors.js';
import { rootLogger } from './log.js';
// Commands load their modules on use: the policy commands need neither chDB nor the server.
import type { VerifyResult } from './ingest/audit/chain.js';
import type { CommandOutput } from './policy/commands.js';
import { registerSimulateCommand } from './simulate/command.js';
import { SCENARIO_NAMES } from './simulate/scenarios.js';
import { VERSION } from './version.js';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`expected a port number 0-65535, got ${JSON.stringify(value)}`);
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

/** Options shared by every command that opens the store. */
function storeOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--config <file>', 'tenant registry (YAML)').env('TENANTSCOPE_CONFIG').default('fixtures/tenants.yaml'))
    .addOption(new Option('--data-dir <dir>', 'embedded ClickHouse (chDB) data directory').env('TENANTSCOPE_DATA_DIR').default('./data'))
    .addOption(new Option('--clickhouse-url <url>', 'ClickHouse server URL (absent: embedded chDB)').env('TENANTSCOPE_CLICKHOUSE_URL'))
    .addOption(new Option('--clickhouse-user <name>', 'ClickHouse user').env('TENANTSCOPE_CLICKHOUSE_USER'))
    .addOption(new Option('--clickhouse-password <secret>', 'ClickHouse password').env('TENANTSCOPE_CLICKHOUSE_PASSWORD'))
    .addOption(new Option('--clickhouse-database <name>', 'ClickHouse database').env('TENANTSCOPE_CLICKHOUSE_DATABASE'))
    .addOption(new Option('--clickhouse-cluster <name>', 'ClickHouse cluster: replicated local tables ON CLUSTER with Distributed tables over them (needs --clickhouse-url)').env('TENANTSCOPE_CLICKHOUSE_CLUSTER'));
}

interface ServeFlags extends StoreFlags {
  host: string;
  otlpHttpPort: number;
  otlpGrpcPort: number;
  apiPort: number;
  maxRequestBytes?: number;
  maxDecompressedBytes?: number;
  redaction: 'on' | 'off';
  redactionKey?: string;
  evidenceKey?: string;
  policies: string;
  policyInterval: number;
  policyBudgetMs: number;
  walFsync: 'always' | 'interval' | 'off';
  batchLinger: number;
  batchMaxRows: number;
  insertEvery: number;
  quotas: 'on' | 'off';
  memoryLimit?: number;
  mergeNice: number;
  metricsRefresh: number;
  maxTenantLabels: number;
  selfTraceEndpoint?: string;
  selfTraceToken?: string;
  checkpointInterval: number;
  checkpointDir?: string;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a whole number >= 0, got ${JSON.stringify(value)}`);
  return n;
}

function niceValue(value: string): number {
  const n = nonNegativeInt(value);
  if (n > 19) throw new InvalidArgumentError(`expected a niceness from 0 to 19, got ${n}`);
  return n;
}

/** The key that signs evidence reports. */
function evidenceKeyOption(what = 'Ed25519 private key (PKCS#8 PEM) that signs evidence reports and checkpoints; default: a key generated once into the data dir'): Option {
  return new Option('--evidence-key <pem file>', what).env('TENANTSCOPE_EVIDENCE_KEY');
}

/** The directory outside the data dir that holds a copy of every audit chain checkpoint. */
function checkpointDirOption(what: string): Option {
  return new Option('--checkpoint-dir <dir>', what).env('TENANTSCOPE_CHECKPOINT_DIR');
}

/** Where the policies are; the shipped ones by default. */
function policiesOption(): Option {
  return new Option('--policies <dir>', "policy directory (.rego with *_test.rego); 'off' for none (serve only)").env('TENANTSCOPE_POLICIES').default('policies');
}

const program = new Command('tenantscope')
  .description('Tenant-aware observability and compliance auditor')
  .version(VERSION)
  // Options belong to the command they follow, so `evidence --api` and `evidence verify --api` stay apart.
  .enablePositionalOptions();

storeOptions(program.command('serve').description('run the OTLP receiver and the API'))
  .addOption(new Option('--host <address>', 'listen address').env('TENANTSCOPE_HOST').default('0.0.0.0'))
  .addOption(new Option('--otlp-http-port <port>', 'OTLP/HTTP port').env('TENANTSCOPE_OTLP_HTTP_PORT').default(4318).argParser(port))
  .addOption(new Option('--otlp-grpc-port <port>', 'OTLP/gRPC port').env('TENANTSCOPE_OTLP_GRPC_PORT').default(4317).argParser(port))
  .addOption(new Option('--api-port <port>', 'API port').env('TENANTSCOPE_API_PORT').default(8080).argParser(port))
  .addOption(new Option('--redaction <on|off>', 'redact cross-tenant identifiers, secrets and PII before storage').env('TENANTSCOPE_REDACTION').choices(['on', 'off']).default('on'))
  .addOption(new Option('--redaction-key <secret>', 'shared secret for redaction markers (same on every node); default: a key kept in the data dir').env('TENANTSCOPE_REDACTION_KEY'))
  .addOption(evidenceKeyOption())
  .addOption(new Option('--max-request-bytes <n>', 'largest request body as received (default: registry settings, 64 MiB)').env('TENANTSCOPE_MAX_REQUEST_BYTES').argParser(positiveInt))
  .addOption(new Option('--max-decompressed-bytes <n>', 'largest request body after gunzip, at least --max-request-bytes (default: registry settings.limits, else the body limit)').env('TENANTSCOPE_MAX_DECOMPRESSED_BYTES').argParser(positiveInt))
  .addOption(policiesOption())
  .addOption(new Option('--policy-interval <seconds>', 'run the scheduled policies (retention, tiers) this often; 0: never').env('TENANTSCOPE_POLICY_INTERVAL').default(300).argParser(nonNegativeInt))
  .addOption(new Option('--policy-budget-ms <ms>', 'longest an ingest request waits for its streamed policy verdict').env('TENANTSCOPE_POLICY_BUDGET_MS').default(50).argParser(nonNegativeInt))
  .addOption(new Option('--wal-fsync <policy>', 'when the write-ahead log reaches the disk: before each acknowledgement (always), every 200 ms (interval), or when the OS decides (off)').env('TENANTSCOPE_WAL_FSYNC').choices(['always', 'interval', 'off']).default('always'))
  .addOption(new Option('--insert-every <ms>', 'under load, a table\'s inserts start at most this often; the blocks logged in between go in together as one part').env('TENANTSCOPE_INSERT_EVERY_MS').default(250).argParser(nonNegativeInt))
  .addOption(new Option('--batch-linger <ms>', 'longest rows wait for other requests\' rows before their table is written (one block, one insert)').env('TENANTSCOPE_BATCH_LINGER_MS').default(20).argParser(nonNegativeInt))
  .addOption(new Option('--batch-max-rows <n>', 'write a table at once when this many rows wait').env('TENANTSCOPE_BATCH_MAX_ROWS').default(50_000).argParser(positiveInt))
  .addOption(new Option('--quotas <on|off>', "enforce each tenant's ingest quota (records/s, bytes/s; 429 over it)").env('TENANTSCOPE_QUOTAS').choices(['on', 'off']).default('on'))
  .addOption(new Option('--memory-limit <bytes>', 'resident memory above which ingest answers 503 (default: 3/4 of RAM, at most 4 GiB)').env('TENANTSCOPE_MEMORY_LIMIT').argParser(positiveInt))
  .addOption(new Option('--merge-nice <0-19>', "CPU niceness of the embedded engine's background merges, so they yield to ingest (0: as any thread)").env('TENANTSCOPE_MERGE_NICE').default(10).argParser(niceValue))
  .addOption(new Option('--metrics-refresh <seconds>', 'recompute the per-tenant report gauges of /metrics (SLO, violations, noisy neighbours, cost, audit chain) this often').env('TENANTSCOPE_METRICS_REFRESH').default(30).argParser(positiveInt))
  .addOption(new Option('--max-tenant-labels <n>', 'tenants with a label of their own in /metrics; the rest are folded into tenant="other"').env('TENANTSCOPE_MAX_TENANT_LABELS').default(500).argParser(positiveInt))
  .addOption(new Option('--self-trace-endpoint <url>', "export tenantscope's own traces over OTLP/HTTP to this URL (e.g. http://collector:4318/v1/traces); off by default").env('TENANTSCOPE_SELF_TRACE_ENDPOINT'))
  .addOption(new Option('--self-trace-token <token>', 'bearer token sent with the self traces (e.g. an ingest token of another tenantscope)').env('TENANTSCOPE_SELF_TRACE_TOKEN'))
  .addOption(new Option('--checkpoint-interval <seconds>', "sign the head of every audit chain segment this often, into <data-dir>/checkpoints (and --checkpoint-dir); 0: no checkpoints").env('TENANTSCOPE_CHECKPOINT_INTERVAL').default(600).argParser(nonNegativeInt))
  .addOption(checkpointDirOption('also write every checkpoint to this existing directory outside the data dir (another disk, a mounted bucket)'))
  .action(async (flags: ServeFlags) => {
    const { startServer } = await import('./server.js');
    const server = await startServer({
      configPath: flags.config,
      dataDir: flags.dataDir,
      host: flags.host,
      otlpHttpPort: flags.otlpHttpPort,
      otlpGrpcPort: flags.otlpGrpcPort,
      apiPort: flags.apiPort,
      clickhouseUrl: flags.clickhouseUrl,
      clickhouseUser: flags.clickhouseUser,
      clickhousePassword: flags.clickhousePassword,
      clickhouseDatabase: flags.clickhouseDatabase,
      clickhouseCluster: flags.clickhouseCluster,
      maxRequestBytes: flags.maxRequestBytes,
      maxDecompressedBytes: flags.maxDecompressedBytes,
      redaction: flags.redaction !== 'off',
      redactionKey: flags.redactionKey,
      evidenceKey: flags.evidenceKey,
      policies: flags.policies,
      policyIntervalMs: flags.policyInterval * 1000,
      policyStream: { budgetMs: flags.policyBudgetMs },
      wal: { fsync: flags.walFsync },
      writer: { lingerMs: flags.batchLinger, maxRows: flags.batchMaxRows, insertEveryMs: flags.insertEvery },
      quotas: flags.quotas !== 'off',
      memory: flags.memoryLimit ? { maxRssBytes: flags.memoryLimit } : undefined,
      mergeNice: flags.mergeNice,
      metrics: { refreshMs: flags.metricsRefresh * 1000, maxTenantLabels: flags.maxTenantLabels },
      selfTrace: flags.selfTraceEndpoint
        ? { endpoint: flags.selfTraceEndpoint, headers: flags.selfTraceToken ? { authorization: `Bearer ${flags.selfTraceToken}` } : undefined }
        : undefined,
      checkpointIntervalMs: flags.checkpointInterval * 1000,
      checkpointDir: flags.checkpointDir,
    });
    process.on('SIGHUP', () => void server.policies?.reload());
    const stop = (signal: string) => {
      rootLogger.info({ signal }, 'shutting down');
      server.close().then(
        () => process.exit(0),
        (e: unknown) => {
          rootLogger.error({ err: String(e) }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });

interface AuditVerifyFlags extends StoreFlags {
  tenant?: string;
  platform?: boolean;
  api?: string;
  token?: string;
  checkpointDir?: string;
  evidenceKey?: string;
}

/** The store options every command takes (storeOptions) plus the registry file. */
interface StoreFlags extends StoreLocation {
  config: string;
}

const audit = program.command('audit').description('audit events and their hash chain');
storeOptions(audit.command('verify').description("recompute a tenant's audit chain (or the platform chain of erasures), name the first broken link, and check each segment against the latest signed checkpoint: exit 0 when ok, 1 when broken or truncated"))
  .option('--tenant <id>', 'tenant to verify')
  .option('--platform', 'verify the platform chain (erasure certificates) instead; admin token with --api')
  .addOption(new Option('--api <url>', 'ask a running tenantscope API instead of opening the store').env('TENANTSCOPE_API'))
  .addOption(new Option('--token <token>', 'bearer token for --api (read, auditor or admin)').env('TENANTSCOPE_TOKEN'))
  .addOption(checkpointDirOption('also read checkpoints from this directory (the one serve writes with --checkpoint-dir)'))
  .addOption(evidenceKeyOption('the Ed25519 evidence key (PKCS#8 PEM) serve signs with, whose public half checkpoints must be signed by; default: the key in the data dir'))
  .action(async (flags: AuditVerifyFlags) => {
    if (!flags.tenant === !flags.platform) throw new InvalidArgumentError('audit verify needs --tenant <id> or --platform');
    let result: VerifyResult;
    if (flags.api) {
      const route = flags.platform ? '/api/v1/audit/platform/verify' : `/api/v1/tenants/${encodeURIComponent(flags.tenant!)}/audit/verify`;
      const res = await fetch(`${flags.api.replace(/\/$/, '')}${route}`, {
        headers: flags.token ? { authorization: `Bearer ${flags.token}` } : {},
      });
      const body = (await res.json()) as VerifyResult | { error: { code: string; message: string } };
      if ('error' in body) {
        process.stderr.write(`tenantscope: ${body.error.code}: ${body.error.message}\n`);
        process.exit(2);
      }
      result = body;
    } else {
      const { readCheckpoints, verifyWithCheckpoint } = await import('./ingest/audit/checkpoint.js');
      const { evidencePublicKey } = await import('./reports/evidence-sign.js');
      const { PLATFORM_CHAIN } = await import('./ingest/audit/chain.js');
      // Checked against the evidence key that signs them: a checkpoint signed by any other key is refused.
      const reading = readCheckpoints(flags.dataDir, flags.checkpointDir, evidencePublicKey({ dataDir: flags.dataDir, keyFile: flags.evidenceKey }));
      result = await withStore(flags, (store) => verifyWithCheckpoint(store, flags.platform ? PLATFORM_CHAIN : flags.tenant!, reading));
    }
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    for (const r of result.checkpoint?.refused ?? []) process.stderr.write(`tenantscope: checkpoint ${r.file} (${r.source}) refused, not trusted (${r.reason}): ${r.message}\n`);
    if (result.checkpoint && !result.checkpoint.latest) process.stderr.write('tenantscope: no signed checkpoint found: events deleted from the end of a segment cannot be seen\n');
    process.exitCode = result.status === 'ok' ? 0 : 1;
  });

function emit(out: CommandOutput): void {
  process.stdout.write(`${out.text}\n`);
  process.exitCode = out.exitCode;
}

interface TenantExportFlags extends StoreFlags {
  tenant: string;
  checkpointDir?: string;
  from?: string;
  to?: string;
  out: string;
  api?: string;
  token?: string;
  evidenceKey?: string;
}

interface TenantRestoreFlags extends StoreFlags {
  verifyOnly?: boolean;
  publicKey?: string;
  evidenceKey?: string;
  json?: boolean;
}

interface TenantEraseFlags extends StoreFlags {
  tenant: string;
  confirm?: string;
  exportManifest?: string;
  api?: string;
  token?: string;
  evidenceKey?: string;
}

const tenantCmd = program.command('tenant').description("one tenant's data: export it, restore it, erase it");
storeOptions(tenantCmd.command('export').description("write a tenant's data as a signed bundle: a Parquet file per table, manifest.json, manifest.sig"))
  .requiredOption('--tenant <id>', 'tenant to export')
  .option('--from <time>', 'period start (RFC 3339 or epoch ms; default: its first row)')
  .option('--to <time>', 'period end (default: now)')
  .requiredOption('--out <dir>', 'directory to write the bundle into (new or empty)')
  .addOption(checkpointDirOption('also read checkpoints from this directory; the bundle carries the tenant\'s part of the latest'))
  .addOption(new Option('--api <url>', 'ask a running tenantscope API (its store, its key) instead of opening the store').env('TENANTSCOPE_API'))
  .addOption(new Option('--token <token>', 'admin bearer token for --api').env('TENANTSCOPE_TOKEN'))
  .addOption(evidenceKeyOption())
  .action(async (flags: TenantExportFlags) => {
    const { parseTimeParam } = await import('./reports/window.js');
    const period = { fromMs: parseTimeParam('from', flags.from), toMs: parseTimeParam('to', flags.to) };
    if (flags.api) {
      const { extractBundle } = await import('./lifecycle/tarball.js');
      const q = new URLSearchParams();
      if (flags.from) q.set('from', flags.from);
      if (flags.to) q.set('to', flags.to);
      const res = await fetch(`${flags.api.replace(/\/$/, '')}${tenantPath(flags.tenant, 'export')}?${q}`, { headers: flags.token ? { authorization: `Bearer ${flags.token}` } : {} });
      if (!res.ok || !res.body) return apiFailure(res, 'export');
      await extractBundle(res.body, flags.out);
    } else {
      const { withLifecycle } = await import('./lifecycle/offline.js');
      const { exportTenant } = await import('./lifecycle/export.js');
      await withLifecycle(flags, async (ctx) => {
        if (!ctx.registry.tenant(flags.tenant)) throw new InvalidArgumentError(`tenant ${JSON.stringify(flags.tenant)} is not in the registry`);
        const { readCheckpoints, tenantCheckpoint } = await import('./ingest/audit/checkpoint.js');
        const checkpoint = tenantCheckpoint(readCheckpoints(flags.dataDir, flags.checkpointDir, ctx.signer.publicKeyPem), flags.tenant);
        const manifest = await exportTenant(ctx.store, { tenant: flags.tenant, period: { ...(period.fromMs !== undefined ? { fromMs: period.fromMs } : {}), ...(period.toMs !== undefined ? { toMs: period.toMs } : {}) }, outDir: flags.out, signer: ctx.signer, checkpoint });
        await ctx.audit(flags.tenant, lifecycleEvent(ctx.actor, 'tenant.exported', flags.tenant, { 'export.rows': String(manifest.files.reduce((n, f) => n + f.rows, 0)), 'export.period_to': manifest.period.to }));
      });
    }
    process.stdout.write(`wrote ${flags.out}: the export bundle of ${flags.tenant}\n`);
  });
storeOptions(tenantCmd.command('restore').description("restore a tenant from an export bundle (directory or .tar), after checking its signature and every file; --verify-only rehearses it in a scratch database"))
  .argument('<bundle>', 'bundle directory or .tar file')
  .option('--verify-only', 'restore into a scratch database, compare with the manifest, drop it (a restore drill; recorded as restore.tested)')
  .option('--public-key <file>', "the signer's public key (PEM) to trust; default: this data directory's evidence key")
  .option('--json', 'print the report as JSON')
  .addOption(evidenceKeyOption())
  .action(async (bundle: string, flags: TenantRestoreFlags) => {
    const { withLifecycle } = await import('./lifecycle/offline.js');
    const { restoreTenant } = await import('./lifecycle/restore.js');
    const { bundleDir } = await import('./lifecycle/tarball.js');
    const { dir, cleanup } = await bundleDir(bundle);
    try {
      const report = await withLifecycle(flags, (ctx) =>
        restoreTenant(ctx.store, dir, {
          registry: ctx.registry,
          trustedKey: flags.publicKey ? readFileSync(flags.publicKey, 'utf8') : ctx.signer.publicKeyPem,
          actor: ctx.actor,
          audit: ctx.audit,
          verifyOnly: flags.verifyOnly === true,
        }),
      );
      const { formatRestore } = await import('./lifecycle/format.js');
      process.stdout.write(`${flags.json ? JSON.stringify(report, null, 2) : formatRestore(report)}\n`);
      process.exitCode = report.outcome === 'success' ? 0 : 1;
    } finally {
      await cleanup();
    }
  });
tenantCmd
  .command('verify')
  .description("check an export bundle without a store: the manifest's signature, then every file's size and SHA-256; exit 0 when intact, 1 when not")
  .argument('<bundle>', 'bundle directory or .tar file')
  .option('--public-key <file>', "the signer's public key (PEM); default: the key the manifest.sig embeds, which proves the bundle intact but not who signed it")
  .action(async (bundle: string, flags: { publicKey?: string }) => {
    const { checkBundle } = await import('./lifecycle/bundle.js');
    const { bundleDir } = await import('./lifecycle/tarball.js');
    const { dir, cleanup } = await bundleDir(bundle);
    try {
      const b = await checkBundle(dir, flags.publicKey ? readFileSync(flags.publicKey, 'utf8') : undefined);
      if ('problem' in b) {
        process.stdout.write(`${JSON.stringify({ valid: false, problem: b.problem }, null, 2)}\n`);
        process.exitCode = 1;
        return;
      }
      const m = b.manifest;
      process.stdout.write(`${JSON.stringify({ valid: true, key_id: b.signature.key_id, key_source: flags.publicKey ? 'supplied' : 'embedded', tenant: m.tenant, period: m.period, created_at: m.created_at, rows: Object.fromEntries(m.files.map((f) => [f.table, f.rows])), manifest_sha256: b.manifestSha256 }, null, 2)}\n`);
    } finally {
      await cleanup();
    }
  });
storeOptions(tenantCmd.command('erase').description('delete every row of a tenant (offboarding); refused under a legal hold; writes a signed erasure certificate into the platform audit chain'))
  .requiredOption('--tenant <id>', 'tenant to erase')
  .option('--confirm <id>', 'the tenant id again')
  .option('--export-manifest <file>', 'manifest.json of the export taken before, cited by the certificate')
  .addOption(new Option('--api <url>', 'ask a running tenantscope API instead of opening the store').env('TENANTSCOPE_API'))
  .addOption(new Option('--token <token>', 'admin bearer token for --api').env('TENANTSCOPE_TOKEN'))
  .addOption(evidenceKeyOption())
  .action(async (flags: TenantEraseFlags) => {
    let exportManifestSha256: string | undefined;
    if (flags.exportManifest) exportManifestSha256 = createHash('sha256').update(readFileSync(flags.exportManifest)).digest('hex');
    let out: unknown;
    if (flags.api) {
      const q = new URLSearchParams({ confirm: flags.confirm ?? '' });
      if (exportManifestSha256) q.set('export_manifest_sha256', exportManifestSha256);
      const res = await fetch(`${flags.api.replace(/\/$/, '')}${tenantPath(flags.tenant, 'erase')}?${q}`, { method: 'POST', headers: flags.token ? { authorization: `Bearer ${flags.token}` } : {} });
      if (!res.ok) return apiFailure(res, 'erase');
      out = await res.json();
    } else {
      const { withLifecycle } = await import('./lifecycle/offline.js');
      const { eraseTenant } = await import('./lifecycle/erase.js');
      out = await withLifecycle(flags, (ctx) =>
        eraseTenant(ctx.store, {
          registry: ctx.registry,
          tenant: flags.tenant,
          confirm: flags.confirm ?? '',
          operator: ctx.actor,
          signer: ctx.signer,
          ...(exportManifestSha256 ? { exportManifestSha256 } : {}),
          ...(ctx.cluster ? { cluster: ctx.cluster } : {}),
          platformAudit: ctx.platformAudit,
          certificateDir: join(ctx.dataDir, 'erasures'),
        }),
      );
    }
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  });

/** An audit event a lifecycle command writes about a tenant. */
function lifecycleEvent(actor: string, action: string, tenant: string, attributes: Record<string, string>): import('./ingest/audit/types.js').AuditEventInput {
  return { time: new Date().toISOString(), actor: { id: actor, type: 'user' }, action, target: { type: 'tenant', id: tenant, tenant_id: tenant }, outcome: 'success', attributes };
}

/** End the command with an API error answer's code and message. */
async function apiFailure(res: Response, what: string): Promise<void> {
  apiError(res.status, await res.text(), `the ${what} route`);
}

function apiError(status: number, text: string, where: string): never {
  let error: { code: string; message: string } | undefined;
  try {
    error = (JSON.parse(text) as { error?: { code: string; message: string } }).error;
  } catch {
    /* not an API error body */
  }
  process.stderr.write(`tenantscope: ${error ? `${error.code}: ${error.message}` : `HTTP ${status} from ${where}`}\n`);
  process.exit(2);
}

const policy = program.command('policy').description('Rego policies: evaluate, test, and check the engine against OPA conformance cases');
policy
  .command('eval')
  .description('evaluate a Rego query and print the result set as JSON')
  .option('-d, --data <path>', 'policy file or directory (.rego) or JSON data file; repeatable', (v: string, acc: string[]) => [...acc, v], [] as string[])
  .option('-i, --input <file>', 'input document (JSON)')
  .argument('<query>', "Rego query, e.g. 'data.isolation.violations'")
  .action(async (query: string, flags: { data: string[]; input?: string }) => emit((await import('./policy/commands.js')).evalCommand(flags.data, query, flags.input)));
policy
  .command('test')
  .description('run every test_* rule under the paths (as opa test does); exit 1 if any fails')
  .argument('<paths...>', 'policy files or directories')
  .action(async (paths: string[]) => emit((await import('./policy/commands.js')).testCommand(paths)));
policy
  .command('conformance')
  .description("run OPA's conformance YAML cases below a directory; per-category table and N passed, M failed")
  .argument('<dir>', 'e.g. ../shared/rego-conformance/opa-v1')
  .action(async (dir: string) => emit((await import('./policy/commands.js')).conformanceCommand(dir)));

interface PolicyRunFlags extends StoreFlags {
  policies: string;
  record: boolean;
  json?: boolean;
}

storeOptions(policy.command('run').description('run the scheduled policies (retention, tiers) once against the store, record and print the findings'))
  .addOption(policiesOption())
  .option('--no-record', 'print the findings without storing them or resolving violations')
  .option('--json', 'print JSON instead of a table')
  .action(async (flags: PolicyRunFlags) => {
    const { runScheduledOnce, formatRun } = await import('./policy/run-command.js');
    const run = await withStore(flags, (store, registry) => runScheduledOnce(store, registry, flags.policies, flags.record));
    process.stdout.write(`${flags.json ? JSON.stringify(run, null, 2) : formatRun(run)}\n`);
    process.exitCode = run.failures.length > 0 ? 1 : 0;
  });

interface ViolationsFlags extends StoreFlags {
  tenant?: string;
  status: 'open' | 'resolved' | 'all';
  api?: string;
  token?: string;
  json?: boolean;
}

storeOptions(program.command('violations').description("list a tenant's policy violations (open by default)"))
  .option('--tenant <id>', 'tenant (required with a tenant-scoped --token; omit for every tenant)')
  .addOption(new Option('--status <status>', 'which violations').choices(['open', 'resolved', 'all']).default('open'))
  .addOption(new Option('--api <url>', 'ask a running tenantscope API instead of opening the store').env('TENANTSCOPE_API'))
  .addOption(new Option('--token <token>', 'bearer token for --api (read, auditor or admin)').env('TENANTSCOPE_TOKEN'))
  .option('--json', 'print JSON instead of a table')
  .action(async (flags: ViolationsFlags) => {
    const { formatViolations } = await import('./policy/run-command.js');
    let violations: import('./policy/types.js').Violation[];
    if (flags.api) {
      const base = flags.api.replace(/\/$/, '');
      const path = flags.tenant ? `/api/v1/tenants/${encodeURIComponent(flags.tenant)}/violations` : '/api/v1/violations';
      violations = (await apiGet<{ violations: typeof violations }>(base, `${path}?status=${flags.status}`, flags.token)).violations;
    } else {
      const { listViolations } = await import('./policy/violations.js');
      violations = await withStore(flags, (store, registry) => {
        if (flags.tenant !== undefined && !registry.tenant(flags.tenant)) throw new InvalidArgumentError(`tenant ${JSON.stringify(flags.tenant)} is not in the registry`);
        return listViolations(store, { tenant: flags.tenant, status: flags.status });
      });
    }
    process.stdout.write(`${flags.json ? JSON.stringify({ violations }, null, 2) : formatViolations(violations)}\n`);
  });

interface ReportFlags extends StoreFlags {
  tenant?: string;
  from?: string;
  to?: string;
  api?: string;
  token?: string;
  json?: boolean;
}

/** The options every report command shares: window, --api/--token, --json. */
function reportOptions(cmd: Command): Command {
  return storeOptions(cmd)
    .option('--from <time>', 'window start (RFC 3339 or epoch ms)')
    .option('--to <time>', 'window end (default: now)')
    .addOption(new Option('--api <url>', 'ask a running tenantscope API instead of opening the store').env('TENANTSCOPE_API'))
    .addOption(new Option('--token <token>', 'bearer token for --api').env('TENANTSCOPE_TOKEN'))
    .option('--json', 'print JSON instead of a table');
}

/**
 * Run a report from the API (as the token's caller) or from the store (as the operator), and
 * print it as JSON or a table.
 */
async function runReport<T>(
  flags: ReportFlags,
  api: { path: string; query?: Record<string, string | undefined> },
  local: (store: import('./store/types.js').Store, registry: import('./config/index.js').Registry, window: { fromMs?: number; toMs?: number }) => Promise<T>,
  format: (r: T) => string,
): Promise<void> {
  const { parseTimeParam } = await import('./reports/window.js');
  const window = { fromMs: parseTimeParam('from', flags.from), toMs: parseTimeParam('to', flags.to) };
  let result: T;
  if (flags.api) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries({ from: flags.from, to: flags.to, ...api.query })) if (v !== undefined) q.set(k, v);
    result = await apiGet(flags.api, `${api.path}?${q}`, flags.token);
  } else {
    result = await withStore(flags, (store, registry) => {
      if (flags.tenant !== undefined && !registry.tenant(flags.tenant)) throw new InvalidArgumentError(`tenant ${JSON.stringify(flags.tenant)} is not in the registry`);
      return local(store, registry, window);
    });
  }
  process.stdout.write(`${flags.json ? JSON.stringify(result, null, 2) : format(result)}\n`);
}

const tenantPath = (tenant: string, report: string) => `/api/v1/tenants/${encodeURIComponent(tenant)}/${report}`;

const report = program.command('report').description('per-tenant and platform reports');
reportOptions(report.command('slo').description("a tenant's SLOs per service: SLIs, error budget left, burn rates and status"))
  .requiredOption('--tenant <id>', 'tenant')
  .action(async (flags: ReportFlags & { tenant: string }) => {
    const { sloReport } = await import('./reports/slo.js');
    const { formatSlo } = await import('./reports/format.js');
    await runReport(flags, { path: tenantPath(flags.tenant, 'slo') }, (store, registry, window) => sloReport(store, registry.tenant(flags.tenant)!, window), formatSlo);
  });

reportOptions(report.command('noisy').description('noisy neighbours: which tenant slowed the others on a shared resource, when, and who suffered'))
  .option('--tenant <id>', "one tenant's view (who hurt it); default: the platform view")
  .option('--min-score <n>', 'list offenders from this score up (default 5)')
  .action(async (flags: ReportFlags & { minScore?: string }) => {
    const { noisyNeighborReport } = await import('./reports/noisy.js');
    const { formatNoisy } = await import('./reports/format.js');
    const minScore = flags.minScore === undefined ? undefined : Number(flags.minScore);
    if (minScore !== undefined && !(minScore >= 0)) throw new InvalidArgumentError(`--min-score expects a number >= 0, got ${JSON.stringify(flags.minScore)}`);
    const path = flags.tenant ? tenantPath(flags.tenant, 'noisy-neighbors') : '/api/v1/noisy-neighbors';
    await runReport(
      flags,
      { path, query: { min_score: flags.minScore } },
      (store, _registry, window) => noisyNeighborReport(store, { ...window, tenant: flags.tenant, anonymise: false, thresholds: minScore === undefined ? {} : { minScore } }),
      formatNoisy,
    );
  });

reportOptions(report.command('cost').description("cost per tenant by component and day: the price card applied to measured usage (default: this month to now)"))
  .option('--tenant <id>', "one tenant's costs; default: every tenant")
  .option('--csv', 'print CSV (one row per tenant and day) instead of a table')
  .action(async (flags: ReportFlags & { csv?: boolean }) => {
    const { costReport, costCsv } = await import('./reports/cost.js');
    const { formatCost } = await import('./reports/format.js');
    const path = flags.tenant ? tenantPath(flags.tenant, 'cost') : '/api/v1/cost';
    await runReport(flags, { path }, (store, registry, window) => costReport(store, registry, { ...window, tenant: flags.tenant }), flags.csv ? (r) => costCsv(r).trimEnd() : formatCost);
  });

reportOptions(report.command('incidents').description("incidents: who an SLO breach hit (tenant, noisy neighbour, tier, region or platform), each tenant's impact window, failures, error budget and SLA credit exposure (default: the last day)"))
  .option('--tenant <id>', "one tenant's own impact (the others counted, not named); default: every incident (admin)")
  .option('--csv', 'print CSV (one row per incident and affected tenant) instead of a table')
  .action(async (flags: ReportFlags & { csv?: boolean }) => {
    const { incidentsReport, tenantIncidents } = await import('./reports/incidents.js');
    const { formatIncidents, formatTenantIncidents, incidentsCsv } = await import('./reports/format.js');
    const tenant = flags.tenant;
    if (tenant !== undefined) {
      await runReport(flags, { path: tenantPath(tenant, 'incidents') }, async (store, registry, window) => tenantIncidents(await incidentsReport(store, registry, window), tenant), flags.csv ? (r) => incidentsCsv(r.incidents) : formatTenantIncidents);
    } else {
      await runReport(flags, { path: '/api/v1/incidents' }, (store, registry, window) => incidentsReport(store, registry, window), flags.csv ? (r) => incidentsCsv(r.incidents.flatMap((i) => i.tenants.map((impact) => ({ ...i, impact })))) : formatIncidents);
    }
  });
reportOptions(report.command('recovery').description('recovery objectives: per component the latest backup, its age against the RPO and the RPO attainment; restore and failover tests against the RTO; findings (default: the last 30 days)'))
  .option('--tenant <id>', "one tenant's report; default: every tenant (admin)")
  .option('--csv', 'print CSV (one row per tenant and component) instead of a table')
  .action(async (flags: ReportFlags & { csv?: boolean }) => {
    const { recoveryReport, platformRecovery } = await import('./reports/recovery.js');
    const { standaloneRecoveryJudge } = await import('./policy/recovery-judge.js');
    const { formatRecovery, formatRecoverySummary, recoveryCsv } = await import('./reports/format.js');
    const tenant = flags.tenant;
    // From the store, findings come from the shipped policies, as a server with policies off gives them.
    if (tenant !== undefined) {
      await runReport(flags, { path: tenantPath(tenant, 'recovery') }, (store, registry, window) => recoveryReport(store, registry.tenant(tenant)!, window, standaloneRecoveryJudge(registry)), flags.csv ? (r) => recoveryCsv([r]) : formatRecovery);
    } else {
      await runReport(flags, { path: '/api/v1/recovery' }, (store, registry, window) => platformRecovery(store, registry, window, standaloneRecoveryJudge(registry)), flags.csv ? (r) => recoveryCsv(r.tenants) : formatRecoverySummary);
    }
  });

interface EvidenceFlags extends StoreFlags {
  tenant?: string;
  from?: string;
  to?: string;
  out?: string;
  api?: string;
  token?: string;
  evidenceKey?: string;
  checkpointDir?: string;
}

const evidence = storeOptions(program.command('evidence').description("write a tenant's signed evidence report for a period (format from the --out extension: .json, .html or .pdf); `evidence verify` checks one"))
  .enablePositionalOptions()
  .option('--tenant <id>', 'tenant')
  .option('--from <time>', "period start (RFC 3339 or epoch ms; default: the tenant's SLO window before --to)")
  .option('--to <time>', 'period end (default: now)')
  .option('--out <file>', 'file to write: .json (signed document), .html (page embedding it) or .pdf (printout, not verifiable)')
  .addOption(new Option('--api <url>', 'ask a running tenantscope API (signed with its key) instead of opening the store').env('TENANTSCOPE_API'))
  .addOption(new Option('--token <token>', 'bearer token for --api (read, auditor or admin)').env('TENANTSCOPE_TOKEN'))
  .addOption(evidenceKeyOption())
  .addOption(checkpointDirOption('also read audit chain checkpoints from this directory (the one serve writes with --checkpoint-dir)'))
  .action(async (flags: EvidenceFlags) => {
    if (!flags.tenant) throw new InvalidArgumentError('evidence needs --tenant <id> (or: evidence verify <file>)');
    if (!flags.out) throw new InvalidArgumentError('evidence needs --out <file.json|file.html|file.pdf>');
    const ext = extname(flags.out).toLowerCase();
    if (ext !== '.json' && ext !== '.html' && ext !== '.pdf') throw new InvalidArgumentError(`--out ${JSON.stringify(flags.out)}: the extension chooses the format; use .json, .html or .pdf`);
    const format = ext === '.json' ? 'json' : 'html';
    const { parseTimeParam } = await import('./reports/window.js');
    const window = { fromMs: parseTimeParam('from', flags.from), toMs: parseTimeParam('to', flags.to) };
    let body: string;
    if (flags.api) {
      const q = new URLSearchParams({ format });
      if (flags.from) q.set('from', flags.from);
      if (flags.to) q.set('to', flags.to);
      body = await apiText(flags.api, `${tenantPath(flags.tenant, 'evidence')}?${q}`, flags.token);
    } else {
      const { evidenceReport } = await import('./reports/evidence.js');
      const { loadEvidenceSigner } = await import('./reports/evidence-sign.js');
      const { evidenceFile } = await import('./reports/evidence-file.js');
      const { readCheckpoints } = await import('./ingest/audit/checkpoint.js');
      const { standaloneRecoveryJudge } = await import('./policy/recovery-judge.js');
      const signer = loadEvidenceSigner({ dataDir: flags.dataDir, keyFile: flags.evidenceKey });
      const checkpoints = readCheckpoints(flags.dataDir, flags.checkpointDir, signer.publicKeyPem);
      const tenant = flags.tenant;
      const doc = await withStore(flags, async (store, registry) => {
        if (!registry.tenant(tenant)) throw new InvalidArgumentError(`tenant ${JSON.stringify(tenant)} is not in the registry`);
        // The operator reads the store directly: nothing is anonymised, and server settings are unknown.
        const report = await evidenceReport(store, registry, tenant, window, {
          requestedBy: { name: 'operator (local store)', kind: 'operator' },
          anonymise: false,
          signingKeyId: signer.keyId,
          checkpoints,
          recoveryJudge: standaloneRecoveryJudge(registry),
        });
        return signer.sign(report);
      });
      body = (await evidenceFile(doc, format)).body;
    }
    if (ext === '.pdf') {
      const { printEvidencePdf } = await import('./reports/evidence-pdf.js');
      await printEvidencePdf(body, flags.out);
    } else {
      writeFileSync(flags.out, body);
    }
    process.stdout.write(`wrote ${flags.out}: evidence of ${flags.tenant}${ext === '.pdf' ? ' (a printout; verify the .json or .html)' : ''}\n`);
  });

evidence
  .command('verify')
  .description('check an evidence file (.json, or .html through its embedded JSON): exit 0 when valid, 1 with the reason when not')
  .argument('<file>', 'evidence file')
  .option('--public-key <pem file>', "the signer's public key (GET /api/v1/evidence/public-key?format=pem)")
  .addOption(new Option('--api <url>', 'fetch the public key from this running tenantscope').env('TENANTSCOPE_API'))
  .option('--json', 'print the verification result as JSON')
  .action(async (file: string, flags: { publicKey?: string; api?: string; json?: boolean }) => {
    if (flags.publicKey && flags.api) throw new InvalidArgumentError('give --public-key or --api, not both');
    let text: string;
    let key: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
      if (flags.publicKey) key = readFileSync(flags.publicKey, 'utf8');
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
    if (flags.api) key = await apiText(flags.api, '/api/v1/evidence/public-key?format=pem', undefined);
    const { verifyEvidenceFile } = await import('./reports/evidence-file.js');
    const result = text.startsWith('%PDF')
      ? ({ valid: false, reason: 'bad_shape', field: '(file)', message: 'a PDF is a printout and carries no signature; verify the .json or .html it was printed from' } as const)
      : await verifyEvidenceFile(text, key);
    if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else if (result.valid) {
      process.stdout.write(`valid: evidence of ${result.tenant} from ${result.period.from} to ${result.period.to}, generated ${result.generated_at}, signed with key ${result.key_id}\n`);
      for (const note of result.notes) process.stdout.write(`note: ${note}\n`);
    } else {
      process.stderr.write(`invalid (${result.reason}): ${result.message}\n`);
    }
    process.exitCode = result.valid ? 0 : 1;
  });

registerSimulateCommand(program);

interface DemoFlags {
  config: string;
  scenario: import('./simulate/scenarios.js').ScenarioName;
  seed: number;
  duration: number;
  rate: number;
  host: string;
  otlpHttpPort: number;
  otlpGrpcPort: number;
  apiPort: number;
  keepData?: boolean;
}

program
  .command('demo')
  .description('start tenantscope on a temporary data dir, simulate a day of the demo platform (eod-burst), print the SLO, noisy-neighbour and cost reports, and keep serving')
  .addOption(new Option('--config <file>', 'tenant registry (YAML)').env('TENANTSCOPE_CONFIG').default('fixtures/tenants.yaml'))
  .addOption(new Option('--scenario <name>', 'workload scenario').choices(SCENARIO_NAMES).default('eod-burst'))
  .option('--seed <n>', 'simulation seed', (v: string) => Number(positiveInt(v)), 1)
  .option('--duration <seconds>', 'real seconds to spread the simulated day over', (v: string) => nonNegativeInt(v), 60)
  .option('--rate <x>', 'multiplier on the requests sent (the modelled load stays the same)', (v: string) => {
    const n = Number(v);
    if (!(n > 0)) throw new InvalidArgumentError(`expected a number > 0, got ${JSON.stringify(v)}`);
    return n;
  }, 1)
  .option('--host <address>', 'listen address', '127.0.0.1')
  .option('--otlp-http-port <port>', 'OTLP/HTTP port (0: any free port)', port, 4318)
  .option('--otlp-grpc-port <port>', 'OTLP/gRPC port (0: any free port)', port, 4317)
  .option('--api-port <port>', 'API port (0: any free port)', port, 8080)
  .option('--keep-data', 'keep the data directory when stopped')
  .action(async (flags: DemoFlags) => {
    // The tables are the demo's output; routine log lines would bury them.
    if (!process.env.TENANTSCOPE_LOG_LEVEL) rootLogger.level = 'warn';
    const { runDemo } = await import('./demo.js');
    const demo = await runDemo({
      configPath: flags.config,
      scenario: flags.scenario,
      seed: flags.seed,
      durationSec: flags.duration,
      rate: flags.rate,
      host: flags.host,
      otlpHttpPort: flags.otlpHttpPort,
      otlpGrpcPort: flags.otlpGrpcPort,
      apiPort: flags.apiPort,
      keepData: flags.keepData === true,
      out: (text) => process.stdout.write(`${text}\n`),
      progress: (text) => process.stderr.write(`${text}\n`),
    });
    const stop = () => {
      demo.close().then(
        () => process.exit(0),
        (e: unknown) => {
          process.stderr.write(`tenantscope: demo shutdown failed: ${String(e)}\n`);
          process.exit(1);
        },
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

/** GET a route of a running API; an error answer ends the command with its code and message. */
async function apiGet<T>(api: string, path: string, token: string | undefined): Promise<T> {
  return JSON.parse(await apiText(api, path, token)) as T;
}

/** GET a route of a running API as text; an error answer ends the command with its code and message. */
async function apiText(api: string, path: string, token: string | undefined): Promise<string> {
  const res = await fetch(`${api.replace(/\/$/, '')}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  if (!res.ok) apiError(res.status, text, path.split('?')[0]!);
  return text;
}

/** Open the registry and the (migrated) store for one command, and close the store after. */
async function withStore<T>(flags: StoreFlags, fn: (store: import('./store/types.js').Store, registry: import('./config/index.js').Registry) => Promise<T>): Promise<T> {
  const { loadRegistry } = await import('./config/index.js');
  const { migrate, openStoreAt, ddlTarget } = await import('./store/index.js');
  const registry = loadRegistry(flags.config);
  const store = await openStoreAt(flags);
  try {
    await migrate(store, ddlTarget(flags));
    return await fn(store, registry);
  } finally {
    await store.close();
  }
}

program.parseAsync(process.argv).catch((e: unknown) => {
  if (isTenantscopeError(e)) {
    process.stderr.write(`tenantscope: ${e.code}: ${e.message}\n`);
    process.exit(2);
  }
  if (e instanceof Error && (e.name === 'RegoError' || e.name === 'RegoEvalError' || e.name === 'PolicyLoadError' || e.name === 'InvalidArgumentError')) {
    process.stderr.write(`tenantscope: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`tenantscope: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
