// The worker thread that evaluates streamed policy inputs, so that a slow policy costs the
// ingest path nothing but a wait it bounds itself (see stream.ts). Results go back in chunks:
// when the main thread gives up on a batch, it knows which input was still running.
import { parentPort } from 'node:worker_threads';
import { PolicyEvaluator } from './evaluator.js';
import type { PolicySet } from './policy-set.js';
import type { RegistryDocument } from './registry-data.js';
import type { WorkerReply, WorkerRequest, WorkerResult } from './worker-protocol.js';

/** Results are sent at least this often while a batch runs. */
const CHUNK_MS = 5;

let evaluator: PolicyEvaluator | undefined;
const port = parentPort!;

function post(m: WorkerReply): void {
  port.postMessage(m);
}

port.on('message', (m: WorkerRequest) => {
  if (m.t === 'load') {
    try {
      evaluator = new PolicyEvaluator(m.set as PolicySet, m.registry as RegistryDocument);
      post({ t: 'loaded', version: m.set.version });
    } catch (e) {
      post({ t: 'load_error', version: m.set.version, error: (e as Error).message });
    }
    return;
  }
  const ev = evaluator;
  let chunk: WorkerResult[] = [];
  let last = performance.now();
  for (const item of m.batch) {
    const t0 = performance.now();
    if (!ev) chunk.push({ id: item.id, findings: [], failures: [{ pkg: 'tenantscope', message: 'no policy set is loaded' }], ms: 0 });
    else {
      const r = ev.evaluate(item.input);
      chunk.push({ id: item.id, findings: r.findings, failures: r.failures, ms: performance.now() - t0 });
    }
    const now = performance.now();
    if (now - last >= CHUNK_MS) {
      post({ t: 'results', batch: m.seq, results: chunk, done: false });
      chunk = [];
      last = now;
    }
  }
  post({ t: 'results', batch: m.seq, results: chunk, done: true });
});
