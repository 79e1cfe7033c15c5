// Object, array and JSON-document builtins (object.*, array.*, json.filter/remove/patch, walk).
//
// walk: OPA's `walk(x, [path, value])` is relational; here `walk` has arity 1 and returns an
// ARRAY of [path, value] pairs in OPA's pre-order (the root first with path [], object keys and
// set members in sorted order). The evaluator iterates that array and unifies each pair with the
// output term, so `walk(x, [p, v])` and `[p, v] := walk(x)[_]` behave the same.
//
// json.patch follows RFC 6902 over Rego values, with OPA's extensions: a path may be an array
// of terms instead of a JSON pointer, and a path segment may address a set member. A failing
// patch makes the call undefined, as in OPA.
import type { BuiltinDef } from './types.js';
import { RObject, RSet, equal, isNumber, keyOf, typeName, type Value } from '../value.js';
import { arr, builtinError, elems, obj, oneOf, smallInt, typeError, typeErrorLabel } from './operands.js';

/** Recursive merge: keys of b win, nested objects present on both sides are merged. */
export function unionObjects(a: RObject, b: RObject): RObject {
  const m = new Map(a.entries);
  for (const [k, [key, bv]] of b.entries) {
    const av = m.get(k)?.[1];
    m.set(k, [key, av instanceof RObject && bv instanceof RObject ? unionObjects(av, bv) : bv]);
  }
  return new RObject(m);
}

function keySet(name: string, v: Value): Set<string> {
  if (v instanceof RObject) return new Set(v.entries.keys());
  if (v instanceof RSet) return new Set(v.items.keys());
  if (Array.isArray(v)) return new Set(v.map(keyOf));
  return typeError(name, 2, oneOf('object', 'set', 'array'), v);
}

function getPath(v: Value, path: Value[]): Value | undefined {
  let cur: Value | undefined = v;
  for (const seg of path) {
    if (cur instanceof RObject) cur = cur.get(seg);
    else if (Array.isArray(cur)) {
      if (!isNumber(seg) || !Number.isInteger(Number(seg))) return undefined;
      cur = cur[Number(seg)];
    } else if (cur instanceof RSet) cur = cur.has(seg) ? seg : undefined;
    else return undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** Whether `sub` is a subset of `sup` in object.subset's sense. */
export function isSubset(sup: Value, sub: Value): boolean {
  if (sup instanceof RObject && sub instanceof RObject) {
    for (const [k, [, sv]] of sub.entries) {
      const pv = sup.entries.get(k)?.[1];
      if (pv === undefined) return false;
      const bothColl = (pv instanceof RObject && sv instanceof RObject) || (pv instanceof RSet && sv instanceof RSet);
      if (bothColl ? !isSubset(pv, sv) : !equal(pv, sv)) return false;
    }
    return true;
  }
  if (sup instanceof RSet && sub instanceof RSet) {
    for (const k of sub.items.keys()) if (!sup.items.has(k)) return false;
    return true;
  }
  if (Array.isArray(sup) && sub instanceof RSet) {
    const have = new Set(sup.map(keyOf));
    for (const k of sub.items.keys()) if (!have.has(k)) return false;
    return true;
  }
  if (Array.isArray(sup) && Array.isArray(sub)) {
    if (sub.length === 0) return true;
    // Contiguous, in-order occurrence.
    for (let i = 0; i + sub.length <= sup.length; i++) {
      let ok = true;
      for (let j = 0; j < sub.length && ok; j++) ok = equal(sup[i + j]!, sub[j]!);
      if (ok) return true;
    }
    return false;
  }
  return equal(sup, sub);
}

// ---- JSON paths shared by json.filter, json.remove and json.patch ----

function unescapePointer(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}

function parsePath(name: string, p: Value): Value[] {
  if (typeof p === 'string') {
    const t = p.replace(/^\/+/, '');
    return t === '' ? [] : t.split('/').map(unescapePointer);
  }
  if (Array.isArray(p)) return p;
  return typeErrorLabel(name, 2, 'set or array of strings or arrays', typeName(p));
}

interface PathTree {
  leaf: boolean;
  children: Map<string, [Value, PathTree]>;
}

function buildTree(paths: Value[][]): PathTree {
  const root: PathTree = { leaf: false, children: new Map() };
  for (const path of paths) {
    let node = root;
    if (path.length === 0) root.leaf = true;
    for (const seg of path) {
      const k = segKey(seg);
      let next = node.children.get(k)?.[1];
      if (!next) {
        next = { leaf: false, children: new Map() };
        node.children.set(k, [seg, next]);
      }
      node = next;
    }
    node.leaf = true;
  }
  return root;
}

// Path segments from JSON pointers are strings; an array index "0" and the number 0 are the same.
function segKey(seg: Value): string {
  if (typeof seg === 'string' && /^(0|[1-9]\d*)$/.test(seg)) return `\u0001#${seg}`;
  return keyOf(seg);
}

function childKey(k: Value): string {
  return segKey(k);
}

function filterValue(v: Value, t: PathTree): Value {
  if (t.leaf) return v;
  if (v instanceof RObject) {
    const m = new Map<string, [Value, Value]>();
    for (const [ck, [k, x]] of v.entries) {
      const sub = t.children.get(childKey(k))?.[1];
      if (sub) m.set(ck, [k, filterValue(x, sub)]);
    }
    return new RObject(m);
  }
  if (Array.isArray(v)) {
    const out: Value[] = [];
    v.forEach((x, i) => {
      const sub = t.children.get(`\u0001#${i}`)?.[1];
      if (sub) out.push(filterValue(x, sub));
    });
    return out;
  }
  if (v instanceof RSet) {
    const out: Value[] = [];
    for (const x of v.sorted()) {
      const sub = t.children.get(childKey(x))?.[1];
      if (sub) out.push(filterValue(x, sub));
    }
    return RSet.from(out);
  }
  return v;
}

function removeValue(v: Value, t: PathTree): Value | undefined {
  if (t.leaf) return undefined;
  if (v instanceof RObject) {
    const m = new Map<string, [Value, Value]>();
    for (const [ck, [k, x]] of v.entries) {
      const sub = t.children.get(childKey(k))?.[1];
      if (!sub) m.set(ck, [k, x]);
      else {
        const r = removeValue(x, sub);
        if (r !== undefined) m.set(ck, [k, r]);
      }
    }
    return new RObject(m);
  }
  if (Array.isArray(v)) {
    const out: Value[] = [];
    v.forEach((x, i) => {
      const sub = t.children.get(`\u0001#${i}`)?.[1];
      if (!sub) out.push(x);
      else {
        const r = removeValue(x, sub);
        if (r !== undefined) out.push(r);
      }
    });
    return out;
  }
  if (v instanceof RSet) {
    const out: Value[] = [];
    for (const x of v.sorted()) {
      const sub = t.children.get(childKey(x))?.[1];
      if (!sub) out.push(x);
      else {
        const r = removeValue(x, sub);
        if (r !== undefined) out.push(r);
      }
    }
    return RSet.from(out);
  }
  return v;
}

function pathList(name: string, v: Value): Value[][] {
  if (!(Array.isArray(v) || v instanceof RSet)) return typeError(name, 2, oneOf('set', 'array'), v);
  return elems(v).map((p) => {
    if (typeof p !== 'string' && !Array.isArray(p)) typeErrorLabel(name, 2, 'set or array of strings or arrays', `${typeName(v)} containing ${typeName(p)}`);
    return parsePath(name, p);
  });
}

// ---- json.patch ----

class PatchFail extends Error {}

function arrayIndex(seg: Value, len: number, forAdd: boolean): number {
  if (forAdd && seg === '-') return len;
  let i: number;
  if (typeof seg === 'string' && /^(0|[1-9]\d*)$/.test(seg)) i = Number(seg);
  else if (isNumber(seg) && Number.isInteger(Number(seg))) i = Number(seg);
  else throw new PatchFail();
  if (i < 0 || i > (forAdd ? len : len - 1)) throw new PatchFail();
  return i;
}

// The value at a patch path; pointer segments like "0" index arrays.
function patchGet(doc: Value, path: Value[]): Value {
  let cur: Value = doc;
  for (const seg of path) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(seg, cur.length, false)]!;
    else if (cur instanceof RObject) {
      const next = cur.get(seg);
      if (next === undefined) throw new PatchFail();
      cur = next;
    } else if (cur instanceof RSet && cur.has(seg)) cur = seg;
    else throw new PatchFail();
  }
  return cur;
}

// Rebuild the document with `fn` applied to the container at `path[0..-1]`.
function updateAt(doc: Value, path: Value[], fn: (container: Value, last: Value) => Value): Value {
  if (path.length === 0) throw new PatchFail();
  const [seg, ...rest] = path as [Value, ...Value[]];
  if (rest.length === 0) return fn(doc, seg);
  if (doc instanceof RObject) {
    const child = doc.get(seg);
    if (child === undefined) throw new PatchFail();
    return doc.with(seg, updateAt(child, rest, fn));
  }
  if (Array.isArray(doc)) {
    const i = arrayIndex(seg, doc.length, false);
    const copy = [...doc];
    copy[i] = updateAt(doc[i]!, rest, fn);
    return copy;
  }
  if (doc instanceof RSet) {
    if (!doc.has(seg)) throw new PatchFail();
    const m = new Map(doc.items);
    m.delete(keyOf(seg));
    const nv = updateAt(seg, rest, fn);
    m.set(keyOf(nv), nv);
    return new RSet(m);
  }
  throw new PatchFail();
}

function patchAdd(doc: Value, path: Value[], value: Value): Value {
  if (path.length === 0) return value;
  return updateAt(doc, path, (c, last) => {
    if (c instanceof RObject) return c.with(last, value);
    if (Array.isArray(c)) {
      const i = arrayIndex(last, c.length, true);
      return [...c.slice(0, i), value, ...c.slice(i)];
    }
    if (c instanceof RSet) {
      if (!equal(last, value)) throw new PatchFail();
      const m = new Map(c.items);
      m.set(keyOf(value), value);
      return new RSet(m);
    }
    throw new PatchFail();
  });
}

function patchRemove(doc: Value, path: Value[]): Value {
  return updateAt(doc, path, (c, last) => {
    if (c instanceof RObject) {
      if (!c.has(last)) throw new PatchFail();
      const m = new Map(c.entries);
      m.delete(keyOf(last));
      return new RObject(m);
    }
    if (Array.isArray(c)) {
      const i = arrayIndex(last, c.length, false);
      return [...c.slice(0, i), ...c.slice(i + 1)];
    }
    if (c instanceof RSet) {
      if (!c.has(last)) throw new PatchFail();
      const m = new Map(c.items);
      m.delete(keyOf(last));
      return new RSet(m);
    }
    throw new PatchFail();
  });
}

/** Apply RFC 6902 operations to a Rego value; undefined when any operation fails. */
export function jsonPatch(doc: Value, patches: Value[]): Value | undefined {
  try {
    let cur = doc;
    for (const p of patches) {
      if (!(p instanceof RObject)) throw new PatchFail();
      const op = p.get('op');
      const pathV = p.get('path');
      if (typeof op !== 'string' || pathV === undefined) throw new PatchFail();
      const path = parsePath('json.patch', pathV);
      const fromV = p.get('from');
      const from = fromV === undefined ? undefined : parsePath('json.patch', fromV);
      const value = p.get('value');
      switch (op) {
        case 'add':
          if (value === undefined) throw new PatchFail();
          cur = patchAdd(cur, path, value);
          break;
        case 'remove':
          cur = patchRemove(cur, path);
          break;
        case 'replace':
          if (value === undefined) throw new PatchFail();
          patchGet(cur, path);
          cur = path.length === 0 ? value : patchAdd(patchRemove(cur, path), path, value);
          break;
        case 'move': {
          if (!from) throw new PatchFail();
          const v = patchGet(cur, from);
          cur = patchAdd(patchRemove(cur, from), path, v);
          break;
        }
        case 'copy': {
          if (!from) throw new PatchFail();
          cur = patchAdd(cur, path, patchGet(cur, from));
          break;
        }
        case 'test':
          if (value === undefined || !equal(patchGet(cur, path), value)) throw new PatchFail();
          break;
        default:
          throw new PatchFail();
      }
    }
    return cur;
  } catch (e) {
    if (e instanceof PatchFail) return undefined;
    throw e;
  }
}

/** All [path, value] pairs of a value in OPA's walk order. */
export function walkPairs(v: Value): Value[] {
  const out: Value[] = [];
  const visit = (x: Value, path: Value[]): void => {
    out.push([path, x]);
    if (x instanceof RObject) for (const [k, c] of x.sorted()) visit(c, [...path, k]);
    else if (Array.isArray(x)) x.forEach((c, i) => visit(c, [...path, i]));
    else if (x instanceof RSet) for (const c of x.sorted()) visit(c, [...path, c]);
  };
  visit(v, []);
  return out;
}

function arrayOfObjects(name: string, args: Value[]): RObject[] {
  const a = arr(name, args, 1);
  return a.map((o) => {
    if (!(o instanceof RObject)) typeErrorLabel(name, 1, 'array of objects', `array containing ${typeName(o)}`);
    return o;
  });
}

/** Object, array and JSON document builtins. */
export const DEFS: BuiltinDef[] = [
  {
    name: 'object.get',
    arity: 3,
    fn: (args) => {
      const o = obj('object.get', args, 1);
      const key = args[1]!;
      const dflt = args[2]!;
      if (Array.isArray(key)) return getPath(o, key) ?? dflt;
      return o.get(key) ?? dflt;
    },
  },
  { name: 'object.keys', arity: 1, fn: (args) => RSet.from(obj('object.keys', args, 1).sorted().map(([k]) => k)) },
  {
    name: 'object.remove',
    arity: 2,
    fn: (args) => {
      const o = obj('object.remove', args, 1);
      const drop = keySet('object.remove', args[1]!);
      return new RObject(new Map([...o.entries].filter(([k]) => !drop.has(k))));
    },
  },
  {
    name: 'object.filter',
    arity: 2,
    fn: (args) => {
      const o = obj('object.filter', args, 1);
      const keep = keySet('object.filter', args[1]!);
      return new RObject(new Map([...o.entries].filter(([k]) => keep.has(k))));
    },
  },
  { name: 'object.union', arity: 2, fn: (args) => unionObjects(obj('object.union', args, 1), obj('object.union', args, 2)) },
  {
    name: 'object.union_n',
    arity: 1,
    fn: (args) => arrayOfObjects('object.union_n', args).reduce((a, b) => unionObjects(a, b), new RObject()),
  },
  {
    name: 'object.subset',
    arity: 2,
    fn: (args) => {
      const [sup, sub] = args as [Value, Value];
      const kinds = oneOf('object', 'array', 'set');
      if (!(sup instanceof RObject || sup instanceof RSet || Array.isArray(sup))) typeError('object.subset', 1, kinds, sup);
      if (!(sub instanceof RObject || sub instanceof RSet || Array.isArray(sub))) typeError('object.subset', 2, kinds, sub);
      const ok =
        (sup instanceof RObject && sub instanceof RObject) ||
        (sup instanceof RSet && sub instanceof RSet) ||
        (Array.isArray(sup) && (Array.isArray(sub) || sub instanceof RSet));
      if (!ok) builtinError('object.subset', 'both arguments must be objects, sets, or arrays (or an array and a set)');
      return isSubset(sup, sub);
    },
  },
  {
    name: 'json.filter',
    arity: 2,
    fn: (args) => filterValue(obj('json.filter', args, 1), buildTree(pathList('json.filter', args[1]!))),
  },
  {
    name: 'json.remove',
    arity: 2,
    fn: (args) => removeValue(obj('json.remove', args, 1), buildTree(pathList('json.remove', args[1]!))) ?? new RObject(),
  },
  {
    name: 'json.patch',
    arity: 2,
    fn: (args) => {
      const patches = args[1]!;
      if (!(Array.isArray(patches) || patches instanceof RSet)) return typeError('json.patch', 2, 'array', patches);
      return jsonPatch(args[0]!, elems(patches));
    },
  },
  {
    name: 'array.concat',
    arity: 2,
    fn: (args) => [...arr('array.concat', args, 1), ...arr('array.concat', args, 2)],
  },
  {
    name: 'array.slice',
    arity: 3,
    fn: (args) => {
      const a = arr('array.slice', args, 1);
      // OPA clamps both bounds into range and yields [] when they cross.
      const lo = Math.max(0, smallInt('array.slice', args, 2));
      const hi = Math.min(a.length, smallInt('array.slice', args, 3));
      return lo >= hi ? [] : a.slice(lo, hi);
    },
  },
  { name: 'array.reverse', arity: 1, fn: (args) => [...arr('array.reverse', args, 1)].reverse() },
  { name: 'walk', arity: 1, fn: ([x]) => walkPairs(x!) },
];
