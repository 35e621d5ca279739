import type { RegistrationSpec } from '../../src/config/registration.generated.js';
import type { DesiredItem, LiveItem } from '../../src/plan/types.js';

/** A small valid spec; `overrides` replace top-level fields. */
export function spec(overrides: Partial<RegistrationSpec> = {}): RegistrationSpec {
  return {
    application: 'checkout-service',
    events: ['Succeeded', 'Failed', 'Stopped'],
    channels: [
      { name: 'team-slack', type: 'slack', webhookUrl: { fromEnv: 'SLACK_WEBHOOK_CHECKOUT' }, events: ['Failed', 'Stopped'] },
      { name: 'owners', type: 'email', from: 'deploys@example.com', to: ['team@example.com'] },
    ],
    ...overrides,
  };
}

/** A desired item named `name`. */
export function desired(name: string, overrides: Partial<DesiredItem> = {}): DesiredItem {
  return { name, metadata: { owner: 'team-checkout' }, spec: spec(), source: { file: `registrations/${name}.yaml` }, ...overrides };
}

/** The live item an apply of `item` would have written. */
export function liveOf(item: DesiredItem, version = 1): LiveItem {
  return {
    name: item.name,
    managedBy: 'git',
    version,
    metadata: structuredClone(item.metadata),
    spec: structuredClone(item.spec),
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    source: item.source,
  };
}
