// Starts a real tenantscope in this process on a fresh chDB data directory and free ports,
// with the demo registry, for tests that talk to it over HTTP and then read chDB directly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromRoot } from '../../src/paths.js';
import { startServer, type RunningServer, type ServeOptions } from '../../src/server.js';

export const DEMO_CONFIG = fromRoot('fixtures', 'tenants.yaml');
export const SHARED_DIR = fromRoot('..', 'shared');

export interface TestServer extends RunningServer {
  dataDir: string;
  /** Close the server and remove its data directory. */
  stop(): Promise<void>;
}

/** Start tenantscope on loopback with ephemeral ports and a temporary data directory. */
export async function startTestServer(overrides: Partial<ServeOptions> = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tenantscope-test-'));
  const server = await startServer({
    configPath: DEMO_CONFIG,
    dataDir,
    host: '127.0.0.1',
    otlpHttpPort: 0,
    otlpGrpcPort: 0,
    apiPort: 0,
    writer: { lingerMs: 5 },
    ...overrides,
  });
  return {
    ...server,
    dataDir,
    async stop() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Authorization header for a demo token. */
export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}
