// The contract between the evaluator and builtin functions.
import type { Value } from '../value.js';

/** What a builtin may know about the evaluation it runs in. */
export interface BuiltinContext {
  /** Strict builtin errors: a failing builtin raises instead of making its expression undefined. */
  readonly strict: boolean;
  /** time.now_ns() of this query: fixed for the whole evaluation, as OPA does. */
  readonly nowNs: bigint;
  /** Where print() writes. */
  print(line: string): void;
  /** Memo for builtins that want to cache per evaluation (e.g. compiled regexes are cached globally instead). */
  readonly cache: Map<string, unknown>;
}

/**
 * A builtin's implementation. Returns the result, or `undefined` when the call is undefined
 * (e.g. `object.get` never is, but `to_number("x")` errors). Errors are thrown as BuiltinError.
 */
export type BuiltinFn = (args: Value[], ctx: BuiltinContext) => Value | undefined;

export interface BuiltinDef {
  /** Full dotted name, e.g. `time.parse_rfc3339_ns`. */
  readonly name: string;
  /** Number of operands (the result is not counted). */
  readonly arity: number;
  readonly fn: BuiltinFn;
  /** True for builtins whose result varies between calls with the same arguments (time.now_ns, uuid.rfc4122 is per-query stable). */
  readonly nondeterministic?: boolean;
}

/** OPA's error codes for builtin failures. */
export type BuiltinErrorCode = 'eval_type_error' | 'eval_builtin_error';

/**
 * A builtin failure: `eval_type_error` for wrong operand types (message in OPA's wording, e.g.
 * "count: operand 1 must be one of {array, object, set, string} but got number"),
 * `eval_builtin_error` for failures on well-typed input. Whether a failure raises or makes the
 * expression undefined is the evaluator's decision (strict mode), following OPA.
 */
export class BuiltinError extends Error {
  constructor(
    readonly code: BuiltinErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BuiltinError';
  }
}
