/**
 * Follows one ECS deployment until ECS calls its rollout COMPLETED or FAILED: one line in the
 * thread per change of state, a failure with ECS's own reason (e.g. the deployment circuit
 * breaker), and a failure if another deployment takes its place before it completes.
 */
import type { Deployment, Service } from '@aws-sdk/client-ecs';
import type { ExecutorContext, StepResult } from '../executor.js';
import { pause } from '../http-kit.js';
import { EcsError } from './api.js';

export const primary = (service: Service | undefined): Deployment | undefined =>
  service?.deployments?.find((d) => d.status === 'PRIMARY');

export interface RolloutOutput extends Record<string, unknown> {
  fromTaskDefinition: string;
  toTaskDefinition: string;
  deploymentId: string | null;
}

/** Throws StoppedError when the signal aborts during a pause. */
export class StoppedError extends Error {}

export async function followRollout(
  ctx: ExecutorContext,
  describe: () => Promise<Service>,
  intervalMs: number,
  signal: AbortSignal,
  output: RolloutOutput,
  label: string,
): Promise<StepResult> {
  const { deploymentId } = output;
  let last = '';
  for (;;) {
    if (!(await pause(intervalMs, signal))) throw new StoppedError('stopped');
    const service = await describe();
    const current = primary(service);
    // A deployment the circuit breaker failed stays listed (no longer PRIMARY) while ECS rolls back.
    const ours = deploymentId === null ? current : service.deployments?.find((d) => d.id === deploymentId);
    if (!current && !ours) throw new EcsError(`ECS service ${label} has no PRIMARY deployment`);
    if (!ours || (ours !== current && ours.rolloutState !== 'FAILED')) {
      return {
        outcome: 'failed',
        error: `deployment ${deploymentId ?? '?'} was replaced by another deployment (${current?.id ?? '?'}) before it completed`,
        output,
      };
    }
    const state = ours.rolloutState ?? 'IN_PROGRESS';
    const line = `rollout ${state}: ${ours.runningCount ?? 0}/${ours.desiredCount ?? 0} running`;
    if (line !== last) ctx.log.line(line);
    last = line;
    if (state === 'COMPLETED') {
      return {
        outcome: 'succeeded',
        output,
        summary: `${label} is on ${output.toTaskDefinition} (was ${output.fromTaskDefinition}); rollout completed`,
      };
    }
    if (state === 'FAILED') {
      return {
        outcome: 'failed',
        error: `rollout of ${output.toTaskDefinition} failed: ${ours.rolloutStateReason ?? 'no reason given'}`,
        output,
      };
    }
  }
}
