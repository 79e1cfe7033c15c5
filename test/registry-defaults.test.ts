// Tier defaults: a tenant that leaves a quota, retention class, SLO or recovery field out of its entry
// runs with its tier's value for that field, never 0, nothing or unlimited, even when it sets
// the other fields of the same group. One test per field, each on a tenant of every tier.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { parseRegistry, TIER_NAMES, type Registry, type TenantRecord, type TierName } from '../src/config/index.js';

// Compiled to dist/test/, so the repo root is two levels up.
const SCHEMA_URL = new URL('../../src/config/registry.schema.json', import.meta.url);

type Values = Readonly<Record<string, number | boolean | readonly string[] | readonly { below: number; percent: number }[]>>;

/** A group of tenant fields that each fall back to a tier default. */
interface Group {
  /** The group's key in a tenant entry. */
  readonly tenantKey: 'quotas' | 'retention' | 'slo' | 'recovery' | 'sla';
  /** The tier key holding the defaults. */
  readonly tierKey: 'quotas' | 'retention_min_days' | 'slo' | 'recovery' | 'sla';
  /** The schema definition that lists the fields a tenant may set. */
  readonly schemaDef: 'quotasPartial' | 'retentionPartial' | 'sloPartial' | 'recoveryPartial' | 'slaPartial';
  readonly tiers: Readonly<Record<TierName, Values>>;
  /** What the tenant writes for the fields it does not omit. */
  readonly overrides: Values;
  /** Where the resolved group is on a tenant record. */
  readonly recordKey: 'quotas' | 'retentionDays' | 'slo' | 'recovery' | 'sla';
}

/** A resolved group keyed by field names as the file spells them (eventsPerSecond: events_per_second). */
const resolved = (t: TenantRecord, group: Group): Values =>
  Object.fromEntries(Object.entries(t[group.recordKey]).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]));

// Every number below is finite, positive and different from every other number of its group
// (tiers, overrides and retention maximums alike), so a field resolved to 0, to nothing, to
// Infinity, to another tier's or another field's value, to the tier maximum or to the override
// of a neighbouring field fails its test.
const GROUPS: readonly Group[] = [
  {
    tenantKey: 'sla',
    tierKey: 'sla',
    schemaDef: 'slaPartial',
    tiers: {
      shared: { availability: 0.995, credits: [{ below: 0.995, percent: 10 }, { below: 0.99, percent: 25 }] },
      segmented: { availability: 0.999, credits: [{ below: 0.999, percent: 11 }] },
      dedicated: { availability: 0.9995, credits: [{ below: 0.9995, percent: 12 }, { below: 0.999, percent: 26 }, { below: 0.995, percent: 51 }] },
    },
    overrides: { availability: 0.97, credits: [{ below: 0.97, percent: 33 }] },
    recordKey: 'sla',
  },
  {
    tenantKey: 'recovery',
    tierKey: 'recovery',
    schemaDef: 'recoveryPartial',
    tiers: {
      shared: { rpo_minutes: 60, rto_minutes: 240, restore_test_days: 90, backup_retention_days: 30, components: ['database', 'config'], dr_region_required: false },
      segmented: { rpo_minutes: 31, rto_minutes: 121, restore_test_days: 29, backup_retention_days: 35, components: ['database', 'object_storage', 'queue'], dr_region_required: false },
      dedicated: { rpo_minutes: 14, rto_minutes: 61, restore_test_days: 28, backup_retention_days: 91, components: ['database', 'object_storage', 'queue', 'config', 'integration_state'], dr_region_required: true },
    },
    overrides: { rpo_minutes: 5, rto_minutes: 17, restore_test_days: 7, backup_retention_days: 400, components: ['integration_state'], dr_region_required: true },
    recordKey: 'recovery',
  },
  {
    tenantKey: 'quotas',
    tierKey: 'quotas',
    schemaDef: 'quotasPartial',
    tiers: {
      shared: { events_per_second: 1000, bytes_per_second: 2_000_000 },
      segmented: { events_per_second: 5000, bytes_per_second: 8_000_000 },
      dedicated: { events_per_second: 20_000, bytes_per_second: 50_000_000 },
    },
    overrides: { events_per_second: 123, bytes_per_second: 456_789 },
    recordKey: 'quotas',
  },
  {
    tenantKey: 'retention',
    tierKey: 'retention_min_days',
    schemaDef: 'retentionPartial',
    tiers: {
      shared: { spans: 7, logs: 14, metric_points: 30, audit_events: 365 },
      segmented: { spans: 10, logs: 21, metric_points: 45, audit_events: 400 },
      dedicated: { spans: 15, logs: 31, metric_points: 60, audit_events: 730 },
    },
    overrides: { spans: 3, logs: 5, metric_points: 9, audit_events: 500 },
    recordKey: 'retentionDays',
  },
  {
    tenantKey: 'slo',
    tierKey: 'slo',
    schemaDef: 'sloPartial',
    tiers: {
      shared: { availability: 0.99, latency_threshold_ms: 800, latency_target: 0.9, window_days: 28, min_events: 101 },
      segmented: { availability: 0.995, latency_threshold_ms: 500, latency_target: 0.95, window_days: 30, min_events: 51 },
      dedicated: { availability: 0.999, latency_threshold_ms: 250, latency_target: 0.97, window_days: 7, min_events: 21 },
    },
    overrides: { availability: 0.98, latency_threshold_ms: 1200, latency_target: 0.85, window_days: 14, min_events: 3 },
    recordKey: 'slo',
  },
];

const RETENTION_MAX_DAYS = { spans: 90, logs: 180, metric_points: 390, audit_events: 2555 };

const tenantId = (tier: TierName) => `${tier}-co`;

/** The group's overrides without `field`: what a tenant writes when it omits that field. */
function overridesWithout(group: Group, field: string): Values {
  return Object.fromEntries(Object.entries(group.overrides).filter(([k]) => k !== field));
}

/** A registry with one tenant per tier, each writing `entry` into its `group` and nothing else. */
function registryWith(group: Group, entry: Values): Registry {
  const tiers = Object.fromEntries(
    TIER_NAMES.map((tier) => [
      tier,
      {
        ...Object.fromEntries(GROUPS.map((g) => [g.tierKey, g.tiers[tier]])),
        retention_max_days: RETENTION_MAX_DAYS,
        controls: ['ingest_quota'],
      },
    ]),
  );
  const tenants = TIER_NAMES.map((tier) => ({
    id: tenantId(tier),
    name: `${tier} Co.`,
    tier,
    region: 'us-east-1',
    allowed_regions: ['us-east-1'],
    identifiers: [`${tenantId(tier)}.example.com`],
    [group.tenantKey]: entry,
  }));
  return parseRegistry(stringify({ version: 1, tiers, tenants, tokens: [] }), `omits-${group.tenantKey}.yaml`);
}

for (const group of GROUPS) {
  for (const field of Object.keys(group.overrides)) {
    test(`a tenant that omits ${group.tenantKey}.${field} inherits its tier's ${group.tierKey}.${field}`, () => {
      const written = overridesWithout(group, field);
      const registry = registryWith(group, written);
      for (const tier of TIER_NAMES) {
        const t = registry.tenant(tenantId(tier))!;
        const inherited = group.tiers[tier][field];
        // Compared on its own first: a diff of the whole group would print Infinity as null.
        assert.equal(resolved(t, group)[field], inherited, `${tier} tenant's ${group.tenantKey}.${field}`);
        // Then the whole group, so the fields the tenant did write are shown to be its own: the
        // omitted one was left out of a partial override, not inherited with the whole group.
        assert.equal(resolved(t, group), { ...written, [field]: inherited }, `${tier} tenant's ${group.tenantKey}`);
        // Evidence reports show an inherited class as not configured by the tenant.
        if (group.tenantKey === 'retention') assert.equal(t.retentionConfigured, written, `${tier} tenant's configured retention`);
      }
    });
  }
}

test('the tests above cover every quota, retention, SLO, recovery and SLA field a tenant may set', () => {
  const schema = JSON.parse(readFileSync(SCHEMA_URL, 'utf8'));
  for (const group of GROUPS) {
    const fields = Object.keys(schema.$defs[group.schemaDef].properties).sort();
    assert.equal(Object.keys(group.overrides).sort(), fields, `${group.tenantKey} fields`);
    for (const tier of TIER_NAMES) assert.equal(Object.keys(group.tiers[tier]).sort(), fields, `${tier} ${group.tierKey} fields`);
  }
});

test("a tenant without a contract fee pays its tier's fee from the price card; a contract fee replaces it", () => {
  const registry = parseRegistry(
    stringify({
      version: 1,
      tiers: Object.fromEntries(TIER_NAMES.map((tier) => [tier, { ...Object.fromEntries(GROUPS.map((g) => [g.tierKey, g.tiers[tier]])), retention_max_days: RETENTION_MAX_DAYS, controls: ['ingest_quota'] }])),
      tenants: TIER_NAMES.map((tier) => ({ id: tenantId(tier), name: `${tier} Co.`, tier, region: 'us-east-1', allowed_regions: ['us-east-1'], identifiers: [`${tenantId(tier)}.example.com`], ...(tier === 'dedicated' ? { monthly_fee: 31_000 } : {}) })),
      tokens: [],
      settings: { price_card: { monthly_fee: { shared: 2500, segmented: 12_000 } } },
    }),
    'fees.yaml',
  );
  assert.is(registry.tenant(tenantId('shared'))!.monthlyFee, 2500);
  assert.is(registry.tenant(tenantId('segmented'))!.monthlyFee, 12_000);
  assert.is(registry.tenant(tenantId('dedicated'))!.monthlyFee, 31_000);
  assert.is(registry.settings.priceCard.monthlyFee.dedicated, 0, 'a tier the card leaves out costs nothing');
});

test.run();
