// The cardinality guard for tenant labels. Every tenant label value is a set of series in
// Prometheus; a platform with thousands of tenants must not turn /metrics into millions of
// series. The first `max` tenants seen keep their own label (a registry's tenants are known and
// few in most deployments, so first-seen is stable in practice); every later one is folded
// into tenant="other", tier="other", and how many were folded is itself exported.
import type { Registry } from '../config/index.js';

export const OTHER = 'other';

/** Records no tenant could be charged for (a shared collector's resource without tenant.id). */
const UNATTRIBUTED: TenantLabelSet = { tenant: 'unattributed', tier: 'none' };

/** Default number of tenants with a label of their own. */
export const DEFAULT_MAX_TENANT_LABELS = 500;

export interface TenantLabelSet {
  tenant: string;
  tier: string;
}

export class TenantLabels {
  private readonly labelled = new Map<string, TenantLabelSet>();
  private readonly folded = new Set<string>();

  constructor(
    private readonly registry: Registry,
    readonly max: number = DEFAULT_MAX_TENANT_LABELS,
  ) {}

  /** The labels a tenant's series carry: its own, or the folded ones past the limit. */
  of(tenantId: string): TenantLabelSet {
    const known = this.labelled.get(tenantId);
    if (known) return known;
    if (tenantId === '') return UNATTRIBUTED;
    if (this.labelled.size >= this.max) {
      this.folded.add(tenantId);
      return { tenant: OTHER, tier: OTHER };
    }
    const labels = { tenant: tenantId, tier: this.registry.tenant(tenantId)?.tier ?? 'unknown' };
    this.labelled.set(tenantId, labels);
    return labels;
  }

  /** Tenants with labels of their own, and tenants folded into "other". */
  counts(): { labelled: number; folded: number } {
    return { labelled: this.labelled.size, folded: this.folded.size };
  }
}
