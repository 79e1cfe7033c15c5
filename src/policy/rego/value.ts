// Rego values in JS, shared by the evaluator and the builtins.
//
// Hand-written because no npm package models Rego's value space: objects whose keys may be
// any value, sets, and OPA's total order over all types (null < boolean < number < string <
// array < object < set), which decides iteration and output order.
//
// Representation:
// - null, boolean, string: themselves;
// - number: a JS number, or a bigint for an integer outside the safe range (OPA keeps big
//   integers exact); `1`, `1.0` and `1n` are the same value;
// - array: a frozen-by-convention JS array of values;
// - object: RObject, a map from canonical key to [key, value];
// - set: RSet, a map from canonical key to value.
// Values are immutable once built: builders create new ones.

export type RNumber = number | bigint;
export type Value = null | boolean | RNumber | string | Value[] | RObject | RSet;

/** Type names as Rego's type_name() returns them. */
export type TypeName = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object' | 'set';

export class RObject {
  /** canonical key -> [key, value], in insertion order. */
  readonly entries: Map<string, [Value, Value]>;
  private sortedCache: [Value, Value][] | undefined;
  private keyCache: string | undefined;

  constructor(entries?: Map<string, [Value, Value]>) {
    this.entries = entries ?? new Map();
  }

  /** Build from [key, value] pairs; a later duplicate key replaces an earlier one. */
  static from(pairs: Iterable<[Value, Value]>): RObject {
    const m = new Map<string, [Value, Value]>();
    for (const [k, v] of pairs) m.set(keyOf(k), [k, v]);
    return new RObject(m);
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: Value): Value | undefined {
    return this.entries.get(keyOf(key))?.[1];
  }

  has(key: Value): boolean {
    return this.entries.has(keyOf(key));
  }

  /** A new object with `key` set to `value`. */
  with(key: Value, value: Value): RObject {
    const m = new Map(this.entries);
    m.set(keyOf(key), [key, value]);
    return new RObject(m);
  }

  /** Entries sorted by key in Rego order (cached). */
  sorted(): [Value, Value][] {
    if (!this.sortedCache) this.sortedCache = [...this.entries.values()].sort((a, b) => compare(a[0], b[0]));
    return this.sortedCache;
  }

  /**
   * The canonical key of the whole object (cached). Members are put in the order of their key
   * texts, not Rego's order: any fixed order makes equal objects equal keys, and this one needs
   * no value comparisons (objects built per evaluation, e.g. policy findings, are keyed once).
   */
  canonical(): string {
    if (this.keyCache === undefined) {
      const parts: string[] = [];
      for (const [k, v] of this.entries.values()) parts.push(`${innerKey(k)}:${innerKey(v)}`);
      this.keyCache = `\u0001{${parts.sort().join(',')}}`;
    }
    return this.keyCache;
  }
}

export class RSet {
  /** canonical key -> element, in insertion order. */
  readonly items: Map<string, Value>;
  private sortedCache: Value[] | undefined;
  private keyCache: string | undefined;

  constructor(items?: Map<string, Value>) {
    this.items = items ?? new Map();
  }

  static from(values: Iterable<Value>): RSet {
    const m = new Map<string, Value>();
    for (const v of values) m.set(keyOf(v), v);
    return new RSet(m);
  }

  get size(): number {
    return this.items.size;
  }

  has(v: Value): boolean {
    return this.items.has(keyOf(v));
  }

  /** Elements sorted in Rego order (cached). */
  sorted(): Value[] {
    if (!this.sortedCache) this.sortedCache = [...this.items.values()].sort(compare);
    return this.sortedCache;
  }

  /** The canonical key of the whole set (cached; members in the order of their key texts). */
  canonical(): string {
    if (this.keyCache === undefined) {
      const parts: string[] = [];
      for (const v of this.items.values()) parts.push(innerKey(v));
      this.keyCache = `\u0001<${parts.sort().join(',')}>`;
    }
    return this.keyCache;
  }
}

/** The Rego type name of a value. */
export function typeName(v: Value): TypeName {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return 'boolean';
    case 'number':
    case 'bigint':
      return 'number';
    case 'string':
      return 'string';
  }
  if (Array.isArray(v)) return 'array';
  return v instanceof RObject ? 'object' : 'set';
}

const TYPE_RANK: Record<TypeName, number> = { null: 0, boolean: 1, number: 2, string: 3, array: 4, object: 5, set: 6 };

/** True for Rego numbers (JS number or bigint). */
export function isNumber(v: Value): v is RNumber {
  return typeof v === 'number' || typeof v === 'bigint';
}

/** The decimal text of a number, the same for 1, 1.0 and 1n. */
export function numberKey(n: RNumber): string {
  if (typeof n === 'bigint') return n.toString();
  if (Number.isInteger(n) && !Number.isSafeInteger(n) && Number.isFinite(n)) return BigInt(n).toString();
  return Object.is(n, -0) ? '0' : String(n);
}

/** Compare two numbers exactly, also across number and bigint. */
export function compareNumbers(a: RNumber, b: RNumber): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  // One side is a bigint: compare exactly when the other is integral, else via floats.
  const ai = typeof a === 'bigint' ? a : Number.isInteger(a) ? BigInt(a) : undefined;
  const bi = typeof b === 'bigint' ? b : Number.isInteger(b) ? BigInt(b) : undefined;
  if (ai !== undefined && bi !== undefined) return ai < bi ? -1 : ai > bi ? 1 : 0;
  const af = Number(a);
  const bf = Number(b);
  return af < bf ? -1 : af > bf ? 1 : 0;
}

/** OPA's total order over values. */
export function compare(a: Value, b: Value): number {
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  const ta = typeName(a);
  const tb = typeName(b);
  if (ta !== tb) return TYPE_RANK[ta] - TYPE_RANK[tb];
  switch (ta) {
    case 'null':
      return 0;
    case 'boolean':
      return a === b ? 0 : a ? 1 : -1;
    case 'number':
      return compareNumbers(a as RNumber, b as RNumber);
    case 'string':
      return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
    case 'array': {
      const x = a as Value[];
      const y = b as Value[];
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = compare(x[i]!, y[i]!);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
    case 'object': {
      const x = (a as RObject).sorted();
      const y = (b as RObject).sorted();
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const ck = compare(x[i]![0], y[i]![0]);
        if (ck !== 0) return ck;
        const cv = compare(x[i]![1], y[i]![1]);
        if (cv !== 0) return cv;
      }
      return x.length - y.length;
    }
    case 'set': {
      const x = (a as RSet).sorted();
      const y = (b as RSet).sorted();
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = compare(x[i]!, y[i]!);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
  }
}

/**
 * A string that is equal for equal values and different otherwise: the hashing key.
 * A string is its own key (no allocation on the hottest path, every object lookup by a string
 * key) unless it starts with \u0001, which begins the key of every other value. Keys are
 * opaque and not safe to concatenate: to combine several, join their innerKey()s.
 */
export function keyOf(v: Value): string {
  if (typeof v === 'string') return v.length === 0 || v.charCodeAt(0) !== 1 ? v : `\u0001s${v.length}:${v}`;
  return innerKey(v);
}

/** An unambiguous key that can be embedded in composite keys (length-prefixed strings). */
export function innerKey(v: Value): string {
  if (v === null) return '\u0001n';
  switch (typeof v) {
    case 'boolean':
      return v ? '\u0001t' : '\u0001f';
    case 'number':
    case 'bigint':
      return `\u0001#${numberKey(v)}`;
    case 'string':
      return `s${v.length}:${v}`;
  }
  if (Array.isArray(v)) return `\u0001[${v.map(innerKey).join(',')}]`;
  return (v as RObject | RSet).canonical();
}

/** Value equality (1 == 1.0 == 1n; objects and sets by content). */
export function equal(a: Value, b: Value): boolean {
  if (a === b) return true;
  const ta = typeName(a);
  if (ta !== typeName(b)) return false;
  if (ta === 'number') return compareNumbers(a as RNumber, b as RNumber) === 0;
  if (ta === 'string' || ta === 'boolean' || ta === 'null') return false;
  return keyOf(a) === keyOf(b);
}

/** Convert parsed JSON (or YAML) into a Rego value; bigints stay exact. */
export function fromJS(x: unknown): Value {
  if (x === null || x === undefined) return null;
  switch (typeof x) {
    case 'boolean':
    case 'string':
      return x;
    case 'number':
      return x;
    case 'bigint':
      return Number.isSafeInteger(Number(x)) ? Number(x) : x;
  }
  if (Array.isArray(x)) return x.map(fromJS);
  if (x instanceof RObject || x instanceof RSet) return x;
  if (x instanceof Set) return RSet.from([...x].map(fromJS));
  if (x instanceof Map) return RObject.from([...x].map(([k, v]) => [fromJS(k), fromJS(v)] as [Value, Value]));
  // Plain objects: string keys are their own hash keys (see keyOf), so fill the map directly.
  const m = new Map<string, [Value, Value]>();
  const o = x as Record<string, unknown>;
  for (const k in o) {
    if (!Object.prototype.hasOwnProperty.call(o, k)) continue;
    m.set(keyOf(k), [k, fromJS(o[k])]);
  }
  return new RObject(m);
}

/**
 * Convert a value to plain JSON data: sets become sorted arrays, object keys are sorted and a
 * non-string key becomes its JSON text (as OPA prints it); bigints become numbers only when
 * exact, otherwise `bigint` is kept for the caller's serializer (see toJSONText).
 */
export function toJS(v: Value): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(toJS);
  if (v instanceof RSet) return v.sorted().map(toJS);
  const out: Record<string, unknown> = {};
  for (const [k, val] of v.sorted()) out[typeof k === 'string' ? k : toJSONText(k)] = toJS(val);
  return out;
}

/** JSON text of a value (sorted keys, sets as arrays, big integers exact). */
export function toJSONText(v: Value): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      return Number.isFinite(v) ? numberKey(v) : 'null';
    case 'bigint':
      return v.toString();
    case 'string':
      return JSON.stringify(v);
  }
  if (Array.isArray(v)) return `[${v.map(toJSONText).join(',')}]`;
  if (v instanceof RSet) return `[${v.sorted().map(toJSONText).join(',')}]`;
  return `{${v
    .sorted()
    .map(([k, val]) => `${JSON.stringify(typeof k === 'string' ? k : toJSONText(k))}:${toJSONText(val)}`)
    .join(',')}}`;
}

/** Truthiness in Rego: only `false` fails an expression; every other defined value holds. */
export function isFalse(v: Value): boolean {
  return v === false;
}
