import type { DeploymentInfo } from '@aws-sdk/client-codedeploy';
import { describe, expect, it } from 'vitest';
import { deliveryId, type EventType } from '../../src/core/events.js';
import { toDeploymentEvent } from '../../src/poll/event.js';
import { matchNotifications, registrationRef } from '../../src/poll/match.js';
import { accountFromRoleArn, applicationsOf, groupByScope, isWatched, namedGroups, scopeKey } from '../../src/poll/scope.js';
import { dueTransitions, isTerminal } from '../../src/poll/transitions.js';
import { finishedExpiry, inFlightExpiry, listingWindow, IN_FLIGHT_RETENTION_MS } from '../../src/poll/window.js';
import { liveRegistration } from './fixtures.js';

const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);
const min = 60_000;
const hour = 60 * min;
const at = (ms: number) => new Date(ms);

describe('dueTransitions (status → events)', () => {
  const cases: Array<{ name: string; info: Partial<DeploymentInfo>; emitted: EventType[]; want: Array<[EventType, number]> }> = [
    { name: 'Created: nothing yet', info: { status: 'Created', createTime: at(T0) }, emitted: [], want: [] },
    { name: 'Queued: nothing yet', info: { status: 'Queued', createTime: at(T0) }, emitted: [], want: [] },
    { name: 'InProgress: Started at startTime', info: { status: 'InProgress', createTime: at(T0), startTime: at(T0 + 5000) }, emitted: [], want: [['Started', T0 + 5000]] },
    { name: 'InProgress without startTime: Started at createTime', info: { status: 'InProgress', createTime: at(T0) }, emitted: [], want: [['Started', T0]] },
    { name: 'Baking counts as running', info: { status: 'Baking', createTime: at(T0), startTime: at(T0) }, emitted: [], want: [['Started', T0]] },
    { name: 'InProgress already started: nothing', info: { status: 'InProgress', createTime: at(T0), startTime: at(T0) }, emitted: ['Started'], want: [] },
    { name: 'Ready: Started and Ready at observation', info: { status: 'Ready', createTime: at(T0), startTime: at(T0) }, emitted: [], want: [['Started', T0], ['Ready', T0 + hour]] },
    { name: 'Ready seen again: nothing', info: { status: 'Ready', createTime: at(T0), startTime: at(T0) }, emitted: ['Started', 'Ready'], want: [] },
    { name: 'first seen Succeeded: Started and Succeeded, no Ready', info: { status: 'Succeeded', createTime: at(T0), startTime: at(T0 + 1000), completeTime: at(T0 + 9000) }, emitted: [], want: [['Started', T0 + 1000], ['Succeeded', T0 + 9000]] },
    { name: 'Succeeded after Started: only Succeeded', info: { status: 'Succeeded', createTime: at(T0), startTime: at(T0), completeTime: at(T0 + 2 * hour) }, emitted: ['Started'], want: [['Succeeded', T0 + 2 * hour]] },
    { name: 'Failed after Ready', info: { status: 'Failed', createTime: at(T0), startTime: at(T0), completeTime: at(T0 + min) }, emitted: ['Started', 'Ready'], want: [['Failed', T0 + min]] },
    { name: 'Stopped before it started: no Started', info: { status: 'Stopped', createTime: at(T0), completeTime: at(T0 + min) }, emitted: [], want: [['Stopped', T0 + min]] },
    { name: 'terminal without completeTime: at observation', info: { status: 'Failed', createTime: at(T0), startTime: at(T0) }, emitted: ['Started'], want: [['Failed', T0 + hour]] },
    { name: 'terminal already handled: nothing', info: { status: 'Failed', createTime: at(T0), startTime: at(T0), completeTime: at(T0) }, emitted: ['Started', 'Failed'], want: [] },
    { name: 'no status: nothing', info: { createTime: at(T0) }, emitted: [], want: [] },
  ];
  it.each(cases)('$name', ({ info, emitted, want }) => {
    expect(dueTransitions(info, emitted, T0 + hour).map((t) => [t.type, t.occurredAt])).toEqual(want);
  });

  it('knows the terminal statuses', () => {
    expect(['Succeeded', 'Failed', 'Stopped'].map(isTerminal)).toEqual([true, true, true]);
    expect(['Created', 'Queued', 'InProgress', 'Baking', 'Ready', undefined].map(isTerminal)).toEqual([false, false, false, false, false, false]);
  });
});

describe('toDeploymentEvent', () => {
  const base: DeploymentInfo = {
    deploymentId: 'd-ABC123456',
    applicationName: 'checkout',
    deploymentGroupName: 'production',
    status: 'Failed',
    creator: 'user',
    description: 'release 7',
    createTime: at(T0),
    startTime: at(T0 + 10_000),
    completeTime: at(T0 + 190_400),
    computePlatform: 'Server',
    revision: { revisionType: 'GitHub', gitHubLocation: { repository: 'acme/checkout', commitId: '0123456789abcdef' } },
    errorInformation: { code: 'HOOK_EXECUTION_FAILURE', message: 'validate.sh failed' },
    deploymentOverview: { Pending: 0, InProgress: 0, Succeeded: 3, Failed: 1, Skipped: 2, Ready: 0 },
    rollbackInfo: { rollbackDeploymentId: 'd-ROLLBACK1', rollbackMessage: 'automatic rollback' },
  };

  it('carries everything a message needs', () => {
    const event = toDeploymentEvent(base, { type: 'Failed', occurredAt: T0 + 190_400 }, { region: 'eu-west-1', accountId: '123456789012' });
    expect(event).toEqual({
      type: 'Failed',
      deploymentId: 'd-ABC123456',
      application: 'checkout',
      deploymentGroup: 'production',
      status: 'Failed',
      region: 'eu-west-1',
      accountId: '123456789012',
      creator: 'user',
      description: 'release 7',
      revision: { type: 'GitHub', repository: 'acme/checkout', commitId: '0123456789abcdef' },
      error: { code: 'HOOK_EXECUTION_FAILURE', message: 'validate.sh failed' },
      instances: { pending: 0, inProgress: 0, succeeded: 3, failed: 1, skipped: 2, ready: 0 },
      computePlatform: 'Server',
      createTime: new Date(T0).toISOString(),
      startTime: new Date(T0 + 10_000).toISOString(),
      completeTime: new Date(T0 + 190_400).toISOString(),
      durationSeconds: 180,
      occurredAt: new Date(T0 + 190_400).toISOString(),
      rollback: { isRollback: false, rolledBackBy: 'd-ROLLBACK1', message: 'automatic rollback' },
      consoleUrl: 'https://eu-west-1.console.aws.amazon.com/codesuite/codedeploy/deployments/d-ABC123456?region=eu-west-1',
    });
  });

  it('recognises an automatic rollback', () => {
    const event = toDeploymentEvent(
      { ...base, deploymentId: 'd-ROLLBACK1', creator: 'codeDeployRollback', status: 'Succeeded', errorInformation: undefined, rollbackInfo: { rollbackTriggeringDeploymentId: 'd-ABC123456' } },
      { type: 'Succeeded', occurredAt: T0 },
      { region: 'us-east-1' },
    );
    expect(event.rollback).toEqual({ isRollback: true, rollsBack: 'd-ABC123456' });
    expect(event.error).toBeUndefined();
    expect(event.accountId).toBeUndefined();
    const byCreatorOnly = toDeploymentEvent({ ...base, creator: 'codeDeployRollback', rollbackInfo: undefined }, { type: 'Failed', occurredAt: T0 }, { region: 'us-east-1' });
    expect(byCreatorOnly.rollback).toEqual({ isRollback: true });
    const plain = toDeploymentEvent({ ...base, rollbackInfo: undefined }, { type: 'Failed', occurredAt: T0 }, { region: 'us-east-1' });
    expect(plain.rollback).toBeUndefined();
  });

  it.each([
    [{ revisionType: 'S3', s3Location: { bucket: 'b', key: 'app.zip', version: 'v3', eTag: 'e', bundleType: 'zip' } }, { type: 'S3', bucket: 'b', key: 'app.zip', version: 'v3', eTag: 'e', bundleType: 'zip' }],
    [{ revisionType: 'AppSpecContent', appSpecContent: { sha256: 'aabbccddeeff00112233' } }, { type: 'Other', summary: 'AppSpec content (sha256 aabbccddeeff)' }],
    [{ revisionType: 'String', string: {} }, { type: 'Other', summary: 'inline AppSpec' }],
    [undefined, undefined],
  ] as const)('maps revision %j', (revision, want) => {
    const event = toDeploymentEvent({ ...base, revision: revision as DeploymentInfo['revision'] }, { type: 'Failed', occurredAt: T0 }, { region: 'us-east-1' });
    expect(event.revision).toEqual(want);
  });

  it('leaves the duration out while running and falls back to createTime for the start', () => {
    const running = toDeploymentEvent({ ...base, status: 'InProgress', completeTime: undefined }, { type: 'Started', occurredAt: T0 }, { region: 'us-east-1' });
    expect(running.durationSeconds).toBeUndefined();
    expect(running.completeTime).toBeUndefined();
    const noStart = toDeploymentEvent({ ...base, startTime: undefined }, { type: 'Failed', occurredAt: T0 }, { region: 'us-east-1' });
    expect(noStart.durationSeconds).toBe(190);
  });
});

describe('matchNotifications', () => {
  const event = (type: EventType, group = 'prod', occurredAt = T0, application = 'shop') =>
    toDeploymentEvent({ deploymentId: 'd-1', applicationName: application, deploymentGroupName: group, status: type as DeploymentInfo['status'], createTime: at(T0) }, { type, occurredAt }, { region: 'us-east-1' });

  it('matches application, groups, channel events and createdAt', () => {
    const registrations = [
      liveRegistration('all-groups', { application: 'shop' }, { owner: 'team-shop', labels: { tier: 'critical' }, createdAt: T0 - hour }),
      liveRegistration('prod-only', { application: 'shop', deploymentGroups: ['prod'], channels: [
        { name: 'chat', type: 'slack', webhookUrl: { fromEnv: 'SLACK' }, events: ['Failed'] },
        { name: 'apm', type: 'newrelic', entityGuid: 'G', apiKey: { fromEnv: 'NR' } },
      ] }, { createdAt: T0 - hour }),
      liveRegistration('other-app', { application: 'billing' }, { createdAt: T0 - hour }),
      liveRegistration('too-new', { application: 'shop' }, { createdAt: T0 + 1 }),
      liveRegistration('exactly-now', { application: 'shop', events: ['Failed'], channels: [{ name: 'mail', type: 'email', from: 'a@example.com', to: ['b@example.com'] }] }, { createdAt: T0 }),
    ];
    const got = matchNotifications([event('Failed'), event('Succeeded', 'staging')], registrations);
    expect(got.map((n) => `${n.event.type}/${n.registration.name}/${n.channelName}/${n.channelType}`)).toEqual([
      'Failed/all-groups/hook/webhook',
      'Failed/prod-only/chat/slack',
      'Failed/prod-only/apm/newrelic',
      'Failed/exactly-now/mail/email',
      'Succeeded/all-groups/hook/webhook',
    ]);
    expect(got[0]?.deliveryId).toBe(deliveryId('d-1', 'Failed', 'all-groups', 'hook'));
    expect(got[0]?.registration).toEqual({ name: 'all-groups', owner: 'team-shop', labels: { tier: 'critical' } });
    expect(got[1]?.registration).toEqual({ name: 'prod-only' });
  });

  it('uses DEFAULT_EVENTS when neither channel nor spec names events', () => {
    const registration = liveRegistration('defaults', { application: 'shop', channels: [{ name: 'topic', type: 'sns', topicArn: 'arn:aws:sns:us-east-1:123456789012:t' }] });
    const types: EventType[] = ['Started', 'Ready', 'Succeeded', 'Failed', 'Stopped'];
    expect(types.filter((t) => matchNotifications([event(t)], [registration]).length > 0)).toEqual(['Succeeded', 'Failed', 'Stopped']);
  });

  it('never replays history to a registration with an unreadable createdAt', () => {
    expect(matchNotifications([event('Failed')], [liveRegistration('broken', { application: 'shop' }, { createdAt: 'yesterday' })])).toEqual([]);
  });

  it('copies labels so a message cannot change the registration', () => {
    const registration = liveRegistration('r', { application: 'shop' }, { labels: { a: 'b' } });
    const ref = registrationRef(registration);
    expect(ref.labels).toEqual({ a: 'b' });
    expect(ref.labels).not.toBe(registration.metadata.labels);
  });
});

describe('listingWindow (cursor arithmetic)', () => {
  const now = T0 + 48 * hour;
  const overlapMs = 5 * min;
  const maxLookbackMs = 24 * hour;
  it.each([
    { name: 'first run looks back the whole max-lookback', cursor: undefined, want: { start: now - 24 * hour, first: true, clamped: false, lagMs: 0 } },
    { name: 'steady state starts one overlap before the cursor', cursor: now - 5000, want: { start: now - 5000 - overlapMs, first: false, clamped: false, lagMs: 5000 } },
    { name: 'after 3 h downtime resumes from the cursor', cursor: now - 3 * hour, want: { start: now - 3 * hour - overlapMs, first: false, clamped: false, lagMs: 3 * hour } },
    { name: 'after 30 h downtime clamps to max-lookback', cursor: now - 30 * hour, want: { start: now - 24 * hour, first: false, clamped: true, lagMs: 30 * hour } },
    { name: 'exactly at max-lookback minus overlap is not clamped', cursor: now - 24 * hour + overlapMs, want: { start: now - 24 * hour, first: false, clamped: false, lagMs: 24 * hour - overlapMs } },
    { name: 'a cursor from a clock ahead of ours never starts after now - overlap', cursor: now + hour, want: { start: now - overlapMs, first: false, clamped: false, lagMs: 0 } },
  ])('$name', ({ cursor, want }) => {
    expect(listingWindow({ cursor, now, overlapMs, maxLookbackMs })).toEqual(want);
  });

  it('keeps finished deployments as long as a clamped listing can return them', () => {
    const created = T0;
    const expiry = finishedExpiry(created, maxLookbackMs, overlapMs);
    // The earliest any listing can start at time t is t - maxLookback: at the expiry that is after createTime.
    expect(listingWindow({ cursor: undefined, now: expiry, overlapMs, maxLookbackMs }).start).toBeGreaterThan(created);
    expect(listingWindow({ cursor: undefined, now: created + maxLookbackMs, overlapMs, maxLookbackMs }).start).toBeLessThanOrEqual(created);
    expect(inFlightExpiry(created, maxLookbackMs, overlapMs)).toBe(created + IN_FLIGHT_RETENTION_MS);
    expect(inFlightExpiry(created, 30 * 24 * hour, overlapMs)).toBeGreaterThan(created + 30 * 24 * hour);
  });
});

describe('scopes', () => {
  it('groups by region and role, with the account from the role ARN', () => {
    const regs = [
      liveRegistration('a', { application: 'x' }),
      liveRegistration('b', { application: 'y', region: 'eu-west-1' }),
      liveRegistration('c', { application: 'z', roleArn: 'arn:aws:iam::210987654321:role/reader' }),
      liveRegistration('d', { application: 'x', region: 'us-east-1' }),
    ];
    const scopes = groupByScope(regs, 'us-east-1', '123456789012');
    expect(scopes.map((s) => [s.key, s.region, s.roleArn, s.accountId, s.registrations.map((r) => r.name)])).toEqual([
      ['eu-west-1|default', 'eu-west-1', undefined, '123456789012', ['b']],
      ['us-east-1|arn:aws:iam::210987654321:role/reader', 'us-east-1', 'arn:aws:iam::210987654321:role/reader', '210987654321', ['c']],
      ['us-east-1|default', 'us-east-1', undefined, '123456789012', ['a', 'd']],
    ]);
    expect(scopeKey('us-east-1')).toBe('us-east-1|default');
  });

  it.each([
    ['arn:aws:iam::123456789012:role/deploy-reader', '123456789012'],
    ['arn:aws-cn:iam::123456789012:role/path/reader', '123456789012'],
    ['arn:aws:iam::12345:role/short', undefined],
    ['not an arn', undefined],
  ])('account of %s', (arn, want) => {
    expect(accountFromRoleArn(arn)).toBe(want);
  });

  it('picks the groups to list per application and what is watched', () => {
    const filtered = [liveRegistration('a', { application: 'shop', deploymentGroups: ['prod', 'gone'] }), liveRegistration('b', { application: 'shop', deploymentGroups: ['canary'] })];
    expect(namedGroups(filtered, 'shop')).toEqual(['canary', 'gone', 'prod']);
    const unfiltered = [...filtered, liveRegistration('c', { application: 'shop' })];
    expect(namedGroups(unfiltered, 'shop')).toBeUndefined();
    expect(namedGroups(unfiltered, 'nobody')).toEqual([]);
    expect(isWatched(filtered, 'shop', 'staging')).toBe(false);
    expect(isWatched(filtered, 'shop', 'prod')).toBe(true);
    expect(isWatched(filtered, 'other', 'prod')).toBe(false);
    expect(applicationsOf([...unfiltered, liveRegistration('d', { application: 'api' })])).toEqual(['api', 'shop']);
  });
});
