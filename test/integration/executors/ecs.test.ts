import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  UpdateServiceCommand,
  type Deployment,
  type DescribeServicesCommandOutput,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createEcsExecutor } from '../../../src/executors/ecs/index.js';
import { stepContext } from '../../support/http-peer.js';

const ecs = mockClient(ECSClient);
beforeEach(() => {
  ecs.reset();
});

const ARN = 'arn:aws:ecs:eu-west-1:123456789012:task-definition';
const td = (revision: number, family = 'checkout') => `${ARN}/${family}:${revision}`;

function serviceAnswer(taskDefinition: string, deployment: Deployment): DescribeServicesCommandOutput {
  return {
    $metadata: {},
    services: [
      {
        serviceName: 'checkout-svc',
        taskDefinition,
        deployments: [{ status: 'PRIMARY', desiredCount: 4, runningCount: 4, ...deployment }],
      },
    ],
    failures: [],
  };
}

const before = serviceAnswer(td(42), { id: 'ecs-svc/old', rolloutState: 'COMPLETED' });
const rolling = (running: number) =>
  serviceAnswer(td(41), { id: 'ecs-svc/new', rolloutState: 'IN_PROGRESS', runningCount: running });

const regions: string[] = [];
const executor = createEcsExecutor({
  client: (region) => {
    regions.push(region);
    return new ECSClient({ region, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  },
  pollIntervalMs: 5,
  env: {},
});

async function run(params: Record<string, unknown>, signal?: AbortSignal, timeoutMs?: number) {
  const { ctx, lines } = stepContext(signal, timeoutMs);
  const result = await executor.run(
    ctx,
    executor.params.parse({ cluster: 'prod', service: 'checkout-svc', region: 'eu-west-1', ...params }),
  );
  return { result, lines };
}

function givenRevisions(...revisions: number[]) {
  ecs
    .on(ListTaskDefinitionsCommand, { familyPrefix: 'checkout', status: 'ACTIVE', sort: 'DESC' })
    .resolves({ taskDefinitionArns: revisions.map((r) => td(r)) });
}

function givenUpdate(deploymentId = 'ecs-svc/new') {
  ecs.on(UpdateServiceCommand).resolves({
    service: { deployments: [{ id: deploymentId, status: 'PRIMARY', rolloutState: 'IN_PROGRESS' }] },
  });
}

describe('ecs executor (aws-sdk-client-mock)', () => {
  it('goes back to the previous ACTIVE revision and waits for the rollout to complete', async () => {
    ecs
      .on(DescribeServicesCommand, { cluster: 'prod', services: ['checkout-svc'] })
      .resolvesOnce(before)
      .resolvesOnce(rolling(2))
      .resolvesOnce(rolling(2))
      .resolvesOnce(rolling(3))
      .resolves(serviceAnswer(td(41), { id: 'ecs-svc/new', rolloutState: 'COMPLETED' }));
    givenRevisions(43, 42, 41, 40);
    givenUpdate();
    const { result, lines } = await run({});
    expect(ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'prod', service: 'checkout-svc', taskDefinition: td(41), forceNewDeployment: true },
    ]);
    expect(result).toEqual({
      outcome: 'succeeded',
      output: {
        fromTaskDefinition: 'checkout:42',
        toTaskDefinition: 'checkout:41',
        deploymentId: 'ecs-svc/new',
      },
      summary: 'checkout-svc (prod) is on checkout:41 (was checkout:42); rollout completed',
    });
    expect(lines).toEqual([
      'previous ACTIVE revision of checkout: 41',
      'checkout-svc: checkout:42 → checkout:41',
      'deployment ecs-svc/new started',
      'rollout IN_PROGRESS: 2/4 running',
      'rollout IN_PROGRESS: 3/4 running',
      'rollout COMPLETED: 4/4 running',
    ]);
    expect(regions.at(-1)).toBe('eu-west-1');
  });

  it('skips deregistered revisions and other families sharing the prefix', async () => {
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce(before)
      .resolves(serviceAnswer(td(39), { id: 'ecs-svc/new', rolloutState: 'COMPLETED' }));
    ecs.on(ListTaskDefinitionsCommand).resolves({
      taskDefinitionArns: [td(50, 'checkout-worker'), td(42), td(41, 'checkout-worker'), td(39)],
    });
    givenUpdate();
    const { result } = await run({});
    expect(ecs.commandCalls(UpdateServiceCommand)[0]!.args[0].input.taskDefinition).toBe(td(39));
    expect(result).toMatchObject({ outcome: 'succeeded', output: { toTaskDefinition: 'checkout:39' } });
  });

  it('goes to a named task definition', async () => {
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce(before)
      .resolves(serviceAnswer(td(37), { id: 'ecs-svc/new', rolloutState: 'COMPLETED' }));
    ecs
      .on(DescribeTaskDefinitionCommand, { taskDefinition: 'checkout:37' })
      .resolves({ taskDefinition: { taskDefinitionArn: td(37), status: 'ACTIVE' } });
    givenUpdate();
    const { result, lines } = await run({ taskDefinition: 'checkout:37' });
    expect(ecs.commandCalls(ListTaskDefinitionsCommand)).toHaveLength(0);
    expect(ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'prod', service: 'checkout-svc', taskDefinition: td(37), forceNewDeployment: true },
    ]);
    expect(result).toMatchObject({
      outcome: 'succeeded',
      output: { fromTaskDefinition: 'checkout:42', toTaskDefinition: 'checkout:37' },
    });
    expect(lines[0]).toBe('checkout-svc: checkout:42 → checkout:37');
  });

  it('fails without updating when there is no previous revision', async () => {
    ecs.on(DescribeServicesCommand).resolves(before);
    givenRevisions(43, 42);
    const { result } = await run({});
    expect(result).toEqual({
      outcome: 'failed',
      error: 'no ACTIVE revision of checkout before checkout:42 to go back to',
    });
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  it('fails with the reason ECS gives when the rollout fails', async () => {
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce(before)
      .resolvesOnce(rolling(1))
      .resolves(
        serviceAnswer(td(41), {
          id: 'ecs-svc/new',
          rolloutState: 'FAILED',
          runningCount: 0,
          rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
        }),
      );
    givenRevisions(42, 41);
    givenUpdate();
    const { result, lines } = await run({});
    expect(result).toEqual({
      outcome: 'failed',
      error: 'rollout of checkout:41 failed: ECS deployment circuit breaker: tasks failed to start.',
      output: {
        fromTaskDefinition: 'checkout:42',
        toTaskDefinition: 'checkout:41',
        deploymentId: 'ecs-svc/new',
      },
    });
    expect(lines.at(-1)).toBe('rollout FAILED: 0/4 running');
  });

  it('fails at the step time limit while the rollout is still in progress', async () => {
    ecs.on(DescribeServicesCommand).resolvesOnce(before).resolves(rolling(2));
    givenRevisions(42, 41);
    givenUpdate();
    const started = performance.now();
    const { result } = await run({ timeout: '150ms' });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(result).toEqual({
      outcome: 'failed',
      error:
        "ECS service checkout-svc (prod) did not finish its rollout within the step's time limit of 150ms",
      output: {
        fromTaskDefinition: 'checkout:42',
        toTaskDefinition: 'checkout:41',
        deploymentId: 'ecs-svc/new',
      },
    });
  });

  it('stops promptly when aborted while waiting for the rollout', async () => {
    const controller = new AbortController();
    let polls = 0;
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce(before)
      .callsFake(() => {
        polls += 1;
        if (polls === 3) controller.abort();
        return rolling(2);
      });
    givenRevisions(42, 41);
    givenUpdate();
    const { result } = await run({}, controller.signal);
    expect(result).toMatchObject({
      outcome: 'failed',
      error:
        'rollback of ECS service checkout-svc (prod) was stopped (rollback cancelled or bot shutting down)',
      output: { deploymentId: 'ecs-svc/new' },
    });
    expect(polls).toBe(3);
  });

  it('surfaces an SDK error such as throttling plainly', async () => {
    ecs.on(DescribeServicesCommand).resolves(before);
    givenRevisions(42, 41);
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    ecs.on(UpdateServiceCommand).rejects(throttled);
    const { result } = await run({});
    expect(result).toEqual({
      outcome: 'failed',
      error: 'ECS UpdateService failed: ThrottlingException: Rate exceeded',
    });
  });

  it('fails plainly for an unknown service and without a region', async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [], failures: [{ reason: 'MISSING' }] });
    expect((await run({})).result).toEqual({
      outcome: 'failed',
      error: 'ECS service checkout-svc (prod) not found (MISSING)',
    });
    const { ctx } = stepContext();
    await expect(executor.run(ctx, executor.params.parse({ cluster: 'c', service: 's' }))).resolves.toEqual({
      outcome: 'failed',
      error: 'no AWS region: set with.region or AWS_REGION',
    });
  });
});
