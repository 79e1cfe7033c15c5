// Second compilation stage for rule, function, comprehension and query bodies: the compiler
// (compiler.ts) lowers each body into a list of pieces (tests, bindings, loops, or closures it
// keeps for the rare constructs), and this module turns the list into one JavaScript function
// whose loops and tests are straight code. Written by hand because it is specific to this
// engine's frames and values; it exists because continuation closures per expression cost
// several times more than the work they do on a typical audit-event policy.
//
// Generated code relies on what the compiler proved statically: a `bind` or `loop` piece's
// slots are unbound on entry, and every variable a term reads is bound. Terms it cannot
// express inline (user functions, comprehensions, composite literals, partial-rule lookups)
// run through the closure compiled for them. The source is produced on first evaluation,
// when every rule has been compiled and data references can be resolved to rule groups.
import type { Loc } from './ast.js';
import type { BuiltinDef } from './builtins/types.js';
import { BuiltinError } from './builtins/types.js';
import { RegoEvalError, baseDocument, completePrefix, completeValue, dataKey, getData, lookup, tick, type Ctx, type Frame, type Gen, type Goal, type Program } from './eval.js';
import { RObject, RSet, compare, equal, keyOf, type Value } from './value.js';

/** Marker a closure's single-value fast path returns when the term must enumerate. */
export type MultiMarker = symbol;

/** A term the generated code computes; it has at most one value. */
export type TermIR =
  | { k: 'const'; v: Value }
  | { k: 'slot'; slot: number }
  | { k: 'input' }
  | { k: 'ref'; head: TermIR; ops: OpIR[] }
  /** A reference below `data`: `spath` are its leading constant string keys, `ops` the rest. */
  | { k: 'data'; spath: string[]; ops: OpIR[]; fallback: SingleGen }
  | { k: 'call'; def: BuiltinDef; name: string; args: TermIR[]; loc: Loc; memo: boolean }
  | { k: 'gen'; g: SingleGen }
  | { k: 'array'; items: TermIR[] }
  /** An object literal with constant, distinct keys (keyed by their hash keys). */
  | { k: 'object'; keys: Value[]; vals: TermIR[] }
  /** A loop-invariant term computed at most once per entry into the scope of its `let` piece. */
  | { k: 'hoisted'; id: number; t: TermIR };

export type OpIR = { k: 'key'; v: Value } | { k: 'term'; t: TermIR };

/** A closure-compiled term with its optional single-value function. */
export interface SingleGen {
  gen: Gen;
  one?: (f: Frame) => Value | undefined | MultiMarker;
}

/** One expression of a body, in evaluation order. */
export type PieceIR =
  | { k: 'nop' }
  | { k: 'test'; t: TermIR }
  | { k: 'not'; t: TermIR }
  | { k: 'bind'; slot: number; t: TermIR }
  | { k: 'cmp'; a: TermIR; b: TermIR }
  | { k: 'loop'; coll: TermIR; key?: number; value?: number }
  | { k: 'goal'; g: Goal }
  /** Declares the lazily computed values of hoisted terms. */
  | { k: 'let'; ids: number[] }
  /** Last piece of a generated rule: add the head value to the frame's outputs (f.o). */
  | { k: 'emit'; t: TermIR; complete: boolean };

/** Bodies longer than this stay closures: generated nesting grows with the body. */
export const MAX_PIECES = 120;

// ---- runtime helpers the generated code calls (small and monomorphic, so V8 inlines them) ----

function dot(v: Value | undefined, k: string): Value | undefined {
  if (v instanceof RObject) return v.entries.get(k)?.[1];
  return v === undefined ? undefined : lookup(v, k);
}

function at(v: Value | undefined, k: Value): Value | undefined {
  return v === undefined ? undefined : lookup(v, k);
}

/** A key into base data: JSON documents find a numeric key by its text, as OPA's store does. */
function atBase(v: Value | undefined, k: Value): Value | undefined {
  if (v === undefined) return undefined;
  const x = lookup(v, k);
  if (x === undefined && v instanceof RObject && (typeof k === 'number' || typeof k === 'bigint')) return v.get(String(k));
  return x;
}

function len(c: Value): number {
  if (Array.isArray(c)) return c.length;
  if (c instanceof RObject) return c.entries.size;
  if (c instanceof RSet) return c.items.size;
  return 0;
}

function keyAt(c: Value, i: number): Value {
  if (Array.isArray(c)) return i;
  if (c instanceof RObject) return c.sorted()[i]![0];
  return (c as RSet).sorted()[i]!;
}

function valAt(c: Value, i: number): Value {
  if (Array.isArray(c)) return c[i]!;
  if (c instanceof RObject) return c.sorted()[i]![1];
  return (c as RSet).sorted()[i]!;
}

/** Run a builtin; its errors make the call undefined, or raise in strict mode. */
export function callBuiltin(def: BuiltinDef, ctx: Ctx, args: Value[], loc: Loc): Value | undefined {
  try {
    return def.fn(args, ctx.bctx);
  } catch (e) {
    if (e instanceof BuiltinError) {
      if (ctx.bctx.strict) throw new RegoEvalError(e.code, e.message, loc);
      return undefined;
    }
    throw e;
  }
}

/** A builtin call honouring `with` replacements of that builtin. */
function callB(def: BuiltinDef, name: string, ctx: Ctx, args: Value[], loc: Loc): Value | undefined {
  if (ctx.fnOverrides.size !== 0) {
    const ov = ctx.fnOverrides.get(name);
    if (ov) return 'value' in ov ? ov.value : ov.call(ctx.unmocked(), args, loc);
  }
  return callBuiltin(def, ctx, args, loc);
}

/**
 * Call-site memory of a pure one-argument string builtin (lower, upper, ...): policies apply
 * them to the same identifiers inside loops and on every evaluation. Bounded.
 */
type Memo = Map<string, Value>;
const MEMO_LIMIT = 512;

function callMemo(m: Memo, def: BuiltinDef, name: string, ctx: Ctx, a: Value, loc: Loc): Value | undefined {
  if (typeof a !== 'string' || ctx.fnOverrides.size !== 0) return callB(def, name, ctx, [a], loc);
  const hit = m.get(a);
  if (hit !== undefined) return hit;
  const r = callBuiltin(def, ctx, [a], loc);
  if (r !== undefined) {
    if (m.size >= MEMO_LIMIT) m.clear();
    m.set(a, r);
  }
  return r;
}

/** Set or array membership (`x in c`) without the builtin call; undefined leaves it to the builtin. */
function member(x: Value, c: Value): boolean | undefined {
  if (c instanceof RSet) return c.has(x);
  if (Array.isArray(c)) {
    for (let i = 0; i < c.length; i++) if (c[i] === x || equal(c[i]!, x)) return true;
    return false;
  }
  return undefined;
}

function single(g: SingleGen, f: Frame, multi: MultiMarker): Value | undefined {
  if (g.one) {
    const r = g.one(f);
    if (r !== multi) return r as Value | undefined;
  }
  let out: Value | undefined;
  g.gen(f, (v) => {
    out = v;
    return true;
  });
  return out;
}

// ---- emission ----

class Emitter {
  readonly consts: unknown[] = [];
  private n = 0;
  /** Slots bound by enclosing pieces of the current JS function, innermost last. */
  private bound: number[] = [];

  constructor(
    private readonly prog: Program,
    private readonly multi: MultiMarker,
  ) {}

  k(x: unknown): string {
    this.consts.push(x);
    return `K[${this.consts.length - 1}]`;
  }

  tmp(p = 't'): string {
    return `${p}${this.n++}`;
  }

  /** Code that stops the enumeration: unbind what this function bound, then report the stop. */
  stop(): string {
    return `{ ${this.bound.map((s) => `s[${s}] = undefined; `).join('')}return true; }`;
  }

  lit(v: Value): string {
    if (typeof v === 'string') return JSON.stringify(v);
    if (typeof v === 'boolean' || v === null) return String(v);
    if (typeof v === 'number' && Number.isFinite(v) && !Object.is(v, -0)) return String(v);
    return this.k(v);
  }

  /** Code computing `t`; `then` receives a JS expression for its value, run only when defined. */
  term(t: TermIR, then: (x: string) => string): string {
    switch (t.k) {
      case 'const':
        return then(this.lit(t.v));
      case 'slot':
        return then(`s[${t.slot}]`);
      case 'input':
        return this.defined('ctx.input', then);
      case 'gen':
        return this.defined(`single(${this.k(t.g)}, f, MULTI)`, then);
      case 'ref':
        return this.term(t.head, (h) => this.ops(h, t.ops, 0, then));
      case 'data':
        return this.data(t, then);
      case 'array':
        return this.args(t.items, 0, [], (xs) => this.defined(`[${xs.join(', ')}]`, then));
      case 'object':
        return this.args(t.vals, 0, [], (xs) => {
          const pairs = t.keys.map((k, i) => `[${JSON.stringify(keyOf(k))}, [${this.lit(k)}, ${xs[i]}]]`);
          return this.defined(`new RObject(new Map([${pairs.join(', ')}]))`, then);
        });
      case 'hoisted': {
        const v = `h${t.id}`;
        return `if (!d${t.id}) { d${t.id} = true; ${this.term(t.t, (x) => `${v} = ${x};`)} } ${this.defined(v, then)}`;
      }
      case 'call':
        return this.args(t.args, 0, [], (xs) => {
          let call: string;
          if (t.memo) call = `callMemo(${this.k(new Map() satisfies Memo)}, ${this.k(t.def)}, ${JSON.stringify(t.name)}, ctx, ${xs[0]}, ${this.k(t.loc)})`;
          else {
            const general = `callB(${this.k(t.def)}, ${JSON.stringify(t.name)}, ctx, [${xs.join(', ')}], ${this.k(t.loc)})`;
            const inline = INLINE[t.name]?.(xs);
            // An inline form answers undefined where the builtin must decide (operand errors).
            if (inline) {
              const v = this.tmp('v');
              return `let ${v} = noov ? ${inline} : undefined; if (${v} === undefined) ${v} = ${general}; ${this.defined(v, then)}`;
            }
            call = general;
          }
          return this.defined(call, then);
        });
    }
  }

  private defined(expr: string, then: (x: string) => string): string {
    const v = this.tmp();
    return `const ${v} = ${expr}; if (${v} !== undefined) { ${then(v)} }`;
  }

  private args(args: TermIR[], i: number, acc: string[], then: (xs: string[]) => string): string {
    if (i === args.length) return then(acc);
    return this.term(args[i]!, (x) => this.args(args, i + 1, [...acc, x], then));
  }

  /** Walk `ops[i..]` from the value in `cur` (a defined JS expression). */
  private ops(cur: string, ops: OpIR[], i: number, then: (x: string) => string, base = false): string {
    // Constant keys and bound-variable keys chain into one expression; `dot`/`at` pass undefined through.
    const at = base ? 'atBase' : 'at';
    let expr = cur;
    let j = i;
    for (; j < ops.length; j++) {
      const op = ops[j]!;
      if (op.k === 'key') expr = typeof op.v === 'string' ? `dot(${expr}, ${JSON.stringify(op.v)})` : `${at}(${expr}, ${this.lit(op.v)})`;
      else if (op.t.k === 'slot') expr = `${at}(${expr}, s[${op.t.slot}])`;
      else break;
    }
    if (j === ops.length) return expr === cur ? then(cur) : this.defined(expr, then);
    const op = ops[j] as { k: 'term'; t: TermIR };
    return this.defined(expr, (v) => this.term(op.t, (key) => this.defined(`${at}(${v}, ${key})`, (x) => this.ops(x, ops, j + 1, then, base))));
  }

  private data(t: TermIR & { k: 'data' }, then: (x: string) => string): string {
    const g = completePrefix(this.prog, t.spath);
    if (g) {
      const d = g.gpath.length;
      const path = t.spath.slice(0, d);
      const rest: OpIR[] = [...t.spath.slice(d).map((v): OpIR => ({ k: 'key', v })), ...t.ops];
      return this.defined(`completeValue(ctx, ${this.k(g)}, ${this.k(path)}, ${this.k(dataKey(path))})`, (v) => this.ops(v, rest, 0, then));
    }
    const base = baseDocument(this.prog, t.spath);
    if (base) {
      const doc = `(ctx.dataOverrides.length === 0 ? ${this.k(base.value)} : getData(ctx, ${this.k(t.spath)}, ${this.k(dataKey(t.spath))}))`;
      return this.defined(doc, (v) => this.ops(v, t.ops, 0, then, true));
    }
    // A partial rule or base document: a fully constant path is one document lookup; a
    // variable key keeps the closure, which asks the rule for that key only.
    if (t.ops.length === 0) return this.defined(`getData(ctx, ${this.k(t.spath)}, ${this.k(dataKey(t.spath))})`, then);
    return this.defined(`single(${this.k(t.fallback)}, f, MULTI)`, then);
  }

  /** Code for pieces[i..]; `k()` runs after the last one. */
  pieces(ps: PieceIR[], i: number): string {
    if (i === ps.length) return `if (k()) ${this.stop()}`;
    const p = ps[i]!;
    const rest = (): string => this.pieces(ps, i + 1);
    switch (p.k) {
      case 'emit':
        // A complete rule keeps its first value and any different one (a conflict for the caller).
        return this.term(p.t, (x) => (p.complete ? `if (f.o.length === 0 || !(f.o[0] === ${x} || equal(f.o[0], ${x}))) f.o.push(${x});` : `f.o.push(${x});`));
      case 'nop':
        return rest();
      case 'let':
        return `${p.ids.map((id) => `let h${id}, d${id} = false;`).join(' ')} ${rest()}`;
      case 'test':
        return this.term(p.t, (x) => `if (${x} !== false) { ${rest()} }`);
      case 'not': {
        const hit = this.tmp('n');
        return `let ${hit} = false; ${this.term(p.t, (x) => `if (${x} !== false) ${hit} = true;`)} if (!${hit}) { ${rest()} }`;
      }
      case 'cmp':
        return this.term(p.a, (a) => this.term(p.b, (b) => `if (${a} === ${b} || equal(${a}, ${b})) { ${rest()} }`));
      case 'bind':
        return this.term(p.t, (x) => {
          this.bound.push(p.slot);
          const body = `tick(ctx); s[${p.slot}] = ${x}; ${rest()} s[${p.slot}] = undefined;`;
          this.bound.pop();
          return body;
        });
      case 'loop':
        return this.term(p.coll, (c) => {
          const n = this.tmp('n');
          const i = this.tmp('i');
          const slots = [p.key, p.value].filter((x): x is number => x !== undefined);
          this.bound.push(...slots);
          let bind = '';
          if (p.key !== undefined) bind += `tick(ctx); s[${p.key}] = keyAt(${c}, ${i}); `;
          if (p.value !== undefined) bind += `tick(ctx); s[${p.value}] = valAt(${c}, ${i}); `;
          const body = `for (let ${i} = 0, ${n} = len(${c}); ${i} < ${n}; ${i}++) { ${bind}${rest()} } ${slots.map((s) => `s[${s}] = undefined; `).join('')}`;
          this.bound.length -= slots.length;
          return body;
        });
      case 'goal': {
        const g = this.k(p.g);
        const outer = this.bound;
        this.bound = [];
        const inner = `() => { ${rest()} return false; }`;
        this.bound = outer;
        return `if (${g}(f, ${inner})) ${this.stop()}`;
      }
    }
  }
}

/** Operators generated inline when no `with` replaces them (noov); others call the builtin. */
const INLINE: Record<string, (xs: string[]) => string> = {
  contains: ([a, b]) => `(typeof ${a} === 'string' && typeof ${b} === 'string' ? ${a}.includes(${b}) : undefined)`,
  startswith: ([a, b]) => `(typeof ${a} === 'string' && typeof ${b} === 'string' ? ${a}.startsWith(${b}) : undefined)`,
  endswith: ([a, b]) => `(typeof ${a} === 'string' && typeof ${b} === 'string' ? ${a}.endsWith(${b}) : undefined)`,
  'internal.member_2': ([x, c]) => `member(${x}, ${c})`,
  equal: ([a, b]) => `(${a} === ${b} || equal(${a}, ${b}))`,
  neq: ([a, b]) => `!(${a} === ${b} || equal(${a}, ${b}))`,
  lt: ([a, b]) => `compare(${a}, ${b}) < 0`,
  lte: ([a, b]) => `compare(${a}, ${b}) <= 0`,
  gt: ([a, b]) => `compare(${a}, ${b}) > 0`,
  gte: ([a, b]) => `compare(${a}, ${b}) >= 0`,
};

const HELPERS = { RObject, dot, at, atBase, len, keyAt, valAt, callB, callMemo, member, single, tick, equal, compare, completeValue, getData };

/** Slots a term reads, or null when it holds a closure (whose reads are not known here). */
function slotsRead(t: TermIR, out: Set<number>): Set<number> | null {
  switch (t.k) {
    case 'const':
    case 'input':
      return out;
    case 'slot':
      out.add(t.slot);
      return out;
    case 'gen':
    case 'data':
      if (t.k === 'gen') return null;
      for (const o of t.ops) if (o.k === 'term' && slotsRead(o.t, out) === null) return null;
      return out;
    case 'ref':
      if (slotsRead(t.head, out) === null) return null;
      for (const o of t.ops) if (o.k === 'term' && slotsRead(o.t, out) === null) return null;
      return out;
    case 'call':
      for (const a of t.args) if (slotsRead(a, out) === null) return null;
      return out;
    case 'array':
      for (const a of t.items) if (slotsRead(a, out) === null) return null;
      return out;
    case 'object':
      for (const a of t.vals) if (slotsRead(a, out) === null) return null;
      return out;
    case 'hoisted':
      return slotsRead(t.t, out);
  }
}

/**
 * Loop-invariant code motion: a term inside a loop that reads only slots bound before the loop
 * is computed once per binding of those slots (lazily, where it was first needed, so errors and
 * undefined results happen exactly as before). Closure pieces are barriers: what they bind is
 * not known here.
 */
function hoist(ps: PieceIR[]): PieceIR[] {
  const binder = new Map<number, number>();
  ps.forEach((p, i) => {
    if (p.k === 'bind') binder.set(p.slot, i);
    if (p.k === 'loop') for (const x of [p.key, p.value]) if (x !== undefined) binder.set(x, i);
  });
  const lets = new Map<number, number[]>();
  let next = 0;
  let barrier = -1;
  const out = ps.map((p, i): PieceIR => {
    if (p.k === 'goal') barrier = i;
    const loopIn = (j: number): boolean => {
      for (let x = j; x < i; x++) if (ps[x]!.k === 'loop') return true;
      return false;
    };
    const rw = (t: TermIR): TermIR => {
      if (t.k === 'const' || t.k === 'slot' || t.k === 'input' || t.k === 'gen' || t.k === 'hoisted') return t;
      const reads = slotsRead(t, new Set());
      if (reads && (t.k !== 'ref' || t.ops.length > 0)) {
        let j = barrier + 1;
        let ok = true;
        for (const s of reads) {
          const b = binder.get(s);
          if (b === undefined) continue;
          if (b >= i) ok = false;
          else j = Math.max(j, b + 1);
        }
        if (ok && loopIn(j)) {
          const id = next++;
          lets.set(j, [...(lets.get(j) ?? []), id]);
          return { k: 'hoisted', id, t };
        }
      }
      const op = (o: OpIR): OpIR => (o.k === 'term' ? { k: 'term', t: rw(o.t) } : o);
      switch (t.k) {
        case 'ref':
          return { ...t, head: rw(t.head), ops: t.ops.map(op) };
        case 'data':
          return { ...t, ops: t.ops.map(op) };
        case 'call':
          return { ...t, args: t.args.map(rw) };
        case 'array':
          return { ...t, items: t.items.map(rw) };
        case 'object':
          return { ...t, vals: t.vals.map(rw) };
      }
    };
    switch (p.k) {
      case 'test':
      case 'not':
        return { ...p, t: rw(p.t) };
      case 'bind':
        return { ...p, t: rw(p.t) };
      case 'emit':
        return { ...p, t: rw(p.t) };
      case 'cmp':
        return { ...p, a: rw(p.a), b: rw(p.b) };
      case 'loop':
        return { ...p, coll: rw(p.coll) };
      default:
        return p;
    }
  });
  if (lets.size === 0) return ps;
  const res: PieceIR[] = [];
  out.forEach((p, i) => {
    const ids = lets.get(i);
    if (ids) res.push({ k: 'let', ids });
    res.push(p);
  });
  return res;
}

/** JavaScript source of a body (exposed for tests and debugging). */
export function bodySource(psIn: PieceIR[], prog: Program, multi: MultiMarker): { src: string; consts: unknown[] } {
  const ps = hoist(psIn);
  const em = new Emitter(prog, multi);
  const src = `return function body(f, k) { const s = f.s, ctx = f.ctx, noov = ctx.fnOverrides.size === 0; ${em.pieces(ps, 0)} return false; };`;
  return { src, consts: em.consts };
}

/** A generated body: `run` is replaced by the generated function on its first call. */
export interface Generated {
  run: Goal;
}

/** The pieces as a generated body, built on its first evaluation (when all rules are known). */
export function generated(ps: PieceIR[], multi: MultiMarker): Generated {
  const g: Generated = {
    run: (f, k) => {
      const { src, consts } = bodySource(ps, f.ctx.prog, multi);
      const names = Object.keys(HELPERS);
      // Code generation is the point of this module: the source is built from compiled IR only.
      g.run = new Function('K', 'MULTI', ...names, src)(consts, multi, ...names.map((n) => HELPERS[n as keyof typeof HELPERS])) as Goal;
      return g.run(f, k);
    },
  };
  return g;
}

/** A goal for the pieces (see generated). */
export function generatedGoal(ps: PieceIR[], multi: MultiMarker): Goal {
  const g = generated(ps, multi);
  return (f, k) => g.run(f, k);
}
