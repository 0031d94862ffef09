/**
 * A listener's default forward as the executor reads and writes it: the weight of each target
 * group (a plain `TargetGroupArn` forward is one group at 100), the weights a step sets, and the
 * actions written back with only the forward changed (an authenticate action before it stays).
 */
import type { Action, Listener } from '@aws-sdk/client-elastic-load-balancing-v2';
import { AwsError } from '../aws-kit.js';

/** Weights by target group ARN, in the listener's order. */
export type Weights = Array<{ arn: string; weight: number }>;

/** `checkout-blue` from `arn:aws:elasticloadbalancing:...:targetgroup/checkout-blue/6d0ecf831eec9f09`. */
export const groupName = (arn: string): string => /targetgroup\/([^/]+)/.exec(arn)?.[1] ?? arn;

export const weightsText = (weights: Weights): string =>
  weights.map((w) => `${groupName(w.arn)} ${w.weight}%`).join(', ');

/** The same weights whatever the order: the pin compares them. */
export const weightsKey = (weights: Weights): string =>
  JSON.stringify([...weights].sort((a, b) => (a.arn < b.arn ? -1 : 1)).map((w) => [w.arn, w.weight]));

function forwardOf(listener: Listener, label: string): Action {
  const forward = listener.DefaultActions?.find((action) => action.Type === 'forward');
  if (!forward) throw new AwsError(`${label} has no forward default action to shift`);
  return forward;
}

export function currentWeights(listener: Listener, label: string): Weights {
  const forward = forwardOf(listener, label);
  const groups = forward.ForwardConfig?.TargetGroups ?? [];
  if (groups.length > 0) {
    return groups.map((g) => ({ arn: g.TargetGroupArn ?? '?', weight: g.Weight ?? 1 }));
  }
  if (forward.TargetGroupArn !== undefined) return [{ arn: forward.TargetGroupArn, weight: 100 }];
  throw new AwsError(`${label} forwards to no target group`);
}

/** The weights that send `weight`% to `to`; the listener's other group gets the rest. */
export function targetWeights(current: Weights, to: string, weight: number, label: string): Weights {
  const others = current.filter((w) => w.arn !== to);
  if (weight < 100 && others.length !== 1) {
    throw new AwsError(
      `${label} forwards to ${others.length} other target groups: a weight below 100 needs exactly one other`,
    );
  }
  const rest = weight < 100 ? 100 - weight : 0;
  const listed = current.some((w) => w.arn === to);
  return [
    ...current.map((w) => ({ arn: w.arn, weight: w.arn === to ? weight : rest })),
    ...(listed ? [] : [{ arn: to, weight }]),
  ];
}

/** The listener's default actions with the forward set to `weights`, the rest as they are. */
export function actionsWith(listener: Listener, weights: Weights, label: string): Action[] {
  const forward = forwardOf(listener, label);
  return (listener.DefaultActions ?? []).map((action) => {
    if (action !== forward) return action;
    const { TargetGroupArn: _single, ...rest } = action;
    return {
      ...rest,
      ForwardConfig: {
        ...action.ForwardConfig,
        TargetGroups: weights.map((w) => ({ TargetGroupArn: w.arn, Weight: w.weight })),
      },
    };
  });
}
