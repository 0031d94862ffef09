/**
 * The ALB steps of seeds 002 and 004, natively. `action: shift` (the default) is the blue-green
 * switch: an ALB listener's default forward is moved to a target group (all of the traffic, or a
 * weight with the rest on the other group) with ModifyListener, which ALB applies at once
 * (shift.ts). `action: deregister` stops a target's traffic: DeregisterTargets, then waiting until
 * ELB has drained them (deregister.ts). Both resolve before approval and converge on retry.
 */

// Tested by test/integration/executors/aws-elb.test.ts, test/integration/executors/aws-elb-deregister.test.ts.
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { AwsError, resolveFailure, awsClientConfig, type AwsExecutorOptions } from '../aws-kit.js';
import type { Executor, Resolution, StepResult } from '../executor.js';
import { human } from '../http-kit.js';
import { resolveDeregister, runDeregister, StoppedWaiting, targetGroupObject } from './deregister.js';
import { elbParams, type ElbParams } from './params.js';
import { listenerObject, resolveShift, runShift } from './shift.js';

/** Every call the executor makes: the listener's for shift, the target group's for deregister. */
export const ELB_IAM_ACTIONS = [
  'elasticloadbalancing:DescribeListeners',
  'elasticloadbalancing:ModifyListener',
  'elasticloadbalancing:DescribeTargetHealth',
  'elasticloadbalancing:DeregisterTargets',
] as const;

export interface ElbExecutorOptions extends AwsExecutorOptions {
  /** Time between two DescribeTargetHealth while deregistered targets drain (default 5 s). */
  pollIntervalMs?: number;
}

const ELB = { envId: 'ELASTIC_LOAD_BALANCING_V2', label: 'ELB' };

const objectOf = (params: ElbParams): string =>
  params.action === 'deregister'
    ? targetGroupObject(params.targetGroupArn)
    : listenerObject(params.listenerArn);

export function createElbExecutor(options: ElbExecutorOptions = {}): Executor<ElbParams> {
  const env = options.env ?? process.env;
  const resolveTimeoutMs = options.resolveTimeoutMs ?? 30_000;
  const pollIntervalMs = options.pollIntervalMs ?? 5_000;

  return {
    kind: 'aws-elb',
    description:
      "Shifts an ALB listener's weighted forward to a target group (the blue-green switch), or deregisters targets and waits until they are drained.",
    params: elbParams,
    iamActions: ELB_IAM_ACTIONS,

    async resolve(ctx, params): Promise<Resolution> {
      const object = objectOf(params);
      const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(resolveTimeoutMs)]);
      const setup = awsClientConfig(ELB, params, { env, rollbackId: ctx.rollback.id, signal });
      if (!setup.ok) return setup;
      const client = new ElasticLoadBalancingV2Client(setup.config);
      try {
        const target =
          params.action === 'deregister'
            ? await resolveDeregister(client, params, signal)
            : await resolveShift(client, params, signal);
        return { ok: true, target };
      } catch (error) {
        return resolveFailure(error, {
          object,
          stopped: ctx.signal,
          limited: signal,
          timeoutMs: resolveTimeoutMs,
        });
      } finally {
        client.destroy();
      }
    },

    async run(ctx, params): Promise<StepResult> {
      const object = objectOf(params);
      const limitMs = Math.min(params.timeout, ctx.timeoutMs);
      const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(limitMs)]);
      const setup = awsClientConfig(ELB, params, { env, rollbackId: ctx.rollback.id, signal });
      if (!setup.ok) return { outcome: 'failed', error: setup.error };
      const client = new ElasticLoadBalancingV2Client(setup.config);
      const progress: { output?: Record<string, unknown> } = {};
      try {
        return params.action === 'deregister'
          ? await runDeregister(ctx, client, params, signal, pollIntervalMs, progress)
          : await runShift(ctx, client, params, signal);
      } catch (error) {
        const { output } = progress;
        if (signal.aborted || error instanceof StoppedWaiting) {
          const doing =
            params.action === 'deregister' ? `deregistering targets of ${object}` : `shifting ${object}`;
          const drains =
            output === undefined ? '' : '; ELB goes on draining the targets it was asked to deregister';
          return {
            outcome: 'failed',
            error: ctx.signal.aborted
              ? `${doing} was stopped (rollback cancelled or bot shutting down)${drains}`
              : `${doing} did not finish within the step's time limit of ${human(limitMs)}${drains}`,
            ...(output === undefined ? {} : { output }),
          };
        }
        if (error instanceof AwsError) {
          return { outcome: 'failed', error: error.userMessage, ...(output === undefined ? {} : { output }) };
        }
        throw error;
      } finally {
        client.destroy();
      }
    },
  };
}
