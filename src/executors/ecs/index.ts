/**
 * Puts an ECS service back on a task definition revision, then follows the new deployment until
 * ECS calls its rollout COMPLETED or FAILED, or the step's time runs out.
 *
 * `resolve` reads, without changing anything, what the service runs and the exact revision the
 * step restores (targets.ts). Given that recorded target, `run` never chooses again: it updates
 * the service from the pinned start to the pinned target, or only waits when the service is
 * already there, and refuses to touch a service someone else moved in between (a conflict).
 */

// Tested by test/integration/executors/ecs.test.ts, test/integration/executors/ecs-targets.test.ts, test/e2e/exact-targets-ecs.test.ts.
import { ECSClient, type Service } from '@aws-sdk/client-ecs';
import { z } from 'zod';
import { awsClientConfig, type AwsExecutorOptions } from '../aws-kit.js';
import type { Executor, ExecutorContext, Resolution, StepResult } from '../executor.js';
import { human } from '../http-kit.js';
import {
  EcsError,
  ecsApi,
  familyRevision,
  lastSegment,
  parseFamilyRevision,
  sameRevision,
  type EcsApi,
} from './api.js';
import { ecsParams, type EcsParams } from './params.js';
import { followRollout, primary, StoppedError, type RolloutOutput } from './rollout.js';
import { previousRevision, resolveTarget } from './targets.js';

export interface EcsExecutorOptions extends AwsExecutorOptions {
  /** Time between two DescribeServices while the rollout runs (default 5 s). */
  pollIntervalMs?: number;
}

/** Every call the executor makes; iam:PassRole on the task and execution roles the restored task definition names. */
export const ECS_IAM_ACTIONS = [
  'ecs:DescribeServices',
  'ecs:DescribeTaskDefinition',
  'ecs:ListTaskDefinitions',
  'ecs:UpdateService',
  'iam:PassRole',
] as const;

const ECS = { envId: 'ECS', label: 'ECS' };

/** The pin `resolve` records: task definition ARNs of the start and of the target. */
const ecsPin = z.object({ from: z.string().min(1), to: z.string().min(1) });

/** `ecs service prod/checkout-svc`, as the card and the errors name it. */
export const ecsObject = (params: Pick<EcsParams, 'cluster' | 'service'>): string =>
  `ecs service ${lastSegment(params.cluster)}/${lastSegment(params.service)}`;

/** What `run` does, decided from what the service runs now (task definitions as ARNs). */
type Plan =
  | { kind: 'update'; from: string; to: string; note?: string }
  | { kind: 'wait'; from: string; to: string; deploymentId: string | null }
  | { kind: 'refuse'; result: StepResult };

export function createEcsExecutor(options: EcsExecutorOptions = {}): Executor<EcsParams> {
  const pollIntervalMs = options.pollIntervalMs ?? 5_000;
  const resolveTimeoutMs = options.resolveTimeoutMs ?? 30_000;
  const env = options.env ?? process.env;

  return {
    kind: 'ecs',
    description:
      'Puts an ECS service back on its previous (or a named) task definition and waits until it is stable.',
    params: ecsParams,
    iamActions: ECS_IAM_ACTIONS,

    async resolve(ctx, params): Promise<Resolution> {
      const object = ecsObject(params);
      const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(resolveTimeoutMs)]);
      const setup = awsClientConfig(ECS, params, { env, rollbackId: ctx.rollback.id, signal });
      if (!setup.ok) return setup;
      const client = new ECSClient(setup.config);
      try {
        return await resolveTarget(ecsApi(client, params, signal), params, ctx.toVersion, object);
      } catch (error) {
        if (error instanceof EcsError) return { ok: false, error: error.userMessage };
        if (ctx.signal.aborted) return { ok: false, error: `reading ${object} was stopped` };
        if (signal.aborted) {
          return { ok: false, error: `reading ${object} took longer than ${human(resolveTimeoutMs)}` };
        }
        throw error;
      } finally {
        client.destroy();
      }
    },

    async run(ctx, params) {
      const limitMs = Math.min(params.timeout, ctx.timeoutMs);
      const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(limitMs)]);
      const setup = awsClientConfig(ECS, params, { env, rollbackId: ctx.rollback.id, signal });
      if (!setup.ok) return { outcome: 'failed', error: setup.error };
      const client = new ECSClient(setup.config);
      const api = ecsApi(client, params, signal);
      const { label } = api;
      const stopped = (output?: Record<string, unknown>): StepResult => ({
        outcome: 'failed',
        error: ctx.signal.aborted
          ? `rollback of ECS service ${label} was stopped (rollback cancelled or bot shutting down)`
          : `ECS service ${label} did not finish its rollout within the step's time limit of ${human(limitMs)}`,
        ...(output === undefined ? {} : { output }),
      });

      let output: RolloutOutput | undefined;
      try {
        const service = await api.describeService();
        const running = service.taskDefinition;
        if (!running) return { outcome: 'failed', error: `ECS service ${label} has no task definition` };
        const plan =
          ctx.target === undefined
            ? await choose(ctx, api, params, running)
            : converge(ecsObject(params), ctx.target.pin, service, running);
        if (plan.kind === 'refuse') return plan.result;
        if (plan.kind === 'wait') {
          output = {
            fromTaskDefinition: familyRevision(plan.from),
            toTaskDefinition: familyRevision(plan.to),
            deploymentId: plan.deploymentId,
          };
          ctx.log.line(
            `${params.service} already runs ${output.toTaskDefinition}: waiting for deployment ${plan.deploymentId ?? '(unknown id)'}`,
          );
        } else {
          if (plan.note !== undefined) ctx.log.line(plan.note);
          ctx.log.line(`${params.service}: ${familyRevision(plan.from)} → ${familyRevision(plan.to)}`);
          const updated = await api.updateService(plan.to);
          const deploymentId = primary(updated)?.id ?? null;
          output = {
            fromTaskDefinition: familyRevision(plan.from),
            toTaskDefinition: familyRevision(plan.to),
            deploymentId,
          };
          ctx.log.line(`deployment ${deploymentId ?? '(unknown id)'} started`);
        }
        return await followRollout(ctx, () => api.describeService(), pollIntervalMs, signal, output, label);
      } catch (error) {
        if (signal.aborted || error instanceof StoppedError) return stopped(output);
        if (error instanceof EcsError) {
          return { outcome: 'failed', error: error.userMessage, ...(output === undefined ? {} : { output }) };
        }
        throw error;
      } finally {
        client.destroy();
      }
    },
  };
}

/** No recorded target (a plan run without resolve): the named revision, or the previous ACTIVE one. */
async function choose(ctx: ExecutorContext, api: EcsApi, params: EcsParams, running: string): Promise<Plan> {
  if (params.taskDefinition !== undefined) {
    const named = await api.describeTaskDefinition(params.taskDefinition);
    return { kind: 'update', from: running, to: named.taskDefinitionArn };
  }
  const previous = await previousRevision(api, running);
  const parsed = parseFamilyRevision(previous);
  ctx.log.line(`previous ACTIVE revision of ${parsed?.family ?? '?'}: ${parsed?.revision ?? '?'}`);
  return { kind: 'update', from: running, to: previous };
}

/**
 * A recorded target: the pinned start → update to the pinned target; already on the target →
 * wait for its deployment (or deploy the target again if that deployment FAILED); anything else
 * was changed by someone else since the approval → a conflict, and nothing is touched.
 */
function converge(
  object: string,
  recorded: Record<string, unknown>,
  service: Service,
  running: string,
): Plan {
  const pin = ecsPin.safeParse(recorded);
  if (!pin.success) {
    return {
      kind: 'refuse',
      result: {
        outcome: 'failed',
        error: `the recorded target of ${object} has no task definition pin (from, to): resolve it again`,
      },
    };
  }
  const { from, to } = pin.data;
  if (sameRevision(running, to)) {
    const deployment = primary(service);
    if (deployment?.rolloutState === 'FAILED') {
      return {
        kind: 'update',
        from,
        to,
        note: `${familyRevision(to)} is deployed but its rollout failed (${deployment.id ?? '?'}): deploying it again`,
      };
    }
    return {
      kind: 'wait',
      from: familyRevision(from),
      to: familyRevision(to),
      deploymentId: deployment?.id ?? null,
    };
  }
  if (sameRevision(running, from)) return { kind: 'update', from, to };
  return {
    kind: 'refuse',
    result: {
      outcome: 'failed',
      conflict: true,
      error: `${object} changed since the rollback was approved: it runs ${familyRevision(running)}, neither ${familyRevision(from)} (start) nor ${familyRevision(to)} (target); nothing was changed`,
    },
  };
}
