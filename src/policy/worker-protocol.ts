// Messages between the stream evaluator and its worker thread.
import type { PolicyFailure } from './evaluator.js';
import type { PolicySet } from './policy-set.js';
import type { RegistryDocument } from './registry-data.js';
import type { Finding, StreamedInput } from './types.js';

export type WorkerRequest =
  | { t: 'load'; set: PolicySet; registry: RegistryDocument }
  | { t: 'eval'; seq: number; batch: { id: number; input: StreamedInput }[] };

export interface WorkerResult {
  id: number;
  findings: Finding[];
  failures: PolicyFailure[];
  ms: number;
}

export type WorkerReply =
  | { t: 'loaded'; version: string }
  | { t: 'load_error'; version: string; error: string }
  | { t: 'results'; batch: number; results: WorkerResult[]; done: boolean };
