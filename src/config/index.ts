// The tenant registry's public surface; other modules import from here, not from the files
// behind it, so the loader's internals can change freely.

export { DEFAULT_SETTINGS, formatPath, formatProblem, loadRegistry, parseRegistry } from './registry.js';
export {
  CONTROLS,
  DATA_CLASSES,
  PII_CLASSES,
  TIER_NAMES,
  TOKEN_KINDS,
  type Control,
  type DataClass,
  type PiiClass,
  type PriceCard,
  type Principal,
  type Quotas,
  type RecoveryComponent,
  type RecoveryObjectives,
  type SlaTerms,
  type Registry,
  type RegistryProblem,
  type RetentionDays,
  type Settings,
  type SloObjective,
  type SupportTicket,
  type TenantRecord,
  type Tier,
  type TierName,
  type TokenKind,
  type TokenRecord,
} from './types.js';
