// Compiles parsed Rego modules and queries into closures over ./eval.ts's runtime, once per
// module set. Bodies are reordered for safety (as OPA's compiler does) so that every
// expression runs only when the variables it reads are bound; variables live in numbered
// slots of a frame, bound and unbound as the continuation-passing evaluation backtracks.
import type { Expr, Module, Rule, Term, Loc } from './ast.js';
import { BUILTINS } from './builtins/index.js';
import type { BuiltinDef } from './builtins/types.js';
import {
  Ctx,
  RegoEvalError,
  getData,
  dataKey,
  completePrefix,
  completeValue,
  lookup,
  tick,
  patch,
  type Contribution,
  type DataOverride,
  type FuncImpl,
  type Frame,
  type Gen,
  type Goal,
  type K,
  type Program,
  type RuleGroup,
  type TrieNode,
} from './eval.js';
import { MAX_PIECES, callBuiltin, generated, generatedGoal, type Generated, type OpIR, type PieceIR, type SingleGen, type TermIR } from './codegen.js';
import { RegoError } from './lexer.js';
import { RObject, RSet, compare, equal, innerKey, keyOf, type Value } from './value.js';

type Pattern = (f: Frame, v: Value, k: K) => boolean;

/** A body as one goal: generated, or its closures in sequence when nothing is generated inline. */
function goalOf(pieces: PieceIR[], goals: Goal[]): Goal {
  return pieces.every((p) => p.k === 'goal') ? seq(goals) : generatedGoal(pieces, MULTI);
}

/** The continuation of a generated rule body, which never calls it (it emits into f.o). */
const NO_K: K = () => false;
const NO_CONTRIBUTIONS: Contribution[] = Object.freeze([]) as unknown as Contribution[];

/**
 * A generator's single-value fast path: most terms (refs without iteration, calls over such
 * terms, literals) have at most one value, computed here without callbacks. Returns the value,
 * undefined when there is none, or MULTI when the term must enumerate (use the generator).
 */
const MULTI: unique symbol = Symbol('multi');
type One = (f: Frame) => Value | undefined | typeof MULTI;
function withOne(g: Gen, one: One): Gen {
  (g as Gen & { one?: One }).one = one;
  return g;
}
function oneOf(g: Gen): One | undefined {
  return (g as Gen & { one?: One }).one;
}
/** A generator from a single-value function, falling back to `slow` where it enumerates. */
function fromOne(one: One, slow: Gen): Gen {
  return withOne((f, cb) => {
    const r = one(f);
    if (r === MULTI) return slow(f, cb);
    return r === undefined ? false : cb(r);
  }, one);
}
/** Single-value functions of all generators, or undefined when any lacks one. */
function onesOf(gens: Gen[]): One[] | undefined {
  const out: One[] = [];
  for (const g of gens) {
    const o = oneOf(g);
    if (!o) return undefined;
    out.push(o);
  }
  return out;
}

/** How a name in a body resolves. */
type Resolved = { r: 'local'; slot: number } | { r: 'wild'; slot: number } | { r: 'input' } | { r: 'data'; path: string[] } | { r: 'term'; term: Term };

class Scope {
  readonly vars = new Map<string, number>();
  constructor(readonly parent?: Scope) {}
  find(name: string): number | undefined {
    for (let s: Scope | undefined = this; s; s = s.parent) {
      const v = s.vars.get(name);
      if (v !== undefined) return v;
    }
    return undefined;
  }
}

interface ModuleInfo {
  pkg: string[];
  file: string;
  /** First head segment of every rule/function of the package -> true. */
  ruleNames: Set<string>;
  aliases: Map<string, Term>;
}

interface FuncDef {
  rule: Rule;
  mod: ModuleInfo;
}

const MEMBER_FALLBACK = (x: Value, coll: Value): boolean => {
  if (Array.isArray(coll)) return coll.some((e) => equal(e, x));
  if (coll instanceof RSet) return coll.has(x);
  if (coll instanceof RObject) {
    for (const [, v] of coll.entries.values()) if (equal(v, x)) return true;
  }
  return false;
};

/** Core operators the evaluator can answer itself when no builtin of that name is registered. */
const FALLBACKS: Record<string, BuiltinDef> = {
  equal: { name: 'equal', arity: 2, fn: ([a, b]) => equal(a!, b!) },
  neq: { name: 'neq', arity: 2, fn: ([a, b]) => !equal(a!, b!) },
  lt: { name: 'lt', arity: 2, fn: ([a, b]) => compare(a!, b!) < 0 },
  lte: { name: 'lte', arity: 2, fn: ([a, b]) => compare(a!, b!) <= 0 },
  gt: { name: 'gt', arity: 2, fn: ([a, b]) => compare(a!, b!) > 0 },
  gte: { name: 'gte', arity: 2, fn: ([a, b]) => compare(a!, b!) >= 0 },
  'internal.member_2': { name: 'internal.member_2', arity: 2, fn: ([x, c]) => MEMBER_FALLBACK(x!, c!) },
  'internal.member_3': {
    name: 'internal.member_3',
    arity: 3,
    fn: ([k, x, c]) => {
      const v = lookup(c!, k!);
      return v !== undefined && !(c instanceof RSet) && equal(v, x!);
    },
  },
};

/** Pure one-argument string builtins whose last result a call site may reuse. */
const MEMO_BUILTINS = new Set(['lower', 'upper', 'trim_space', 'to_number', 'strings.reverse']);

/** Builtins that are relations in OPA: they return an array of all results to enumerate. */
const RELATIONAL = new Set(['walk']);

function builtin(name: string): BuiltinDef | undefined {
  return BUILTINS.get(name) ?? FALLBACKS[name];
}

function seq(goals: Goal[]): Goal {
  if (goals.length === 0) return (_f, k) => k();
  if (goals.length === 1) return goals[0]!;
  const [g, ...rest] = goals;
  const r = seq(rest);
  const t = testOf(g!);
  // A test binds nothing and holds at most once: no continuation closure needed.
  if (t)
    return (f, k) => {
      const x = t(f);
      if (x === MULTI) return g!(f, () => r(f, k));
      return x ? r(f, k) : false;
    };
  return (f, k) => g!(f, () => r(f, k));
}

/** A goal's fast path when it only tests (binds nothing): true/false, or MULTI to run the goal. */
type Test = (f: Frame) => boolean | typeof MULTI;
function withTest(g: Goal, t: Test): Goal {
  (g as Goal & { test?: Test }).test = t;
  return g;
}
function testOf(g: Goal): Test | undefined {
  return (g as Goal & { test?: Test }).test;
}

function isGroundLiteral(t: Term): boolean {
  switch (t.t) {
    case 'scalar':
      return true;
    case 'array':
    case 'set':
      return t.items.every(isGroundLiteral);
    case 'object':
      return t.pairs.every(([k, v]) => isGroundLiteral(k) && isGroundLiteral(v));
    default:
      return false;
  }
}

function literalValue(t: Term): Value {
  switch (t.t) {
    case 'scalar':
      return t.v;
    case 'array':
      return t.items.map(literalValue);
    case 'set':
      return RSet.from(t.items.map(literalValue));
    case 'object':
      return RObject.from(t.pairs.map(([k, v]) => [literalValue(k), literalValue(v)] as [Value, Value]));
    default:
      throw new Error('not a literal');
  }
}

/** Evaluate a ground term (no variables, refs or calls): used for input_term and with values. */
export function termToValue(t: Term): Value {
  if (!isGroundLiteral(t)) throw new RegoError('rego_type_error', 'term is not a ground value', t.loc.file, t.loc.line, t.loc.col);
  return literalValue(t);
}

/** Dependencies recorded while compiling one rule group or function, for recursion checks. */
interface DepSink {
  paths: string[][];
  funcs: string[];
}

/** Compile modules into a Program plus the query compiler bound to it. */
export class Compiler {
  private readonly trie: TrieNode = { children: new Map(), groups: [] };
  private readonly funcs = new Map<string, FuncImpl>();
  private readonly funcDefs = new Map<string, FuncDef[]>();
  private readonly groupDeps = new Map<string, DepSink>();
  private readonly groupByNode = new Map<string, RuleGroup>();
  private nextGroup = 0;
  private deps: DepSink = { paths: [], funcs: [] };
  private mod: ModuleInfo = { pkg: [], file: 'query', ruleNames: new Set(), aliases: new Map() };
  private nslots = 0;
  readonly program: Program;

  constructor(modules: Module[], baseData: Value) {
    this.program = { trie: this.trie, funcs: this.funcs, baseData };
    const infos = modules.map((m) => this.info(m));
    // Functions first so that calls can be resolved by name while compiling rules.
    for (let i = 0; i < modules.length; i++) {
      for (const r of modules[i]!.rules) {
        if (r.kind !== 'func') continue;
        const name = ['data', ...infos[i]!.pkg, ...this.groundHead(r)].join('.');
        const defs = this.funcDefs.get(name) ?? [];
        defs.push({ rule: r, mod: infos[i]! });
        this.funcDefs.set(name, defs);
      }
    }
    for (const [name, defs] of this.funcDefs) this.compileFunc(name, defs);
    const completes = new Map<string, { rules: Rule[]; mod: ModuleInfo; gpath: string[] }>();
    for (let i = 0; i < modules.length; i++) {
      const mod = infos[i]!;
      for (const r of modules[i]!.rules) {
        if (r.kind === 'func') continue;
        const ground = this.groundHead(r);
        const gpath = [...mod.pkg, ...ground];
        const dyn = r.ref.slice(ground.length);
        if (r.kind === 'complete' && dyn.length === 0) {
          const key = gpath.join('\u0000');
          const e = completes.get(key) ?? { rules: [], mod, gpath };
          e.rules.push(r);
          completes.set(key, e);
        } else this.addGroup(this.compileMulti(r, mod, gpath, dyn));
      }
    }
    for (const e of completes.values()) this.addGroup(this.compileComplete(e.rules, e.mod, e.gpath));
    // Packages and function parents exist as (possibly empty) objects, as in OPA.
    const containers = new Set<string>();
    for (const mod of infos) containers.add(JSON.stringify(mod.pkg));
    for (const name of this.funcDefs.keys()) containers.add(JSON.stringify(name.split('.').slice(1, -1)));
    for (const c of containers) {
      const gpath = JSON.parse(c) as string[];
      this.addGroup({ id: this.nextGroup++, gpath, name: ['data', ...gpath].join('.'), container: 'object', placeholder: true, run: () => [] });
    }
    this.checkRecursion();
  }

  private info(m: Module): ModuleInfo {
    const ruleNames = new Set<string>();
    for (const r of m.rules) {
      const h = r.ref[0]!;
      if (h.t === 'var') ruleNames.add(h.name);
    }
    const aliases = new Map<string, Term>();
    for (const imp of m.imports) {
      const p = imp.path;
      const head = p.t === 'ref' ? p.head : p;
      // `import data` / `import input` alone add nothing (and must not alias a root to itself).
      if (p.t !== 'ref' || head.t !== 'var' || (head.name !== 'data' && head.name !== 'input')) continue;
      let alias = imp.alias;
      if (!alias) {
        if (p.t !== 'ref') alias = head.name;
        else {
          const last = p.ops[p.ops.length - 1]!;
          alias = last.t === 'scalar' && typeof last.v === 'string' ? last.v : undefined;
        }
      }
      if (alias) aliases.set(alias, p);
    }
    return { pkg: ['data', ...m.pkg].slice(1), file: m.file, ruleNames, aliases };
  }

  private groundHead(r: Rule): string[] {
    const out: string[] = [];
    for (const [i, t] of r.ref.entries()) {
      if (i === 0 && t.t === 'var') out.push(t.name);
      else if (i > 0 && t.t === 'scalar' && typeof t.v === 'string') out.push(t.v);
      else break;
    }
    return out;
  }

  private addGroup(g: RuleGroup): void {
    let n = this.trie;
    for (const seg of g.gpath) {
      let c = n.children.get(seg);
      if (!c) n.children.set(seg, (c = { children: new Map(), groups: [] }));
      n = c;
    }
    n.groups.push(g);
    this.groupByNode.set(`g${g.id}`, g);
  }

  private err(code: string, msg: string, loc: Loc): never {
    throw new RegoError(code, msg, loc.file, loc.line, loc.col);
  }

  // ---- rules ----

  private beginRule(mod: ModuleInfo): void {
    this.mod = mod;
    this.nslots = 0;
    this.deps = { paths: [], funcs: [] };
  }

  private compileComplete(rules: Rule[], mod: ModuleInfo, gpath: string[]): RuleGroup {
    const id = this.nextGroup++;
    const name = ['data', ...gpath].join('.');
    this.beginRule(mod);
    type Alt = { goal: Goal; value: Gen; size: number; loc: Loc; gen: Generated | undefined };
    const chains: Alt[][] = [];
    let dflt: Gen | undefined;
    let dfltSize = 0;
    for (const r of rules) {
      this.mod = mod;
      if (r.isDefault) {
        this.nslots = 0;
        const sc = new Scope();
        dflt = this.gen(r.value, sc, new Set());
        dfltSize = this.nslots;
        continue;
      }
      const chain: Alt[] = [];
      for (const alt of [{ value: r.value, body: r.body, loc: r.loc }, ...r.elses]) {
        this.nslots = 0;
        const sc = new Scope();
        const bound = new Set<number>();
        const { pieces, goals } = this.bodyPieces(alt.body, sc, bound, [alt.value]);
        const goal = goalOf(pieces, goals);
        const value = this.headGen(alt.value, sc, bound, r);
        const gen = this.ruleBody(pieces, alt.value, sc, bound, true);
        chain.push({ goal, value, size: this.nslots, loc: alt.loc, gen });
      }
      chains.push(chain);
    }
    this.groupDeps.set(`g${id}`, this.deps);
    return {
      id,
      gpath,
      name,
      complete: true,
      run: (ctx) => {
        let found: Value | undefined;
        let foundLoc: Loc | undefined;
        for (const chain of chains) {
          for (const alt of chain) {
            if (alt.gen) {
              // Generated: the body leaves its head values (the first, plus any different one) in f.o.
              const f: Frame = { s: new Array(alt.size), ctx, o: [] };
              alt.gen.run(f, NO_K);
              const vs = f.o!;
              for (const v of vs) {
                if (found === undefined) {
                  found = v;
                  foundLoc = alt.loc;
                } else if (!equal(found, v)) throw new RegoEvalError('eval_conflict_error', 'complete rules must not produce multiple outputs', alt.loc ?? foundLoc, name);
              }
              if (vs.length) break;
              continue;
            }
            const f: Frame = { s: new Array(alt.size), ctx, o: undefined };
            let any = false;
            alt.goal(f, () =>
              alt.value(f, (v) => {
                any = true;
                if (found === undefined) {
                  found = v;
                  foundLoc = alt.loc;
                } else if (!equal(found, v)) throw new RegoEvalError('eval_conflict_error', 'complete rules must not produce multiple outputs', alt.loc ?? foundLoc, name);
                return false;
              }),
            );
            if (any) break;
          }
        }
        if (found === undefined && dflt) {
          const f: Frame = { s: new Array(dfltSize), ctx, o: undefined };
          dflt(f, (v) => {
            found = v;
            return true;
          });
        }
        return found === undefined ? [] : [{ path: gpath, leaf: found, setElem: false }];
      },
    };
  }

  private compileMulti(r: Rule, mod: ModuleInfo, gpath: string[], dyn: Term[]): RuleGroup {
    const id = this.nextGroup++;
    const setElem = r.kind === 'set';
    const variant = (keyVar?: string) => {
      this.beginRule(mod);
      const sc = new Scope();
      const bound = new Set<number>();
      if (keyVar !== undefined) {
        this.declare(keyVar, sc);
        bound.add(sc.vars.get(keyVar)!);
      }
      const { pieces, goals } = this.bodyPieces(r.body, sc, bound, [...dyn, r.value]);
      const goal = goalOf(pieces, goals);
      const keyGens = dyn.map((t) => this.headGen(t, sc, bound, r));
      const value = this.headGen(r.value, sc, bound, r);
      const size = this.nslots;
      const gen = setElem && dyn.length === 0 ? this.ruleBody(pieces, r.value, sc, bound, false) : undefined;
      if (gen)
        return (ctx: Ctx, key?: Value): Contribution[] => {
          const f: Frame = { s: new Array(size), ctx, o: [] };
          if (key !== undefined) f.s[0] = key;
          gen.run(f, NO_K);
          const vs = f.o!;
          if (vs.length === 0) return NO_CONTRIBUTIONS;
          const out: Contribution[] = new Array(vs.length);
          for (let i = 0; i < vs.length; i++) out[i] = { path: gpath, leaf: vs[i]!, setElem: true };
          return out;
        };
      const keysGen = (f: Frame, i: number, acc: Value[], cb: (keys: Value[]) => boolean): boolean => {
        if (i === keyGens.length) return cb(acc);
        return keyGens[i]!(f, (v) => keysGen(f, i + 1, [...acc, v], cb));
      };
      return (ctx: Ctx, key?: Value): Contribution[] => {
        const out: Contribution[] = [];
        const f: Frame = { s: new Array(size), ctx, o: undefined };
        if (key !== undefined) f.s[0] = key;
        goal(f, () =>
          keysGen(f, 0, [], (keys) =>
            value(f, (v) => {
              out.push({ path: [...gpath, ...keys], leaf: v, setElem });
              return false;
            }),
          ),
        );
        return out;
      };
    };
    const run = variant();
    this.groupDeps.set(`g${id}`, this.deps);
    // Index on the first key: with the key known, evaluate the body with its variable bound.
    const first = setElem && dyn.length === 0 ? r.value : !setElem && dyn.length === 1 ? dyn[0] : undefined;
    const keyVar = first && first.t === 'var' && first.name !== '_' && !this.mod.ruleNames.has(first.name) ? first.name : undefined;
    const runKey = keyVar !== undefined ? variant(keyVar) : undefined;
    return {
      id,
      gpath,
      name: ['data', ...gpath].join('.'),
      container: setElem && dyn.length === 0 ? 'set' : dyn.length > 0 ? 'object' : undefined,
      run: (ctx) => run(ctx),
      runKey: runKey && ((ctx, key) => runKey(ctx, key)),
    };
  }


  private headGen(t: Term, sc: Scope, bound: Set<number>, r: Rule): Gen {
    if (!this.canGen(t, sc, bound)) {
      const v = this.unboundVar(t, sc, bound) ?? '?';
      this.err('rego_unsafe_var_error', `var ${v} is unsafe (rule ${r.name})`, t.loc);
    }
    return this.gen(t, sc, bound);
  }

  private compileFunc(name: string, defs: FuncDef[]): void {
    type Alt = { goal: Goal; value: Gen; size: number; loc: Loc; params: Pattern[]; gen: Generated | undefined; slots: number[] };
    const chains: Alt[][] = [];
    let dflt: Value | undefined;
    let arity = -1;
    const deps: DepSink = { paths: [], funcs: [] };
    // Bodies compile lazily: a function may call another declared later.
    let compiled = false;
    const compile = (): void => {
      if (compiled) return;
      compiled = true;
      for (const { rule: r, mod } of defs) {
        if (r.isDefault) {
          dflt = termToValue(r.value);
          continue;
        }
        const chain: Alt[] = [];
        for (const alt of [{ value: r.value, body: r.body, loc: r.loc }, ...r.elses]) {
          this.beginRule(mod);
          this.deps = deps;
          const sc = new Scope();
          const bound = new Set<number>();
          const params = (r.args ?? []).map((a) => {
            this.declarePatternVars(a, sc);
            const p = this.pattern(a, sc, bound);
            this.markBound(a, sc, bound);
            return p;
          });
          const { pieces, goals } = this.bodyPieces(alt.body, sc, bound, [alt.value]);
          const goal = goalOf(pieces, goals);
          const value = this.headGen(alt.value, sc, bound, r);
          // Distinct plain-variable parameters are bound straight into their slots.
          const names = (r.args ?? []).map((a) => (a.t === 'var' && a.name !== '_' ? a.name : ''));
          const plain = names.every((n) => n !== '') && new Set(names).size === names.length;
          const gen = plain ? this.ruleBody(pieces, alt.value, sc, bound, true) : undefined;
          chain.push({ goal, value, size: this.nslots, loc: alt.loc, params, gen, slots: plain ? names.map((n) => sc.vars.get(n)!) : [] });
        }
        chains.push(chain);
      }
    };
    for (const d of defs) {
      const n = d.rule.args?.length ?? 0;
      if (arity >= 0 && arity !== n) this.err('rego_type_error', `function ${name} has arity ${arity}, got argument(s) ${n}`, d.rule.loc);
      arity = n;
    }
    // A function without bodies is one expression: cheaper to evaluate again than to key a cache.
    const cached = defs.some((d) => d.rule.body.length > 0 || d.rule.elses.length > 0);
    const impl: FuncImpl = {
      name,
      arity,
      call: (ctx, args, _loc) => {
        const key = cached ? `${name}(${args.map(innerKey).join(',')})` : '';
        const c = cached ? ctx.funcCache.get(key) : undefined;
        if (c !== undefined) return c === null ? undefined : c;
        if (++ctx.depth > ctx.limits.maxDepth) throw new RegoEvalError('eval_error', `evaluation exceeded maximum depth ${ctx.limits.maxDepth}`);
        let found: Value | undefined;
        try {
          for (const chain of chains) {
            for (const alt of chain) {
              if (alt.gen) {
                const f: Frame = { s: new Array(alt.size), ctx, o: [] };
                for (let i = 0; i < alt.slots.length; i++) f.s[alt.slots[i]!] = args[i];
                alt.gen.run(f, NO_K);
                const vs = f.o!;
                for (const v of vs) {
                  if (found === undefined) found = v;
                  else if (!equal(found, v)) throw new RegoEvalError('eval_conflict_error', 'functions must not produce multiple outputs for same inputs', alt.loc, name);
                }
                if (vs.length) break;
                continue;
              }
              const f: Frame = { s: new Array(alt.size), ctx, o: undefined };
              let any = false;
              const bindParams = (i: number): boolean => {
                if (i === alt.params.length)
                  return alt.goal(f, () =>
                    alt.value(f, (v) => {
                      any = true;
                      if (found === undefined) found = v;
                      else if (!equal(found, v)) throw new RegoEvalError('eval_conflict_error', 'functions must not produce multiple outputs for same inputs', alt.loc, name);
                      return false;
                    }),
                  );
                return alt.params[i]!(f, args[i]!, () => bindParams(i + 1));
              };
              bindParams(0);
              if (any) break;
            }
          }
        } finally {
          ctx.depth--;
        }
        if (found === undefined) found = dflt;
        if (cached) ctx.funcCache.set(key, found === undefined ? null : found);
        return found;
      },
    };
    this.funcs.set(name, impl);
    this.pendingFuncs.push(() => {
      compile();
      this.groupDeps.set(`f${name}`, deps);
    });
  }
  private pendingFuncs: (() => void)[] = [];

  private checkRecursion(): void {
    for (const p of this.pendingFuncs) p();
    const groups = [...this.groupByNode.values()];
    const edges = new Map<string, string[]>();
    for (const [node, d] of this.groupDeps) {
      const out: string[] = [];
      for (const p of d.paths) {
        for (const g of groups) {
          const n = Math.min(p.length, g.gpath.length);
          let ok = true;
          for (let i = 0; i < n; i++) if (p[i] !== g.gpath[i]) ok = false;
          if (ok) out.push(`g${g.id}`);
        }
      }
      for (const fn of d.funcs) if (this.groupDeps.has(`f${fn}`)) out.push(`f${fn}`);
      edges.set(node, out);
    }
    const label = (n: string): string => (n[0] === 'f' ? n.slice(1) : this.groupByNode.get(n)!.name);
    const state = new Map<string, number>();
    const stack: string[] = [];
    const visit = (n: string): void => {
      state.set(n, 1);
      stack.push(n);
      for (const m of edges.get(n) ?? []) {
        const s = state.get(m);
        if (s === 1) {
          const cyc = stack.slice(stack.indexOf(m)).map(label);
          throw new RegoError('rego_recursion_error', `rule ${label(m)} is recursive: ${[...cyc, label(m)].join(' -> ')}`);
        }
        if (s === undefined) visit(m);
      }
      stack.pop();
      state.set(n, 2);
    };
    for (const n of edges.keys()) if (!state.has(n)) visit(n);
  }

  // ---- queries ----

  /** Compile a query body; returns the goal, frame size and the user-visible variables. */
  compileQuery(exprs: Expr[]): { goal: Goal; size: number; vars: [string, number][] } {
    this.beginRule({ pkg: [], file: 'query', ruleNames: new Set(), aliases: new Map() });
    const sc = new Scope();
    const goal = this.body(exprs, sc, new Set(), []);
    const vars = [...sc.vars.entries()].filter(([n]) => n !== '_' && !n.startsWith('$'));
    for (const p of this.pendingFuncs.splice(0)) p();
    return { goal, size: this.nslots, vars };
  }

  // ---- names ----

  private resolve(name: string, sc: Scope, create = true): Resolved {
    if (name === '_') return { r: 'wild', slot: this.nslots++ };
    const s = sc.find(name);
    if (s !== undefined) return { r: 'local', slot: s };
    if (name === 'input') return { r: 'input' };
    if (name === 'data') return { r: 'data', path: [] };
    const alias = this.mod.aliases.get(name);
    if (alias) return { r: 'term', term: alias };
    if (this.mod.ruleNames.has(name)) return { r: 'data', path: [...this.mod.pkg, name] };
    if (!create) return { r: 'local', slot: -1 };
    const slot = this.nslots++;
    sc.vars.set(name, slot);
    return { r: 'local', slot };
  }

  private declare(name: string, sc: Scope): void {
    if (name === '_') return;
    if (!sc.vars.has(name)) sc.vars.set(name, this.nslots++);
  }

  private declarePatternVars(t: Term, sc: Scope): void {
    switch (t.t) {
      case 'var':
        this.declare(t.name, sc);
        break;
      case 'array':
        t.items.forEach((x) => this.declarePatternVars(x, sc));
        break;
      case 'object':
        t.pairs.forEach(([, v]) => this.declarePatternVars(v, sc));
        break;
    }
  }

  /** Local slots a term mentions outside nested comprehension bodies. */
  private slotsOf(t: Term, sc: Scope, out: Set<number>): void {
    switch (t.t) {
      case 'var': {
        const r = this.resolve(t.name, sc);
        if (r.r === 'local') out.add(r.slot);
        break;
      }
      case 'ref':
        this.slotsOf(t.head, sc, out);
        t.ops.forEach((o) => this.slotsOf(o, sc, out));
        break;
      case 'call':
        t.args.forEach((a) => this.slotsOf(a, sc, out));
        break;
      case 'array':
      case 'set':
        t.items.forEach((a) => this.slotsOf(a, sc, out));
        break;
      case 'object':
        t.pairs.forEach(([k, v]) => {
          this.slotsOf(k, sc, out);
          this.slotsOf(v, sc, out);
        });
        break;
    }
  }

  private markBound(t: Term, sc: Scope, bound: Set<number>): void {
    const s = new Set<number>();
    this.slotsOf(t, sc, s);
    for (const x of s) bound.add(x);
  }

  /** Whether a term can be evaluated (enumerated) with the variables bound so far. */
  private canGen(t: Term, sc: Scope, bound: Set<number>): boolean {
    switch (t.t) {
      case 'scalar':
        return true;
      case 'var': {
        const r = this.resolve(t.name, sc);
        if (r.r === 'local') return bound.has(r.slot);
        if (r.r === 'wild') return false;
        return true;
      }
      case 'ref': {
        if (t.head.t === 'var') {
          const r = this.resolve(t.head.name, sc);
          if ((r.r === 'local' && !bound.has(r.slot)) || r.r === 'wild') return false;
        } else if (!this.canGen(t.head, sc, bound)) return false;
        return t.ops.every((o) => this.patternOk(o, sc, bound));
      }
      case 'call':
        return t.args.every((a) => this.canGen(a, sc, bound));
      case 'array':
      case 'set':
        return t.items.every((a) => this.canGen(a, sc, bound));
      case 'object':
        return t.pairs.every(([k, v]) => this.canGen(k, sc, bound) && this.canGen(v, sc, bound));
      default: {
        // A comprehension waits for the outer variables it mentions, except those declared
        // with := only later in the body: textually before their declaration they are other variables.
        const names = new Set<string>();
        termNames(t, names);
        return this.closureReady(names, sc, bound);
      }
    }
  }

  /** Whether the outer variables a nested body (comprehension, every) closes over are bound. */
  private closureReady(names: Set<string>, sc: Scope, bound: Set<number>): boolean {
    for (const n of names) {
      const slot = sc.find(n);
      if (slot === undefined || bound.has(slot)) continue;
      const at = this.declOrder?.assignedAt.get(slot);
      if (at !== undefined && at > this.declOrder!.current) continue;
      if (this.declOrder && !this.declOrder.slots.has(slot)) continue;
      return false;
    }
    return true;
  }

  /** Declaration order of the body being reordered: slot -> index of its := expression. */
  private declOrder: { assignedAt: Map<number, number>; current: number; slots: Set<number> } | undefined;

  /** A ref operand may be a pattern: unbound variables in it are bound by iteration. */
  private patternOk(t: Term, sc: Scope, bound: Set<number>): boolean {
    if (t.t === 'var') return true;
    if (t.t === 'array') return t.items.every((x) => this.patternOk(x, sc, bound));
    if (t.t === 'object') return t.pairs.every(([k, v]) => this.canGen(k, sc, bound) && this.patternOk(v, sc, bound));
    return this.canGen(t, sc, bound);
  }

  private unboundVar(t: Term, sc: Scope, bound: Set<number>): string | undefined {
    const s = new Set<number>();
    this.slotsOf(t, sc, s);
    for (let c: Scope | undefined = sc; c; c = c.parent) for (const [n, slot] of c.vars) if (s.has(slot) && !bound.has(slot)) return n;
    return undefined;
  }

  // ---- bodies ----

  private exprSlots(e: Expr, sc: Scope): Set<number> {
    const out = new Set<number>();
    const add = (t: Term | undefined): void => {
      if (t) this.slotsOf(t, sc, out);
    };
    switch (e.e) {
      case 'term':
        add(e.term);
        break;
      case 'unify':
      case 'assign':
        add(e.a);
        add(e.b);
        break;
      case 'somein':
        add(e.key);
        add(e.value);
        add(e.coll);
        break;
      case 'every':
        add(e.coll);
        break;
    }
    for (const w of e.withs) if (!this.withFunction(w.value, sc)) add(w.value);
    return out;
  }

  private ready(e: Expr, sc: Scope, bound: Set<number>, shared: Map<number, number>): boolean {
    if (!e.withs.every((w) => this.withFunction(w.value, sc) !== undefined || this.canGen(w.value, sc, bound))) return false;
    if (e.negated) {
      for (const s of this.exprSlots(e, sc)) if (!bound.has(s) && (shared.get(s) ?? 0) > 1) return false;
      return true;
    }
    switch (e.e) {
      case 'term': {
        const t = e.term;
        if (t.t === 'call') {
          const ar = this.arityOf(t);
          if (ar === undefined) return true;
          if (ar < 0) return t.args.every((a) => this.canGen(a, sc, bound));
          const args = t.args.length === ar + 1 ? t.args.slice(0, ar) : t.args;
          return args.every((a) => this.canGen(a, sc, bound));
        }
        return this.canGen(t, sc, bound);
      }
      case 'unify':
        return this.canGen(e.a, sc, bound) || this.canGen(e.b, sc, bound) || this.pairwise(e.a, e.b, sc, bound);
      case 'assign':
        return this.canGen(e.b, sc, bound);
      case 'somein':
        return this.canGen(e.coll, sc, bound);
      case 'every': {
        if (!this.canGen(e.coll, sc, bound)) return false;
        const names = new Set<string>();
        e.body.forEach((x) => exprNames(x, names));
        // The domain variables belong to the every itself.
        const own = new Set<string>();
        if (e.key) termNames(e.key, own);
        termNames(e.value, own);
        for (const n of own) names.delete(n);
        return this.closureReady(names, sc, bound);
      }
      case 'some':
        return true;
    }
  }

  private pairs(a: Term, b: Term): [Term, Term][] | undefined {
    if (a.t === 'array' && b.t === 'array' && a.items.length === b.items.length) return a.items.map((x, i) => [x, b.items[i]!] as [Term, Term]);
    if (a.t === 'object' && b.t === 'object' && a.pairs.length === b.pairs.length && [...a.pairs, ...b.pairs].every(([k]) => isGroundLiteral(k))) {
      const m = new Map(b.pairs.map(([k, v]) => [keyOf(literalValue(k)), v]));
      const out: [Term, Term][] = [];
      for (const [k, v] of a.pairs) {
        const w = m.get(keyOf(literalValue(k)));
        if (!w) return undefined;
        out.push([v, w]);
      }
      return out;
    }
    return undefined;
  }

  private pairwise(a: Term, b: Term, sc: Scope, bound: Set<number>): boolean {
    const ps = this.pairs(a, b);
    if (ps) {
      const tmp = new Set(bound);
      const pending = ps;
      while (pending.length) {
        const i = pending.findIndex(([x, y]) => this.canGen(x, sc, tmp) || this.canGen(y, sc, tmp) || this.pairwise(x, y, sc, tmp));
        if (i < 0) return false;
        const [x, y] = pending.splice(i, 1)[0]!;
        this.markBound(x, sc, tmp);
        this.markBound(y, sc, tmp);
      }
      return true;
    }
    return false;
  }

  /** Compile a body with safety reordering; `head` terms count as uses of body variables. */
  private body(exprs: Expr[], sc: Scope, bound: Set<number>, head: Term[]): Goal {
    const { pieces, goals } = this.bodyPieces(exprs, sc, bound, head);
    return goalOf(pieces, goals);
  }

  /**
   * A rule body plus its head value as one generated function that collects head values in
   * the frame's outputs, when the head is single-valued; undefined otherwise.
   */
  private ruleBody(pieces: PieceIR[], value: Term, sc: Scope, bound: Set<number>, complete: boolean): Generated | undefined {
    if (pieces.length > MAX_PIECES || !this.singleTerm(value, sc, bound)) return undefined;
    return generated([...pieces, { k: 'emit', t: this.termIR(value, sc, bound), complete }], MULTI);
  }

  /** The body's expressions in evaluation order, as pieces (closures where not generated). */
  private bodyPieces(exprs: Expr[], sc: Scope, bound: Set<number>, head: Term[]): { pieces: PieceIR[]; goals: Goal[] } {
    // Variables introduced by := / some are local to this body even if a rule has that name.
    const assigned = new Set<string>();
    for (const e of exprs) {
      if (e.e !== 'assign') continue;
      const names: string[] = [];
      const collect = (t: Term): void => {
        if (t.t === 'var') names.push(t.name);
        else if (t.t === 'array') t.items.forEach(collect);
        else if (t.t === 'object') t.pairs.forEach(([, v]) => collect(v));
      };
      collect(e.a);
      for (const n of names) {
        if (n === '_') continue;
        if (assigned.has(n)) this.err('rego_compile_error', `var ${n} assigned above`, e.loc);
        assigned.add(n);
      }
    }
    for (const e of exprs) {
      if (e.e === 'assign') this.declarePatternVars(e.a, sc);
      else if (e.e === 'some') e.vars.forEach((v) => this.declare(v, sc));
      else if (e.e === 'somein') {
        if (e.key) this.declarePatternVars(e.key, sc);
        this.declarePatternVars(e.value, sc);
      }
    }
    const shared = new Map<number, number>();
    const count = (s: Set<number>): void => {
      for (const x of s) shared.set(x, (shared.get(x) ?? 0) + 1);
    };
    for (const e of exprs) count(this.exprSlots(e, sc));
    for (const h of head) {
      const s = new Set<number>();
      this.slotsOf(h, sc, s);
      count(s);
    }
    const assignedAt = new Map<number, number>();
    exprs.forEach((e, idx) => {
      if (e.e !== 'assign') return;
      const s = new Set<number>();
      this.slotsOf(e.a, sc, s);
      for (const x of s) if (!assignedAt.has(x)) assignedAt.set(x, idx);
    });
    const index = new Map(exprs.map((e, idx) => [e, idx]));
    const usedHere = new Set(shared.keys());
    const pending = [...exprs];
    const goals: Goal[] = [];
    const withOrder = <T>(e: Expr, fn: () => T): T => {
      const prev = this.declOrder;
      this.declOrder = { assignedAt, current: index.get(e)!, slots: usedHere };
      try {
        return fn();
      } finally {
        this.declOrder = prev;
      }
    };
    const isReady = (e: Expr): boolean => withOrder(e, () => this.ready(e, sc, bound, shared));
    const generate = exprs.length <= MAX_PIECES;
    const pieces: PieceIR[] = [];
    while (pending.length) {
      const i = pending.findIndex(isReady);
      if (i < 0) {
        const e = pending[0]!;
        const slots = this.exprSlots(e, sc);
        let name = '?';
        for (let c: Scope | undefined = sc; c; c = c.parent) for (const [n, s] of c.vars) if (slots.has(s) && !bound.has(s)) name = n;
        this.err('rego_unsafe_var_error', `var ${name} is unsafe`, e.loc);
      }
      const e = pending.splice(i, 1)[0]!;
      const piece = withOrder(e, () => (generate ? this.pieceIR(e, sc, bound) : undefined) ?? { k: 'goal' as const, g: this.expr(e, sc, bound) });
      pieces.push(piece);
      if (piece.k === 'goal') goals.push(piece.g);
    }
    return { pieces, goals };
  }

  // ---- pieces for generated bodies (codegen.ts) ----

  /** Whether a term has at most one value with the variables bound so far (no side effects). */
  private singleTerm(t: Term, sc: Scope, bound: Set<number>): boolean {
    switch (t.t) {
      case 'scalar':
        return true;
      case 'var': {
        if (t.name === '_') return false;
        const s = sc.find(t.name);
        if (s !== undefined) return bound.has(s);
        if (t.name === 'input' || t.name === 'data') return true;
        const alias = this.mod.aliases.get(t.name);
        if (alias) return this.singleTerm(alias, new Scope(), new Set());
        return this.mod.ruleNames.has(t.name);
      }
      case 'ref':
        return this.singleTerm(t.head, sc, bound) && t.ops.every((o) => this.singleTerm(o, sc, bound));
      case 'call': {
        if (RELATIONAL.has(this.funcName(t.name))) return false;
        const ar = this.arityOf(t);
        if (ar === undefined || ar < 0 || t.args.length !== ar) return false;
        return t.args.every((a) => this.singleTerm(a, sc, bound));
      }
      case 'array':
      case 'set':
        return t.items.every((x) => this.singleTerm(x, sc, bound));
      case 'object':
        return t.pairs.every(([k, v]) => this.singleTerm(k, sc, bound) && this.singleTerm(v, sc, bound));
      default:
        // A comprehension has exactly one value once it is ready to run.
        return true;
    }
  }

  private singleGen(t: Term, sc: Scope, bound: Set<number>): SingleGen {
    const g = this.gen(t, sc, bound);
    return { gen: g, one: oneOf(g) };
  }

  /** The inline form of a single-valued term (see singleTerm). */
  private termIR(t: Term, sc: Scope, bound: Set<number>): TermIR {
    if (isGroundLiteral(t)) return { k: 'const', v: literalValue(t) };
    switch (t.t) {
      case 'var': {
        const r = this.resolve(t.name, sc);
        if (r.r === 'local') return { k: 'slot', slot: r.slot };
        if (r.r === 'input') return { k: 'input' };
        return this.refIR(t, [], sc, bound);
      }
      case 'ref':
        return this.refIR(t.head, t.ops, sc, bound);
      case 'call': {
        const name = this.funcName(t.name);
        const def = this.funcs.has(name) ? undefined : builtin(name);
        if (!def) return { k: 'gen', g: this.singleGen(t, sc, bound) };
        const args = t.args.map((a) => this.termIR(a, sc, bound));
        return { k: 'call', def, name, args, loc: t.loc, memo: args.length === 1 && MEMO_BUILTINS.has(name) };
      }
      default:
        break;
      case 'array':
        return { k: 'array', items: t.items.map((x) => this.termIR(x, sc, bound)) };
      case 'object': {
        if (!t.pairs.every(([k]) => isGroundLiteral(k))) break;
        const keys = t.pairs.map(([k]) => literalValue(k));
        if (new Set(keys.map(keyOf)).size !== keys.length) break;
        return { k: 'object', keys, vals: t.pairs.map(([, v]) => this.termIR(v, sc, bound)) };
      }
    }
    return { k: 'gen', g: this.singleGen(t, sc, bound) };
  }

  private refIR(head: Term, ops: Term[], sc: Scope, bound: Set<number>): TermIR {
    const opIR = (o: Term): OpIR => (isGroundLiteral(o) ? { k: 'key', v: literalValue(o) } : { k: 'term', t: this.termIR(o, sc, bound) });
    if (head.t !== 'var') return { k: 'ref', head: this.termIR(head, sc, bound), ops: ops.map(opIR) };
    const r = this.resolve(head.name, sc);
    if (r.r === 'term') {
      const at = r.term;
      return at.t === 'ref' ? this.refIR(at.head, [...at.ops, ...ops], sc, bound) : this.refIR(at, ops, sc, bound);
    }
    if (r.r === 'input') return { k: 'ref', head: { k: 'input' }, ops: ops.map(opIR) };
    if (r.r === 'local' || r.r === 'wild') return { k: 'ref', head: { k: 'slot', slot: r.slot }, ops: ops.map(opIR) };
    const spath = [...r.path];
    let i = 0;
    for (; i < ops.length; i++) {
      const o = ops[i]!;
      if (o.t !== 'scalar' || typeof o.v !== 'string') break;
      spath.push(o.v);
    }
    // The closure for the whole reference also records the dependency for recursion checks.
    const fallback = this.singleGen(ops.length ? { t: 'ref', head, ops, loc: head.loc } : head, sc, bound);
    return { k: 'data', spath, ops: ops.slice(i).map(opIR), fallback };
  }

  /** An expression as a generated piece, or undefined to keep its closure. */
  private pieceIR(e: Expr, sc: Scope, bound: Set<number>): PieceIR | undefined {
    if (e.withs.length) return undefined;
    // An unbound local variable that a piece may bind, undefined for `_`, null when not bindable.
    const bindable = (x: Term | undefined): number | undefined | null => {
      if (x === undefined) return undefined;
      if (x.t !== 'var') return null;
      if (x.name === '_') return undefined;
      const s = sc.find(x.name);
      return s !== undefined && !bound.has(s) ? s : null;
    };
    switch (e.e) {
      case 'some':
        return e.negated ? undefined : { k: 'nop' };
      case 'term': {
        const t = e.term;
        if (t.t === 'call') {
          const ar = this.arityOf(t);
          if (ar !== undefined && ar >= 0 && t.args.length === ar + 1) return undefined;
        }
        if (!this.singleTerm(t, sc, bound)) return undefined;
        return { k: e.negated ? 'not' : 'test', t: this.termIR(t, sc, bound) };
      }
      case 'assign':
      case 'unify': {
        if (e.negated) return undefined;
        const sa = bindable(e.a);
        if (typeof sa === 'number' && this.singleTerm(e.b, sc, bound)) {
          const t = this.termIR(e.b, sc, bound);
          bound.add(sa);
          return { k: 'bind', slot: sa, t };
        }
        if (e.e === 'assign') return undefined;
        const sb = bindable(e.b);
        if (typeof sb === 'number' && this.singleTerm(e.a, sc, bound)) {
          const t = this.termIR(e.a, sc, bound);
          bound.add(sb);
          return { k: 'bind', slot: sb, t };
        }
        if (this.singleTerm(e.a, sc, bound) && this.singleTerm(e.b, sc, bound)) return { k: 'cmp', a: this.termIR(e.a, sc, bound), b: this.termIR(e.b, sc, bound) };
        return undefined;
      }
      case 'somein': {
        if (e.negated || !this.singleTerm(e.coll, sc, bound)) return undefined;
        const key = bindable(e.key);
        const value = bindable(e.value);
        if (key === null || value === null || (key !== undefined && key === value)) return undefined;
        const coll = this.termIR(e.coll, sc, bound);
        if (key !== undefined) bound.add(key);
        if (value !== undefined) bound.add(value);
        return { k: 'loop', coll, key, value };
      }
      default:
        return undefined;
    }
  }

  private expr(e: Expr, sc: Scope, bound: Set<number>): Goal {
    let g: Goal;
    if (e.negated) {
      const inner = this.exprCore(e, new Scope(sc), new Set(bound));
      g = (f, k) => {
        let found = false;
        inner(f, () => {
          found = true;
          return true;
        });
        return found ? false : k();
      };
      const it = testOf(inner);
      if (it)
        g = withTest(g, (f) => {
          const x = it(f);
          return x === MULTI ? x : !x;
        });
    } else g = this.exprCore(e, sc, bound);
    if (e.withs.length) g = this.withs(e, g, sc, bound);
    return g;
  }

  private exprCore(e: Expr, sc: Scope, bound: Set<number>): Goal {
    switch (e.e) {
      case 'some':
        return (_f, k) => k();
      case 'term': {
        const t = e.term;
        if (t.t === 'call') {
          const ar = this.arityOf(t);
          if (ar !== undefined && ar >= 0 && t.args.length === ar + 1) {
            const callT: Term = { ...t, args: t.args.slice(0, ar) };
            return this.unify(t.args[ar]!, callT, sc, bound, e.loc);
          }
        }
        const g = this.gen(t, sc, bound);
        this.markBound(t, sc, bound);
        const one = oneOf(g);
        if (one)
          return withTest(
            (f, k) => {
              const v = one(f);
              if (v === MULTI) return g(f, (x) => (x !== false ? k() : false));
              return v !== undefined && v !== false ? k() : false;
            },
            (f) => {
              const v = one(f);
              return v === MULTI ? v : v !== undefined && v !== false;
            },
          );
        return (f, k) => g(f, (v) => (v !== false ? k() : false));
      }
      case 'unify':
        return this.unify(e.a, e.b, sc, bound, e.loc);
      case 'assign':
        return this.unify(e.a, e.b, sc, bound, e.loc);
      case 'somein': {
        const coll = this.gen(e.coll, sc, bound);
        this.markBound(e.coll, sc, bound);
        const kp = e.key ? this.pattern(e.key, sc, bound) : undefined;
        if (e.key) this.markBound(e.key, sc, bound);
        const vp = this.pattern(e.value, sc, bound);
        this.markBound(e.value, sc, bound);
        const slow: Goal = (f, k) => coll(f, (c) => iterate(c, (key, val) => (kp ? kp(f, key, () => vp(f, val, k)) : vp(f, val, k))));
        const co = oneOf(coll);
        if (!co || kp) return slow;
        // `some v in coll` over a single collection: loop directly, no callbacks per element.
        return (f, k) => {
          const c = co(f);
          if (c === MULTI) return slow(f, k);
          if (Array.isArray(c)) {
            for (let i = 0; i < c.length; i++) if (vp(f, c[i]!, k)) return true;
          } else if (c instanceof RObject) {
            const es = c.sorted();
            for (let i = 0; i < es.length; i++) if (vp(f, es[i]![1], k)) return true;
          } else if (c instanceof RSet) {
            const xs = c.sorted();
            for (let i = 0; i < xs.length; i++) if (vp(f, xs[i]!, k)) return true;
          }
          return false;
        };
      }
      case 'every': {
        const coll = this.gen(e.coll, sc, bound);
        const inner = new Scope(sc);
        const ib = new Set(bound);
        if (e.key) this.declarePatternVars(e.key, inner);
        this.declarePatternVars(e.value, inner);
        const kp = e.key ? this.pattern(e.key, inner, ib) : undefined;
        if (e.key) this.markBound(e.key, inner, ib);
        const vp = this.pattern(e.value, inner, ib);
        this.markBound(e.value, inner, ib);
        const body = this.body(e.body, inner, ib, []);
        return (f, k) =>
          coll(f, (c) => {
            if (!isCollection(c)) return false;
            let ok = true;
            iterate(c, (key, val) => {
              let sat = false;
              const run = (): boolean =>
                body(f, () => {
                  sat = true;
                  return true;
                });
              if (kp) kp(f, key, () => vp(f, val, run));
              else vp(f, val, run);
              if (!sat) ok = false;
              return !ok;
            });
            return ok ? k() : false;
          });
      }
    }
  }

  private withs(e: Expr, inner: Goal, sc: Scope, bound: Set<number>): Goal {
    type W = (f: Frame, ctx: Ctx, acc: { input: Value | undefined; data: DataOverride[]; fns: Map<string, FuncImpl | { value: Value }> }) => boolean;
    const mods: W[] = e.withs.map((w) => {
      const t = w.target;
      const head = t.t === 'ref' ? t.head : t;
      const ops = t.t === 'ref' ? t.ops : [];
      const strOps = ops.map((o) => (o.t === 'scalar' ? o.v : this.err('rego_compile_error', 'with target must be a ground reference', t.loc)));
      const headName = head.t === 'var' ? head.name : '';
      const fnTarget = this.withFunction(w.value, sc);
      const vgen = fnTarget ? undefined : this.gen(w.value, sc, bound);
      const valueOf = (f: Frame): Value | undefined => {
        let out: Value | undefined;
        vgen!(f, (v) => {
          out = v;
          return true;
        });
        return out;
      };
      if (headName === 'input') {
        return (f, _ctx, acc) => {
          const v = valueOf(f);
          if (v === undefined) return false;
          acc.input = strOps.length === 0 ? v : patch(acc.input, strOps, 0, v);
          return true;
        };
      }
      const fullName = headName === 'data' ? ['data', ...strOps].join('.') : this.funcName([headName, ...(strOps as string[])].join('.'));
      const isFn = this.funcs.has(fullName) || (!fullName.startsWith('data.') && builtin(fullName) !== undefined);
      if (isFn) {
        return (f, _ctx, acc) => {
          if (fnTarget) acc.fns.set(fullName, fnTarget);
          else {
            const v = valueOf(f);
            if (v === undefined) return false;
            acc.fns.set(fullName, { value: v });
          }
          return true;
        };
      }
      if (headName !== 'data') this.err('rego_compile_error', `with keyword target must reference existing input, data, or a function`, t.loc);
      return (f, _ctx, acc) => {
        const v = valueOf(f);
        if (v === undefined) return false;
        acc.data = [...acc.data, { path: strOps, value: v }];
        return true;
      };
    });
    return (f, k) => {
      const old = f.ctx;
      const acc = { input: old.input, data: old.dataOverrides, fns: new Map(old.fnOverrides) };
      for (const m of mods) if (!m(f, old, acc)) return false;
      const derived = old.derive(acc.input, acc.data, acc.fns);
      f.ctx = derived;
      try {
        return inner(f, () => {
          f.ctx = old;
          try {
            return k();
          } finally {
            f.ctx = derived;
          }
        });
      } finally {
        f.ctx = old;
      }
    };
  }

  /** If a with-value names a function (user or builtin), the implementation replacing the target. */
  private withFunction(t: Term, sc: Scope): FuncImpl | undefined {
    let name: string | undefined;
    if (t.t === 'var' && sc.find(t.name) === undefined) name = t.name;
    else if (t.t === 'ref' && t.head.t === 'var' && t.ops.every((o) => o.t === 'scalar' && typeof o.v === 'string'))
      name = [t.head.name, ...t.ops.map((o) => (o as { v: string }).v)].join('.');
    if (!name) return undefined;
    const full = this.funcName(name);
    const user = this.funcs.get(full);
    if (user) return user;
    if (this.mod.ruleNames.has(name.split('.')[0]!) || name.startsWith('data.') || name === 'input' || name.startsWith('input.')) return undefined;
    const b = builtin(full);
    if (!b) return undefined;
    return { name: full, arity: b.arity, call: (ctx, args, loc) => callBuiltin(b, ctx, args, loc) };
  }

  // ---- terms ----

  private funcName(name: string): string {
    if (name.startsWith('data.')) return name;
    const first = name.split('.')[0]!;
    const alias = this.mod.aliases.get(first);
    if (alias && alias.t === 'ref' && alias.head.t === 'var' && alias.head.name === 'data') {
      const base = ['data', ...alias.ops.map((o) => (o.t === 'scalar' ? String(o.v) : '?'))];
      return [...base, ...name.split('.').slice(1)].join('.');
    }
    const local = ['data', ...this.mod.pkg, name].join('.');
    if (this.funcDefs.has(local)) return local;
    return name;
  }

  private arityOf(t: Term & { t: 'call' }): number | undefined {
    const name = this.funcName(t.name);
    const defs = this.funcDefs.get(name);
    if (defs) return defs[0]!.rule.args?.length ?? 0;
    return builtin(name)?.arity;
  }

  private genThenMatch(src: Term, dst: Term, sc: Scope, bound: Set<number>): Goal {
    const g = this.gen(src, sc, bound);
    this.markBound(src, sc, bound);
    const p = this.pattern(dst, sc, bound);
    this.markBound(dst, sc, bound);
    const one = oneOf(g);
    if (one)
      return (f, k) => {
        const v = one(f);
        if (v === MULTI) return g(f, (x) => p(f, x, k));
        return v === undefined ? false : p(f, v, k);
      };
    return (f, k) => g(f, (v) => p(f, v, k));
  }

  private unify(a: Term, b: Term, sc: Scope, bound: Set<number>, loc: Loc): Goal {
    // Generate the side that can produce values, then match each against the other side.
    if (this.canGen(b, sc, bound)) return this.genThenMatch(b, a, sc, bound);
    if (this.canGen(a, sc, bound)) return this.genThenMatch(a, b, sc, bound);
    const ps = this.pairs(a, b);
    if (ps) {
      const pending = ps;
      const goals: Goal[] = [];
      while (pending.length) {
        let i = pending.findIndex(([x, y]) => this.canGen(x, sc, bound) || this.canGen(y, sc, bound) || this.pairwise(x, y, sc, bound));
        if (i < 0) i = 0;
        const [x, y] = pending.splice(i, 1)[0]!;
        goals.push(this.unify(x, y, sc, bound, loc));
      }
      return seq(goals);
    }
    const v = this.unboundVar(a, sc, bound) ?? this.unboundVar(b, sc, bound) ?? '?';
    return this.err('rego_unsafe_var_error', `var ${v} is unsafe`, loc);
  }

  /** Compile a term as a pattern: unify it with a value, binding its unbound variables. */
  private pattern(t: Term, sc: Scope, bound: Set<number>): Pattern {
    switch (t.t) {
      case 'var': {
        const r = this.resolve(t.name, sc);
        if (r.r === 'wild') return (_f, _v, k) => k();
        if (r.r === 'local') {
          const i = r.slot;
          return (f, v, k) => {
            const cur = f.s[i];
            if (cur === undefined) {
              tick(f.ctx);
              f.s[i] = v;
              try {
                return k();
              } finally {
                f.s[i] = undefined;
              }
            }
            return equal(cur, v) ? k() : false;
          };
        }
        break;
      }
      case 'array': {
        if (isGroundLiteral(t)) break;
        const items = t.items.map((x) => this.pattern(x, sc, bound));
        const n = items.length;
        return (f, v, k) => {
          if (!Array.isArray(v) || v.length !== n) return false;
          const step = (i: number): boolean => (i === n ? k() : items[i]!(f, v[i]!, () => step(i + 1)));
          return step(0);
        };
      }
      case 'object': {
        if (isGroundLiteral(t)) break;
        const keys = t.pairs.map(([kt]) => this.gen(kt, sc, bound));
        const vals = t.pairs.map(([, vt]) => this.pattern(vt, sc, bound));
        const n = keys.length;
        return (f, v, k) => {
          if (!(v instanceof RObject) || v.size !== n) return false;
          const step = (i: number): boolean => {
            if (i === n) return k();
            return keys[i]!(f, (key) => {
              const x = v.get(key);
              return x === undefined ? false : vals[i]!(f, x, () => step(i + 1));
            });
          };
          return step(0);
        };
      }
    }
    const g = this.gen(t, sc, bound);
    return (f, v, k) => g(f, (x) => (equal(x, v) ? k() : false));
  }

  /** Compile a term into a generator of its values. */
  private gen(t: Term, sc: Scope, bound: Set<number>): Gen {
    if (isGroundLiteral(t)) {
      const v = literalValue(t);
      return withOne((_f, cb) => cb(v), () => v);
    }
    switch (t.t) {
      case 'var': {
        const r = this.resolve(t.name, sc);
        if (r.r === 'local' || r.r === 'wild') {
          const i = r.slot;
          return withOne(
            (f, cb) => {
              const v = f.s[i];
              return v === undefined ? false : cb(v);
            },
            (f) => f.s[i],
          );
        }
        return this.refGen(t, [], sc, bound, t.loc);
      }
      case 'ref':
        return this.refGen(t.head, t.ops, sc, bound, t.loc);
      case 'array': {
        const items = t.items.map((x) => this.gen(x, sc, bound));
        const slow: Gen = (f, cb) => product(f, items, (vals) => cb(vals));
        const ones = onesOf(items);
        if (!ones) return slow;
        const n = ones.length;
        return fromOne((f) => {
          const vals = new Array<Value>(n);
          for (let i = 0; i < n; i++) {
            const v = ones[i]!(f);
            if (v === MULTI || v === undefined) return v;
            vals[i] = v;
          }
          return vals;
        }, slow);
      }
      case 'set': {
        const items = t.items.map((x) => this.gen(x, sc, bound));
        return (f, cb) => product(f, items, (vals) => cb(RSet.from(vals)));
      }
      case 'object': {
        const items = t.pairs.flatMap(([k, v]) => [this.gen(k, sc, bound), this.gen(v, sc, bound)]);
        const slow: Gen = (f, cb) =>
          product(f, items, (vals) => {
            const pairs: [Value, Value][] = [];
            for (let i = 0; i < vals.length; i += 2) pairs.push([vals[i]!, vals[i + 1]!]);
            return cb(RObject.from(pairs));
          });
        const ones = onesOf(items);
        if (!ones) return slow;
        const n = ones.length;
        return fromOne((f) => {
          const m = new Map<string, [Value, Value]>();
          for (let i = 0; i < n; i += 2) {
            const k = ones[i]!(f);
            if (k === MULTI || k === undefined) return k;
            const v = ones[i + 1]!(f);
            if (v === MULTI || v === undefined) return v;
            m.set(keyOf(k), [k, v]);
          }
          return new RObject(m);
        }, slow);
      }
      case 'arraycomp':
      case 'setcomp': {
        const inner = new Scope(sc);
        const ib = new Set(bound);
        const body = this.body(t.body, inner, ib, [t.term]);
        const head = this.headGenComp(t.term, inner, ib);
        const isSet = t.t === 'setcomp';
        const ho = oneOf(head);
        return (f, cb) => {
          const out: Value[] = [];
          const push = (v: Value): boolean => {
            out.push(v);
            return false;
          };
          body(f, () => {
            const v = ho ? ho(f) : MULTI;
            if (v === MULTI) return head(f, push);
            if (v !== undefined) out.push(v);
            return false;
          });
          return cb(isSet ? RSet.from(out) : out);
        };
      }
      case 'objcomp': {
        const inner = new Scope(sc);
        const ib = new Set(bound);
        const body = this.body(t.body, inner, ib, [t.key, t.value]);
        const kg = this.headGenComp(t.key, inner, ib);
        const vg = this.headGenComp(t.value, inner, ib);
        const ko = oneOf(kg);
        const vo = oneOf(vg);
        return (f, cb) => {
          const m = new Map<string, [Value, Value]>();
          const add = (k: Value, v: Value): boolean => {
            const kk = keyOf(k);
            const prev = m.get(kk);
            if (prev && !equal(prev[1], v)) throw new RegoEvalError('eval_conflict_error', 'object keys must be unique', t.loc);
            m.set(kk, [k, v]);
            return false;
          };
          const slowBody = (): boolean => kg(f, (k) => vg(f, (v) => add(k, v)));
          body(f, () => {
            if (!ko || !vo) return slowBody();
            const k = ko(f);
            if (k === MULTI) return slowBody();
            if (k === undefined) return false;
            const v = vo(f);
            if (v === MULTI) return slowBody();
            if (v === undefined) return false;
            return add(k, v);
          });
          return cb(new RObject(m));
        };
      }
      case 'call':
        return this.callGen(t, sc, bound);
      case 'scalar':
        return (_f, cb) => cb(t.v);
    }
  }

  private headGenComp(t: Term, sc: Scope, bound: Set<number>): Gen {
    if (!this.canGen(t, sc, bound)) this.err('rego_unsafe_var_error', `var ${this.unboundVar(t, sc, bound) ?? '?'} is unsafe`, t.loc);
    return this.gen(t, sc, bound);
  }

  private callGen(t: Term & { t: 'call' }, sc: Scope, bound: Set<number>): Gen {
    const name = this.funcName(t.name);
    const args = t.args.map((a) => this.gen(a, sc, bound));
    const loc = t.loc;
    const user = this.funcs.get(name);
    const def = user ? undefined : builtin(name);
    if (!user && !def) this.err('rego_type_error', `undefined function ${t.name}`, loc);
    const arity = user ? user.arity : def!.arity;
    if (arity < 0) return this.variadicGen(def!, args, loc);
    if (args.length !== arity) this.err('rego_type_error', `${t.name}: arity mismatch: expected ${arity} argument(s), got ${args.length}`, loc);
    if (user) this.deps.funcs.push(name);
    const relational = !user && RELATIONAL.has(name);
    const slow: Gen = (f, cb) =>
      product(f, args, (vals) => {
        const ctx = f.ctx;
        let r: Value | undefined;
        const ov = ctx.fnOverrides.size ? ctx.fnOverrides.get(name) : undefined;
        if (ov) r = 'value' in ov ? ov.value : ov.call(ctx.unmocked(), vals, loc);
        else if (user) r = user.call(ctx, vals, loc);
        else r = callBuiltin(def!, ctx, vals, loc);
        if (r === undefined) return false;
        if (relational && !ov && Array.isArray(r)) {
          for (const x of r) if (cb(x)) return true;
          return false;
        }
        return cb(r);
      });
    const ones = relational ? undefined : onesOf(args);
    if (!ones) return slow;
    const n = ones.length;
    if (n === 1 && !user && MEMO_BUILTINS.has(name)) {
      // Pure string builtins: remember the last string argument's result at this call site
      // (loop-invariant calls such as lower(v) inside an inner iteration run once).
      const a0 = ones[0]!;
      let lastArg: string | undefined;
      let lastResult: Value | undefined;
      return fromOne((f) => {
        const v = a0(f);
        if (v === MULTI || v === undefined) return v;
        const ctx = f.ctx;
        const ov = ctx.fnOverrides.size ? ctx.fnOverrides.get(name) : undefined;
        if (ov) return 'value' in ov ? ov.value : ov.call(ctx.unmocked(), [v], loc);
        if (typeof v === 'string' && v === lastArg) return lastResult;
        const r = callBuiltin(def!, ctx, [v], loc);
        if (typeof v === 'string' && r !== undefined) {
          lastArg = v;
          lastResult = r;
        }
        return r;
      }, slow);
    }
    return fromOne((f) => {
      const vals = new Array<Value>(n);
      for (let i = 0; i < n; i++) {
        const v = ones[i]!(f);
        if (v === MULTI || v === undefined) return v;
        vals[i] = v;
      }
      const ctx = f.ctx;
      const ov = ctx.fnOverrides.size ? ctx.fnOverrides.get(name) : undefined;
      if (ov) return 'value' in ov ? ov.value : ov.call(ctx.unmocked(), vals, loc);
      if (user) return user.call(ctx, vals, loc);
      return callBuiltin(def!, ctx, vals, loc);
    }, slow);
  }

  /**
   * Variadic builtins (print): every argument is collected with all its values, an undefined
   * one passed as `undefined`, and the builtin runs once per combination, as OPA's print does.
   */
  private variadicGen(def: BuiltinDef, args: Gen[], loc: Loc): Gen {
    return (f, cb) => {
      const sets = args.map((g) => {
        const vals: (Value | undefined)[] = [];
        g(f, (v) => {
          vals.push(v);
          return false;
        });
        return vals.length ? vals : [undefined];
      });
      let result: Value | undefined = true;
      const combos = (i: number, acc: (Value | undefined)[]): void => {
        if (i === sets.length) {
          result = callBuiltin(def, f.ctx, acc as Value[], loc);
          return;
        }
        for (const v of sets[i]!) combos(i + 1, [...acc, v]);
      };
      combos(0, []);
      return result === undefined ? false : cb(result);
    };
  }

  /** References: roots (input, data, rules), local variables or any term, then operands. */
  private refGen(head: Term, ops: Term[], sc: Scope, bound: Set<number>, loc: Loc): Gen {
    type Op = { kind: 'const'; v: Value; k: string } | { kind: 'var'; slot: number; wild: boolean } | { kind: 'gen'; g: Gen } | { kind: 'pat'; p: Pattern };
    const cops: Op[] = ops.map((o) => {
      if (isGroundLiteral(o)) {
        const v = literalValue(o);
        return { kind: 'const', v, k: keyOf(v) };
      }
      if (o.t === 'var') {
        const r = this.resolve(o.name, sc);
        if (r.r === 'local' || r.r === 'wild') return { kind: 'var', slot: r.slot, wild: r.r === 'wild' };
      }
      if (this.canGen(o, sc, bound)) return { kind: 'gen', g: this.gen(o, sc, bound) };
      return { kind: 'pat', p: this.pattern(o, sc, bound) };
    });
    const walk = (f: Frame, v: Value, i: number, cb: (v: Value) => boolean): boolean => {
      if (i === cops.length) return cb(v);
      const op = cops[i]!;
      switch (op.kind) {
        case 'const': {
          // The key's hash text is computed once at compile time.
          const x = v instanceof RObject ? v.entries.get(op.k)?.[1] : lookup(v, op.v);
          return x === undefined ? false : walk(f, x, i + 1, cb);
        }
        case 'var': {
          const cur = f.s[op.slot];
          if (cur !== undefined) {
            const x = lookup(v, cur);
            return x === undefined ? false : walk(f, x, i + 1, cb);
          }
          return iterate(v, (key, val) => {
            tick(f.ctx);
            f.s[op.slot] = key;
            try {
              return walk(f, val, i + 1, cb);
            } finally {
              f.s[op.slot] = undefined;
            }
          });
        }
        case 'gen':
          return op.g(f, (key) => {
            const x = lookup(v, key);
            return x === undefined ? false : walk(f, x, i + 1, cb);
          });
        case 'pat':
          return iterate(v, (key, val) => op.p(f, key, () => walk(f, val, i + 1, cb)));
      }
    };

    let root: { r: 'input' } | { r: 'data'; path: string[] } | { r: 'gen'; g: Gen };
    if (head.t === 'var') {
      const r = this.resolve(head.name, sc);
      if (r.r === 'input' || r.r === 'data') root = r;
      else if (r.r === 'term') {
        const at = r.term;
        const aops = at.t === 'ref' ? at.ops : [];
        const ahead = at.t === 'ref' ? at.head : at;
        return this.refGen(ahead, [...aops, ...ops], sc, bound, loc);
      } else root = { r: 'gen', g: this.gen(head, sc, bound) };
    } else root = { r: 'gen', g: this.gen(head, sc, bound) };

    // Without iterating operands, the walk has at most one value (MULTI at an unbound var).
    const simple = cops.every((o) => o.kind === 'const' || o.kind === 'var' || (o.kind === 'gen' && oneOf(o.g) !== undefined));
    const opOnes = cops.map((o) => (o.kind === 'gen' ? oneOf(o.g) : undefined));
    const oneWalk = (f: Frame, v: Value | undefined, from: number): Value | undefined | typeof MULTI => {
      let cur = v;
      for (let i = from; i < cops.length && cur !== undefined; i++) {
        const op = cops[i]!;
        if (op.kind === 'const') cur = cur instanceof RObject ? cur.entries.get(op.k)?.[1] : lookup(cur, op.v);
        else if (op.kind === 'var') {
          const key = f.s[op.slot];
          if (key === undefined) return MULTI;
          cur = lookup(cur, key);
        } else {
          const key = opOnes[i]!(f);
          if (key === MULTI || key === undefined) return key;
          cur = lookup(cur, key);
        }
      }
      return cur;
    };
    if (root.r === 'input') {
      const slow: Gen = (f, cb) => (f.ctx.input === undefined ? false : walk(f, f.ctx.input, 0, cb));
      return simple ? fromOne((f) => oneWalk(f, f.ctx.input, 0), slow) : slow;
    }
    if (root.r === 'gen') {
      const g = root.g;
      const slow: Gen = (f, cb) => g(f, (v) => walk(f, v, 0, cb));
      const hone = oneOf(g);
      if (!simple || !hone) return slow;
      return fromOne((f) => {
        const h = hone(f);
        return h === MULTI || h === undefined ? h : oneWalk(f, h, 0);
      }, slow);
    }
    // data: evaluate the longest prefix of known keys as a document path, then walk the rest.
    const prefix = root.path;
    const staticPath: string[] = [...prefix];
    for (const op of cops) {
      if (op.kind === 'const' && typeof op.v === 'string') staticPath.push(op.v);
      else {
        // A non-string key can never name a rule, so it cuts the dependency off.
        if (op.kind === 'const') staticPath.push('\u0000');
        break;
      }
    }
    this.deps.paths.push(staticPath);
    const pre: Value[] = prefix;
    // Leading constant string keys extend the document path known at compile time.
    const spath: string[] = [...prefix];
    let nconst = 0;
    while (nconst < cops.length) {
      const op = cops[nconst]!;
      if (op.kind !== 'const' || typeof op.v !== 'string') break;
      spath.push(op.v);
      nconst++;
    }
    const nextVar = nconst < cops.length && cops[nconst]!.kind === 'var' ? (cops[nconst] as { slot: number }).slot : -1;
    // Resolved on first use (the trie is complete only after compilation): when the path runs
    // through a complete rule, fetch the rule's document once and walk the rest directly.
    let plan: { path: Value[]; key: string; from: number; dynamic: boolean; group: RuleGroup | undefined } | undefined;
    const general = (f: Frame, cb: (v: Value) => boolean): boolean => {
      const path: Value[] = [...pre];
      let i = 0;
      for (; i < cops.length; i++) {
        const op = cops[i]!;
        if (op.kind === 'const') path.push(op.v);
        else if (op.kind === 'var' && f.s[op.slot] !== undefined) path.push(f.s[op.slot]!);
        else break;
      }
      const v = getData(f.ctx, path);
      return v === undefined ? false : walk(f, v, i, cb);
    };
    const getPlan = (f: Frame) => {
      if (plan === undefined) {
        const g = completePrefix(f.ctx.prog, spath);
        const d = g ? g.gpath.length : -1;
        if (g && d >= prefix.length) plan = { path: spath.slice(0, d), key: dataKey(spath.slice(0, d)), from: d - prefix.length, dynamic: false, group: g };
        else plan = { path: spath, key: dataKey(spath), from: nconst, dynamic: true, group: undefined };
      }
      return plan;
    };
    const slow: Gen = (f, cb) => {
      const plan = getPlan(f);
      // A bound variable right after the constant keys extends the path at run time.
      if (plan.dynamic && (nextVar >= 0 ? f.s[nextVar] !== undefined : nconst < cops.length && cops[nconst]!.kind === 'const')) return general(f, cb);
      const v = plan.group ? completeValue(f.ctx, plan.group, plan.path, plan.key) : getData(f.ctx, plan.path, plan.key);
      return v === undefined ? false : walk(f, v, plan.from, cb);
    };
    if (!simple) return slow;
    return fromOne((f) => {
      const plan = getPlan(f);
      if (plan.dynamic && (nextVar >= 0 ? f.s[nextVar] !== undefined : nconst < cops.length && cops[nconst]!.kind === 'const')) return MULTI;
      const v = plan.group ? completeValue(f.ctx, plan.group, plan.path, plan.key) : getData(f.ctx, plan.path, plan.key);
      return v === undefined ? undefined : oneWalk(f, v, plan.from);
    }, slow);
  }
}


/** Every variable name in a term, including inside nested comprehension bodies. */
function termNames(t: Term, out: Set<string>): void {
  switch (t.t) {
    case 'var':
      out.add(t.name);
      break;
    case 'ref':
      termNames(t.head, out);
      t.ops.forEach((o) => termNames(o, out));
      break;
    case 'call':
      t.args.forEach((a) => termNames(a, out));
      break;
    case 'array':
    case 'set':
      t.items.forEach((a) => termNames(a, out));
      break;
    case 'object':
      t.pairs.forEach(([k, v]) => {
        termNames(k, out);
        termNames(v, out);
      });
      break;
    case 'arraycomp':
    case 'setcomp':
      termNames(t.term, out);
      t.body.forEach((e) => exprNames(e, out));
      break;
    case 'objcomp':
      termNames(t.key, out);
      termNames(t.value, out);
      t.body.forEach((e) => exprNames(e, out));
      break;
  }
}

function exprNames(e: Expr, out: Set<string>): void {
  switch (e.e) {
    case 'term':
      termNames(e.term, out);
      break;
    case 'unify':
    case 'assign':
      termNames(e.a, out);
      termNames(e.b, out);
      break;
    case 'somein':
      if (e.key) termNames(e.key, out);
      termNames(e.value, out);
      termNames(e.coll, out);
      break;
    case 'every':
      if (e.key) termNames(e.key, out);
      termNames(e.value, out);
      termNames(e.coll, out);
      e.body.forEach((x) => exprNames(x, out));
      break;
    case 'some':
      e.vars.forEach((v) => out.add(v));
      break;
  }
  for (const w of e.withs) termNames(w.value, out);
}

function isCollection(v: Value): boolean {
  return Array.isArray(v) || v instanceof RObject || v instanceof RSet;
}

/** Enumerate key/value pairs of a collection in Rego order; stops when cb returns true. */
function iterate(v: Value, cb: (k: Value, v: Value) => boolean): boolean {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (cb(i, v[i]!)) return true;
  } else if (v instanceof RObject) {
    const es = v.sorted();
    for (let i = 0; i < es.length; i++) {
      const e = es[i]!;
      if (cb(e[0], e[1])) return true;
    }
  } else if (v instanceof RSet) {
    const xs = v.sorted();
    for (let i = 0; i < xs.length; i++) if (cb(xs[i]!, xs[i]!)) return true;
  }
  return false;
}

/** The cartesian product of generator values. */
function product(f: Frame, gens: Gen[], cb: (vals: Value[]) => boolean): boolean {
  const n = gens.length;
  if (n === 0) return cb([]);
  const vals = new Array<Value>(n);
  const step = (i: number): boolean => {
    if (i === n) return cb(vals.slice());
    return gens[i]!(f, (v) => {
      vals[i] = v;
      return step(i + 1);
    });
  };
  return step(0);
}
