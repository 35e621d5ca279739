import {
  BatchGetDeploymentsCommand,
  BatchLimitExceededException,
  CodeDeployClient,
  DeploymentGroupDoesNotExistException,
  GetDeploymentCommand,
  ListApplicationsCommand,
  ListDeploymentGroupsCommand,
  ListDeploymentsCommand,
  ThrottlingException,
  paginateListDeployments,
} from '@aws-sdk/client-codedeploy';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { seededRandom, startCodeDeployServer, type CodeDeployServer } from '../../src/local/codedeploy-server.js';

describe('fake CodeDeploy server, driven by the real SDK client', () => {
  let server: CodeDeployServer;
  let client: CodeDeployClient;
  let now = Date.UTC(2026, 10, 23, 12, 0, 0, 500);

  beforeAll(async () => {
    server = await startCodeDeployServer({ clock: () => now, pageSize: 3 });
    process.env.AWS_ENDPOINT_URL_CODEDEPLOY = server.url;
    client = new CodeDeployClient({ region: 'us-east-1', maxAttempts: 1 });
  });
  afterAll(async () => {
    client.destroy();
    await server.close();
    delete process.env.AWS_ENDPOINT_URL_CODEDEPLOY;
  });
  beforeEach(() => server.resetCounts());
  afterEach(() => {
    server.faults.throttleRate = 0;
    server.faults.latencyMs = 0;
  });

  it('serves deployments with fractional epoch-second times that the SDK turns into Dates', async () => {
    const created = server.model.createDeployment({
      application: 'shop',
      group: 'prod',
      description: 'release 42',
      revision: { revisionType: 'GitHub', gitHubLocation: { repository: 'acme/shop', commitId: 'abc1234def' } },
    });
    now += 1_250;
    server.model.setStatus(created.deploymentId, 'InProgress');
    now += 60_000;
    server.model.setStatus(created.deploymentId, 'Succeeded');
    const { deploymentInfo } = await client.send(new GetDeploymentCommand({ deploymentId: created.deploymentId }));
    expect(deploymentInfo?.status).toBe('Succeeded');
    expect(deploymentInfo?.createTime?.getTime()).toBe(created.createTime);
    expect(deploymentInfo?.startTime?.getTime()).toBe(created.createTime + 1_250);
    expect(deploymentInfo?.completeTime?.getTime()).toBe(created.createTime + 61_250);
    expect(deploymentInfo?.revision?.gitHubLocation?.commitId).toBe('abc1234def');
    expect(deploymentInfo?.deploymentOverview?.Succeeded).toBe(2);
    expect(deploymentInfo?.creator).toBe('user');
    expect(server.counts()).toEqual({ GetDeployment: 1 });
  });

  it('lists account-wide or per group, filters by createTimeRange and status, and paginates newest first', async () => {
    const base = now;
    const ids: string[] = [];
    for (let i = 0; i < 7; i += 1) {
      now = base + i * 1000;
      ids.push(server.model.createDeployment({ application: 'paging', group: i % 2 ? 'odd' : 'even' }).deploymentId);
    }
    now = base + 10_000;
    server.model.setStatus(ids[6] as string, 'InProgress');

    const all: string[] = [];
    const input = { createTimeRange: { start: new Date(base) } };
    for await (const page of paginateListDeployments({ client }, input)) all.push(...(page.deployments ?? []));
    expect(all).toEqual([...ids].reverse());
    expect(server.counts().ListDeployments).toBe(3);

    const window = await client.send(new ListDeploymentsCommand({ createTimeRange: { start: new Date(base + 2000), end: new Date(base + 3000) } }));
    expect(window.deployments).toEqual([ids[3], ids[2]]);

    const even = await client.send(new ListDeploymentsCommand({ applicationName: 'paging', deploymentGroupName: 'even', createTimeRange: { start: new Date(base) } }));
    expect(even.deployments).toEqual([ids[6], ids[4], ids[2]]);
    expect(even.nextToken).toBeDefined();

    const running = await client.send(new ListDeploymentsCommand({ includeOnlyStatuses: ['InProgress'], createTimeRange: { start: new Date(base) } }));
    expect(running.deployments).toEqual([ids[6]]);

    await expect(client.send(new ListDeploymentsCommand({ applicationName: 'paging', deploymentGroupName: 'nope' }))).rejects.toBeInstanceOf(DeploymentGroupDoesNotExistException);
    await expect(client.send(new ListDeploymentsCommand({ applicationName: 'paging' }))).rejects.toMatchObject({ name: 'DeploymentGroupNameRequiredException' });
  });

  it('keeps a lagging deployment out of listings, and out of reads, until it becomes visible', async () => {
    const start = now;
    const late = server.model.createDeployment({ application: 'lag', group: 'g', listingDelayMs: 30_000 });
    const before = await client.send(new ListDeploymentsCommand({ applicationName: 'lag', deploymentGroupName: 'g' }));
    expect(before.deployments).toEqual([]);
    now = start + 30_000;
    const after = await client.send(new ListDeploymentsCommand({ applicationName: 'lag', deploymentGroupName: 'g' }));
    expect(after.deployments).toEqual([late.deploymentId]);

    const unreadable = server.model.createDeployment({ application: 'lag', group: 'g', readDelayMs: 10_000 });
    const listed = await client.send(new ListDeploymentsCommand({ applicationName: 'lag', deploymentGroupName: 'g' }));
    expect(listed.deployments).toContain(unreadable.deploymentId);
    expect((await client.send(new BatchGetDeploymentsCommand({ deploymentIds: [unreadable.deploymentId] }))).deploymentsInfo).toEqual([]);
    await expect(client.send(new GetDeploymentCommand({ deploymentId: unreadable.deploymentId }))).rejects.toMatchObject({ name: 'DeploymentDoesNotExistException' });
    now += 10_000;
    expect((await client.send(new BatchGetDeploymentsCommand({ deploymentIds: [unreadable.deploymentId] }))).deploymentsInfo?.[0]?.deploymentId).toBe(unreadable.deploymentId);
  });

  it('lists applications and deployment groups with pagination', async () => {
    for (const group of ['a', 'b', 'c', 'd']) server.model.createDeploymentGroup('groups-app', group);
    const first = await client.send(new ListDeploymentGroupsCommand({ applicationName: 'groups-app' }));
    expect(first.deploymentGroups).toEqual(['a', 'b', 'c']);
    const second = await client.send(new ListDeploymentGroupsCommand({ applicationName: 'groups-app', nextToken: first.nextToken }));
    expect(second.deploymentGroups).toEqual(['d']);
    expect(second.nextToken).toBeUndefined();
    const apps = await client.send(new ListApplicationsCommand({}));
    expect(apps.applications?.length).toBe(3);
    await expect(client.send(new ListDeploymentGroupsCommand({ applicationName: 'missing' }))).rejects.toMatchObject({ name: 'ApplicationDoesNotExistException' });
  });

  it('answers BatchGetDeployments for at most 25 ids and omits unknown ones', async () => {
    const ids = Array.from({ length: 26 }, () => server.model.createDeployment({ application: 'batch', group: 'g' }).deploymentId);
    await expect(client.send(new BatchGetDeploymentsCommand({ deploymentIds: ids }))).rejects.toBeInstanceOf(BatchLimitExceededException);
    const got = await client.send(new BatchGetDeploymentsCommand({ deploymentIds: [...ids.slice(0, 24), 'd-UNKNOWN00'] }));
    expect(got.deploymentsInfo?.map((d) => d.deploymentId).sort()).toEqual(ids.slice(0, 24).sort());
  });

  it('models rollbacks both ways', async () => {
    const original = server.model.createDeployment({ application: 'rb', group: 'g', status: 'InProgress' });
    const rollback = server.model.rollback(original.deploymentId);
    const got = await client.send(new BatchGetDeploymentsCommand({ deploymentIds: [original.deploymentId, rollback.deploymentId] }));
    const byId = new Map(got.deploymentsInfo?.map((d) => [d.deploymentId, d]));
    expect(byId.get(original.deploymentId)).toMatchObject({ status: 'Failed', rollbackInfo: { rollbackDeploymentId: rollback.deploymentId } });
    expect(byId.get(rollback.deploymentId)).toMatchObject({ creator: 'codeDeployRollback', rollbackInfo: { rollbackTriggeringDeploymentId: original.deploymentId } });
  });

  it('injects throttling as ThrottlingException, reproducibly with a seeded random', async () => {
    server.faults.random = seededRandom(7);
    server.faults.throttleRate = 0.5;
    const outcomes: string[] = [];
    for (let i = 0; i < 20; i += 1) {
      outcomes.push(await client.send(new ListApplicationsCommand({})).then(() => 'ok', (e: unknown) => (e instanceof ThrottlingException ? 'throttled' : String(e))));
    }
    expect(outcomes.filter((o) => o === 'throttled').length).toBeGreaterThan(3);
    expect(outcomes.filter((o) => o === 'ok').length).toBeGreaterThan(3);
    expect(outcomes.every((o) => o === 'ok' || o === 'throttled')).toBe(true);
    expect(server.counts().ListApplications).toBe(20);
  });

  it('answers scripted errors for the named operation first, and bursts of 5xx', async () => {
    server.scriptErrors({ operation: 'ListDeployments', type: 'AccessDeniedException', message: 'not allowed' });
    await expect(client.send(new ListApplicationsCommand({}))).resolves.toBeDefined();
    await expect(client.send(new ListDeploymentsCommand({}))).rejects.toMatchObject({ name: 'AccessDeniedException', message: 'not allowed' });
    await expect(client.send(new ListDeploymentsCommand({}))).resolves.toBeDefined();
    server.burst(2);
    await expect(client.send(new ListApplicationsCommand({}))).rejects.toMatchObject({ $metadata: { httpStatusCode: 503 } });
    await expect(client.send(new ListApplicationsCommand({}))).rejects.toMatchObject({ $metadata: { httpStatusCode: 503 } });
    await expect(client.send(new ListApplicationsCommand({}))).resolves.toBeDefined();
  });

  it('lets the SDK retry a throttled call and counts every attempt and the signing key', async () => {
    const retrying = new CodeDeployClient({ region: 'us-east-1', maxAttempts: 2, credentials: { accessKeyId: 'AKIDRETRY', secretAccessKey: 's' } });
    try {
      server.scriptErrors({ type: 'ThrottlingException', message: 'Rate exceeded' });
      await expect(retrying.send(new ListApplicationsCommand({}))).resolves.toBeDefined();
      expect(server.counts().ListApplications).toBe(2);
      expect(server.accessKeys()).toEqual({ AKIDRETRY: 2 });
    } finally {
      retrying.destroy();
    }
  });

  it('delays answers by the injected latency', async () => {
    server.faults.latencyMs = 50;
    const started = performance.now();
    await client.send(new ListApplicationsCommand({}));
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
  });
});
