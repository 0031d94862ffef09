/**
 * `action: deregister`: targets taken out of a target group to stop their traffic
 * (DeregisterTargets), then followed with DescribeTargetHealth until ELB no longer has them
 * (`unused`, Target.NotRegistered), which it says once their connections have drained for the
 * group's deregistration delay.
 *
 * A target is either still registered (any health: healthy, unhealthy, initial, unused because no
 * load balancer uses the group) or on its way out (draining, or gone). `resolve` names the given
 * targets still registered; `run` deregisters only those, so a retry, or a target someone else
 * already took out, converges: nothing registered left means done once the draining ones are gone.
 * A target is never registered again.
 */
import {
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  type TargetDescription,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { awsCall } from '../aws-kit.js';
import type { ExecutorContext, StepResult, StepTarget } from '../executor.js';
import { pause } from '../http-kit.js';
import { groupName } from './listener.js';
import type { ElbDeregisterParams } from './params.js';

type Target = ElbDeregisterParams['targets'][number];
type Standing = 'registered' | 'draining' | 'gone';

interface Read {
  target: Target;
  label: string;
  standing: Standing;
  /** ELB's state: healthy, draining, unused ... */
  state: string;
}

/** Thrown when the step's signal stops a pause between two reads. */
export class StoppedWaiting extends Error {}

/** `target group checkout-green`, as the card shows it. */
export const targetGroupObject = (arn: string): string => `target group ${groupName(arn)}`;

/** `i-0abc:8080`, or the ID alone when the group's port is meant. */
export const targetLabel = (target: Target): string =>
  target.port === undefined ? target.id : `${target.id}:${target.port}`;

const described = (target: Target): TargetDescription => ({
  Id: target.id,
  ...(target.port === undefined ? {} : { Port: target.port }),
  ...(target.availabilityZone === undefined ? {} : { AvailabilityZone: target.availabilityZone }),
});

function standing(description: TargetHealthDescription | undefined): Standing {
  const health = description?.TargetHealth;
  if (description === undefined || (health?.State === 'unused' && health.Reason === 'Target.NotRegistered')) {
    return 'gone';
  }
  return health?.State === 'draining' ? 'draining' : 'registered';
}

/** The given targets as ELB has them now, in the plan's order. */
async function read(
  client: ElasticLoadBalancingV2Client,
  params: ElbDeregisterParams,
  signal: AbortSignal,
): Promise<Read[]> {
  const answer = await awsCall('ELB DescribeTargetHealth', signal, (options) =>
    client.send(
      new DescribeTargetHealthCommand({
        TargetGroupArn: params.targetGroupArn,
        Targets: params.targets.map(described),
      }),
      options,
    ),
  );
  return params.targets.map((target) => {
    const found = answer.TargetHealthDescriptions?.find(
      (d) => d.Target?.Id === target.id && (target.port === undefined || d.Target.Port === target.port),
    );
    return {
      target,
      label: targetLabel(target),
      standing: standing(found),
      state: found?.TargetHealth?.State ?? 'unused',
    };
  });
}

const registeredText = (reads: readonly Read[]): string => {
  const registered = reads.filter((r) => r.standing === 'registered').map((r) => r.label);
  return `registered: ${registered.length === 0 ? 'none' : registered.join(', ')}`;
};

export async function resolveDeregister(
  client: ElasticLoadBalancingV2Client,
  params: ElbDeregisterParams,
  signal: AbortSignal,
): Promise<StepTarget> {
  const reads = await read(client, params, signal);
  return {
    object: targetGroupObject(params.targetGroupArn),
    current: { revision: registeredText(reads), images: [] },
    target: { revision: 'registered: none', images: [] },
    pin: { deregister: params.targets.map(targetLabel).join(', ') },
  };
}

/**
 * Deregisters the given targets still registered and waits until ELB has none of them. `progress`
 * learns what was sent, so a stop can say that ELB goes on draining them.
 */
export async function runDeregister(
  ctx: ExecutorContext,
  client: ElasticLoadBalancingV2Client,
  params: ElbDeregisterParams,
  signal: AbortSignal,
  intervalMs: number,
  progress: { output?: Record<string, unknown> },
): Promise<StepResult> {
  const object = targetGroupObject(params.targetGroupArn);
  const all = params.targets.map(targetLabel);
  let reads = await read(client, params, signal);
  const registered = reads.filter((r) => r.standing === 'registered');
  const output = {
    targetGroup: params.targetGroupArn,
    deregistered: registered.map((r) => r.label),
    targets: all,
  };
  if (reads.every((r) => r.standing === 'gone')) {
    const summary = `${object} has none of ${all.join(', ')} registered: nothing to change`;
    ctx.log.line(summary);
    return { outcome: 'succeeded', summary, output };
  }
  if (registered.length > 0) {
    ctx.log.line(`${object}: deregistering ${output.deregistered.join(', ')}`);
    // Set before the call: a stop while it is in flight may still have reached ELB.
    progress.output = output;
    await awsCall('ELB DeregisterTargets', signal, (options) =>
      client.send(
        new DeregisterTargetsCommand({
          TargetGroupArn: params.targetGroupArn,
          Targets: registered.map((r) => described(r.target)),
        }),
        options,
      ),
    );
    reads = await read(client, params, signal);
  }
  const summary =
    output.deregistered.length === 0
      ? `${object}: ${all.join(', ')} drained (deregistered before this step)`
      : `${object}: ${output.deregistered.join(', ')} deregistered and drained`;
  let last = '';
  for (;;) {
    const left = reads.filter((r) => r.standing !== 'gone');
    const line =
      left.length === 0
        ? `${object}: none of ${all.join(', ')} registered`
        : left.map((r) => `${r.label} ${r.state}`).join(', ');
    if (line !== last) ctx.log.line(line);
    last = line;
    if (left.length === 0) return { outcome: 'succeeded', output, summary };
    if (!(await pause(intervalMs, signal))) throw new StoppedWaiting('stopped');
    reads = await read(client, params, signal);
  }
}
