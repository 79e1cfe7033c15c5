// Public engine API: load modules and data, prepare queries once, evaluate them many times.
import type { Module } from './ast.js';
import type { BuiltinContext } from './builtins/types.js';
import { Compiler } from './compiler.js';
import { Ctx, RegoEvalError, getData, type Frame, type Goal, type Limits } from './eval.js';
import { RegoError } from './lexer.js';
import { parseModule, parseQuery } from './parser.js';
import { RObject, fromJS, type Value } from './value.js';

/** One query result: the query's variables and their values. */
export type Bindings = Record<string, Value>;
export type ResultSet = Bindings[];

/** Per-evaluation options. */
export interface EvalOptions {
  /** The input document (a Rego value or plain JSON-like data). */
  input?: unknown;
  /** Raise builtin errors instead of treating the failing expression as undefined. */
  strictBuiltinErrors?: boolean;
  /** Fixed time.now_ns() for the evaluation (defaults to the wall clock). */
  nowNs?: bigint;
  /** Receives print() output. */
  print?: (line: string) => void;
}

/** Shared by every top-level context: `with` derives contexts with maps of their own. */
const NO_OVERRIDES: ReadonlyMap<string, never> = new Map<string, never>();

/** What builtins see of one evaluation; the clock and the memo are made only when asked for. */
class EvalBuiltinContext implements BuiltinContext {
  private now: bigint | undefined;
  private memo: Map<string, unknown> | undefined;
  constructor(
    readonly strict: boolean,
    nowNs: bigint | undefined,
    private readonly printer: ((line: string) => void) | undefined,
  ) {
    this.now = nowNs;
  }
  get nowNs(): bigint {
    return (this.now ??= BigInt(Date.now()) * 1_000_000n);
  }
  get cache(): Map<string, unknown> {
    return (this.memo ??= new Map());
  }
  print(line: string): void {
    this.printer?.(line);
  }
}

const DEFAULT_LIMITS: Limits = { maxDepth: 2000, maxSteps: 50_000_000 };

function toValue(x: unknown): Value | undefined {
  if (x === undefined) return undefined;
  return fromJS(x);
}

/** Convert a JS stack overflow into a Rego error so that callers never see a crash. */
function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RangeError && /call stack/i.test(e.message)) throw new RegoEvalError('eval_error', 'evaluation exceeded the maximum nesting depth');
    throw e;
  }
}

/** A query compiled against the engine's modules; evaluate it with different inputs. */
export class PreparedQuery {
  constructor(
    private readonly engine: RegoEngine,
    private readonly goal: Goal,
    private readonly size: number,
    private readonly vars: [string, number][],
  ) {}

  /** Evaluate: one record of variable bindings per solution; [] when undefined. */
  eval(opts: EvalOptions = {}): ResultSet {
    const out: ResultSet = [];
    guarded(() => {
      const ctx = this.engine.newContext(opts);
      const f: Frame = { s: new Array(this.size), ctx, o: undefined };
      return this.goal(f, () => {
        const b: Bindings = {};
        for (const [n, s] of this.vars) {
          const v = f.s[s];
          if (v !== undefined) b[n] = v;
        }
        out.push(b);
        return false;
      });
    });
    return out;
  }
}

/** A Rego v1 engine: modules plus base data, compiled once and evaluated per query. */
export class RegoEngine {
  private readonly modules = new Map<string, Module>();
  private data: Value = new RObject();
  private compiler: Compiler | undefined;
  limits: Limits = { ...DEFAULT_LIMITS };

  constructor(private readonly opts: { v0Compatible?: boolean } = {}) {}

  /** Parse and add a module (replacing one with the same file name). */
  addModule(fileName: string, source: string): void {
    this.modules.set(fileName, parseModule(source, fileName, { v0: this.opts.v0Compatible }));
    this.compiler = undefined;
  }

  /** Set the base `data` document (a Rego value or plain JSON-like data). */
  setData(value: unknown): void {
    this.data = fromJS(value);
    this.compiler = undefined;
  }

  /** Compile all modules (once until they change); throws RegoError on compile errors. */
  compile(): Compiler {
    if (!this.compiler) this.compiler = new Compiler([...this.modules.values()], this.data);
    return this.compiler;
  }

  /** Compile a query such as `data.test.p = x` or `x := data.a[_]`. */
  prepare(query: string): PreparedQuery {
    const c = this.compile();
    const q = c.compileQuery(parseQuery(query, 'query'));
    return new PreparedQuery(this, q.goal, q.size, q.vars);
  }

  /** Prepare and evaluate in one step. */
  eval(query: string, opts: EvalOptions = {}): ResultSet {
    return this.prepare(query).eval(opts);
  }

  /** The value of a document such as `data.authz.allow` (or `authz.allow`), or undefined. */
  evalRule(path: string, input?: unknown, opts: Omit<EvalOptions, 'input'> = {}): Value | undefined {
    this.compile();
    const parts = path.split('.');
    if (parts[0] === 'data') parts.shift();
    return guarded(() => getData(this.newContext({ ...opts, input }), parts));
  }

  /** A fresh evaluation context (caches live for one evaluation). */
  newContext(opts: EvalOptions): Ctx {
    const prog = this.compile().program;
    const bctx = new EvalBuiltinContext(opts.strictBuiltinErrors ?? false, opts.nowNs, opts.print);
    return new Ctx(prog, toValue(opts.input), bctx, [], NO_OVERRIDES, this.limits);
  }
}

export { RegoError, RegoEvalError };
