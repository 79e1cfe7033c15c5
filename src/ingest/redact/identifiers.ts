// One pass over a value finds every tenant identifier in it: an Aho–Corasick automaton over all
// identifiers of all tenants, compiled into a dense DFA (one table lookup per character, case
// folding baked into the character-class table). Hand-written because a regex alternation of
// a few hundred literals reports one match per position and backtracks through the rest, and
// a general Aho–Corasick package would still need case folding, token boundaries and the
// longest-per-end rule layered on top; the typed-array DFA is small and allocation-free.
//
// Matching rules: case-insensitive (simple per-code-unit lower-casing); an identifier matches
// only as a whole token — the characters just outside it must be non-alphanumeric or the
// string edge (letters and digits of any script count as alphanumeric), checked only on the
// sides where the identifier itself starts/ends with an alphanumeric character. Of overlapping
// matches ending at one place the longest is reported; the redactor then drops another tenant's
// hit that lies inside one of the tenant's own, so a tenant's own "acme-dist.example.com"
// shields an "example.com" another tenant might have registered.

import type { Registry } from '../../config/types.js';

/** One identifier occurrence: `[start, end)` and the tenant the identifier names. */
export interface IdentifierHit {
  start: number;
  end: number;
  owner: string;
}

const WORDISH = /[\p{L}\p{N}]/u;

/** A compiled matcher over a fixed set of (identifier, owner) pairs. */
export class IdentifierMatcher {
  /** Code unit -> alphabet class (0 = in no identifier); folds case. */
  readonly #cls: Uint16Array;
  readonly #width: number;
  /** delta[state + cls] = next state, states stored pre-multiplied by `#width`. */
  readonly #delta: Int32Array;
  /** Per state number: the pattern ending exactly here, or -1. */
  readonly #match: Int32Array;
  /** Per state: nearest proper suffix state with a pattern, or -1. */
  readonly #dict: Int32Array;
  /** Pre-multiplied number of the first state with output. */
  readonly #firstOut: number;
  readonly #len: Int32Array;
  readonly #owner: string[];
  readonly #needStart: Uint8Array;
  readonly #needEnd: Uint8Array;
  readonly #size: number;

  /** Compile the pairs; identifiers compare case-insensitively and a duplicate keeps its first owner. */
  constructor(entries: Iterable<{ identifier: string; owner: string }>) {
    const pats: string[] = [];
    const owners: string[] = [];
    const seen = new Set<string>();
    for (const { identifier, owner } of entries) {
      const p = identifier.toLowerCase();
      if (p.length === 0 || seen.has(p)) continue;
      seen.add(p);
      pats.push(p);
      owners.push(owner);
    }
    this.#size = pats.length;
    this.#owner = owners;
    this.#len = Int32Array.from(pats, (p) => p.length);
    this.#needStart = Uint8Array.from(pats, (p) => (isWordAt(p, 0) ? 1 : 0));
    this.#needEnd = Uint8Array.from(pats, (p) => (isWordAt(p, p.length - 1) ? 1 : 0));

    const alpha = new Map<number, number>();
    for (const p of pats) for (let i = 0; i < p.length; i++) if (!alpha.has(p.charCodeAt(i))) alpha.set(p.charCodeAt(i), alpha.size + 1);
    const width = alpha.size + 1;
    this.#width = width;
    const cls = new Uint16Array(65536);
    if (alpha.size > 0) {
      for (let c = 0; c < 65536; c++) {
        const a = alpha.get(foldUnit(c));
        if (a !== undefined) cls[c] = a;
      }
    }
    this.#cls = cls;

    // Trie, then BFS for failure links, filling the full transition table as we go.
    const trie: Map<number, number>[] = [new Map()];
    const match: number[] = [-1];
    pats.forEach((p, idx) => {
      let s = 0;
      for (let i = 0; i < p.length; i++) {
        const a = alpha.get(p.charCodeAt(i))!;
        let n = trie[s]!.get(a);
        if (n === undefined) {
          n = trie.length;
          trie.push(new Map());
          match.push(-1);
          trie[s]!.set(a, n);
        }
        s = n;
      }
      match[s] = idx;
    });
    const states = trie.length;
    const delta = new Int32Array(states * width);
    const fail = new Int32Array(states);
    const dict = new Int32Array(states).fill(-1);
    const queue: number[] = [];
    for (const [a, n] of trie[0]!) {
      delta[a] = n * width;
      queue.push(n);
    }
    for (let q = 0; q < queue.length; q++) {
      const s = queue[q]!;
      const f = fail[s]!;
      dict[s] = match[f]! >= 0 ? f : dict[f]!;
      for (let a = 1; a < width; a++) {
        const n = trie[s]!.get(a);
        if (n === undefined) {
          delta[s * width + a] = delta[f * width + a]!;
        } else {
          fail[n] = s === 0 ? 0 : delta[f * width + a]! / width;
          delta[s * width + a] = n * width;
          queue.push(n);
        }
      }
    }
    // Renumber states so that those with output come last: the scan loop then tells "nothing
    // ends here" by one comparison against #firstOut.
    const has = (st: number) => match[st]! >= 0 || dict[st]! >= 0;
    const order: number[] = [];
    for (let st = 0; st < states; st++) if (!has(st)) order.push(st);
    const firstOut = order.length;
    for (let st = 0; st < states; st++) if (has(st)) order.push(st);
    const renum = new Int32Array(states);
    order.forEach((old, neu) => (renum[old] = neu));
    const d2 = new Int32Array(states * width);
    const m2 = new Int32Array(states);
    const dict2 = new Int32Array(states);
    for (let neu = 0; neu < states; neu++) {
      const old = order[neu]!;
      for (let a = 0; a < width; a++) d2[neu * width + a] = renum[delta[old * width + a]! / width]! * width;
      m2[neu] = match[old]!;
      dict2[neu] = dict[old]! >= 0 ? renum[dict[old]!]! : -1;
    }
    this.#delta = d2;
    this.#match = m2;
    this.#dict = dict2;
    this.#firstOut = firstOut * width;
  }

  /** A matcher over every identifier of every tenant in the registry (cached per registry). */
  static forRegistry(registry: Registry): IdentifierMatcher {
    let m = CACHE.get(registry);
    if (m === undefined) {
      const entries: { identifier: string; owner: string }[] = [];
      for (const t of registry.tenants()) for (const identifier of registry.identifiersOf(t.id)) entries.push({ identifier, owner: t.id });
      m = new IdentifierMatcher(entries);
      CACHE.set(registry, m);
    }
    return m;
  }

  /** Number of distinct identifiers. */
  get size(): number {
    return this.#size;
  }

  /** Whether any identifier occurs in `text` at all, boundaries ignored (a cheap superset test). */
  mayOccur(text: string): boolean {
    if (this.#size === 0) return false;
    const cls = this.#cls;
    const delta = this.#delta;
    const firstOut = this.#firstOut;
    let s = 0;
    for (let i = 0; i < text.length; i++) {
      s = delta[s + cls[text.charCodeAt(i)]!]!;
      if (s >= firstOut) return true;
    }
    return false;
  }

  /**
   * Whole-token identifier occurrences in `text`, in order of their end: for every position
   * where some identifier ends on a token boundary, the longest such identifier. Shorter ones
   * ending at the same place lie inside it, so this covers every occurrence with at most one
   * hit per character, however many identifiers overlap.
   */
  find(text: string): IdentifierHit[] {
    const n = text.length;
    if (this.#size === 0 || n === 0) return NO_HITS;
    const cls = this.#cls;
    const delta = this.#delta;
    const firstOut = this.#firstOut;
    let out: IdentifierHit[] | undefined;
    let s = 0;
    for (let i = 0; i < n; i++) {
      s = delta[s + cls[text.charCodeAt(i)]!]!;
      if (s < firstOut) continue;
      const st = s / this.#width;
      // All patterns ending here end in the same character: if it and the next one are both
      // alphanumeric, none of them can end on a token boundary.
      const endWord = i + 1 < n && isWordAt(text, i + 1);
      if (endWord && isWordAt(text, i)) continue;
      // The dictionary chain runs from the longest pattern ending here to the shortest.
      for (let t = this.#match[st]! >= 0 ? st : this.#dict[st]!; t >= 0; t = this.#dict[t]!) {
        const p = this.#match[t]!;
        const start = i + 1 - this.#len[p]!;
        if (endWord && this.#needEnd[p] === 1) continue;
        if (this.#needStart[p] === 1 && start > 0 && isWordAt(text, start - 1)) continue;
        (out ??= []).push({ start, end: i + 1, owner: this.#owner[p]! });
        break;
      }
    }
    return out ?? NO_HITS;
  }
}

const NO_HITS: IdentifierHit[] = [];
const CACHE = new WeakMap<Registry, IdentifierMatcher>();

function foldUnit(c: number): number {
  if (c < 128) return c >= 65 && c <= 90 ? c + 32 : c;
  const lo = String.fromCharCode(c).toLowerCase();
  return lo.length === 1 ? lo.charCodeAt(0) : c;
}

const WORD_ASCII = new Uint8Array(128);
for (let c = 0; c < 128; c++) WORD_ASCII[c] = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) ? 1 : 0;

/** Whether the character at `i` is a letter or digit (any script); the token-boundary test. */
export function isWordAt(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c < 128) return WORD_ASCII[c] === 1;
  const cp = text.codePointAt(i)!;
  // A low surrogate is judged by its pair's code point.
  if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
    const hi = text.codePointAt(i - 1)!;
    if (hi > 0xffff) return WORDISH.test(String.fromCodePoint(hi));
  }
  return WORDISH.test(String.fromCodePoint(cp));
}
