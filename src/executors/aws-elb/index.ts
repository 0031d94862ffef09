/**
 * The blue-green switch of seeds 002 and 004, natively: an ALB listener's default forward is
 * shifted to a target group (all of the traffic, or a weight with the rest on the other group)
 * with ModifyListener. ALB applies it at once; there is no rollout to wait for.
 *
 * `resolve` reads the listener (DescribeListeners) and names the weights now and the weights it
 * sets; given that recorded target, `run` writes only when the listener still has the pinned
 * weights, succeeds without writing when it already has the target ones (a retry), and refuses
 * (a conflict) when someone else shifted it in between.
 */

// Tested by test/integration/executors/aws-elb.test.ts.
import {
  DescribeListenersCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  type Listener,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { z } from 'zod';
import { AwsError, resolveFailure, awsCall, awsClientConfig, type AwsExecutorOptions } from '../aws-kit.js';
import type { Executor, Resolution, StepResult, StepTarget } from '../executor.js';
import { human } from '../http-kit.js';
import {
  actionsWith,
  currentWeights,
  groupName,
  targetWeights,
  weightsKey,
  weightsText,
  type Weights,
} from './listener.js';
import { elbParams, type ElbParams } from './params.js';

/** Every call the executor makes. */
export const ELB_IAM_ACTIONS = [
  'elasticloadbalancing:DescribeListeners',
  'elasticloadbalancing:ModifyListener',
] as const;

const ELB = { envId: 'ELASTIC_LOAD_BALANCING_V2', label: 'ELB' };
const elbPin = z.object({ from: z.string().min(1), to: z.string().min(1) });

/** `alb listener checkout/443`: the load balancer's name and the listener's id, as the card shows it. */
export const listenerObject = (arn: string): string => {
  const match = /listener\/app\/([^/]+)\/[^/]+\/([^/]+)$/.exec(arn);
  return match ? `alb listener ${match[1]!}/${match[2]!}` : `alb listener ${arn}`;
};

async function describe(client: ElasticLoadBalancingV2Client, arn: string, signal: AbortSignal) {
  const answer = await awsCall('ELB DescribeListeners', signal, (options) =>
    client.send(new DescribeListenersCommand({ ListenerArns: [arn] }), options),
  );
  const listener = answer.Listeners?.find((l) => l.ListenerArn === arn);
  if (!listener) throw new AwsError(`${listenerObject(arn)} not found`);
  return listener;
}

function targetOf(listener: Listener, params: ElbParams, object: string): StepTarget {
  const now = currentWeights(listener, object);
  const wanted = targetWeights(now, params.targetGroupArn, params.weight, object);
  const state = (weights: Weights) => ({ revision: weightsText(weights), images: [] });
  return {
    object,
    current: state(now),
    target: state(wanted),
    pin: { from: weightsKey(now), to: weightsKey(wanted) },
  };
}

export function createElbExecutor(options: AwsExecutorOptions = {}): Executor<ElbParams> {
  const env = options.env ?? process.env;
  const resolveTimeoutMs = options.resolveTimeoutMs ?? 30_000;

  return {
    kind: 'aws-elb',
    description:
      "Shifts an ALB listener's weighted forward to a target group (the blue-green switch) with ModifyListener.",
    params: elbParams,
    iamActions: ELB_IAM_ACTIONS,

    async resolve(ctx, params): Promise<Resolution> {
      const object = listenerObject(params.listenerArn);
      const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(resolveTimeoutMs)]);
      const setup = awsClientConfig(ELB, params, { env, rollbackId: ctx.rollback.id, signal });
      if (!setup.ok) return setup;
      const client = new ElasticLoadBalancingV2Client(setup.config);
      try {
        return {
          ok: true,
          target: targetOf(await describe(client, params.listenerArn, signal), params, object),
        };
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
      const object = listenerObject(params.listenerArn);
      const limitMs = Math.min(params.timeout, ctx.timeoutMs);
      const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(limitMs)]);
      const setup = awsClientConfig(ELB, params, { env, rollbackId: ctx.rollback.id, signal });
      if (!setup.ok) return { outcome: 'failed', error: setup.error };
      const client = new ElasticLoadBalancingV2Client(setup.config);
      try {
        const listener = await describe(client, params.listenerArn, signal);
        const fresh = targetOf(listener, params, object);
        const pin = elbPin.safeParse(ctx.target?.pin ?? fresh.pin);
        if (!pin.success) {
          return {
            outcome: 'failed',
            error: `the recorded target of ${object} has no weights pin (from, to): resolve it again`,
          };
        }
        const now = currentWeights(listener, object);
        const wanted = targetWeights(now, params.targetGroupArn, params.weight, object);
        const output = (weights: Weights) => ({
          listener: params.listenerArn,
          weights: Object.fromEntries(weights.map((w) => [groupName(w.arn), w.weight])),
        });
        if (weightsKey(now) === pin.data.to) {
          const summary = `${object} already forwards ${weightsText(now)}: nothing to change`;
          ctx.log.line(summary);
          return { outcome: 'succeeded', summary, output: output(now) };
        }
        if (weightsKey(now) !== pin.data.from || weightsKey(wanted) !== pin.data.to) {
          return {
            outcome: 'failed',
            conflict: true,
            error: `${object} changed since the rollback was approved: it forwards ${weightsText(now)}, neither the start nor the target; nothing was changed`,
          };
        }
        ctx.log.line(`${object}: ${weightsText(now)} → ${weightsText(wanted)}`);
        const answer = await awsCall('ELB ModifyListener', signal, (options) =>
          client.send(
            new ModifyListenerCommand({
              ListenerArn: params.listenerArn,
              DefaultActions: actionsWith(listener, wanted, object),
            }),
            options,
          ),
        );
        const written = answer.Listeners?.[0];
        const after = written === undefined ? wanted : currentWeights(written, object);
        if (weightsKey(after) !== weightsKey(wanted)) {
          return {
            outcome: 'failed',
            error: `${object} answered ModifyListener with ${weightsText(after)}, not ${weightsText(wanted)}`,
            output: output(after),
          };
        }
        const summary = `${object} forwards ${weightsText(after)} (was ${weightsText(now)})`;
        return { outcome: 'succeeded', summary, output: output(after) };
      } catch (error) {
        if (signal.aborted) {
          return {
            outcome: 'failed',
            error: ctx.signal.aborted
              ? `shifting ${object} was stopped (rollback cancelled or bot shutting down)`
              : `shifting ${object} did not finish within the step's time limit of ${human(limitMs)}`,
          };
        }
        if (error instanceof AwsError) return { outcome: 'failed', error: error.userMessage };
        throw error;
      } finally {
        client.destroy();
      }
    },
  };
}
