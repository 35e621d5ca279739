// The reference scenario: deployments of registered, unregistered and filtered applications and
// groups, a blue/green wait, a rollback, a deployment listed late, one stopped before it started,
// one created and finished between two polls, and registrations added midway.
import type { LiveRegistration } from '../../src/store/ports.js';
import { liveRegistration } from './fixtures.js';
import { T0, type Step } from './world.js';

const DAY = 24 * 3_600_000;

/** The registrations live at the start. */
export function initialRegistrations(): LiveRegistration[] {
  return [
    liveRegistration('shop-all', { application: 'shop' }, { owner: 'team-shop', labels: { tier: 'critical' }, createdAt: T0 - DAY }),
    liveRegistration('api-prod', {
      application: 'api',
      deploymentGroups: ['prod'],
      channels: [
        { name: 'chat', type: 'slack', webhookUrl: { fromEnv: 'SLACK_API' }, events: ['Failed'] },
        { name: 'topic', type: 'sns', topicArn: 'arn:aws:sns:us-east-1:123456789012:deploys' },
      ],
    }, { createdAt: T0 - DAY }),
  ];
}

/** The steps (one simulated minute each by default). */
export const STEPS: readonly Step[] = [
  // 1
  ({ model }) => {
    model.createDeployment({ deploymentId: 'd-1', application: 'shop', group: 'prod', status: 'InProgress', revision: { revisionType: 'GitHub', gitHubLocation: { repository: 'acme/shop', commitId: 'a1b2c3d4e5' } } });
    model.createDeployment({ deploymentId: 'd-2', application: 'api', group: 'prod' });
    model.createDeployment({ deploymentId: 'd-3', application: 'api', group: 'staging', status: 'InProgress' });
    model.createDeployment({ deploymentId: 'd-4', application: 'other', group: 'x', status: 'InProgress' });
    model.createDeployment({ deploymentId: 'd-5', application: 'shop', group: 'canary', status: 'InProgress', listingDelayMs: 90_000 });
  },
  // 2
  ({ model }) => {
    model.setStatus('d-2', 'InProgress');
    model.setStatus('d-1', 'Ready');
  },
  // 3
  ({ model }) => {
    model.setStatus('d-1', 'InProgress');
    model.setStatus('d-3', 'Succeeded');
    model.setStatus('d-4', 'Succeeded');
    model.createDeployment({ deploymentId: 'd-7', application: 'other', group: 'x', status: 'InProgress' });
  },
  // 4
  ({ model }) => {
    model.setStatus('d-1', 'Succeeded');
    model.rollback('d-2');
  },
  // 5: a registration for "other" becomes live while d-7 is running
  ({ model, registrations, now }) => {
    const rollback = model.all().find((d) => d.creator === 'codeDeployRollback');
    if (rollback) model.setStatus(rollback.deploymentId, 'InProgress');
    registrations.push(liveRegistration('other-all', { application: 'other' }, { createdAt: now }));
  },
  // 6
  ({ model }) => {
    const rollback = model.all().find((d) => d.creator === 'codeDeployRollback');
    if (rollback) model.setStatus(rollback.deploymentId, 'Succeeded');
    model.setStatus('d-7', 'Succeeded');
    model.setStatus('d-5', 'Succeeded');
  },
  // 7
  ({ model }) => {
    model.createDeployment({ deploymentId: 'd-8', application: 'shop', group: 'prod', status: 'Queued' });
    model.setStatus('d-8', 'Stopped');
    model.createDeployment({ deploymentId: 'd-9', application: 'shop', group: 'prod', status: 'InProgress' });
    model.setStatus('d-9', 'Succeeded');
  },
  // 8: a registration added after all of this hears nothing of it
  ({ registrations, now }) => {
    registrations.push(liveRegistration('shop-late', { application: 'shop' }, { createdAt: now }));
  },
];

/** What the scenario must deliver: deploymentId:event:registration/channel, sorted. */
export function expectedKeys(rollbackId: string): string[] {
  return [
    'd-1:Started:shop-all/hook',
    'd-1:Ready:shop-all/hook',
    'd-1:Succeeded:shop-all/hook',
    'd-5:Started:shop-all/hook',
    'd-5:Succeeded:shop-all/hook',
    'd-8:Stopped:shop-all/hook',
    'd-9:Started:shop-all/hook',
    'd-9:Succeeded:shop-all/hook',
    'd-2:Failed:api-prod/chat',
    'd-2:Failed:api-prod/topic',
    `${rollbackId}:Succeeded:api-prod/topic`,
    'd-7:Succeeded:other-all/hook',
  ].sort();
}
