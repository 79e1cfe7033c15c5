// Runtime of compiled Rego: evaluation context, errors, and assembly of virtual documents
// from rule results merged with base data. Compiled closures (compiler.ts) run against this.
import type { BuiltinContext } from './builtins/types.js';
import { RObject, RSet, equal, innerKey, keyOf, type Value } from './value.js';
import type { Loc } from './ast.js';

/** An evaluation failure with an OPA error code (eval_conflict_error, eval_type_error, ...). */
export class RegoEvalError extends Error {
  constructor(
    readonly code: string,
    readonly detail: string,
    readonly loc?: Loc,
    /** The rule or function involved (data.pkg.name), where known. */
    readonly rule?: string,
  ) {
    super(loc ? `${loc.file}:${loc.line}: ${code}: ${detail}` : `${code}: ${detail}`);
    this.name = 'RegoEvalError';
  }
}

/** A continuation: called once per solution; returning true stops the enumeration. */
export type K = () => boolean;
/** Slots of one rule/query evaluation; undefined means unbound. */
/** Slots of one rule/query evaluation (undefined means unbound), and where a generated rule body puts its head values. */
export type Frame = { s: (Value | undefined)[]; ctx: Ctx; o: Value[] | undefined };
/** A compiled term: enumerates its values (binding output variables while calling cb). */
export type Gen = (f: Frame, cb: (v: Value) => boolean) => boolean;
/** A compiled expression or body. */
export type Goal = (f: Frame, k: K) => boolean;

/** One rule output placed in the data tree: full path below `data`, and the leaf. */
export interface Contribution {
  path: Value[];
  leaf: Value;
  setElem: boolean;
}

/** A group of rules sharing a ground path, as evaluated by the runtime. */
export interface RuleGroup {
  id: number;
  /** Ground prefix below `data` (package path + ground head parts). */
  gpath: string[];
  /** Human name (data.pkg.rule) for messages. */
  name: string;
  /** Marks an empty container (set or object) at gpath even without results. */
  container?: 'set' | 'object';
  /** Produce this group's contributions. */
  run(ctx: Ctx): Contribution[];
  /** Contributions for one value of the first key only (rule indexing), when supported. */
  runKey?(ctx: Ctx, key: Value): Contribution[];
  /** A package/function-parent placeholder: contributes nothing but an empty object. */
  placeholder?: boolean;
  /** A group of complete rules (one value at gpath, no dynamic keys). */
  complete?: boolean;
}

export interface FuncImpl {
  name: string;
  arity: number;
  call(ctx: Ctx, args: Value[], loc: Loc): Value | undefined;
}

/** Trie over rule ground paths. */
export interface TrieNode {
  children: Map<string, TrieNode>;
  groups: RuleGroup[];
}

/** A data override from `with data.a.b as v`. */
export interface DataOverride {
  path: Value[];
  value: Value;
}

/** Limits that turn runaway evaluations into errors. */
export interface Limits {
  /** Nested rule/function evaluations. */
  maxDepth: number;
  /** Variable bindings per evaluation: bounds runaway iteration (e.g. huge cartesian products). */
  maxSteps: number;
}

/** Shared, query-independent compiled state. */
export interface Program {
  trie: TrieNode;
  funcs: Map<string, FuncImpl>;
  baseData: Value;
  /** Per data path: the partial-set groups that alone make up the document there, or null. */
  setPlans?: Map<string, RuleGroup[] | null>;
}

/** Per-evaluation state; `with` derives a child context with fresh caches. */
export class Ctx {
  /** Contributions by group id (a dense array: cheaper than a Map on the hot path). */
  readonly groupCache: (Contribution[] | undefined)[] = [];
  private paths: Map<string, Value | undefined> | undefined;
  private funcs: Map<string, Value | undefined | null> | undefined;
  private keys: Map<string, Contribution[]> | undefined;
  /** Documents by data path (made on first use: most evaluations read rules directly). */
  get pathCache(): Map<string, Value | undefined> {
    return (this.paths ??= new Map());
  }
  /** Function results by name and arguments. */
  get funcCache(): Map<string, Value | undefined | null> {
    return (this.funcs ??= new Map());
  }
  /** Partial-rule contributions by group and first key. */
  get keyCache(): Map<string, Contribution[]> {
    return (this.keys ??= new Map());
  }
  /** Group ids under evaluation (recursion check). */
  readonly inProgress: boolean[] = [];
  depth = 0;
  /** Shared by every context derived from one evaluation. */
  budget = { steps: 0 };
  constructor(
    readonly prog: Program,
    readonly input: Value | undefined,
    readonly bctx: BuiltinContext,
    readonly dataOverrides: DataOverride[],
    readonly fnOverrides: ReadonlyMap<string, FuncImpl | { value: Value }>,
    readonly limits: Limits,
  ) {}

  private unmockedCtx: Ctx | undefined;
  /** The context mock functions run in: without function mocks, so a mock can call the original. */
  unmocked(): Ctx {
    if (this.fnOverrides.size === 0) return this;
    this.unmockedCtx ??= this.derive(this.input, this.dataOverrides, new Map());
    return this.unmockedCtx;
  }

  /** A context for an expression evaluated under `with` modifiers. */
  derive(input: Value | undefined, dataOverrides: DataOverride[], fnOverrides: Map<string, FuncImpl | { value: Value }>): Ctx {
    const c = new Ctx(this.prog, input, this.bctx, dataOverrides, fnOverrides, this.limits);
    c.depth = this.depth;
    c.budget = this.budget;
    return c;
  }
}

const NONE = Symbol('none');
type TNode = { o: Map<string, [Value, TNode]> } | { v: Value } | { s: Map<string, Value> };

function conflict(msg: string): never {
  throw new RegoEvalError('eval_conflict_error', msg);
}

function insert(node: TNode | undefined, path: Value[], i: number, leaf: Value, setElem: boolean): TNode {
  if (i === path.length) {
    if (setElem) {
      if (node === undefined) node = { s: new Map() };
      if (!('s' in node)) conflict('object keys must be unique');
      (node as { s: Map<string, Value> }).s.set(keyOf(leaf), leaf);
      return node;
    }
    if (node === undefined) return { v: leaf };
    if ('v' in node && equal(node.v, leaf)) return node;
    // An empty container (package, partial object without results) yields to a value.
    if ('o' in node && node.o.size === 0) return { v: leaf };
    return conflict('object keys must be unique');
  }
  if (node === undefined) node = { o: new Map() };
  if (!('o' in node)) return conflict('object keys must be unique');
  const k = path[i]!;
  const kk = keyOf(k);
  const cur = node.o.get(kk);
  node.o.set(kk, [k, insert(cur?.[1], path, i + 1, leaf, setElem)]);
  return node;
}

function ensure(node: TNode | undefined, path: Value[], i: number, kind: 'set' | 'object'): TNode {
  if (i === path.length) {
    if (node === undefined) return kind === 'set' ? { s: new Map() } : { o: new Map() };
    return node;
  }
  if (node === undefined) node = { o: new Map() };
  if (!('o' in node)) return node;
  const k = path[i]!;
  const kk = keyOf(k);
  node.o.set(kk, [k, ensure(node.o.get(kk)?.[1], path, i + 1, kind)]);
  return node;
}

function fromTree(n: TNode): Value {
  if ('v' in n) return n.v;
  if ('s' in n) return new RSet(n.s);
  const m = new Map<string, [Value, Value]>();
  for (const [kk, [k, c]] of n.o) m.set(kk, [k, fromTree(c)]);
  return new RObject(m);
}

/** Count one variable binding against the evaluation's step budget. */
export function tick(ctx: Ctx): void {
  if (++ctx.budget.steps > ctx.limits.maxSteps) throw new RegoEvalError('eval_error', `evaluation exceeded the step limit of ${ctx.limits.maxSteps}`);
}

/** Look up one key in a value (objects by key, arrays by integer index, sets by member). */
export function lookup(v: Value | undefined, k: Value): Value | undefined {
  if (v instanceof RObject) return v.get(k);
  if (Array.isArray(v)) {
    if (typeof k === 'number' && Number.isInteger(k) && k >= 0 && k < v.length) return v[k];
    if (typeof k === 'bigint' && k >= 0n && k < BigInt(v.length)) return v[Number(k)];
    return undefined;
  }
  if (v instanceof RSet) return v.has(k) ? k : undefined;
  return undefined;
}

function navigate(v: Value | undefined, path: Value[], from: number): Value | undefined {
  let cur = v;
  for (let i = from; i < path.length && cur !== undefined; i++) cur = lookup(cur, path[i]!);
  return cur;
}

/** Base documents are JSON: a numeric key finds the object member named by its text, as OPA's store does. */
function navigateBase(v: Value | undefined, path: Value[]): Value | undefined {
  let cur = v;
  for (let i = 0; i < path.length && cur !== undefined; i++) {
    const k = path[i]!;
    let next = lookup(cur, k);
    if (next === undefined && cur instanceof RObject && (typeof k === 'number' || typeof k === 'bigint')) next = cur.get(String(k));
    cur = next;
  }
  return cur;
}

function mergeBase(base: Value | undefined, virt: Value): Value {
  if (base === undefined) return virt;
  if (base instanceof RObject && virt instanceof RObject) {
    let out = base;
    for (const [k, v] of virt.entries.values()) {
      const b = out.get(k);
      out = out.with(k, b === undefined ? v : mergeBase(b, v));
    }
    return out;
  }
  return conflict(`base and virtual document keys must be unique`);
}

function groupContribs(ctx: Ctx, g: RuleGroup): Contribution[] {
  let c = ctx.groupCache[g.id];
  if (c) return c;
  if (ctx.inProgress[g.id] === true) throw new RegoEvalError('rego_recursion_error', `rule ${g.name} is recursive`);
  ctx.inProgress[g.id] = true;
  try {
    c = g.run(ctx);
  } finally {
    ctx.inProgress[g.id] = false;
  }
  ctx.groupCache[g.id] = c;
  return c;
}

function keyContribs(ctx: Ctx, g: RuleGroup, key: Value): Contribution[] {
  const ck = `${g.id}|${keyOf(key)}`;
  let c = ctx.keyCache.get(ck);
  if (c) return c;
  if (ctx.inProgress[g.id] === true) throw new RegoEvalError('rego_recursion_error', `rule ${g.name} is recursive`);
  ctx.inProgress[g.id] = true;
  try {
    c = g.runKey!(ctx, key);
  } finally {
    ctx.inProgress[g.id] = false;
  }
  ctx.keyCache.set(ck, c);
  return c;
}

function collectGroups(n: TrieNode, out: RuleGroup[]): void {
  out.push(...n.groups);
  for (const c of n.children.values()) collectGroups(c, out);
}

/** The document at `data.<path>`: base data merged with every rule that contributes there. */
export function getData(ctx: Ctx, path: Value[], key?: string): Value | undefined {
  const ck = key ?? dataKey(path);
  const cached = ctx.pathCache.get(ck);
  if (cached !== undefined || ctx.pathCache.has(ck)) return cached;
  const r = computeData(ctx, path, ck);
  ctx.pathCache.set(ck, r);
  return r;
}

/** The cache key getData uses for a path (precompute it for static paths). */
export function dataKey(path: Value[]): string {
  return path.map(innerKey).join('\u0000');
}

/**
 * For a static data path, the length d of a prefix that names a complete rule such that
 * `getData(path[..d])` navigated by the rest equals `getData(path)`: nothing else in the trie
 * contributes along or below the path (only package placeholders above it) and there is no
 * base data there. Returns -1 when there is no such prefix.
 */
export function completePrefix(prog: Program, path: string[]): RuleGroup | undefined {
  let node: TrieNode | undefined = prog.trie;
  for (let d = 0; d < path.length && node; d++) {
    for (const g of node.groups) if (!g.placeholder) return undefined;
    node = node.children.get(path[d]!);
    if (!node) return undefined;
    if (node.groups.length === 1 && node.groups[0]!.complete && node.children.size === 0) {
      return navigateBase(prog.baseData, path.slice(0, d + 1)) === undefined ? node.groups[0] : undefined;
    }
  }
  return undefined;
}

/**
 * For a static data path that no rule contributes to (at, above or below it), the base
 * document there, which is then the same for every evaluation without `with data`; undefined
 * when rules are involved. `{ value: undefined }` means no document.
 */
export function baseDocument(prog: Program, path: string[]): { value: Value | undefined } | undefined {
  let node: TrieNode | undefined = prog.trie;
  for (let d = 0; d < path.length && node; d++) {
    for (const g of node.groups) if (!g.placeholder) return undefined;
    node = node.children.get(path[d]!);
  }
  if (node) return undefined;
  return { value: navigateBase(prog.baseData, path) };
}

/**
 * The document of a group found by completePrefix: without `with data` overrides, the rule's
 * value itself (what computeData would assemble from its single contribution).
 */
export function completeValue(ctx: Ctx, g: RuleGroup, path: Value[], key: string): Value | undefined {
  if (ctx.dataOverrides.length !== 0) return getData(ctx, path, key);
  const c = groupContribs(ctx, g);
  return c.length === 0 ? undefined : c[0]!.leaf;
}

/**
 * The groups of a path whose document is just the union of partial-set rules defined exactly
 * there (no base data, no rules above or below it), or null: such a set is built directly.
 */
function setPlan(prog: Program, path: Value[], key: string): RuleGroup[] | null {
  const plans = (prog.setPlans ??= new Map());
  let plan = plans.get(key);
  if (plan !== undefined) return plan;
  plan = null;
  let node: TrieNode | undefined = prog.trie;
  let above = true;
  for (let d = 0; d < path.length && node; d++) {
    if (!node.groups.every((g) => g.placeholder)) above = false;
    const seg = path[d]!;
    node = typeof seg === 'string' ? node.children.get(seg) : undefined;
  }
  if (above && node && node.children.size === 0 && node.groups.length > 0 && navigateBase(prog.baseData, path) === undefined) {
    if (node.groups.every((g) => g.container === 'set' && g.gpath.length === path.length)) plan = node.groups;
  }
  plans.set(key, plan);
  return plan;
}

function computeData(ctx: Ctx, path: Value[], key: string): Value | undefined {
  if (ctx.dataOverrides.length === 0) {
    const groups = setPlan(ctx.prog, path, key);
    if (groups) {
      const m = new Map<string, Value>();
      for (const g of groups) for (const c of groupContribs(ctx, g)) m.set(keyOf(c.leaf), c.leaf);
      return new RSet(m);
    }
  }
  // An override at or above the path hides everything below it.
  let best: DataOverride | undefined;
  for (const o of ctx.dataOverrides) {
    if (o.path.length <= path.length && o.path.every((p, i) => equal(p, path[i]!)) && (!best || o.path.length > best.path.length)) best = o;
  }
  if (best) return navigate(best.value, path, best.path.length);

  const prefixGroups: RuleGroup[] = [];
  let node: TrieNode | undefined = ctx.prog.trie;
  let depth = 0;
  for (; depth < path.length && node; depth++) {
    prefixGroups.push(...node.groups);
    const seg = path[depth]!;
    node = typeof seg === 'string' ? node.children.get(seg) : undefined;
  }
  const groups: RuleGroup[] = [];
  if (node) collectGroups(node, groups);
  let result: Value | undefined;
  const base = navigateBase(ctx.prog.baseData, path);
  if (groups.length === 0 && prefixGroups.length === 0) result = base;
  else {
    let tree: TNode | undefined;
    let found: Value | typeof NONE = NONE;
    for (const g of [...prefixGroups, ...groups]) {
      const gp = g.gpath;
      if (g.container && gp.length >= path.length) tree = ensure(tree, gp, path.length, g.container);
      const keyed = g.runKey && path.length > gp.length && ctx.groupCache[g.id] === undefined;
      for (const c of keyed ? keyContribs(ctx, g, path[gp.length]!) : groupContribs(ctx, g)) {
        const cp = c.path;
        const n = Math.min(cp.length, path.length);
        let match = true;
        for (let i = 0; i < n; i++)
          if (!equal(cp[i]!, path[i]!)) {
            match = false;
            break;
          }
        if (!match) continue;
        if (cp.length >= path.length) tree = insert(tree, cp, path.length, c.leaf, c.setElem);
        else {
          // The rule's value sits above the requested path: look inside it.
          const inner = c.setElem ? (cp.length + 1 === path.length && equal(path[cp.length]!, c.leaf) ? c.leaf : undefined) : navigate(c.leaf, path, cp.length);
          if (inner !== undefined) {
            if (found !== NONE && !equal(found, inner)) conflict('object keys must be unique');
            found = inner;
          }
        }
      }
    }
    if (found !== NONE) {
      if (tree !== undefined) tree = insert(tree, [], 0, found, false);
      else result = found;
    }
    if (tree !== undefined) {
      const virt = fromTree(tree);
      result = base === undefined ? virt : mergeBase(base, virt);
    } else if (found === NONE) result = base;
  }
  // Overrides below the path patch the computed document.
  for (const o of ctx.dataOverrides) {
    if (o.path.length > path.length && path.every((p, i) => equal(p, o.path[i]!))) result = patch(result, o.path, path.length, o.value);
  }
  return result;
}

/** `v` with the value at path[from..] replaced (objects created as needed). */
export function patch(v: Value | undefined, path: Value[], from: number, value: Value): Value {
  if (from === path.length) return value;
  const k = path[from]!;
  const obj = v instanceof RObject ? v : new RObject();
  return obj.with(k, patch(obj.get(k), path, from + 1, value));
}
