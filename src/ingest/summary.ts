// What one ingest request did, per tenant, in the shape the streamed isolation policies read
// (IngestSummaryInput): which tenants the token may write for and which ones the data claimed,
// records and services without tenant context, whose identifiers were redacted, regions, and
// a few trace ids as evidence. Counts and names only: never a payload value.
import type { Principal } from '../config/index.js';
import type { IngestSummaryInput, StreamedInput } from '../policy/types.js';
import type { Attributes, Signal } from './otlp/types.js';
import { TENANT_ATTRIBUTE, type Rejection } from './tenancy.js';

const MAX_TRACE_IDS = 5;
const MAX_NAMES = 20;

export const SERVICE_ATTRIBUTE = 'service.name';
export const REGION_ATTRIBUTE = 'cloud.region';

/** Builds the per-tenant summaries of one request. */
export class SummaryBuilder {
  private readonly byTenant = new Map<string, IngestSummaryInput>();

  constructor(
    private readonly principal: Principal,
    private readonly requestId: string,
    private readonly signal: Signal | 'audit',
  ) {}

  private of(tenant: string): IngestSummaryInput {
    let s = this.byTenant.get(tenant);
    if (!s) {
      const p = this.principal;
      s = {
        kind: 'ingest_summary',
        tenant,
        request_id: this.requestId,
        signal: this.signal,
        token: p.name,
        token_tenants: p.tenants === 'all' ? [] : [...p.tenants],
        claimed_tenants: [],
        records: 0,
        records_without_tenant: 0,
        services_without_tenant: [],
        redacted_tenants: {},
        redactions: {},
        regions: [],
        trace_ids: [],
      };
      this.byTenant.set(tenant, s);
    }
    return s;
  }

  /** What `tenant`'s accepted data adds to its summary, group by group and record by record. */
  tenant(tenant: string): TenantSummary {
    return new TenantSummary(this.of(tenant));
  }

  /** Records refused by tenancy, charged to the rejection's tenant. */
  rejected(r: Rejection): void {
    if (r.tenantId === '' || r.reason === 'invalid') return;
    const s = this.of(r.tenantId);
    if (r.reason === 'tenant_missing') {
      s.records_without_tenant += r.records;
      addName(s.services_without_tenant, r.service ?? '');
    }
    if (r.reason === 'tenant_mismatch' && r.claimedTenant !== '') addName(s.claimed_tenants, r.claimedTenant);
  }

  /** Records of an audit batch, accepted for `tenant` (their regions are judged event by event). */
  records(tenant: string, n: number): void {
    const s = this.of(tenant);
    s.records += n;
    addName(s.claimed_tenants, tenant);
  }

  /** Redactions in `tenant`'s data: per class, and identifiers per owning tenant. */
  redacted(tenant: string, byClass: Record<string, number>, owners: Record<string, number>): void {
    const s = this.of(tenant);
    for (const [k, n] of Object.entries(byClass)) s.redactions[k] = (s.redactions[k] ?? 0) + n;
    for (const [k, n] of Object.entries(owners)) s.redacted_tenants[k] = (s.redacted_tenants[k] ?? 0) + n;
  }

  summaries(): IngestSummaryInput[] {
    return [...this.byTenant.values()];
  }
}

/** One tenant's part of a request summary, filled while its records are decoded. */
export class TenantSummary {
  constructor(private readonly s: IngestSummaryInput) {}

  /** A resource group of `records` accepted records (its attributes as they will be stored). */
  group(attrs: Attributes, records: number): void {
    const s = this.s;
    s.records += records;
    const claimed = attrs[TENANT_ATTRIBUTE] ?? '';
    if (claimed === '') {
      s.records_without_tenant += records;
      addName(s.services_without_tenant, attrs[SERVICE_ATTRIBUTE] ?? '');
    } else addName(s.claimed_tenants, claimed);
    addName(s.regions, attrs[REGION_ATTRIBUTE] ?? '');
  }

  /** A trace id of an accepted span or log record, kept as evidence; false once enough are kept. */
  traceId(id: string): boolean {
    const ids = this.s.trace_ids;
    if (ids.length >= MAX_TRACE_IDS) return false;
    if (id) addName(ids, id);
    return true;
  }
}

function addName(list: string[], name: string): void {
  if (name === '' || list.length >= MAX_NAMES || list.includes(name)) return;
  list.push(name.length > 256 ? name.slice(0, 256) : name);
}

/** The streamed policy stage as ingest sees it: hand over inputs, wait at most its budget. */
export interface PolicyStage {
  submit(inputs: readonly StreamedInput[]): Promise<void>;
}
