// Specification tests for the Rego builtin library, calling builtins through the registry the
// evaluator uses. Expected values and error texts are OPA's.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BUILTINS, BuiltinError, type BuiltinContext } from '../src/policy/rego/builtins/index.js';
import { RObject, RSet, fromJS, toJSONText, type Value } from '../src/policy/rego/value.js';

function ctx(over: Partial<BuiltinContext> = {}): BuiltinContext & { lines: string[] } {
  const lines: string[] = [];
  return { strict: true, nowNs: 1_700_000_000_123_456_789n, print: (l: string) => lines.push(l), cache: new Map(), lines, ...over };
}

function call(name: string, ...args: Value[]): Value | undefined {
  const def = BUILTINS.get(name);
  if (!def) throw new Error(`builtin ${name} is not registered`);
  return def.fn(args, ctx());
}

/** JSON text of a call's result ("undefined" when the call is undefined), for compact assertions. */
function j(name: string, ...args: Value[]): string {
  const r = call(name, ...args);
  return r === undefined ? 'undefined' : toJSONText(r);
}

function throws(name: string, args: Value[], code: string, message: string): void {
  try {
    call(name, ...args);
  } catch (e) {
    assert.instance(e, BuiltinError);
    assert.is((e as BuiltinError).code, code, `${name} error code`);
    assert.is((e as BuiltinError).message, message);
    return;
  }
  assert.unreachable(`${name} should have thrown: ${message}`);
}

const set = (...xs: Value[]): RSet => RSet.from(xs);
const obj = (o: Record<string, unknown>): RObject => fromJS(o) as RObject;

test('every builtin named in the brief is registered with its arity', () => {
  const expected: Record<string, number> = {
    plus: 2, minus: 2, mul: 2, div: 2, rem: 2, abs: 1, round: 1, ceil: 1, floor: 1, 'numbers.range': 2, 'numbers.range_step': 3,
    equal: 2, neq: 2, lt: 2, lte: 2, gt: 2, gte: 2, and: 2, or: 2, 'internal.member_2': 2, 'internal.member_3': 3, to_number: 1, 'rand.intn': 2,
    count: 1, sum: 1, product: 1, max: 1, min: 1, sort: 1, all: 1, any: 1,
    concat: 2, contains: 2, startswith: 2, endswith: 2, format_int: 2, indexof: 2, indexof_n: 2, lower: 1, upper: 1, replace: 3, split: 2,
    sprintf: 2, 'strings.replace_n': 2, 'strings.reverse': 1, 'strings.any_prefix_match': 2, 'strings.any_suffix_match': 2, 'strings.count': 2,
    substring: 3, trim: 2, trim_left: 2, trim_right: 2, trim_prefix: 2, trim_suffix: 2, trim_space: 1,
    'regex.match': 2, re_match: 2, 'regex.is_valid': 1, 'regex.split': 2, 'regex.find_n': 3, 'regex.find_all_string_submatch_n': 3,
    'regex.replace': 3, 'regex.template_match': 4, 'glob.match': 3, 'glob.quote_meta': 1,
    'object.get': 3, 'object.keys': 1, 'object.remove': 2, 'object.filter': 2, 'object.union': 2, 'object.union_n': 1, 'object.subset': 2,
    'json.filter': 2, 'json.remove': 2, 'json.patch': 2, 'array.concat': 2, 'array.slice': 3, 'array.reverse': 1, intersection: 1, union: 1,
    cast_array: 1, cast_set: 1, cast_string: 1, cast_boolean: 1, cast_null: 1, cast_object: 1, walk: 1,
    is_number: 1, is_string: 1, is_boolean: 1, is_array: 1, is_set: 1, is_object: 1, is_null: 1, type_name: 1,
    'json.marshal': 1, 'json.marshal_with_options': 2, 'json.unmarshal': 1, 'json.is_valid': 1, 'base64.encode': 1, 'base64.decode': 1,
    'base64.is_valid': 1, 'base64url.encode': 1, 'base64url.encode_no_pad': 1, 'base64url.decode': 1, 'urlquery.encode': 1, 'urlquery.decode': 1,
    'urlquery.encode_object': 1, 'urlquery.decode_object': 1, 'hex.encode': 1, 'hex.decode': 1, 'yaml.marshal': 1, 'yaml.unmarshal': 1, 'yaml.is_valid': 1,
    'crypto.md5': 1, 'crypto.sha1': 1, 'crypto.sha256': 1, 'crypto.hmac.md5': 2, 'crypto.hmac.sha1': 2, 'crypto.hmac.sha256': 2, 'crypto.hmac.sha512': 2, 'crypto.hmac.equal': 2,
    'time.now_ns': 0, 'time.parse_ns': 2, 'time.parse_rfc3339_ns': 1, 'time.parse_duration_ns': 1, 'time.date': 1, 'time.clock': 1, 'time.weekday': 1,
    'time.add_date': 4, 'time.diff': 2, 'time.format': 1,
    'net.cidr_contains': 2, 'net.cidr_intersects': 2, 'net.cidr_is_valid': 1, 'units.parse': 1, 'units.parse_bytes': 1,
    'semver.is_valid': 1, 'semver.compare': 2, 'uuid.rfc4122': 1, 'uuid.parse': 1, print: -1, trace: 1, 'opa.runtime': 0,
  };
  for (const [name, arity] of Object.entries(expected)) {
    assert.ok(BUILTINS.has(name), `${name} registered`);
    assert.is(BUILTINS.get(name)!.arity, arity, `${name} arity`);
  }
});

// ---- numbers ----

test('integer arithmetic is exact beyond 2^53 and falls back to bigint only when needed', () => {
  assert.is(call('plus', 9007199254740993n, 1), 9007199254740994n);
  assert.is(call('mul', 4294967296, 4294967296), 18446744073709551616n);
  assert.is(call('minus', 18446744073709551616n, 18446744073709551615n), 1);
  assert.is(typeof call('minus', 18446744073709551616n, 18446744073709551615n), 'number');
  assert.is(call('plus', 0.1, 0.2), 0.30000000000000004);
  assert.is(call('rem', 18446744073709551617n, 10), 7);
  assert.is(call('abs', -18446744073709551616n), 18446744073709551616n);
  assert.is(call('plus', 1234500000, 67890), 1234567890);
});

test('div yields floats, but exact integers when the quotient is whole (1e109 / 1e100)', () => {
  assert.is(call('div', 1, 3), 1 / 3);
  assert.is(call('div', 6, 3), 2);
  assert.is(call('div', 1e109, 1e100), 1000000000);
  assert.is(call('div', 36893488147419103232n, 2), 18446744073709551616n);
  throws('div', [1, 0], 'eval_builtin_error', 'div: divide by zero');
  throws('rem', [1.1, 1], 'eval_builtin_error', 'rem: modulo on floating-point number');
  throws('rem', [1, 0], 'eval_builtin_error', 'rem: modulo by zero');
  throws('plus', [1, 'a'], 'eval_type_error', 'plus: operand 2 must be number but got string');
});

test('minus is set difference on sets and reports the operand OPA reports', () => {
  assert.is(j('minus', set(1, 2, 3), set(2)), '[1,3]');
  throws('minus', [set(1), 1], 'eval_type_error', 'minus: operand 2 must be set but got number');
  throws('minus', [1, set(1)], 'eval_type_error', 'minus: operand 2 must be number but got set');
  throws('minus', ['a', 1], 'eval_type_error', 'minus: operand 1 must be one of {number, set} but got string');
  assert.is(j('and', set(1, 2), set(2, 3)), '[2]');
  assert.is(j('or', set(1), set(2)), '[1,2]');
});

test('rounding follows Go (halves away from zero)', () => {
  assert.is(call('round', 2.5), 3);
  assert.is(call('round', -2.5), -3);
  assert.is(call('ceil', 1.2), 2);
  assert.is(call('floor', -1.2), -2);
});

test('numbers.range counts both ways and rejects floats', () => {
  assert.is(j('numbers.range', 2, -3), '[2,1,0,-1,-2,-3]');
  assert.is(j('numbers.range', 49649733057, 49649733060), '[49649733057,49649733058,49649733059,49649733060]');
  throws('numbers.range', [3, 3.14], 'eval_type_error', 'numbers.range: operand 2 must be integer number but got floating-point number');
  assert.is(j('numbers.range_step', 0, 10, 4), '[0,4,8]');
  throws('numbers.range_step', [0, 10, 0], 'eval_builtin_error', 'numbers.range_step: step must be a positive number above zero');
});

test('comparison, membership and to_number', () => {
  assert.is(call('equal', 1, 1n), true);
  assert.is(call('lt', null, false), true);
  assert.is(call('gt', set(), obj({})), true);
  assert.is(call('internal.member_2', 2, [1, 2]), true);
  assert.is(call('internal.member_2', 'v', obj({ k: 'v' })), true);
  assert.is(call('internal.member_3', 1, 'b', ['a', 'b']), true);
  assert.is(call('internal.member_3', 'k', 'v', obj({ k: 'v' })), true);
  assert.is(j('to_number', '-42.0'), '-42');
  assert.is(call('to_number', '12345678901234567890'), 12345678901234567890n);
  assert.is(call('to_number', true), 1);
  assert.is(call('to_number', null), 0);
  throws('to_number', ['x'], 'eval_builtin_error', 'to_number: strconv.ParseFloat: parsing "x": invalid syntax');
});

test('rand.intn is stable for the same arguments within one query', () => {
  const c = ctx();
  const def = BUILTINS.get('rand.intn')!;
  const a = def.fn(['seed', 1000], c);
  assert.is(def.fn(['seed', 1000], c), a);
  assert.ok((a as number) >= 0 && (a as number) < 1000);
  assert.is(def.fn(['seed', 0], c), 0);
});

// ---- aggregates ----

test('aggregates: count counts code points; type errors use OPA wording', () => {
  assert.is(call('count', 'μx'), 2);
  assert.is(call('count', obj({ a: 1 })), 1);
  throws('count', [1], 'eval_type_error', 'count: operand 1 must be one of {array, object, set, string} but got number');
  assert.is(call('sum', [49649733057, 1]), 49649733058);
  assert.is(call('sum', [9007199254740993n, 1]), 9007199254740994n);
  assert.is(call('product', set(2, 3, 4)), 24);
  assert.is(call('max', [1, 'a', null]), 'a');
  assert.is(call('min', [1, 2, 1, 3]), 1);
  assert.is(call('max', []), undefined);
  assert.is(j('sort', set(3, 1, 2)), '[1,2,3]');
  assert.is(call('all', [true, true]), true);
  assert.is(call('any', set(false)), false);
  throws('sum', ['a'], 'eval_type_error', 'sum: operand 1 must be one of {set, array} but got string');
});

// ---- strings ----

test('strings: positions are in code points', () => {
  assert.is(call('indexof', 'skön var våren', 'vår'), 9);
  assert.is(call('indexof', 'μ', 'μμ'), -1);
  assert.is(call('indexof', '\u{1F367}\u{1F368}\u{1F36E}', '\u{1F36E}'), 2);
  assert.is(j('indexof_n', 'aaa', 'aa'), '[0,1]');
  assert.is(call('substring', 'aμbc', 1, 2), 'μb');
  assert.is(call('substring', 'abc', 1, -1), 'bc');
  assert.is(call('substring', 'abc', 5, 1), '');
  assert.is(call('strings.reverse', 'aμ\u{1F36E}'), '\u{1F36E}μa');
  assert.is(j('split', 'a.b', '.'), '["a","b"]');
  assert.is(j('split', '', '.'), '[""]');
  assert.is(call('format_int', 15.5, 16), 'f');
  assert.is(call('format_int', -8, 2), '-1000');
  throws('format_int', [1, 3], 'eval_type_error', 'format_int: operand 2 must be one of {2, 8, 10, 16}');
  throws('indexof', ['abc', ''], 'eval_builtin_error', 'indexof: empty search character');
  throws('substring', ['abc', -1, 1], 'eval_builtin_error', 'substring: negative offset');
});

test('strings: trimming, replacing, counting, matching', () => {
  assert.is(call('trim', '..a.b..', '.'), 'a.b');
  assert.is(call('trim', '', '.'), '');
  assert.is(call('trim_left', 'xxa', 'x'), 'a');
  assert.is(call('trim_right', 'axx', 'x'), 'a');
  assert.is(call('trim_prefix', 'prefix-a', 'prefix-'), 'a');
  assert.is(call('trim_suffix', 'a.txt', '.txt'), 'a');
  assert.is(call('trim_space', ' \t a \n'), 'a');
  assert.is(call('replace', 'aaa', 'a', 'b'), 'bbb');
  assert.is(call('strings.replace_n', obj({ a: 'b', b: 'a' }), 'ab'), 'ba');
  assert.is(call('strings.count', 'cheese', 'e'), 3);
  assert.is(call('strings.count', 'five', ''), 5);
  assert.is(call('concat', ',', set('b', 'a')), 'a,b');
  assert.is(call('upper', 'abc'), 'ABC');
  assert.is(call('upper', 'straße'), 'STRAßE'); // Go maps rune by rune, no "SS"
  assert.is(call('lower', 'ÄÖ'), 'äö');
  assert.is(call('contains', 'abcdefgh', 'ac'), false);
  assert.is(call('strings.any_prefix_match', ['a/b/c', 'e/f'], set('a/', 'd/')), true);
  assert.is(call('strings.any_suffix_match', 'file.rego', ['.rego']), true);
  throws('strings.any_prefix_match', [[1], ['a']], 'eval_type_error', 'strings.any_prefix_match: operand 1 must be array of strings but got array containing number');
  throws('strings.any_prefix_match', [['a'], 1], 'eval_type_error', 'strings.any_prefix_match: operand 2 must be one of {string, set, array} but got number');
  throws('concat', [',', 1], 'eval_type_error', 'concat: operand 2 must be one of {set, array} but got number');
});

// ---- sprintf ----

test('sprintf: Go verbs, widths and flags', () => {
  const s = (f: string, ...a: Value[]): Value | undefined => call('sprintf', f, a);
  assert.is(s('%s-%v-%d', 'a', 'b', 42), 'a-b-42');
  assert.is(s('%.2f|%f|%6.1f|%-6.1f|', 3.14159, 2.5, 3.14159, 3.14159), '3.14|2.500000|   3.1|3.1   |');
  assert.is(s('%x %X %o %b %#x', 255, 255, 8, 5, 255), 'ff FF 10 101 0xff');
  assert.is(s('%x', 'hi'), '6869');
  assert.is(s('%05d|%+d|%5s|%-5s|%.2s', -42, 7, 'ab', 'cd', 'xyz'), '-0042|+7|   ab|cd   |xy');
  assert.is(s('%q', 'a"b\n'), '"a\\"b\\n"');
  assert.is(s('%e|%E|%.2e', 1234.5, 0.00012, 1234.5), '1.234500e+03|1.200000E-04|1.23e+03');
  assert.is(s('%g|%g|%g|%.3g', 1.5, 0.00001, 1e21, 3.14159), '1.5|1e-05|1e+21|3.14');
  assert.is(s('100%% %d', 1), '100% 1');
  assert.is(s('%d', 12345678901234567890n), '12345678901234567890');
  assert.is(s('%v', 1.5), '1.5');
  // Exact ties round half to even on the binary value, as Go does; 2.675 is really 2.67499...
  assert.is(s('%.2f %.2f %.0f %.0f %.1f', 0.125, 2.675, 0.5, 1.5, 1e22), '0.12 2.67 0 2 10000000000000000000000.0');
  assert.is(s('%.0e %.1e %.2g %e', 2.5, 0.125, 0.125, 0), '2e+00 1.2e-01 0.12 %!e(int=0)');
});

test('sprintf: Rego values print as OPA prints them, with Go’s type quirks', () => {
  const s = (f: string, ...a: Value[]): Value | undefined => call('sprintf', f, a);
  assert.is(s('%v', [1, 'a', null, true]), '[1, "a", null, true]');
  assert.is(s('%v', obj({ b: [1], a: set(2, 1) })), '{"a": {1, 2}, "b": [1]}');
  assert.is(s('%v %s', set(), obj({})), 'set() {}');
  // OPA passes booleans as strings and integers as Go ints, so Go reports these verbs as bad.
  assert.is(s('%t', true), '%!t(string=true)');
  assert.is(s('%f', 1), '%!f(int=1)');
  assert.is(s('%s', 1), '%!s(int=1)');
  assert.is(s('%s|%f', 12345678901234567890n, 12345678901234567890n), '12345678901234567890|%!f(big.Int=12345678901234567890)');
  assert.is(s('%d', 1.5), '%!d(float64=1.5)');
  assert.is(s('%d %d', 1), '1 %!d(MISSING)');
  assert.is(s('%d', 1, 'x'), '1%!(EXTRA string=x)');
  assert.is(s('%[2]s %[1]s', 'a', 'b'), 'b a');
});

// ---- regex and glob ----

test('regex: RE2 syntax, Go error text and Go match semantics', () => {
  assert.is(call('regex.match', '^[a-z]+\\[[0-9]+\\]$', 'foo[1]'), true);
  assert.is(call('re_match', '^[a-z]+\\[[0-9]+\\]$', 'foo["bar"]'), false);
  throws('re_match', ['][', 'x'], 'eval_builtin_error', 're_match: error parsing regexp: missing closing ]: `[`');
  assert.is(call('regex.match', '(?i)^abc\\z', 'ABC'), true);
  assert.is(call('regex.match', '^[[:alpha:]]+$', 'abc'), true);
  assert.is(call('regex.match', '\\pL', 'é'), true);
  assert.is(call('regex.match', '^\\Qa.b\\E$', 'a.b'), true);
  assert.is(call('regex.is_valid', '(?P<name>x)'), true);
  assert.is(call('regex.is_valid', '(unclosed'), false);
  assert.is(call('regex.is_valid', 1), false);
  assert.is(j('regex.split', 'a', 'banana'), '["b","n","n",""]');
  assert.is(j('regex.find_n', 'a*', 'baaac', -1), '["","aaa",""]');
  assert.is(j('regex.find_n', '[0-9]', 'a1b2c3', 2), '["1","2"]');
  assert.is(j('regex.find_all_string_submatch_n', 'a(x*)b', '-ab-axxb-', -1), '[["ab",""],["axxb","xx"]]');
  assert.is(call('regex.replace', 'abc-def', '(?P<x>\\w+)-(\\w+)', '$2 ${x}'), 'def abc');
  assert.is(call('regex.replace', 'a1', '([a-z])', '$1x'), '1');
  assert.is(call('regex.template_match', 'urn:foo:{.*}', 'urn:foo:bar:baz', '{', '}'), true);
  assert.is(call('regex.template_match', 'urn:foo:{[0-9]+}', 'urn:foo:bar', '{', '}'), false);
  throws('regex.template_match', ['x', 'x', '{{', '}'], 'eval_builtin_error', 'regex.template_match: start delimiter has to be exactly one character long but is 2 long');
});

test('regex: inline flags mid-pattern are emulated; RE2-only restrictions are kept', () => {
  assert.is(call('regex.match', 'a(?i:bc)d', 'aBCd'), true);
  assert.is(call('regex.match', 'a(?i:bc)d', 'ABCd'), false);
  assert.is(call('regex.match', '^(?i:[a-c]+)$', 'AbC'), true);
  assert.is(call('regex.match', 'x(?s:.)', 'x\n'), true);
  assert.is(call('regex.match', 'x.', 'x\n'), false);
  assert.is(call('regex.match', '(?m)^b$', 'a\nb\nc'), true);
  assert.is(call('regex.match', 'a(?m:$)', 'a\nb'), true);
  // Go's \s is ASCII whitespace only.
  assert.is(call('regex.match', '\\s', '\u00a0'), false);
  // RE2 has neither lookaround nor backreferences.
  assert.is(call('regex.is_valid', '(?=x)'), false);
  throws('regex.match', ['(a)\\1', 'aa'], 'eval_builtin_error', 'regex.match: error parsing regexp: invalid escape sequence: `\\1`');
});

test('glob.match: delimiters, default ".", null for none, classes and alternatives', () => {
  assert.is(call('glob.match', '*.github.com', ['.'], 'api.github.com'), true);
  assert.is(call('glob.match', '*.github.com', ['.'], 'api.cdn.github.com'), false);
  assert.is(call('glob.match', '**.github.com', ['.'], 'api.cdn.github.com'), true);
  assert.is(call('glob.match', '*.github.com', [], 'api.cdn.github.com'), false); // [] means the default "."
  assert.is(call('glob.match', '*.github.com', null, 'api.cdn.github.com'), true); // null means no delimiters
  assert.is(call('glob.match', '*:*', [':'], 'a:b'), true);
  assert.is(call('glob.match', '*', [':'], 'a:b'), false);
  assert.is(call('glob.match', '?at', [], 'cat'), true);
  assert.is(call('glob.match', '[abc]at', [], 'cat'), true);
  assert.is(call('glob.match', '[a-c]at', [], 'fat'), false);
  assert.is(call('glob.match', '[!a-c]at', [], 'fat'), true);
  assert.is(call('glob.match', '{cat,bat,[fr]at}', [], 'rat'), true);
  assert.is(call('glob.match', 'a\\*b', [], 'a*b'), true);
  assert.is(call('glob.quote_meta', '*.github.com'), '\\*.github.com');
  throws('glob.match', ['*', 1, 'a'], 'eval_type_error', 'glob.match: operand 2 must be one of {array, null} but got number');
});

// ---- objects ----

test('object builtins and their OPA errors', () => {
  assert.is(call('object.get', obj({ a: 'b' }), 'a', 'c'), 'b');
  assert.is(call('object.get', RObject.from([[1, 2]]), 1, 3), 2);
  assert.is(call('object.get', obj({ a: { b: 1 } }), ['a', 'b'], 2), 1);
  assert.is(j('object.get', obj({ a: 1 }), [], 2), '{"a":1}');
  throws('object.get', ['x', 'a', 1], 'eval_type_error', 'object.get: operand 1 must be object but got string');
  assert.is(j('object.keys', obj({ b: 1, a: 2 })), '["a","b"]');
  throws('object.keys', ['x'], 'eval_type_error', 'object.keys: operand 1 must be object but got string');
  assert.is(j('object.remove', obj({ a: 1, b: 2, c: 3 }), set('a', 'c')), '{"b":2}');
  assert.is(j('object.remove', obj({ a: 1, b: 2 }), obj({ a: 0 })), '{"b":2}');
  throws('object.remove', [obj({}), true], 'eval_type_error', 'object.remove: operand 2 must be one of {object, set, array} but got boolean');
  throws('object.remove', [1, []], 'eval_type_error', 'object.remove: operand 1 must be object but got number');
  assert.is(j('object.filter', obj({ a: 1, b: 2 }), ['a']), '{"a":1}');
  throws('object.filter', [obj({}), 1], 'eval_type_error', 'object.filter: operand 2 must be one of {object, set, array} but got number');
  assert.is(
    j('object.union', obj({ a: { b: { c: 1 } }, e: 1 }), obj({ a: { b: 'foo', b1: 'bar' }, d: 7, e: 17 })),
    '{"a":{"b":"foo","b1":"bar"},"d":7,"e":17}',
  );
  assert.is(j('object.union_n', [obj({ a: 1 }), obj({ a: 2, b: 1 }), obj({ a: 3 })]), '{"a":3,"b":1}');
  assert.is(call('object.subset', obj({ a: 'b', c: { x: set(10, 15, 20, 25), y: 'z' } }), obj({ c: { x: set(10, 15, 20) } })), true);
  assert.is(call('object.subset', [1, 2, 3, 4], [2, 3]), true);
  assert.is(call('object.subset', [1, 2, 3, 4], [2, 4]), false);
  assert.is(call('object.subset', [1, 2, 3], set(3, 1)), true);
});

test('arrays, sets and casts', () => {
  assert.is(j('array.concat', [1, 2], [3, 4]), '[1,2,3,4]');
  throws('array.concat', [obj({}), []], 'eval_type_error', 'array.concat: operand 1 must be array but got object');
  assert.is(j('array.slice', [1, 2, 3], 0, 0), '[]');
  assert.is(j('array.slice', [1, 2, 3, 4, 5], 4, 1), '[]');
  assert.is(j('array.slice', [1, 2, 3, 4, 5], -1, 2), '[1,2]');
  assert.is(j('array.reverse', [1, 2, 3]), '[3,2,1]');
  throws('array.reverse', [obj({})], 'eval_type_error', 'array.reverse: operand 1 must be array but got object');
  assert.is(j('intersection', set(set(1, 2), set(2, 3))), '[2]');
  assert.is(j('union', set(set(1), set(2))), '[1,2]');
  assert.is(j('cast_array', set(2, 1)), '[1,2]');
  assert.ok(call('cast_set', [1, 1, 2]) instanceof RSet);
  assert.is(call('cast_null', null), null);
  assert.is(call('cast_boolean', false), false);
  throws('cast_string', [1], 'eval_type_error', 'cast_string: operand 1 must be string but got number');
});

test('json.filter and json.remove take pointer strings or path arrays', () => {
  const doc = obj({ a: { b: 1, c: 2 }, d: [1, 2, 3], e: 'x' });
  assert.is(j('json.filter', doc, ['a/b', 'd/1']), '{"a":{"b":1},"d":[2]}');
  assert.is(j('json.filter', doc, set(['a', 'c'])), '{"a":{"c":2}}');
  assert.is(j('json.remove', doc, ['a/b', 'd/0', 'e']), '{"a":{"c":2},"d":[2,3]}');
});

test('json.patch: RFC 6902 operations, sets, array paths; failures are undefined', () => {
  const op = (o: Record<string, unknown>): RObject => obj(o);
  const doc = obj({ a: { b: [1, 2] }, c: 'x' });
  assert.is(j('json.patch', doc, [op({ op: 'add', path: '/a/b/-', value: 3 })]), '{"a":{"b":[1,2,3]},"c":"x"}');
  assert.is(j('json.patch', doc, [op({ op: 'add', path: '/a/b/0', value: 0 })]), '{"a":{"b":[0,1,2]},"c":"x"}');
  assert.is(j('json.patch', doc, [op({ op: 'remove', path: '/c' })]), '{"a":{"b":[1,2]}}');
  assert.is(j('json.patch', doc, [op({ op: 'replace', path: '/c', value: 'y' })]), '{"a":{"b":[1,2]},"c":"y"}');
  assert.is(j('json.patch', doc, [op({ op: 'move', from: '/c', path: '/d' })]), '{"a":{"b":[1,2]},"d":"x"}');
  assert.is(j('json.patch', doc, [op({ op: 'copy', from: '/a/b/1', path: '/e' })]), '{"a":{"b":[1,2]},"c":"x","e":2}');
  assert.is(j('json.patch', doc, [op({ op: 'test', path: '/c', value: 'x' })]), toJSONText(doc));
  assert.is(j('json.patch', doc, [op({ op: 'test', path: '/c', value: 'nope' })]), 'undefined');
  assert.is(j('json.patch', doc, [op({ op: 'remove', path: '/missing' })]), 'undefined');
  assert.is(j('json.patch', doc, [op({ op: 'add', path: '/a~1b', value: 1 })]), '{"a":{"b":[1,2]},"a/b":1,"c":"x"}');
  const sets = RObject.from([['foo', set('a', 'b', 'c')]]);
  assert.is(j('json.patch', sets, [op({ op: 'remove', path: 'foo/b' })]), '{"foo":["a","c"]}');
  assert.is(j('json.patch', sets, [op({ op: 'add', path: 'foo/d', value: 'd' })]), '{"foo":["a","b","c","d"]}');
  assert.is(j('json.patch', sets, [op({ op: 'add', path: 'foo/d', value: 'e' })]), 'undefined');
  assert.is(j('json.patch', set([1]), [RObject.from([['op', 'add'], ['path', [[1], 1]], ['value', 2]])]), '[[1,2]]');
});

test('walk returns [path, value] pairs in pre-order', () => {
  assert.is(j('walk', obj({ a: [1, set(2)] })), '[[[],{"a":[1,[2]]}],[["a"],[1,[2]]],[["a",0],1],[["a",1],[2]],[["a",1,2],2]]');
});

test('type predicates and type_name', () => {
  assert.is(call('is_number', -42.0), true);
  assert.is(call('is_number', true), false);
  assert.is(call('is_string', 'Hey'), true);
  assert.is(call('is_set', set()), true);
  assert.is(call('is_null', null), true);
  assert.is(call('type_name', set()), 'set');
  assert.is(call('type_name', obj({})), 'object');
  assert.is(call('type_name', 1n), 'number');
});

// ---- encoding ----

test('json: marshal keeps big integers, unmarshal is exact, options are checked', () => {
  assert.is(call('json.marshal', [1234567890, 2000000, 1e109 / 1e100]), '[1234567890,2000000,1000000000]');
  assert.is(call('json.marshal', obj({ b: 1, a: set(2, 1) })), '{"a":[1,2],"b":1}');
  assert.is(call('json.marshal_with_options', [1, 2], obj({ indent: '  ' })), '[\n  1,\n  2\n]');
  assert.is(call('json.marshal_with_options', obj({ foo: 'bar' }), obj({ prefix: '> ' })), '> {\n> \t"foo": "bar"\n> }');
  assert.is(call('json.marshal_with_options', [1], obj({ pretty: false, indent: 'x' })), '[1]');
  assert.is(call('json.marshal_with_options', [], obj({ indent: '    ', prefix: '---' })), '---[]');
  throws('json.marshal_with_options', [[], obj({ include_winning_lottery_numbers: true })], 'eval_type_error', 'json.marshal_with_options: operand 2 object contained unknown key "include_winning_lottery_numbers"');
  assert.is(j('json.unmarshal', '{"a": [12345678901234567890, 1.5, "x\\n", null]}'), '{"a":[12345678901234567890,1.5,"x\\n",null]}');
  throws('json.unmarshal', ['{"a" 1}'], 'eval_builtin_error', "json.unmarshal: invalid character '1' after object key");
  assert.is(call('json.is_valid', '{"a": 1}'), true);
  assert.is(call('json.is_valid', '{"a": 1'), false);
  assert.is(call('json.is_valid', 1), false);
});

test('base64, base64url, hex and urlquery follow Go', () => {
  assert.is(call('base64.encode', 'hello'), 'aGVsbG8=');
  assert.is(call('base64.decode', 'dGhlcmU='), 'there');
  assert.is(call('base64.is_valid', "{'not':'base64'}"), false);
  assert.is(call('base64.is_valid', 'aGVsbG8='), true);
  throws('base64.decode', ['a$'], 'eval_builtin_error', 'base64.decode: illegal base64 data at input byte 1');
  assert.is(call('base64url.encode', 'hi?>'), 'aGk_Pg==');
  assert.is(call('base64url.encode_no_pad', 'hi?>'), 'aGk_Pg');
  assert.is(call('base64url.decode', 'aGk_Pg'), 'hi?>');
  assert.is(call('hex.encode', 'hi'), '6869');
  assert.is(call('hex.decode', '6869'), 'hi');
  throws('hex.decode', ['6g'], 'eval_builtin_error', "hex.decode: encoding/hex: invalid byte: U+0067 'g'");
  throws('hex.decode', ['686'], 'eval_builtin_error', 'hex.decode: encoding/hex: odd length hex string');
  assert.is(call('urlquery.encode', 'a b&c=ü'), 'a+b%26c%3D%C3%BC');
  assert.is(call('urlquery.decode', 'a+b%26c'), 'a b&c');
  throws('urlquery.decode', ['%zz'], 'eval_builtin_error', 'urlquery.decode: invalid URL escape "%zz"');
  assert.is(call('urlquery.encode_object', obj({ b: 'x y', a: ['1', '2'] })), 'a=1&a=2&b=x+y');
  assert.is(j('urlquery.decode_object', 'a=1&a=2&b=x+y'), '{"a":["1","2"],"b":["x y"]}');
});

test('yaml: marshal in go-yaml style, unmarshal with go-yaml error text', () => {
  assert.is(call('yaml.marshal', obj({ b: [1, { c: 2 }], a: 'x' })), 'a: x\nb:\n- 1\n- c: 2\n');
  assert.is(j('yaml.unmarshal', 'a: 1\nb: [x, 12345678901234567890]'), '{"a":1,"b":["x",12345678901234567890]}');
  throws('yaml.unmarshal', ['[1,2,3'], 'eval_builtin_error', "yaml.unmarshal: yaml: line 1: did not find expected ',' or ']'");
  assert.is(call('yaml.is_valid', 'a: [1'), false);
  assert.is(call('yaml.is_valid', 'a: 1'), true);
  // YAML 1.1 as go-yaml v2 reads it: yes/on are booleans, 017 is octal, timestamps stay strings.
  assert.is(j('yaml.unmarshal', 'a: yes\nb: 017\nc: 2018-01-01'), '{"a":true,"b":15,"c":"2018-01-01"}');
  assert.is(call('yaml.marshal', obj({ a: 'yes' })), 'a: "yes"\n');
});

// ---- crypto ----

test('crypto digests and HMACs are lowercase hex', () => {
  assert.is(call('crypto.md5', 'abc'), '900150983cd24fb0d6963f7d28e17f72');
  assert.is(call('crypto.sha1', 'abc'), 'a9993e364706816aba3e25717850c26c9cd0d89d');
  assert.is(call('crypto.sha256', 'abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.is(call('crypto.hmac.sha256', 'The quick brown fox jumps over the lazy dog', 'key'), 'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8');
  assert.is(call('crypto.hmac.md5', 'The quick brown fox jumps over the lazy dog', 'key'), '80070713463e7749b90c2dc24911e275');
  assert.is((call('crypto.hmac.sha512', 'm', 'k') as string).length, 128);
  assert.is(call('crypto.hmac.equal', 'abc', 'abc'), true);
  assert.is(call('crypto.hmac.equal', 'abc', 'abd'), false);
});

// ---- time ----

test('time: now_ns is the query’s fixed instant; durations and RFC 3339 parse exactly', () => {
  const c = ctx();
  assert.is(BUILTINS.get('time.now_ns')!.fn([], c), 1_700_000_000_123_456_789n);
  assert.is(call('time.parse_duration_ns', '100ms'), 100000000);
  assert.is(call('time.parse_duration_ns', '1h30m1.5s'), 5401500000000);
  assert.is(call('time.parse_duration_ns', '-1.5µs'), -1500);
  throws('time.parse_duration_ns', ['x'], 'eval_builtin_error', 'time.parse_duration_ns: time: invalid duration "x"');
  assert.is(j('time.parse_rfc3339_ns', '2017-06-02T19:00:00-07:00'), '1496455200000000000');
  assert.is(j('time.parse_rfc3339_ns', '2017-06-02T19:00:00.123456789Z'), '1496430000123456789');
});

test('time.parse_ns understands Go layouts, named layouts and reports Go errors', () => {
  assert.is(call('time.parse_ns', '2006-01-02', '1970-01-02'), 86400000000000);
  assert.is(j('time.parse_ns', 'Mon Jan _2 15:04:05 MST 2006', 'Tue Feb  6 10:00:00 UTC 2018'), '1517911200000000000');
  assert.is(j('time.parse_ns', '02 Jan 06 15:04 -0700', '06 Feb 18 10:00 +0100'), '1517907600000000000');
  assert.is(j('time.parse_ns', 'January 2, 2006 3:04PM', 'February 6, 2018 1:00PM'), '1517922000000000000');
  assert.is(j('time.parse_ns', 'RFC3339', '2018-02-06T10:00:00Z'), '1517911200000000000');
  assert.is(j('time.parse_ns', '2006-01-02 15:04:05', '2018-02-06 10:00:00.5'), '1517911200500000000');
  throws('time.parse_ns', ['2006-01-02', 'x'], 'eval_builtin_error', 'time.parse_ns: parsing time "x" as "2006-01-02": cannot parse "x" as "2006"');
  throws('time.parse_ns', ['2006-01-02', '2018-02-30'], 'eval_builtin_error', 'time.parse_ns: parsing time "2018-02-30": day out of range');
});

test('time.date, clock, weekday: UTC by default, zones by IANA name, "" and Local are UTC', () => {
  const ns = 1517832000n * 1000000000n; // 2018-02-05T12:00:00Z
  assert.is(j('time.date', [ns, '']), '[2018,2,5]');
  assert.is(j('time.date', ns), '[2018,2,5]');
  assert.is(j('time.clock', [ns, 'Local']), '[12,0,0]');
  assert.is(j('time.clock', [ns, 'America/New_York']), '[7,0,0]');
  assert.is(j('time.clock', [ns, 'Asia/Kolkata']), '[17,30,0]');
  assert.is(j('time.date', [ns - 13n * 3600n * 1000000000n, 'Pacific/Auckland']), '[2018,2,5]');
  assert.is(call('time.weekday', 1518004800000000000n), 'Wednesday');
  assert.is(call('time.weekday', [1518004800000000000n, 'Pacific/Kiritimati']), 'Thursday');
  throws('time.clock', [1582977600n * 1000000000000n], 'eval_builtin_error', 'time.clock: timestamp too big');
  throws('time.date', [[0, 'Mars/Olympus']], 'eval_builtin_error', 'time.date: unknown time zone Mars/Olympus');
});

test('time.format: RFC 3339 with nanoseconds by default, zone offsets across DST, Go layouts', () => {
  const ns = 1707133074028819500n; // 2024-02-05T11:37:54.0288195Z
  assert.is(call('time.format', ns), '2024-02-05T11:37:54.0288195Z');
  assert.is(call('time.format', [ns, 'America/New_York']), '2024-02-05T06:37:54.0288195-05:00');
  assert.is(call('time.format', [1720000000000000000n, 'America/New_York']), '2024-07-03T05:46:40-04:00');
  assert.is(call('time.format', [ns, 'UTC', 'Mon, 02 Jan 2006 15:04:05 MST']), 'Mon, 05 Feb 2024 11:37:54 UTC');
  assert.is(call('time.format', [ns, 'America/New_York', 'Mon Jan _2 3:04PM MST 2006']), 'Mon Feb  5 6:37AM EST 2024');
  assert.is(call('time.format', [ns, 'UTC', '2006-01-02T15:04:05.000Z07:00']), '2024-02-05T11:37:54.028Z');
  assert.is(call('time.format', [ns, 'Asia/Kolkata', 'Z07:00 -0700 002']), '+05:30 +0530 036');
  assert.is(call('time.format', [ns, 'UTC', 'DateOnly']), '2024-02-05');
});

test('time.add_date normalises like Go; time.diff counts calendar units', () => {
  const jan31 = 1580428800000000000n; // 2020-01-31T00:00:00Z
  assert.is(call('time.format', call('time.add_date', jan31, 0, 1, 0)!), '2020-03-02T00:00:00Z');
  assert.is(call('time.format', call('time.add_date', jan31, -1, 0, 1)!), '2019-02-01T00:00:00Z');
  assert.is(j('time.diff', 1707133074028819500n, 1600000000000000000n), '[3,4,21,23,11,14]');
  assert.is(j('time.diff', 0, 0), '[0,0,0,0,0,0]');
});

// ---- net ----

test('net.cidr_contains and cidr_intersects for IPv4 and IPv6', () => {
  assert.is(call('net.cidr_contains', '10.0.0.0/8', '10.1.2.3'), true);
  assert.is(call('net.cidr_contains', '10.0.0.0/8', '11.1.2.3'), false);
  assert.is(call('net.cidr_contains', '10.0.0.0/8', '10.1.0.0/16'), true);
  assert.is(call('net.cidr_contains', '10.1.0.0/16', '10.0.0.0/8'), false);
  assert.is(call('net.cidr_contains', '2001:db8::/32', '2001:db8:ffff::1'), true);
  assert.is(call('net.cidr_contains', '2001:db8::/32', '2001:db9::1'), false);
  assert.is(call('net.cidr_contains', 'fd1e:5bfe:8af3:9ddc::/64', 'fd1e:5bfe:8af3:9ddc:1111::/72'), true);
  assert.is(call('net.cidr_contains', '0.0.0.0/0', '::ffff:1.2.3.4'), true);
  assert.is(call('net.cidr_contains', '::/0', '1.2.3.4'), true);
  throws('net.cidr_contains', ['x', '1.2.3.4'], 'eval_builtin_error', 'net.cidr_contains: invalid CIDR address: x');
  throws('net.cidr_contains', ['10.0.0.0/8', 'nope'], 'eval_builtin_error', 'net.cidr_contains: invalid CIDR address: nope');
  assert.is(call('net.cidr_intersects', '192.168.0.0/16', '192.168.1.0/24'), true);
  assert.is(call('net.cidr_intersects', '192.168.0.0/24', '192.168.1.0/24'), false);
  assert.is(call('net.cidr_intersects', 'fd00::/8', 'fd12::/16'), true);
  assert.is(call('net.cidr_is_valid', '10.0.0.0/33'), false);
  assert.is(call('net.cidr_is_valid', '010.0.0.0/8'), false);
  assert.is(call('net.cidr_is_valid', '::1/128'), true);
});

// ---- units, semver, uuid ----

test('units.parse is exact, case-insensitive except milli, with OPA errors', () => {
  assert.is(call('units.parse', '500m'), 0.5);
  assert.is(call('units.parse', '0.0000005M'), 0.5);
  assert.is(call('units.parse', '1.1Ki'), 1126.4);
  assert.is(call('units.parse', '10Ei'), 11529215046068469760n);
  assert.is(call('units.parse', '100mi'), 104857600);
  assert.is(call('units.parse', '"100TI"'), 109951162777600);
  assert.is(call('json.marshal', call('units.parse', '1G')!), '1000000000');
  throws('units.parse', [''], 'eval_builtin_error', 'units.parse: no amount provided');
  throws('units.parse', ['G'], 'eval_builtin_error', 'units.parse: no amount provided');
  throws('units.parse', ['0.0.0'], 'eval_builtin_error', 'units.parse: could not parse amount to a number');
  throws('units.parse', [' 327Mi '], 'eval_builtin_error', 'units.parse: spaces not allowed in resource strings');
  assert.is(call('units.parse_bytes', '1.1KiB'), 1126);
  assert.is(call('units.parse_bytes', '10eib'), 11529215046068469760n);
  assert.is(call('units.parse_bytes', '"100TIB"'), 109951162777600);
  assert.is(call('units.parse_bytes', '.5KB'), 500);
  assert.is(call('units.parse_bytes', '200mb'), 200000000);
});

test('semver follows SemVer 2.0 precedence', () => {
  assert.is(call('semver.is_valid', '1.0.0-rc.1+build.5'), true);
  assert.is(call('semver.is_valid', 'v1.0.0'), false);
  assert.is(call('semver.compare', '1.0.0-alpha', '1.0.0'), -1);
  assert.is(call('semver.compare', '1.0.0-alpha.1', '1.0.0-alpha.beta'), -1);
  assert.is(call('semver.compare', '1.10.0', '1.9.0'), 1);
  assert.is(call('semver.compare', '1.0.0+a', '1.0.0+b'), 0);
  throws('semver.compare', ['1.0.0', '1'], 'eval_builtin_error', 'semver.compare: operand 2: string "1" is not a valid SemVer');
});

test('uuid.parse reports google/uuid fields; uuid.rfc4122 is stable per query', () => {
  assert.is(
    j('uuid.parse', 'urn:uuid:000003e8-48b9-21ee-b200-325096b39f47'),
    '{"clocksequence":12800,"domain":"Person","id":1000,"macvariables":"local:unicast","nodeid":"32-50-96-b3-9f-47","time":1693566990121469600,"variant":"RFC4122","version":2}',
  );
  assert.is(j('uuid.parse', '{00000000-0000-4000-8000-000000000000}'), '{"variant":"RFC4122","version":4}');
  assert.is(j('uuid.parse', '6bea8ef2d3d33cd184e09bab06a52ece'), '{"variant":"RFC4122","version":3}');
  assert.is(call('uuid.parse', 'not-a-uuid'), undefined);
  const c = ctx();
  const f = BUILTINS.get('uuid.rfc4122')!.fn;
  const a = f(['k'], c);
  assert.is(f(['k'], c), a);
  assert.is.not(f(['other'], c), a);
  assert.match(a as string, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.is.not(f(['k'], ctx()), a);
});

// ---- misc ----

test('print is variadic and writes strings bare, other values as Rego text', () => {
  const c = ctx();
  const r = BUILTINS.get('print')!.fn(['a', 1, obj({ x: set(1) }), set(), [true, null]], c);
  assert.is(r, true);
  assert.equal(c.lines, ['a 1 {"x": {1}} set() [true, null]']);
  assert.is(BUILTINS.get('print')!.arity, -1);
  assert.is(call('trace', 'note'), true);
  assert.is(j('opa.runtime'), '{"env":{}}');
});

test.run();
