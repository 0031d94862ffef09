/**
 * The ecs executor without a recorded target (the previous or a named task definition), against a
 * local ECS API speaking JSON 1.1 (test/support/fake-ecs-api.ts) that the SDK reaches through
 * AWS_ENDPOINT_URL_ECS: the SDK's own serialisation, SigV4 signing and retries all run.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createEcsExecutor } from '../../../src/executors/ecs/index.js';
import { KeyRing } from '../../support/fake-aws-json.js';
import { startFakeSts } from '../../support/fake-sts.js';
import { TEST_CREDENTIALS, type FakeEcs } from '../../support/fake-ecs-api.js';
import { attempt, checkoutOn, checkoutParams, executor } from '../../support/ecs-fixtures.js';
import { stepContext } from '../../support/http-peer.js';

let fake: FakeEcs | undefined;
afterEach(async () => {
  vi.unstubAllEnvs();
  await fake?.close();
  fake = undefined;
});

async function run(ecs: FakeEcs, params: Record<string, unknown>, signal?: AbortSignal, timeoutMs?: number) {
  const { ctx, lines } = attempt(undefined, signal, timeoutMs);
  const result = await executor.run(ctx, checkoutParams(params));
  const updates = ecs.calls('UpdateService');
  return { result, lines, updates };
}

const newestDeployment = (ecs: FakeEcs) => ecs.deploymentsOf('prod', 'checkout-svc')[0]!.id;

describe('ecs executor (local ECS API through AWS_ENDPOINT_URL_ECS)', () => {
  it('sends signed JSON 1.1 requests for the region of the step', async () => {
    fake = await checkoutOn(42);
    await run(fake, {});
    const first = fake.requests[0]!;
    expect(first.operation).toBe('DescribeServices');
    expect(first.body).toEqual({ cluster: 'prod', services: ['checkout-svc'] });
    expect(first.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(first.headers['x-amz-target']).toBe('AmazonEC2ContainerServiceV20141113.DescribeServices');
    expect(first.headers['amz-sdk-request']).toBe('attempt=1; max=3');
    for (const request of fake.requests) {
      expect(request.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/ecs\/aws4_request, SignedHeaders=[a-z0-9;-]*x-amz-target[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
      );
      expect(request.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    }
  });

  it('acts as the roleArn of the step, assumed through STS, in a region rendered from a template', async () => {
    const keys = new KeyRing();
    const role = 'arn:aws:iam::210987654321:role/rollback-ecs';
    const sts = await startFakeSts({ keys, roles: [role] });
    try {
      fake = await checkoutOn(42, { keys });
      const ecs = createEcsExecutor({ pollIntervalMs: 5, env: { AWS_ENDPOINT_URL_STS: sts.url } });
      const { ctx } = attempt();
      const params = ecs.params.parse({
        cluster: 'prod',
        service: 'checkout-svc',
        region: 'eu-west-1',
        roleArn: role,
      });
      expect((await ecs.run(ctx, params)).outcome).toBe('succeeded');
      expect(sts.requests.map((r) => r.params['RoleArn'])).toEqual([role]);
      const issued = [...keys.keys.values()].find((key) => key.role === role)!;
      for (const request of fake.requests) {
        expect(request.headers.authorization).toContain(`Credential=${issued.accessKeyId}/`);
      }
      const denied = ecs.params.parse({
        cluster: 'prod',
        service: 'checkout-svc',
        region: 'eu-west-1',
        roleArn: 'arn:aws:iam::210987654321:role/other',
      });
      const before = fake.requests.length;
      expect(await ecs.run(attempt().ctx, denied)).toEqual({
        outcome: 'failed',
        error:
          'assuming role arn:aws:iam::210987654321:role/other failed: AccessDenied: User: arn:aws:iam::123456789012:user/rollback-bot is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::210987654321:role/other',
      });
      expect(fake.requests).toHaveLength(before);
      expect(
        ecs.params.safeParse({
          cluster: 'prod',
          service: 'checkout-svc',
          region: '{{ steps.where.output.region }}',
        }).success,
      ).toBe(true);
      expect(await ecs.run(attempt().ctx, { ...params, region: 'production' })).toEqual({
        outcome: 'failed',
        error: 'region "production" is not an AWS region such as us-east-1',
      });
    } finally {
      await sts.close();
    }
  });

  it('is refused by the peer when the signature or its scope is wrong', async () => {
    fake = await checkoutOn(42);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'not-the-secret');
    expect((await run(fake, {})).result).toEqual({
      outcome: 'failed',
      error:
        'ECS DescribeServices failed: InvalidSignatureException: The request signature we calculated does not match the signature you provided.',
    });
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', TEST_CREDENTIALS.secretAccessKey);
    expect((await run(fake, { region: 'us-east-1' })).result).toEqual({
      outcome: 'failed',
      error:
        'ECS DescribeServices failed: InvalidSignatureException: Credential should be scoped to a valid region and service: eu-west-1/ecs',
    });
    expect(fake.calls('UpdateService')).toEqual([]);
  });

  it('goes back to the previous ACTIVE revision and waits for the rollout to complete', async () => {
    fake = await checkoutOn(42);
    const { result, lines, updates } = await run(fake, {});
    expect(fake.calls('ListTaskDefinitions')).toEqual([
      { familyPrefix: 'checkout', status: 'ACTIVE', sort: 'DESC' },
    ]);
    expect(updates).toEqual([
      {
        cluster: 'prod',
        service: 'checkout-svc',
        taskDefinition: fake.arn('checkout:41'),
        forceNewDeployment: true,
      },
    ]);
    const deploymentId = newestDeployment(fake);
    expect(result).toEqual({
      outcome: 'succeeded',
      output: { fromTaskDefinition: 'checkout:42', toTaskDefinition: 'checkout:41', deploymentId },
      summary: 'checkout-svc (prod) is on checkout:41 (was checkout:42); rollout completed',
    });
    expect(lines).toEqual([
      'previous ACTIVE revision of checkout: 41',
      'checkout-svc: checkout:42 → checkout:41',
      `deployment ${deploymentId} started`,
      'rollout IN_PROGRESS: 1/4 running',
      'rollout IN_PROGRESS: 2/4 running',
      'rollout IN_PROGRESS: 3/4 running',
      'rollout COMPLETED: 4/4 running',
    ]);
    expect(fake.runningTaskDefinition('prod', 'checkout-svc')).toBe(fake.arn('checkout:41'));
  });

  it('skips deregistered revisions and revisions of other families', async () => {
    fake = await checkoutOn(42);
    fake.register('checkout-worker', 'worker:v9');
    fake.deregister('checkout:41');
    fake.deregister('checkout:40');
    const { result, updates } = await run(fake, {});
    expect(updates.map((u) => u['taskDefinition'])).toEqual([fake.arn('checkout:39')]);
    expect(result).toMatchObject({ outcome: 'succeeded', output: { toTaskDefinition: 'checkout:39' } });
  });

  it('follows the pages of ListTaskDefinitions', async () => {
    fake = await checkoutOn(42, { pageSize: 2 });
    for (const revision of [41, 40, 39]) fake.deregister(`checkout:${revision}`);
    const { result } = await run(fake, {});
    // ACTIVE, newest first, two a page: [43, 42] has nothing below 42, [38] has.
    const pages = fake.calls('ListTaskDefinitions');
    expect(pages).toHaveLength(2);
    expect(pages[1]).toEqual({
      familyPrefix: 'checkout',
      status: 'ACTIVE',
      sort: 'DESC',
      nextToken: expect.any(String) as unknown,
    });
    expect(result).toMatchObject({ outcome: 'succeeded', output: { toTaskDefinition: 'checkout:38' } });
  });

  it('goes to a named task definition', async () => {
    fake = await checkoutOn(42);
    const { result, lines, updates } = await run(fake, { taskDefinition: 'checkout:38' });
    expect(fake.calls('ListTaskDefinitions')).toHaveLength(0);
    expect(fake.calls('DescribeTaskDefinition')).toEqual([{ taskDefinition: 'checkout:38' }]);
    expect(updates).toEqual([
      {
        cluster: 'prod',
        service: 'checkout-svc',
        taskDefinition: fake.arn('checkout:38'),
        forceNewDeployment: true,
      },
    ]);
    expect(result).toMatchObject({
      outcome: 'succeeded',
      output: { fromTaskDefinition: 'checkout:42', toTaskDefinition: 'checkout:38' },
    });
    expect(lines[0]).toBe('checkout-svc: checkout:42 → checkout:38');
  });

  it('fails plainly when ECS refuses a task definition', async () => {
    fake = await checkoutOn(42);
    expect((await run(fake, { taskDefinition: 'checkout:99' })).result).toEqual({
      outcome: 'failed',
      error: 'ECS DescribeTaskDefinition failed: ClientException: Unable to describe task definition.',
    });
    const { result } = await run(fake, { taskDefinition: 'checkout:37' });
    expect(result).toEqual({
      outcome: 'failed',
      error: 'ECS UpdateService failed: ClientException: TaskDefinition is inactive',
    });
    expect(fake.runningTaskDefinition('prod', 'checkout-svc')).toBe(fake.arn('checkout:42'));
  });

  it('fails without updating when there is no previous revision', async () => {
    fake = await checkoutOn(38);
    const { result, updates } = await run(fake, {});
    expect(result).toEqual({
      outcome: 'failed',
      error: 'no ACTIVE revision of checkout before checkout:38 to go back to',
    });
    expect(updates).toHaveLength(0);
  });

  it('fails with the reason ECS gives when the rollout fails', async () => {
    fake = await checkoutOn(42);
    fake.rollouts.push({ outcome: 'fail', afterReads: 2 });
    const { result, lines } = await run(fake, {});
    expect(result).toEqual({
      outcome: 'failed',
      error: 'rollout of checkout:41 failed: ECS deployment circuit breaker: tasks failed to start.',
      output: {
        fromTaskDefinition: 'checkout:42',
        toTaskDefinition: 'checkout:41',
        deploymentId: newestDeployment(fake),
      },
    });
    expect(lines.slice(-2)).toEqual(['rollout IN_PROGRESS: 0/4 running', 'rollout FAILED: 0/4 running']);
  });

  it('reports the failed deployment when the circuit breaker has already rolled the service back', async () => {
    fake = await checkoutOn(42);
    fake.rollouts.push({ outcome: 'fail', afterReads: 1, circuitBreakerRollback: true });
    const { result } = await run(fake, {});
    expect(result).toMatchObject({
      outcome: 'failed',
      error: 'rollout of checkout:41 failed: ECS deployment circuit breaker: tasks failed to start.',
    });
    expect(fake.runningTaskDefinition('prod', 'checkout-svc')).toBe(fake.arn('checkout:42'));
  });

  it('fails at the step time limit while the rollout is still in progress', async () => {
    fake = await checkoutOn(42);
    fake.rollouts.push({ outcome: 'never' });
    const started = performance.now();
    const { result } = await run(fake, { timeout: '150ms' });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(result).toEqual({
      outcome: 'failed',
      error:
        "ECS service checkout-svc (prod) did not finish its rollout within the step's time limit of 150ms",
      output: {
        fromTaskDefinition: 'checkout:42',
        toTaskDefinition: 'checkout:41',
        deploymentId: newestDeployment(fake),
      },
    });
  });

  it('stops promptly when aborted while waiting for the rollout', async () => {
    fake = await checkoutOn(42);
    fake.rollouts.push({ outcome: 'never' });
    const controller = new AbortController();
    let describes = 0;
    fake.onRequest = (request) => {
      if (request.operation !== 'DescribeServices') return;
      describes += 1;
      // The first read is before the update; the abort lands during the third poll.
      if (describes === 4) controller.abort();
    };
    const { result } = await run(fake, {}, controller.signal);
    expect(result).toMatchObject({
      outcome: 'failed',
      error:
        'rollback of ECS service checkout-svc (prod) was stopped (rollback cancelled or bot shutting down)',
      output: { deploymentId: newestDeployment(fake) },
    });
    expect(describes).toBe(4);
  });

  it('surfaces throttling plainly once the SDK has used up its retries', async () => {
    fake = await checkoutOn(42);
    fake.throttle('UpdateService', 5);
    const { result, updates } = await run(fake, {});
    expect(result).toEqual({
      outcome: 'failed',
      error: 'ECS UpdateService failed: ThrottlingException: Rate exceeded',
    });
    // The SDK's own retries: three attempts of one invocation, each body the same.
    const attempts = fake.requests.filter((r) => r.operation === 'UpdateService');
    expect(attempts.map((r) => r.headers['amz-sdk-request'])).toEqual([
      'attempt=1; max=3',
      'attempt=2; max=3',
      'attempt=3; max=3',
    ]);
    expect(new Set(attempts.map((r) => r.headers['amz-sdk-invocation-id'])).size).toBe(1);
    expect(new Set(updates.map((u) => JSON.stringify(u))).size).toBe(1);
    expect(fake.runningTaskDefinition('prod', 'checkout-svc')).toBe(fake.arn('checkout:42'));
  });

  it('fails plainly for an unknown service or cluster, and without a region', async () => {
    fake = await checkoutOn(42);
    expect((await run(fake, { service: 'nope-svc' })).result).toEqual({
      outcome: 'failed',
      error: 'ECS service nope-svc (prod) not found (MISSING)',
    });
    expect((await run(fake, { cluster: 'staging' })).result).toEqual({
      outcome: 'failed',
      error: 'ECS DescribeServices failed: ClusterNotFoundException: Cluster not found.',
    });
    const { ctx } = stepContext();
    await expect(executor.run(ctx, executor.params.parse({ cluster: 'c', service: 's' }))).resolves.toEqual({
      outcome: 'failed',
      error: 'no AWS region: set with.region or AWS_REGION',
    });
  });
});
