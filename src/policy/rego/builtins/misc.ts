// print, trace, opa.runtime and test.sleep.
//
// print is variadic: it is registered with arity -1, meaning "any number of operands"; the
// evaluator passes every argument, with an argument that was undefined given as `undefined`
// (printed "<undefined>" as OPA does). Strings print bare, other values as Rego text.
import { BuiltinError, type BuiltinDef } from './types.js';
import { RObject, type Value } from '../value.js';
import { regoText } from './sprintf.js';
import { builtinError, str } from './operands.js';
import { parseDuration } from './time.js';

/** The line print() writes for its operands. */
export function printLine(args: (Value | undefined)[]): string {
  return args.map((a) => (a === undefined ? '<undefined>' : typeof a === 'string' ? a : regoText(a))).join(' ');
}

/** Miscellaneous builtins. */
export const DEFS: BuiltinDef[] = [
  {
    name: 'print',
    arity: -1,
    fn: (args, ctx) => {
      ctx.print(printLine(args));
      return true;
    },
  },
  // Notes go to OPA's tracer, which this engine does not have; the call still succeeds.
  { name: 'trace', arity: 1, fn: (args) => (str('trace', args, 1), true) },
  { name: 'opa.runtime', arity: 0, fn: () => RObject.from([['env', new RObject()]]) },
  // Policies here decide on evidence that must be reproducible, so they may not reach the
  // network: http.send exists (so `with http.send as mock` works in tests) but always fails.
  {
    name: 'http.send',
    arity: 1,
    fn: () => {
      throw new BuiltinError('eval_builtin_error', 'http.send: network access is disabled in tenantscope policies; mock it with `with http.send as ...`');
    },
  },
  {
    name: 'test.sleep',
    arity: 1,
    nondeterministic: true,
    fn: (args) => {
      let ns: bigint;
      try {
        ns = parseDuration(str('test.sleep', args, 1));
      } catch (e) {
        if (e instanceof BuiltinError) throw e;
        return builtinError('test.sleep', (e as Error).message);
      }
      const ms = Number(ns / 1_000_000n);
      // A synchronous wait: builtins are synchronous, and this one exists only for tests.
      if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.min(ms, 10_000));
      return null;
    },
  },
];
