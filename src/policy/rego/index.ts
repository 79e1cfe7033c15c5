// Entry point of tenantscope's Rego v1 engine.
export { RegoEngine, PreparedQuery, RegoError, RegoEvalError } from './engine.js';
export type { Bindings, ResultSet, EvalOptions } from './engine.js';
export { parseModule, parseQuery, parseTerm } from './parser.js';
export { runConformance, formatConformance } from './conformance.js';
export type { ConformanceReport, CaseResult } from './conformance.js';
export * from './value.js';
