// Tenancy at ingest: which tenant each resource's data belongs to, decided from the token.
// One place decides it (Loki's "validation" idea): the token names the tenant(s) it may
// write for; a `tenant.id` resource attribute may only confirm that, never widen it.
//  - single-tenant token: no tenant.id -> the token's tenant; tenant.id of another tenant ->
//    the resource is rejected (isolation violation), the rest of the request is kept;
//  - multi-tenant token (a shared collector): tenant.id is required and must be one of the
//    token's tenants; without it the resource is rejected as missing tenant context.
import type { Principal, Registry, TenantRecord } from '../config/index.js';
import type { Attributes } from './otlp/types.js';

export const TENANT_ATTRIBUTE = 'tenant.id';

export type RejectReason = 'tenant_mismatch' | 'tenant_missing' | 'tenant_unknown' | 'invalid' | 'rate_limited';

/** Records refused for one reason, attributed to the tenant that sent them. */
export interface Rejection {
  /** The tenant charged with the rejection (the token's tenant when there is one). */
  tenantId: string;
  /** What the data claimed (`tenant.id`), "" when absent. */
  claimedTenant: string;
  reason: RejectReason;
  records: number;
  message: string;
  /** service.name of the rejected resource, when it has one. */
  service?: string;
}

/** Whose a resource's records are: a tenant the principal may write for, or a rejection (its records not yet counted). */
export type TenantDecision = { tenant: TenantRecord; rejection?: undefined } | { tenant?: undefined; rejection: Omit<Rejection, 'records'> };

/** Decide which tenant a resource's records belong to, or why they are refused. */
export function tenantFor(principal: Principal, resource: Attributes, registry: Registry): TenantDecision {
  const own = principal.tenants === 'all' ? undefined : [...principal.tenants];
  const single = own && own.length === 1 ? own[0] : undefined;
  const chargeTo = single ?? own?.[0] ?? '';
  const claimed = resource[TENANT_ATTRIBUTE] ?? '';
  let tenantId: string;
  if (claimed === '') {
    if (single === undefined) {
      return {
        rejection: {
          tenantId: chargeTo,
          claimedTenant: '',
          reason: 'tenant_missing',
          service: resource['service.name'] ?? '',
          message: `resource without a ${TENANT_ATTRIBUTE} attribute sent with a token for several tenants (${principal.name})`,
        },
      };
    }
    tenantId = single;
  } else if (principal.tenants === 'all' || principal.tenants.has(claimed)) {
    tenantId = claimed;
  } else {
    // A claimed value that is no registered tenant is client text like any attribute and
    // may carry anything (a secret, PII): it is neither echoed nor recorded.
    const registered = registry.tenant(claimed) !== undefined;
    return {
      rejection: {
        tenantId: chargeTo,
        claimedTenant: registered ? claimed : '',
        reason: 'tenant_mismatch',
        message: registered
          ? `resource ${TENANT_ATTRIBUTE}=${claimed} is not a tenant this token writes for`
          : `resource ${TENANT_ATTRIBUTE} names no tenant this token writes for (value not shown)`,
      },
    };
  }
  const tenant = registry.tenant(tenantId);
  if (!tenant) {
    return {
      rejection: {
        tenantId: chargeTo,
        claimedTenant: '',
        reason: 'tenant_unknown',
        message: `resource ${TENANT_ATTRIBUTE} names no tenant in the registry (value not shown)`,
      },
    };
  }
  return { tenant };
}
