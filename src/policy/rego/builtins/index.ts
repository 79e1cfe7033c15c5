// The builtin registry: every builtin function the evaluator can call, by its dotted name.
// Infix operators resolve to builtins too (`+` is `plus`, `==` is `equal`, `|` is `or`,
// `&` is `and`, `in` is `internal.member_2`), as in OPA.
import type { BuiltinDef } from './types.js';

export type { BuiltinContext, BuiltinDef, BuiltinFn, BuiltinErrorCode } from './types.js';
export { BuiltinError } from './types.js';

/** All builtins by name. Modules of this folder add theirs through `register`. */
export const BUILTINS = new Map<string, BuiltinDef>();

/** Add builtin definitions to the registry (a later definition of a name replaces it). */
export function register(defs: readonly BuiltinDef[]): void {
  for (const d of defs) BUILTINS.set(d.name, d);
}

// The family modules export their definitions instead of registering themselves: a module that
// imported `register` from here would run before BUILTINS is initialised (ESM evaluates
// imports first, and the import cycle would hit the const's temporal dead zone).
import { DEFS as numbers } from './numbers.js';
import { DEFS as aggregates } from './aggregates.js';
import { DEFS as strings } from './strings.js';
import { DEFS as sprintf } from './sprintf.js';
import { DEFS as regex } from './regex.js';
import { DEFS as glob } from './glob.js';
import { DEFS as objects } from './objects.js';
import { DEFS as sets } from './sets.js';
import { DEFS as types } from './types-builtins.js';
import { DEFS as encoding } from './encoding.js';
import { DEFS as crypto } from './crypto.js';
import { DEFS as time } from './time.js';
import { DEFS as net } from './net.js';
import { DEFS as units } from './units.js';
import { DEFS as semver } from './semver.js';
import { DEFS as uuid } from './uuid.js';
import { DEFS as misc } from './misc.js';

for (const defs of [numbers, aggregates, strings, sprintf, regex, glob, objects, sets, types, encoding, crypto, time, net, units, semver, uuid, misc]) register(defs);
