/**
 * The ecs executor's exact targets, against the local ECS API: `resolve` reads what runs and what
 * the step restores without changing anything, and every attempt given the recorded target drives
 * the service to exactly that task definition, never to another "previous" one, and refuses to
 * touch a service someone else moved in between.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Resolution, StepTarget } from '../../../src/executors/executor.js';
import { CIRCUIT_BREAKER_REASON, type FakeEcs } from '../../support/fake-ecs-api.js';
import {
  attempt,
  checkoutOn,
  checkoutParams,
  executor,
  IMAGE,
  LOG_ROUTER,
  resolveContext,
} from '../../support/ecs-fixtures.js';

let fake: FakeEcs | undefined;
afterEach(async () => {
  vi.unstubAllEnvs();
  await fake?.close();
  fake = undefined;
});

function resolve(toVersion: string | null, extra: Record<string, unknown> = {}): Promise<Resolution> {
  if (!executor.resolve) throw new Error('the ecs executor resolves');
  return executor.resolve(resolveContext(toVersion), checkoutParams(extra));
}

async function resolved(toVersion: string | null, extra: Record<string, unknown> = {}): Promise<StepTarget> {
  const resolution = await resolve(toVersion, extra);
  if (!resolution.ok) throw new Error(resolution.error);
  return resolution.target;
}

const state = (revision: number, version: string) => ({
  revision: `checkout:${revision}`,
  version,
  images: [`${IMAGE}:${version}`, LOG_ROUTER.image],
});

/** The taskDefinition of every UpdateService the fake received, throttled attempts included. */
const updatedTo = (ecs: FakeEcs) => ecs.calls('UpdateService').map((body) => body['taskDefinition']);

const newestDeployment = (ecs: FakeEcs) => ecs.deploymentsOf('prod', 'checkout-svc')[0]!.id;

describe('ecs resolve', () => {
  it('names what runs and the previous ACTIVE revision, and changes nothing', async () => {
    fake = await checkoutOn(43);
    await expect(resolve(null)).resolves.toEqual({
      ok: true,
      target: {
        object: 'ecs service prod/checkout-svc',
        current: state(43, 'v1.6.0'),
        target: state(42, 'v1.5.0'),
        pin: { from: fake.arn('checkout:43'), to: fake.arn('checkout:42') },
      },
    });
    expect(new Set(fake.requests.map((r) => r.operation))).toEqual(
      new Set(['DescribeServices', 'DescribeTaskDefinition', 'ListTaskDefinitions']),
    );
    expect(fake.runningTaskDefinition('prod', 'checkout-svc')).toBe(fake.arn('checkout:43'));
    expect(fake.deploymentsOf('prod', 'checkout-svc')).toHaveLength(1);
  });

  it('finds the version asked for two revisions back, the newest revision that runs it', async () => {
    fake = await checkoutOn(43);
    const target = await resolved('v1.4.1');
    expect(target.target).toEqual(state(41, 'v1.4.1'));
    expect(target.pin).toEqual({ from: fake.arn('checkout:43'), to: fake.arn('checkout:41') });

    // v1.4.1 rebuilt as checkout:44 (same tag), then v1.7.0 deployed: the newer one wins.
    fake.register('checkout', [{ name: 'checkout', image: `${IMAGE}:v1.4.1` }, LOG_ROUTER]);
    fake.register('checkout', [{ name: 'checkout', image: `${IMAGE}:v1.7.0` }, LOG_ROUTER]);
    fake.deployElsewhere('prod', 'checkout-svc', 'checkout:45');
    expect((await resolved('v1.4.1')).target.revision).toBe('checkout:44');
    expect(fake.calls('UpdateService')).toEqual([]);
  });

  it('refuses a version no ACTIVE revision runs, listing the ones it can restore', async () => {
    fake = await checkoutOn(43);
    const restorable = ['v1.5.0', 'v1.4.1', 'v1.3.0', 'v1.2.1', 'v1.2.0'];
    const choices =
      'it can restore v1.5.0 (checkout:42), v1.4.1 (checkout:41), v1.3.0 (checkout:40), v1.2.1 (checkout:39), v1.2.0 (checkout:38)';
    await expect(resolve('v9.9.9')).resolves.toEqual({
      ok: false,
      error: `ecs service prod/checkout-svc has no task definition running v9.9.9; ${choices}`,
      restorable,
    });
    await expect(resolve('v1.41')).resolves.toEqual({
      ok: false,
      error: `ecs service prod/checkout-svc has no task definition running v1.41; ${choices} (did you mean "v1.4.1"?)`,
      restorable,
    });
    expect(fake.calls('UpdateService')).toEqual([]);
  });

  it('takes the version from a named container, and names the containers when it has no such one', async () => {
    fake = await checkoutOn(43);
    const target = await resolved(null, { container: 'log-router' });
    expect(target.current.version).toBe('2.32.0');
    await expect(resolve(null, { container: 'chekout' })).resolves.toEqual({
      ok: false,
      error:
        'task definition checkout:43 has no container "chekout"; containers: checkout, log-router (did you mean "checkout"?)',
    });
  });

  it('lets a named taskDefinition win over the version, and refuses a deregistered one', async () => {
    fake = await checkoutOn(43);
    expect((await resolved('v1.4.1', { taskDefinition: 'checkout:38' })).target).toEqual(state(38, 'v1.2.0'));
    await expect(resolve(null, { taskDefinition: 'checkout:37' })).resolves.toEqual({
      ok: false,
      error: 'task definition checkout:37 is INACTIVE (deregistered): ECS cannot deploy it',
    });
  });

  it('says what is missing plainly', async () => {
    fake = await checkoutOn(38);
    await expect(resolve(null)).resolves.toEqual({
      ok: false,
      error: 'no ACTIVE revision of checkout before checkout:38 to go back to',
    });
    await expect(resolve(null, { service: 'nope-svc' })).resolves.toEqual({
      ok: false,
      error: 'ECS service nope-svc (prod) not found (MISSING)',
    });
    if (!executor.resolve) throw new Error('the ecs executor resolves');
    await expect(
      executor.resolve(
        resolveContext(null),
        executor.params.parse({ cluster: 'prod', service: 'checkout-svc' }),
      ),
    ).resolves.toEqual({ ok: false, error: 'no AWS region: set with.region or AWS_REGION' });
  });

  it('rides out throttling with the SDK’s own retries', async () => {
    fake = await checkoutOn(43);
    fake.throttle('DescribeServices', 2);
    fake.throttle('ListTaskDefinitions', 1);
    expect((await resolved(null)).target.revision).toBe('checkout:42');
    const describes = fake.requests.filter((r) => r.operation === 'DescribeServices');
    expect(describes.map((r) => r.headers['amz-sdk-request'])).toEqual([
      'attempt=1; max=3',
      'attempt=2; max=3',
      'attempt=3; max=3',
    ]);
    expect(new Set(describes.map((r) => r.headers['amz-sdk-invocation-id'])).size).toBe(1);
    expect(fake.calls('ListTaskDefinitions')).toHaveLength(2);
  });
});

describe('ecs run with a recorded target', () => {
  it('a Retry after a failed rollout deploys the same target again, never the revision before it', async () => {
    fake = await checkoutOn(43);
    const target = await resolved(null);
    fake.rollouts.push({ outcome: 'fail' });
    const first = await executor.run(attempt(target).ctx, checkoutParams());
    expect(first).toMatchObject({
      outcome: 'failed',
      error: `rollout of checkout:42 failed: ${CIRCUIT_BREAKER_REASON}`,
    });
    const failedDeployment = newestDeployment(fake);
    // What recomputing "the previous one" would now pick: further back than asked.
    expect((await resolved(null)).target.revision).toBe('checkout:41');

    const second = attempt(target);
    const result = await executor.run(second.ctx, checkoutParams());
    expect(result).toMatchObject({
      outcome: 'succeeded',
      output: { fromTaskDefinition: 'checkout:43', toTaskDefinition: 'checkout:42' },
    });
    expect(second.lines.slice(0, 2)).toEqual([
      `checkout:42 is deployed but its rollout failed (${failedDeployment}): deploying it again`,
      'checkout-svc: checkout:43 → checkout:42',
    ]);
    expect(updatedTo(fake)).toEqual([fake.arn('checkout:42'), fake.arn('checkout:42')]);
    expect(fake.runningTaskDefinition('prod', 'checkout-svc')).toBe(fake.arn('checkout:42'));
  });

  it('a Retry after the circuit breaker put the start back updates from the start to the same target', async () => {
    fake = await checkoutOn(43);
    const target = await resolved(null);
    fake.rollouts.push({ outcome: 'fail', afterReads: 1, circuitBreakerRollback: true });
    expect((await executor.run(attempt(target).ctx, checkoutParams())).outcome).toBe('failed');
    expect(fake.runningTaskDefinition('prod', 'checkout-svc')).toBe(fake.arn('checkout:43'));

    const second = attempt(target);
    await expect(executor.run(second.ctx, checkoutParams())).resolves.toMatchObject({ outcome: 'succeeded' });
    expect(second.lines[0]).toBe('checkout-svc: checkout:43 → checkout:42');
    expect(updatedTo(fake)).toEqual([fake.arn('checkout:42'), fake.arn('checkout:42')]);
  });

  it('an attempt that finds the deployment of the target still rolling out only waits for it', async () => {
    fake = await checkoutOn(43);
    const target = await resolved('v1.4.1');
    const controller = new AbortController();
    let describes = 0;
    fake.onRequest = (request) => {
      if (request.operation === 'DescribeServices' && ++describes === 2) controller.abort();
    };
    const first = await executor.run(attempt(target, controller.signal).ctx, checkoutParams());
    expect(first).toMatchObject({ outcome: 'failed', output: { toTaskDefinition: 'checkout:41' } });
    fake.onRequest = undefined;
    const deploymentId = newestDeployment(fake);

    const second = attempt(target);
    await expect(executor.run(second.ctx, checkoutParams())).resolves.toEqual({
      outcome: 'succeeded',
      output: { fromTaskDefinition: 'checkout:43', toTaskDefinition: 'checkout:41', deploymentId },
      summary: 'checkout-svc (prod) is on checkout:41 (was checkout:43); rollout completed',
    });
    expect(second.lines[0]).toBe(
      `checkout-svc already runs checkout:41: waiting for deployment ${deploymentId}`,
    );
    expect(updatedTo(fake)).toEqual([fake.arn('checkout:41')]);
  });

  it('a service already on the asked version is left as it is', async () => {
    fake = await checkoutOn(43);
    const target = await resolved('v1.6.0');
    expect(target.pin).toEqual({ from: fake.arn('checkout:43'), to: fake.arn('checkout:43') });
    await expect(executor.run(attempt(target).ctx, checkoutParams())).resolves.toMatchObject({
      outcome: 'succeeded',
    });
    expect(fake.calls('UpdateService')).toEqual([]);
  });

  it('a service someone else moved is a conflict, and nothing is changed', async () => {
    fake = await checkoutOn(43);
    const target = await resolved('v1.4.1');
    fake.register('checkout', [{ name: 'checkout', image: `${IMAGE}:v1.6.1` }, LOG_ROUTER]);
    fake.deployElsewhere('prod', 'checkout-svc', 'checkout:44');
    await expect(executor.run(attempt(target).ctx, checkoutParams())).resolves.toEqual({
      outcome: 'failed',
      conflict: true,
      error:
        'ecs service prod/checkout-svc changed since the rollback was approved: it runs checkout:44, neither checkout:43 (start) nor checkout:41 (target); nothing was changed',
    });
    expect(fake.calls('UpdateService')).toEqual([]);
    expect(fake.runningTaskDefinition('prod', 'checkout-svc')).toBe(fake.arn('checkout:44'));
  });

  it('refuses a recorded target without a task definition pin', async () => {
    fake = await checkoutOn(43);
    const target = { ...(await resolved(null)), pin: { hash: 'abc' } };
    await expect(executor.run(attempt(target).ctx, checkoutParams())).resolves.toEqual({
      outcome: 'failed',
      error:
        'the recorded target of ecs service prod/checkout-svc has no task definition pin (from, to): resolve it again',
    });
    expect(fake.calls('UpdateService')).toEqual([]);
  });
});
