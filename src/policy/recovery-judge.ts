// The recovery policies for a process that runs no policy service (the CLI, a server with
// policies switched off): the policy directory is loaded and compiled once per process.
import type { Registry } from '../config/index.js';
import { fromRoot } from '../paths.js';
import { PolicyEvaluator } from './evaluator.js';
import { loadPolicySet } from './policy-set.js';
import { registryDocument } from './registry-data.js';
import { judgeWith } from './scheduled.js';
import type { Finding, RecoveryInput } from './types.js';

/** A judge over the policies in `dir` (default: the shipped policies/). */
export function standaloneRecoveryJudge(registry: Registry, dir = fromRoot('policies')): (input: RecoveryInput) => Finding[] {
  let ev: PolicyEvaluator | undefined;
  return (input) => judgeWith((ev ??= new PolicyEvaluator(loadPolicySet(dir), registryDocument(registry))), input);
}
