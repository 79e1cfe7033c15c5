// The tenant registry as policies read it: data.tenantscope.registry, in the snake_case
// shape the Rego policies in policies/ use (effective values: tier defaults applied).
import type { DataClass, RecoveryObjectives, Registry, Tier } from '../config/types.js';

/** One tenant as policies see it. */
export interface PolicyTenant {
  id: string;
  name: string;
  tier: string;
  region: string;
  allowed_regions: string[];
  identifiers: string[];
  /** Effective retention in days per data class. */
  retention: Record<string, number>;
  legal_hold: boolean;
  encryption_key_id: string;
  quotas: { events_per_second: number; bytes_per_second: number };
  /** Effective recovery objectives (tier, with the tenant's contract terms). */
  recovery: PolicyRecovery;
  controls: string[];
  pii_classes: string[];
  /** Support tickets the tenant approved, with their windows (RFC 3339). */
  support_tickets: { ticket: string; from: string; until: string }[];
}

/** Recovery objectives as policies read them. */
export interface PolicyRecovery {
  rpo_minutes: number;
  rto_minutes: number;
  restore_test_days: number;
  backup_retention_days: number;
  components: string[];
  dr_region_required: boolean;
}

/** Recovery objectives in the policies' (and reports') snake_case shape. */
export function recoveryDocument(r: RecoveryObjectives): PolicyRecovery {
  return {
    rpo_minutes: r.rpoMinutes,
    rto_minutes: r.rtoMinutes,
    restore_test_days: r.restoreTestDays,
    backup_retention_days: r.backupRetentionDays,
    components: [...r.components],
    dr_region_required: r.drRegionRequired,
  };
}

/** One tier's requirements. */
export interface PolicyTier {
  retention_min_days: Record<string, number>;
  retention_max_days: Record<string, number>;
  controls: string[];
  quotas: { events_per_second: number; bytes_per_second: number };
  recovery: PolicyRecovery;
}

/** data.tenantscope.registry. */
export interface RegistryDocument {
  tenants: Record<string, PolicyTenant>;
  tiers: Record<string, PolicyTier>;
  /** Services that serve several tenants: their telemetry must carry tenant.id. */
  multi_tenant_services: string[];
}

function days(r: Readonly<Record<DataClass, number>>): Record<string, number> {
  return { ...r };
}

function tierDocument(t: Tier): PolicyTier {
  return {
    retention_min_days: days(t.retentionMinDays),
    retention_max_days: days(t.retentionMaxDays),
    controls: [...t.controls],
    quotas: { events_per_second: t.quotas.eventsPerSecond, bytes_per_second: t.quotas.bytesPerSecond },
    recovery: recoveryDocument(t.recovery),
  };
}

/** Build the registry document policies evaluate against. */
export function registryDocument(reg: Registry): RegistryDocument {
  const tenants: Record<string, PolicyTenant> = {};
  for (const t of reg.tenants()) {
    tenants[t.id] = {
      id: t.id,
      name: t.name,
      tier: t.tier,
      region: t.region,
      allowed_regions: [...t.allowedRegions],
      identifiers: [...t.identifiers],
      retention: days(t.retentionDays),
      legal_hold: t.legalHold,
      encryption_key_id: t.encryptionKeyId ?? '',
      quotas: { events_per_second: t.quotas.eventsPerSecond, bytes_per_second: t.quotas.bytesPerSecond },
      recovery: recoveryDocument(t.recovery),
      controls: [...t.controls],
      pii_classes: [...t.piiClasses],
      support_tickets: t.supportTickets.map((x) => ({ ticket: x.ticket, from: x.from, until: x.until })),
    };
  }
  const tiers: Record<string, PolicyTier> = {};
  for (const [name, tier] of Object.entries(reg.tiers)) tiers[name] = tierDocument(tier);
  return { tenants, tiers, multi_tenant_services: [...reg.settings.multiTenantServices] };
}
