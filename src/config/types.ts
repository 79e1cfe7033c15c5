// The tenant registry as the rest of tenantscope sees it: camelCase, fully resolved (tier
// defaults already applied), frozen. The YAML file and its JSON Schema use snake_case; only
// src/config/registry.ts knows both spellings.
//
// The `as const` lists below are the single TypeScript source of each union; the JSON Schema
// repeats them as enums (a test keeps the two in step), because the schema must stand alone
// for editors and CI linting of tenants.yaml.

/** The stored data classes; each has its own table and its own retention. */
export const DATA_CLASSES = ['spans', 'logs', 'metric_points', 'audit_events'] as const;
/** A stored data class: one ClickHouse table with a per-tenant TTL. */
export type DataClass = (typeof DATA_CLASSES)[number];

/** Isolation tiers, from most to least shared infrastructure. */
export const TIER_NAMES = ['shared', 'segmented', 'dedicated'] as const;
/** An isolation tier name. */
export type TierName = (typeof TIER_NAMES)[number];

/** Controls a tier or tenant can require; the tier-controls policy checks each one. */
export const CONTROLS = [
  'ingest_quota',
  'cross_tenant_redaction',
  'pii_redaction',
  'audit_chain',
  'access_review',
  'signed_evidence',
  'per_tenant_key',
  'eu_residency',
  'dedicated_storage',
] as const;
/** A named compliance control. */
export type Control = (typeof CONTROLS)[number];

/** PII classes a tenant's redaction policy can name. */
export const PII_CLASSES = [
  'email',
  'phone',
  'ip_address',
  'person_name',
  'postal_address',
  'national_id',
  'iban',
  'date_of_birth',
] as const;
/** A PII class the redaction stage knows how to find. */
export type PiiClass = (typeof PII_CLASSES)[number];

/** What a token may do: write telemetry, read reports, read evidence, or everything. */
export const TOKEN_KINDS = ['ingest', 'read', 'auditor', 'admin'] as const;
/** A token kind. */
export type TokenKind = (typeof TOKEN_KINDS)[number];

/** Days to keep each data class. */
export type RetentionDays = Readonly<Record<DataClass, number>>;

/** SLO objectives; availability and latency are ratios of good events over the window. */
export interface SloObjective {
  /** Target ratio of successful server requests, e.g. 0.995. */
  readonly availability: number;
  /** A request slower than this counts against the latency SLO. */
  readonly latencyThresholdMs: number;
  /** Target ratio of requests faster than `latencyThresholdMs`. */
  readonly latencyTarget: number;
  /** Rolling window over which the error budget is computed. */
  readonly windowDays: number;
  /** Minimum-traffic guard: a burn-rate pair whose long window holds fewer events neither fires nor opens an episode. */
  readonly minEvents: number;
}

/** An SLA: the monthly availability promised and the credits owed below it. */
export interface SlaTerms {
  readonly availability: number;
  /** Below `below` monthly availability, `percent` of the monthly fee is credited; the lowest reached applies. */
  readonly credits: readonly { readonly below: number; readonly percent: number }[];
}

/** The parts of a platform a complete backup set covers. */
export const RECOVERY_COMPONENTS = ['database', 'object_storage', 'queue', 'config', 'integration_state'] as const;
/** A part of a platform a complete backup set covers. */
export type RecoveryComponent = (typeof RECOVERY_COMPONENTS)[number];

/** Recovery objectives of a tier, or of a tenant's contract. */
export interface RecoveryObjectives {
  /** A restorable backup of every required component must always be younger than this. */
  readonly rpoMinutes: number;
  /** A restore test must finish within this. */
  readonly rtoMinutes: number;
  /** A tenant-scope restore test must have passed within this many days. */
  readonly restoreTestDays: number;
  /** Backups must be kept at least this long. */
  readonly backupRetentionDays: number;
  /** The components a complete backup set covers. */
  readonly components: readonly RecoveryComponent[];
  /** A copy in a second allowed region and a tested failover are required. */
  readonly drRegionRequired: boolean;
}

/** Ingest rate limits (token buckets per tenant). */
export interface Quotas {
  readonly eventsPerSecond: number;
  readonly bytesPerSecond: number;
}

/** Defaults and requirements of one isolation tier. */
export interface Tier {
  readonly name: TierName;
  readonly slo: SloObjective;
  /** Least retention a tenant of this tier must have; also the fallback for unset classes. */
  readonly retentionMinDays: RetentionDays;
  /** Most retention allowed without a legal hold. */
  readonly retentionMaxDays: RetentionDays;
  /** Controls every tenant of this tier must satisfy. */
  readonly controls: readonly Control[];
  readonly quotas: Quotas;
  readonly recovery: RecoveryObjectives;
  readonly sla: SlaTerms;
}

/** One tenant with its effective (tier-resolved) values. */
export interface TenantRecord {
  readonly id: string;
  readonly name: string;
  readonly tier: TierName;
  /** Home region, always one of `allowedRegions`. */
  readonly region: string;
  readonly allowedRegions: readonly string[];
  /** Strings naming this tenant inside payloads; always starts with the tenant id. */
  readonly identifiers: readonly string[];
  /** Effective retention: the tenant's value, else the tier minimum. */
  readonly retentionDays: RetentionDays;
  /** Only the classes the registry sets explicitly (evidence shows where a value came from). */
  readonly retentionConfigured: Readonly<Partial<Record<DataClass, number>>>;
  /** Tier SLO with the tenant's overrides applied. */
  readonly slo: SloObjective;
  /** The tier's recovery objectives with the tenant's contract terms over them. */
  readonly recovery: RecoveryObjectives;
  /** The tier's SLA with the tenant's contract terms over it. */
  readonly sla: SlaTerms;
  /** The monthly fee SLA credits are a percent of: the contract's, else the price card's for the tier. */
  readonly monthlyFee: number;
  /** Tier quotas with the tenant's overrides applied. */
  readonly quotas: Quotas;
  /** Tier controls plus the tenant's own, without duplicates, tier ones first. */
  readonly controls: readonly Control[];
  readonly encryptionKeyId?: string;
  readonly legalHold: boolean;
  readonly piiClasses: readonly PiiClass[];
  /** Support tickets the tenant approved, each with its window. */
  readonly supportTickets: readonly SupportTicket[];
}

/** A support ticket a tenant approved: cross-tenant support access is allowed under it, inside its window. */
export interface SupportTicket {
  readonly ticket: string;
  /** RFC 3339, inclusive. */
  readonly from: string;
  /** RFC 3339, exclusive. */
  readonly until: string;
}

/** A token as stored: a SHA-256 digest, never the plaintext. */
export interface TokenRecord {
  readonly name: string;
  readonly kind: TokenKind;
  /** 64 lowercase hex digits. */
  readonly sha256: string;
  /** Tenants the token is scoped to; empty for admin tokens, which reach every tenant. */
  readonly tenants: readonly string[];
}

/** The authenticated caller behind a request. */
export interface Principal {
  readonly kind: TokenKind;
  /** The token's registry name; audit events record it as "who". */
  readonly name: string;
  readonly tenants: ReadonlySet<string> | 'all';
}

/** Service-wide settings, defaults applied. */
export interface Settings {
  /** Largest request body as received (compressed or not). */
  readonly maxRequestBytes: number;
  /** Limits on what a request may hold (`settings.limits`). */
  readonly limits: InputLimits;
  /** Services that serve several tenants; their telemetry must say which tenant it is for. */
  readonly multiTenantServices: readonly string[];
  readonly priceCard: PriceCard;
}

/**
 * Limits on request content. OTLP: nesting past `maxDepth` refuses the request; attributes
 * over `maxAttributes` or with keys over `maxStringLength` are dropped and counted, longer
 * strings are cut (src/ingest/otlp/limits.ts). Audit events over any limit are refused.
 */
export interface InputLimits {
  /** Largest body after Content-Encoding is undone. */
  readonly maxDecompressedBytes: number;
  /** Deepest AnyValue nesting (OTLP) or JSON nesting of an event (audit). */
  readonly maxDepth: number;
  /** Most attributes per attribute set (resource, scope, record, event, link, audit event). */
  readonly maxAttributes: number;
  /** Longest attribute key or string value, log body or name, in characters (code points). */
  readonly maxStringLength: number;
}

/** What the cost report charges, in `currency`. */
export interface PriceCard {
  readonly currency: string;
  /** Per second of server-span busy time. */
  readonly cpuSecond: number;
  /** Per GB (10^9 bytes) kept for a 30-day month. */
  readonly gbMonthStored: number;
  /** Per GB accepted at ingest. */
  readonly gbIngested: number;
  readonly perMillionRequests: number;
  /** Fixed platform cost per day, shared among tenants by usage. */
  readonly platformPerDay: number;
  /** Monthly fee per tier: what SLA credits are a percent of. */
  readonly monthlyFee: Readonly<Record<TierName, number>>;
}

/** One mistake in a registry file, located as precisely as the YAML allows. */
export interface RegistryProblem {
  readonly file: string;
  /** Path inside the document such as `tenants[2].retention.spans`; '' for the document itself. */
  readonly path: string;
  /** 1-based; 0 when the problem has no position (e.g. the file cannot be read). */
  readonly line: number;
  /** 1-based; 0 when the problem has no position. */
  readonly column: number;
  readonly message: string;
}

/** The loaded, validated tenant registry. */
export interface Registry {
  /** The file it was loaded from (as given by the caller). */
  readonly file: string;
  readonly version: 1;
  readonly tiers: Readonly<Record<TierName, Tier>>;
  readonly settings: Settings;
  /** The tenant with this id, if any. */
  tenant(id: string): TenantRecord | undefined;
  /** All tenants in file order. */
  tenants(): readonly TenantRecord[];
  /** All tokens in file order (digests only). */
  tokens(): readonly TokenRecord[];
  /** The principal for a presented plaintext token, or undefined if it is unknown. */
  authenticate(plaintextToken: string): Principal | undefined;
  /** Whether the principal may read reports or evidence of an existing tenant. */
  canRead(principal: Principal, tenantId: string): boolean;
  /** Whether the principal may write telemetry for an existing tenant. */
  canIngest(principal: Principal, tenantId: string): boolean;
  /** Identifiers of a tenant (its id first); empty for an unknown tenant. */
  identifiersOf(tenantId: string): readonly string[];
  /** The tenant an identifier names (case-insensitive), if any. */
  ownerOfIdentifier(value: string): string | undefined;
}
