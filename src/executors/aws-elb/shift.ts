/**
 * `action: shift`: an ALB listener's default forward moved to a target group with ModifyListener.
 * `resolve` reads the listener and names the weights now and the weights it sets; given that
 * recorded target, `run` writes only while the listener still has the pinned weights, succeeds
 * without writing when it already has the target ones (a retry), and refuses (a conflict) when
 * someone else shifted it in between.
 */
import {
  DescribeListenersCommand,
  ModifyListenerCommand,
  type ElasticLoadBalancingV2Client,
  type Listener,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { z } from 'zod';
import { AwsError, awsCall } from '../aws-kit.js';
import type { ExecutorContext, StepResult, StepTarget } from '../executor.js';
import {
  actionsWith,
  currentWeights,
  groupName,
  targetWeights,
  weightsKey,
  weightsText,
  type Weights,
} from './listener.js';
import type { ElbShiftParams } from './params.js';

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

function targetOf(listener: Listener, params: ElbShiftParams, object: string): StepTarget {
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

export async function resolveShift(
  client: ElasticLoadBalancingV2Client,
  params: ElbShiftParams,
  signal: AbortSignal,
): Promise<StepTarget> {
  const object = listenerObject(params.listenerArn);
  return targetOf(await describe(client, params.listenerArn, signal), params, object);
}

export async function runShift(
  ctx: ExecutorContext,
  client: ElasticLoadBalancingV2Client,
  params: ElbShiftParams,
  signal: AbortSignal,
): Promise<StepResult> {
  const object = listenerObject(params.listenerArn);
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
}
