// Abstract syntax of Rego v1 modules and queries, as produced by the parser.
import type { Value } from './value.js';

export interface Loc {
  file: string;
  line: number;
  col: number;
}

export type Term =
  | { t: 'scalar'; v: Value; loc: Loc }
  | { t: 'var'; name: string; loc: Loc }
  | { t: 'ref'; head: Term; ops: Term[]; loc: Loc }
  | { t: 'array'; items: Term[]; loc: Loc }
  | { t: 'set'; items: Term[]; loc: Loc }
  | { t: 'object'; pairs: [Term, Term][]; loc: Loc }
  | { t: 'arraycomp'; term: Term; body: Expr[]; loc: Loc }
  | { t: 'setcomp'; term: Term; body: Expr[]; loc: Loc }
  | { t: 'objcomp'; key: Term; value: Term; body: Expr[]; loc: Loc }
  /** A call; `name` is the dotted operator name (infix operators use OPA's builtin names). */
  | { t: 'call'; name: string; nameRef: Term; args: Term[]; loc: Loc };

export interface With {
  target: Term;
  value: Term;
}

export type ExprKind =
  | { e: 'term'; term: Term }
  | { e: 'unify'; a: Term; b: Term }
  | { e: 'assign'; a: Term; b: Term }
  | { e: 'some'; vars: string[] }
  | { e: 'somein'; key?: Term; value: Term; coll: Term }
  | { e: 'every'; key?: Term; value: Term; coll: Term; body: Expr[] };

export type Expr = ExprKind & { negated: boolean; withs: With[]; loc: Loc };

export type RuleKind = 'complete' | 'set' | 'func';

export interface Rule {
  kind: RuleKind;
  /** Head reference as written, e.g. `p`, `a.b.c`, `p[q].r` (relative to the package). */
  ref: Term[];
  /** For set rules: the element. For complete/func: the value (true when absent). */
  value: Term;
  args?: Term[];
  body: Expr[];
  isDefault: boolean;
  elses: { value: Term; body: Expr[]; loc: Loc }[];
  loc: Loc;
  /** Head name as OPA prints it, for messages. */
  name: string;
}

export interface Import {
  path: Term;
  alias?: string;
  loc: Loc;
}

export interface Module {
  file: string;
  pkg: string[];
  imports: Import[];
  rules: Rule[];
}
