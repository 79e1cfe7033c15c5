// Evaluates a policy set's entry points on one input and checks what they answer. A finding
// of the wrong shape, or an entry point that fails, becomes an error the caller records as a
// finding of its own: a broken policy must be visible, never silently quiet.
import { RegoEngine, toJS, type PreparedQuery } from './rego/index.js';
import './rego/builtins/index.js';
import type { PolicySet } from './policy-set.js';
import type { RegistryDocument } from './registry-data.js';
import { SEVERITIES, type Finding, type InputKind, type PolicyInput } from './types.js';

/** An entry point that could not be evaluated, or answered something that is not a finding. */
export interface PolicyFailure {
  /** Package path of the entry point. */
  pkg: string;
  message: string;
}

export interface Evaluation {
  findings: Finding[];
  failures: PolicyFailure[];
}

const SEVERITY_SET = new Set<string>(SEVERITIES);

/** A policy set compiled against one registry document, ready to evaluate inputs. */
export class PolicyEvaluator {
  private readonly byKind = new Map<InputKind, { pkg: string; query: PreparedQuery }[]>();

  constructor(set: PolicySet, registry: RegistryDocument) {
    const engine = new RegoEngine();
    for (const s of set.sources) engine.addModule(s.file, s.text);
    engine.setData({ tenantscope: { registry } });
    engine.compile();
    for (const ep of set.entryPoints) {
      const query = engine.prepare(`v := data.${ep.pkg}.violations`);
      for (const kind of ep.evaluatedOn) {
        let list = this.byKind.get(kind);
        if (!list) this.byKind.set(kind, (list = []));
        list.push({ pkg: ep.pkg, query });
      }
    }
  }

  /** Evaluate every entry point that reads this kind of input. */
  evaluate(input: PolicyInput, nowNs?: bigint): Evaluation {
    const findings: Finding[] = [];
    const failures: PolicyFailure[] = [];
    for (const { pkg, query } of this.byKind.get(input.kind) ?? []) {
      let value: unknown;
      try {
        const rs = query.eval({ input, nowNs });
        value = rs.length === 0 ? [] : toJS(rs[0]!.v!);
      } catch (e) {
        failures.push({ pkg, message: (e as Error).message });
        continue;
      }
      if (!Array.isArray(value)) {
        failures.push({ pkg, message: `violations is not a set (got ${typeof value})` });
        continue;
      }
      for (const f of value) {
        const problem = findingProblem(f);
        if (problem) failures.push({ pkg, message: `a finding ${problem}: ${JSON.stringify(f).slice(0, 300)}` });
        else findings.push(f as Finding);
      }
    }
    return { findings, failures };
  }
}

function findingProblem(f: unknown): string | undefined {
  if (typeof f !== 'object' || f === null || Array.isArray(f)) return 'is not an object';
  const o = f as Record<string, unknown>;
  for (const k of ['policy', 'rule', 'tenant', 'subject', 'message'] as const) {
    if (typeof o[k] !== 'string') return `has no string ${k}`;
  }
  if (!SEVERITY_SET.has(o.severity as string)) return `has severity ${JSON.stringify(o.severity)}, not one of ${SEVERITIES.join(', ')}`;
  if ((o.policy as string).length === 0 || (o.rule as string).length === 0) return 'has an empty policy or rule';
  return undefined;
}
