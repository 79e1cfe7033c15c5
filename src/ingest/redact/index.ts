// Public surface of redaction; the pipeline, the audit ingest and tests import from here. The
// scanners behind it (identifier automaton, combined secret/PII patterns) are exported for
// tests and benchmarks, not as an API other stages should build on.

export {
  MAX_FIELD_KEY,
  REDACTION_CLASSES,
  RedactionTally,
  Redactor,
  fieldPath,
  isSecretKey,
  type RedactedDataClass,
  type RedactionClass,
  type RedactionCount,
} from './redactor.js';
export { IdentifierMatcher, isWordAt, type IdentifierHit } from './identifiers.js';
export {
  IMPLEMENTED_PII_CLASSES,
  PatternSet,
  cardNetwork,
  gs1Valid,
  ibanValid,
  isCardNumber,
  isPlaceholder,
  luhnValid,
  mayContainPattern,
  patternSetFor,
  type PatternClass,
  type PatternHit,
} from './patterns.js';
