// Recursive-descent parser for Rego v1 (OPA 1.x default syntax) producing ./ast.ts.
import type { Expr, ExprKind, Import, Loc, Module, Rule, Term, With } from './ast.js';
import { RegoError, tokenize, type Token } from './lexer.js';
import type { Value } from './value.js';

const MAX_NESTING = 500;

const KEYWORDS = new Set(['package', 'import', 'default', 'if', 'else', 'contains', 'some', 'every', 'not', 'with', 'as', 'in']);

const RELATIONS: Record<string, string> = { '==': 'equal', '!=': 'neq', '<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte' };

/** Parse a number literal keeping integers exact (bigint beyond the safe range). */
export function parseNumber(text: string): Value {
  if (/^-?[0-9]+$/.test(text)) {
    const b = BigInt(text);
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : b;
  }
  const n = Number(text);
  if (Number.isInteger(n) && !Number.isSafeInteger(n) && /^-?[0-9]+(\.0*)?$/.test(text)) return BigInt(text.split('.')[0]!);
  return n;
}

class Parser {
  private pos = 0;
  private depth = 0;
  private nesting = 0;
  constructor(
    private readonly toks: Token[],
    private readonly file: string,
    private readonly v0 = false,
  ) {}

  private get tok(): Token {
    return this.toks[this.pos]!;
  }
  private peek(n = 1): Token {
    return this.toks[Math.min(this.pos + n, this.toks.length - 1)]!;
  }
  private loc(t: Token = this.tok): Loc {
    return { file: this.file, line: t.line, col: t.col };
  }
  fail(msg: string, t: Token = this.tok): never {
    throw new RegoError('rego_parse_error', msg, this.file, t.line, t.col);
  }
  private is(text: string): boolean {
    const t = this.tok;
    return (t.kind === 'punct' || t.kind === 'ident') && t.text === text;
  }
  private accept(text: string): boolean {
    if (this.is(text)) {
      this.pos++;
      return true;
    }
    return false;
  }
  private expect(text: string): Token {
    if (!this.is(text)) this.fail(`unexpected ${this.describe()} token: expected ${text}`);
    return this.toks[this.pos++]!;
  }
  private describe(t: Token = this.tok): string {
    return t.kind === 'eof' ? 'eof' : t.kind === 'ident' ? 'ident' : t.kind === 'punct' ? `${t.text}` : t.kind;
  }
  /** Operators on a new line end the expression outside brackets. */
  private stopsHere(): boolean {
    return this.depth === 0 && this.tok.nl;
  }

  module(): Module {
    if (!this.is('package')) this.fail('package expected');
    this.pos++;
    const pkgRef = this.refTerm();
    const pkg = this.groundPath(pkgRef);
    const imports: Import[] = [];
    const rules: Rule[] = [];
    while (this.tok.kind !== 'eof') {
      if (this.is('import')) {
        const l = this.loc();
        this.pos++;
        const path = this.refTerm();
        let alias: string | undefined;
        if (this.accept('as')) {
          if (this.tok.kind !== 'ident') this.fail('alias expected');
          alias = this.toks[this.pos++]!.text;
        }
        imports.push({ path, alias, loc: l });
        continue;
      }
      if (this.is('package')) this.fail('unexpected package keyword');
      rules.push(...this.rule());
    }
    return { file: this.file, pkg, imports, rules };
  }

  private groundPath(t: Term): string[] {
    const out: string[] = [];
    if (t.t === 'var') return [t.name];
    if (t.t !== 'ref' || t.head.t !== 'var') this.fail('invalid path');
    out.push(t.head.name);
    for (const op of t.ops) {
      if (op.t !== 'scalar' || typeof op.v !== 'string') this.fail('invalid path');
      out.push(op.v);
    }
    return out;
  }

  /** A plain reference: ident(.ident | [term])*, for package/import/rule heads/with targets. */
  private refTerm(): Term {
    const t = this.tok;
    if (t.kind !== 'ident' || (KEYWORDS.has(t.text) && t.text !== 'contains')) this.fail(`unexpected ${this.describe()} token`);
    this.pos++;
    const head: Term = { t: 'var', name: t.text, loc: this.loc(t) };
    const ops: Term[] = [];
    for (;;) {
      if (this.is('.') && !this.tok.space) {
        this.pos++;
        const n = this.tok;
        if (n.kind !== 'ident') this.fail('expected ident after .');
        this.pos++;
        ops.push({ t: 'scalar', v: n.text, loc: this.loc(n) });
      } else if (this.is('[') && !this.tok.space) {
        this.pos++;
        this.depth++;
        ops.push(this.term());
        this.depth--;
        this.expect(']');
      } else break;
    }
    return ops.length ? { t: 'ref', head, ops, loc: head.loc } : head;
  }

  private rule(): Rule[] {
    const startTok = this.tok;
    const l = this.loc();
    let isDefault = false;
    if (this.accept('default')) isDefault = true;
    const headRef = this.refTerm();
    const ref = headRef.t === 'ref' ? [headRef.head, ...headRef.ops] : [headRef];
    const name = this.headName(ref);
    let args: Term[] | undefined;
    if (this.is('(') && !this.tok.space) {
      this.pos++;
      this.depth++;
      args = [];
      if (!this.is(')')) {
        do args.push(this.term());
        while (this.accept(','));
      }
      this.depth--;
      this.expect(')');
    }
    const trueTerm = (): Term => ({ t: 'scalar', v: true, loc: l });
    let kind: Rule['kind'] = args ? 'func' : 'complete';
    let value: Term | undefined;
    if (isDefault) {
      if (!this.accept(':=') && !this.accept('=')) this.fail('default rules must have a value');
      value = this.term();
      return [{ kind, ref, value, args, body: [], isDefault, elses: [], loc: l, name }];
    }
    if (this.is('contains') && !args) {
      this.pos++;
      kind = 'set';
      value = this.term();
    } else if (this.accept(':=') || this.accept('=')) {
      value = this.term();
    }
    let body: Expr[] = [];
    let hasBody = false;
    if (this.accept('if')) {
      body = this.ruleBody();
      hasBody = true;
    } else if (this.is('{') && !this.tok.nl) {
      if (!this.v0) this.fail('`if` keyword is required before rule body');
      // Pre-v1: `p[x] { ... }` is a partial set.
      if (kind === 'complete' && value === undefined && ref.length === 2 && ref[1]!.t !== 'scalar') {
        kind = 'set';
        value = ref[1];
        ref.pop();
      }
      body = this.braceBody();
      hasBody = true;
    }
    if (!hasBody && value === undefined && kind !== 'set') {
      if (ref.length === 1 && !args) this.fail(`rule ${name} has no value or body`, startTok);
    }
    const rule: Rule = { kind, ref, value: value ?? trueTerm(), args, body, isDefault, elses: [], loc: l, name };
    while (this.is('else')) {
      const el = this.loc();
      this.pos++;
      let ev: Term = trueTerm();
      if (this.accept(':=') || this.accept('=')) ev = this.term();
      let eb: Expr[] = [];
      if (this.accept('if')) eb = this.ruleBody();
      else if (this.is('{')) {
        if (!this.v0) this.fail('`if` keyword is required before rule body');
        eb = this.braceBody();
      }
      rule.elses.push({ value: ev, body: eb, loc: el });
    }
    return [rule];
  }

  private headName(ref: Term[]): string {
    const parts: string[] = [];
    for (const r of ref) {
      if (r.t === 'var') parts.push(r.name);
      else if (r.t === 'scalar' && typeof r.v === 'string') parts.push(r.v);
      else break;
    }
    return parts.join('.');
  }

  private ruleBody(): Expr[] {
    if (this.is('{')) {
      // `if {x: 1 | ...}` is a comprehension term rather than a braced body.
      const save = this.pos;
      const nest = this.nesting;
      try {
        return this.braceBody();
      } catch (first) {
        this.pos = save;
        this.nesting = nest;
        try {
          const saved = this.depth;
          this.depth = 0;
          const e = this.expr();
          this.depth = saved;
          return [e];
        } catch {
          throw first;
        }
      }
    }
    const saved = this.depth;
    this.depth = 0;
    const e = this.expr();
    this.depth = saved;
    return [e];
  }

  private braceBody(): Expr[] {
    this.expect('{');
    const saved = this.depth;
    this.depth = 0;
    const out = this.exprList('}');
    this.depth = saved;
    this.expect('}');
    if (out.length === 0) this.fail('found empty body');
    return out;
  }

  /** Expressions separated by `;` or newlines, up to (not including) `end`. */
  private exprList(end: string): Expr[] {
    const out: Expr[] = [];
    while (!this.is(end)) {
      if (this.tok.kind === 'eof') this.fail(`unexpected eof token: expected ${end}`);
      if (out.length && !this.tok.nl && !this.accept(';')) this.fail(`unexpected ${this.describe()} token`);
      if (this.is(end)) break;
      out.push(this.expr());
      while (this.accept(';')) {
        if (this.is(end)) break;
        out.push(this.expr());
      }
    }
    return out;
  }

  expr(): Expr {
    const l = this.loc();
    this.guard();
    let negated = false;
    if (this.accept('not')) negated = true;
    let kind: ExprKind;
    if (this.is('some')) {
      this.pos++;
      const terms: Term[] = [this.term(true)];
      while (this.accept(',')) terms.push(this.term(true));
      if (this.accept('in')) {
        if (terms.length > 2) this.fail('unexpected , token');
        const coll = this.term(true);
        kind = terms.length === 2 ? { e: 'somein', key: terms[0], value: terms[1]!, coll } : { e: 'somein', value: terms[0]!, coll };
      } else {
        const vars = terms.map((t) => (t.t === 'var' ? t.name : this.fail('expected var in some declaration')));
        kind = { e: 'some', vars };
      }
    } else if (this.is('every')) {
      this.pos++;
      const a = this.term(true);
      let key: Term | undefined;
      let value = a;
      if (this.accept(',')) {
        key = a;
        value = this.term(true);
      }
      this.expect('in');
      const coll = this.term(true);
      const body = this.braceBody();
      kind = { e: 'every', key, value, coll, body };
    } else {
      const a = this.keyInTerm();
      if (!this.stopsHere() && (this.is(':=') || this.is('='))) {
        const op = this.toks[this.pos++]!.text;
        const b = this.term();
        kind = op === ':=' ? { e: 'assign', a, b } : { e: 'unify', a, b };
      } else kind = { e: 'term', term: a };
    }
    const withs: With[] = [];
    while (this.is('with')) {
      this.pos++;
      const target = this.refTerm();
      this.expect('as');
      const value = this.term();
      withs.push({ target, value });
    }
    this.nesting--;
    return { ...kind, negated, withs, loc: l } as Expr;
  }

  private guard(): void {
    if (++this.nesting > MAX_NESTING) this.fail('nesting too deep');
  }

  /** A full term including `in` (unless noIn) and all infix operators. */
  term(noIn = false, noOr = false): Term {
    this.guard();
    let left = this.orTerm(noOr);
    if (!noIn) {
      while (this.is('in') && !this.stopsHere()) {
        const l = this.loc();
        this.pos++;
        const right = this.orTerm(noOr);
        left = this.mkCall('internal.member_2', [left, right], l);
      }
    }
    this.nesting--;
    return left;
  }

  /** `k, v in coll` (three-operand membership) where a comma cannot mean anything else. */
  private keyInTerm(): Term {
    const a = this.term();
    if (!this.is(',')) return a;
    const save = this.pos;
    this.pos++;
    const v = this.orTerm(false);
    if (!this.is('in')) {
      this.pos = save;
      return a;
    }
    const l = this.loc();
    this.pos++;
    let t = this.mkCall('internal.member_3', [a, v, this.orTerm(false)], l);
    while (this.is('in') && !this.stopsHere()) {
      const l2 = this.loc();
      this.pos++;
      t = this.mkCall('internal.member_2', [t, this.orTerm(false)], l2);
    }
    return t;
  }

  private mkCall(name: string, args: Term[], loc: Loc): Term {
    return { t: 'call', name, nameRef: { t: 'var', name, loc }, args, loc };
  }

  private orTerm(noOr: boolean): Term {
    let left = this.andTerm();
    while (!noOr && this.is('|') && !this.stopsHere()) {
      const l = this.loc();
      this.pos++;
      left = this.mkCall('or', [left, this.andTerm()], l);
    }
    return left;
  }
  private andTerm(): Term {
    let left = this.relTerm();
    while (this.is('&') && !this.stopsHere()) {
      const l = this.loc();
      this.pos++;
      left = this.mkCall('and', [left, this.relTerm()], l);
    }
    return left;
  }
  private relTerm(): Term {
    let left = this.addTerm();
    while (this.tok.kind === 'punct' && RELATIONS[this.tok.text] && !this.stopsHere()) {
      const l = this.loc();
      const op = RELATIONS[this.toks[this.pos++]!.text]!;
      left = this.mkCall(op, [left, this.addTerm()], l);
    }
    return left;
  }
  private addTerm(): Term {
    let left = this.mulTerm();
    while ((this.is('+') || this.is('-')) && !this.stopsHere()) {
      const l = this.loc();
      const op = this.toks[this.pos++]!.text === '+' ? 'plus' : 'minus';
      left = this.mkCall(op, [left, this.mulTerm()], l);
    }
    return left;
  }
  private mulTerm(): Term {
    let left = this.unary();
    while ((this.is('*') || this.is('/') || this.is('%')) && !this.stopsHere()) {
      const l = this.loc();
      const t = this.toks[this.pos++]!.text;
      left = this.mkCall(t === '*' ? 'mul' : t === '/' ? 'div' : 'rem', [left, this.unary()], l);
    }
    return left;
  }
  private unary(): Term {
    if (this.is('-')) {
      const l = this.loc();
      this.pos++;
      if (this.tok.kind === 'number' && !this.tok.space) {
        const n = this.toks[this.pos++]!;
        return this.suffixes({ t: 'scalar', v: parseNumber('-' + n.text), loc: l });
      }
      const operand = this.unary();
      if (operand.t === 'scalar' && (typeof operand.v === 'number' || typeof operand.v === 'bigint')) return { ...operand, v: -operand.v as Value };
      return this.mkCall('minus', [{ t: 'scalar', v: 0, loc: l }, operand], l);
    }
    return this.primary();
  }

  private primary(): Term {
    const t = this.tok;
    const l = this.loc();
    switch (t.kind) {
      case 'number':
        this.pos++;
        return this.suffixes({ t: 'scalar', v: parseNumber(t.text), loc: l });
      case 'string':
        this.pos++;
        return this.suffixes({ t: 'scalar', v: t.value!, loc: l });
      case 'ident': {
        if (t.text === 'true' || t.text === 'false' || t.text === 'null') {
          this.pos++;
          return { t: 'scalar', v: t.text === 'null' ? null : t.text === 'true', loc: l };
        }
        if (KEYWORDS.has(t.text) && t.text !== 'contains') this.fail(`unexpected ${t.text} keyword`);
        this.pos++;
        if (t.text === 'set' && this.is('(') && !this.tok.space && this.peek().text === ')') {
          this.pos += 2;
          return { t: 'set', items: [], loc: l };
        }
        return this.suffixes({ t: 'var', name: t.text, loc: l });
      }
      case 'punct':
        if (t.text === '(') {
          this.pos++;
          this.depth++;
          const inner = this.keyInTerm();
          this.depth--;
          this.expect(')');
          return this.suffixes(inner);
        }
        if (t.text === '[') return this.suffixes(this.arrayLike());
        if (t.text === '{') return this.suffixes(this.braceLike());
        break;
    }
    return this.fail(`unexpected ${this.describe()} token`);
  }

  private compBody(end: string): Expr[] {
    const saved = this.depth;
    this.depth = 0;
    const body = this.exprList(end);
    this.depth = saved;
    if (body.length === 0) this.fail('found empty body');
    return body;
  }

  private arrayLike(): Term {
    const l = this.loc();
    this.expect('[');
    this.depth++;
    if (this.accept(']')) {
      this.depth--;
      return { t: 'array', items: [], loc: l };
    }
    const first = this.term(false, true);
    if (this.accept('|')) {
      const body = this.compBody(']');
      this.depth--;
      this.expect(']');
      return { t: 'arraycomp', term: first, body, loc: l };
    }
    const items = [first];
    while (this.accept(',')) {
      if (this.is(']')) break;
      items.push(this.term());
    }
    this.depth--;
    this.expect(']');
    return { t: 'array', items, loc: l };
  }

  private braceLike(): Term {
    const l = this.loc();
    this.expect('{');
    this.depth++;
    if (this.accept('}')) {
      this.depth--;
      return { t: 'object', pairs: [], loc: l };
    }
    const first = this.term(false, true);
    if (this.accept(':')) {
      const v = this.term(false, true);
      if (this.accept('|')) {
        const body = this.compBody('}');
        this.depth--;
        this.expect('}');
        return { t: 'objcomp', key: first, value: v, body, loc: l };
      }
      const pairs: [Term, Term][] = [[first, v]];
      while (this.accept(',')) {
        if (this.is('}')) break;
        const k = this.term();
        this.expect(':');
        pairs.push([k, this.term()]);
      }
      this.depth--;
      this.expect('}');
      return { t: 'object', pairs, loc: l };
    }
    if (this.accept('|')) {
      const body = this.compBody('}');
      this.depth--;
      this.expect('}');
      return { t: 'setcomp', term: first, body, loc: l };
    }
    const items = [first];
    while (this.accept(',')) {
      if (this.is('}')) break;
      items.push(this.term());
    }
    this.depth--;
    this.expect('}');
    return { t: 'set', items, loc: l };
  }

  /** Reference operands and calls directly following a term. */
  private suffixes(base: Term): Term {
    let cur = base;
    for (;;) {
      if (this.is('.') && !this.tok.space) {
        this.pos++;
        const n = this.tok;
        if (n.kind !== 'ident') this.fail('expected ident after .');
        this.pos++;
        cur = this.addOp(cur, { t: 'scalar', v: n.text, loc: this.loc(n) });
      } else if (this.is('[') && !this.tok.space) {
        this.pos++;
        this.depth++;
        const op = this.term();
        this.depth--;
        this.expect(']');
        cur = this.addOp(cur, op);
      } else if (this.is('(') && !this.tok.space) {
        const name = this.callName(cur);
        this.pos++;
        this.depth++;
        const args: Term[] = [];
        if (!this.is(')')) {
          do {
            if (this.is(')')) break;
            args.push(this.term());
          } while (this.accept(','));
        }
        this.depth--;
        this.expect(')');
        cur = { t: 'call', name, nameRef: cur, args, loc: cur.loc };
      } else return cur;
    }
  }

  private addOp(cur: Term, op: Term): Term {
    if (cur.t === 'ref') return { ...cur, ops: [...cur.ops, op] };
    return { t: 'ref', head: cur, ops: [op], loc: cur.loc };
  }

  private callName(t: Term): string {
    if (t.t === 'var') return t.name;
    if (t.t === 'ref' && t.head.t === 'var') {
      const parts = [t.head.name];
      for (const op of t.ops) {
        if (op.t !== 'scalar' || typeof op.v !== 'string') this.fail('invalid function name');
        parts.push(op.v);
      }
      return parts.join('.');
    }
    return this.fail('invalid function name');
  }

  /** Query expressions up to the end of input, separated by `;` or newlines. */
  queryBody(): Expr[] {
    const out: Expr[] = [];
    while (this.tok.kind !== 'eof') {
      if (out.length && !this.tok.nl && !this.accept(';')) this.fail(`unexpected ${this.describe()} token`);
      if (this.atEnd()) break;
      out.push(this.expr());
    }
    return out;
  }
  atEnd(): boolean {
    return this.tok.kind === 'eof';
  }
}

/** Parse one Rego module (v1; `v0` also accepts pre-v1 rule bodies); errors carry file:line:column. */
export function parseModule(source: string, file = 'module.rego', opts: { v0?: boolean } = {}): Module {
  return new Parser(tokenize(source, file), file, opts.v0 ?? false).module();
}

/** Parse a query: expressions separated by `;` or newlines. */
export function parseQuery(source: string, file = 'query'): Expr[] {
  const p = new Parser(tokenize(source, file), file);
  const out = p.queryBody();
  if (out.length === 0) p.fail('empty query');
  return out;
}

/** Parse a single Rego term (used for `input_term`). */
export function parseTerm(source: string, file = 'term'): Term {
  const p = new Parser(tokenize(source, file), file);
  const t = p.term();
  if (!p.atEnd()) p.fail('unexpected trailing tokens');
  return t;
}
