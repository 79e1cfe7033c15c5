// A valid audit event of acme-dist, for tests that post audit events and vary one field.

/** A valid acme-dist data-export event, with `overrides` applied. */
export function auditEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    time: '2026-11-20T08:15:30.123456789Z',
    actor: { id: 'u-1842', type: 'user', tenant_id: 'acme-dist' },
    action: 'data.export',
    target: { type: 'dataset', id: 'orders-2026-q3', tenant_id: 'acme-dist' },
    outcome: 'success',
    region: 'us-east-1',
    source_ip: '203.0.113.7',
    attributes: { approval: 'CHG-5521', rows: '120440' },
    ...overrides,
  };
}
