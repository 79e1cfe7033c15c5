// Tokenizer for Rego v1 source. Newlines are not tokens: each token records whether a line
// break precedes it, because Rego separates body expressions by newlines and the parser needs
// to know where an expression may end.

/** A parse or compile problem with its source position. */
export class RegoError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly file = '',
    readonly line = 0,
    readonly col = 0,
  ) {
    super(file ? `${file}:${line}:${col}: ${code}: ${message}` : `${code}: ${message}`);
    this.name = 'RegoError';
  }
}

/** Token classes: keywords are identifiers, the parser tells them apart. */
export type TokKind = 'ident' | 'number' | 'string' | 'punct' | 'eof';

/** One token with its position. */
export interface Token {
  kind: TokKind;
  text: string;
  /** For strings: the decoded value. */
  value?: string;
  line: number;
  col: number;
  /** A line break occurs between the previous token and this one. */
  nl: boolean;
  /** Whitespace or a comment separates this token from the previous one. */
  space: boolean;
}

const PUNCT2 = new Set([':=', '==', '!=', '<=', '>=']);
const PUNCT1 = new Set(['{', '}', '[', ']', '(', ')', '.', ',', ';', ':', '=', '<', '>', '+', '-', '*', '/', '%', '|', '&']);

/** Split Rego source into tokens; throws RegoError (rego_parse_error) on bad input. */
export function tokenize(src: string, file = ''): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let nl = true;
  let space = true;
  const err = (msg: string, at = i): never => {
    throw new RegoError('rego_parse_error', msg, file, line, at - lineStart + 1);
  };
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
      nl = true;
      space = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      space = true;
      continue;
    }
    if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
      space = true;
      continue;
    }
    const start = i;
    const tok = (kind: TokKind, text: string, value?: string): void => {
      out.push({ kind, text, value, line, col: start - lineStart + 1, nl, space });
      nl = false;
      space = false;
    };
    if (/[A-Za-z_]/.test(c)) {
      while (i < src.length && /[A-Za-z0-9_]/.test(src[i]!)) i++;
      tok('ident', src.slice(start, i));
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(src.slice(i));
      if (!m) err('invalid number');
      i += m![0].length;
      if (i < src.length && /[A-Za-z_0-9.]/.test(src[i]!)) err('invalid number');
      tok('number', m![0]);
      continue;
    }
    if (c === '"') {
      i++;
      let s = '';
      for (;;) {
        if (i >= src.length || src[i] === '\n') err('non-terminated string', start);
        const d = src[i]!;
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\') {
          const e = src[i + 1];
          const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
          if (e !== undefined && e in simple) {
            s += simple[e];
            i += 2;
          } else if (e === 'u') {
            const hex = src.slice(i + 2, i + 6);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) err('invalid escape sequence');
            s += String.fromCharCode(parseInt(hex, 16));
            i += 6;
          } else err('invalid escape sequence');
          continue;
        }
        s += d;
        i++;
      }
      tok('string', src.slice(start, i), s);
      continue;
    }
    if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) err('non-terminated raw string');
      const s = src.slice(i + 1, end);
      const startLine = line;
      for (const ch of s) if (ch === '\n') line++;
      i = end + 1;
      out.push({ kind: 'string', text: src.slice(start, i), value: s, line: startLine, col: start - lineStart + 1, nl, space });
      if (line !== startLine) lineStart = src.lastIndexOf('\n', end) + 1;
      nl = false;
      space = false;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (PUNCT2.has(two)) {
      i += 2;
      tok('punct', two);
      continue;
    }
    if (PUNCT1.has(c)) {
      i++;
      tok('punct', c);
      continue;
    }
    err(`unexpected character ${JSON.stringify(c)}`);
  }
  out.push({ kind: 'eof', text: '', line, col: i - lineStart + 1, nl: true, space: true });
  return out;
}
