/**
 * Puts an ECS service back on the task definition revision it ran before (the ACTIVE revision of
 * its family just below the current one) or on a named one, then follows the new deployment until
 * ECS calls its rollout COMPLETED or FAILED, or the step's time runs out.
 */
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  UpdateServiceCommand,
  type Deployment,
  type Service,
} from '@aws-sdk/client-ecs';
import type { Executor, ExecutorContext, StepResult } from '../executor.js';
import { human, pause } from '../http-kit.js';
import { ecsParams, type EcsParams } from './params.js';

export interface EcsExecutorOptions {
  /** The client for a region (default: a real ECSClient with the default credential chain). */
  client?: (region: string) => ECSClient;
  /** Time between two DescribeServices while the rollout runs (default 5 s). */
  pollIntervalMs?: number;
  /** Where AWS_REGION is read when a step names no region (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
}

/** `arn:aws:ecs:eu-west-1:123:task-definition/checkout:42` or `checkout:42` → `checkout:42`. */
export function familyRevision(taskDefinition: string): string {
  const slash = taskDefinition.lastIndexOf('/');
  return taskDefinition.startsWith('arn:') && slash >= 0 ? taskDefinition.slice(slash + 1) : taskDefinition;
}

function parseFamilyRevision(taskDefinition: string): { family: string; revision: number } | undefined {
  const match = /^(.+):(\d+)$/.exec(familyRevision(taskDefinition));
  return match ? { family: match[1]!, revision: Number(match[2]) } : undefined;
}

/** "ThrottlingException: Rate exceeded", as the SDK names it. */
function awsError(error: unknown): string {
  if (error instanceof Error) {
    return error.message.startsWith(error.name) || error.name === 'Error'
      ? error.message
      : `${error.name}: ${error.message}`;
  }
  return String(error);
}

class EcsFailure extends Error {}

export function createEcsExecutor(options: EcsExecutorOptions = {}): Executor<EcsParams> {
  const clientFor = options.client ?? ((region: string) => new ECSClient({ region }));
  const pollIntervalMs = options.pollIntervalMs ?? 5_000;
  const env = options.env ?? process.env;

  return {
    kind: 'ecs',
    description:
      'Puts an ECS service back on its previous (or a named) task definition and waits until it is stable.',
    params: ecsParams,
    implemented: true,
    async run(ctx, params) {
      const region = params.region ?? env['AWS_REGION'];
      if (!region) return { outcome: 'failed', error: 'no AWS region: set with.region or AWS_REGION' };
      const limitMs = Math.min(params.timeout, ctx.timeoutMs);
      const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(limitMs)]);
      const { cluster, service } = params;
      const label = `${service} (${cluster})`;
      const stopped = (output?: Record<string, unknown>): StepResult => ({
        outcome: 'failed',
        error: ctx.signal.aborted
          ? `rollback of ECS service ${label} was stopped (rollback cancelled or bot shutting down)`
          : `ECS service ${label} did not finish its rollout within the step's time limit of ${human(limitMs)}`,
        ...(output === undefined ? {} : { output }),
      });
      const client = clientFor(region);
      /** One SDK call; a failure becomes an EcsFailure naming the call. */
      const call = async <T>(name: string, send: () => Promise<T>): Promise<T> => {
        try {
          return await send();
        } catch (error) {
          if (signal.aborted) throw error;
          throw new EcsFailure(`ECS ${name} failed: ${awsError(error)}`);
        }
      };
      const describe = async (): Promise<Service> => {
        const answer = await call('DescribeServices', () =>
          client.send(new DescribeServicesCommand({ cluster, services: [service] }), { abortSignal: signal }),
        );
        const found = answer.services?.find((s) => s.serviceName === service || s.serviceArn === service);
        if (!found) {
          const reason = answer.failures?.[0]?.reason;
          throw new EcsFailure(`ECS service ${label} not found${reason ? ` (${reason})` : ''}`);
        }
        return found;
      };

      let output: Record<string, unknown> | undefined;
      try {
        const current = (await describe()).taskDefinition;
        if (!current) return { outcome: 'failed', error: `ECS service ${label} has no task definition` };
        const target =
          params.taskDefinition === undefined
            ? await previousRevision(ctx, current, call, client, signal)
            : await namedRevision(params.taskDefinition, call, client, signal);
        if (typeof target !== 'string') return target;
        const from = familyRevision(current);
        const to = familyRevision(target);
        ctx.log.line(`${service}: ${from} → ${to}`);
        const updated = await call('UpdateService', () =>
          client.send(
            new UpdateServiceCommand({ cluster, service, taskDefinition: target, forceNewDeployment: true }),
            { abortSignal: signal },
          ),
        );
        const deploymentId = primary(updated.service)?.id ?? null;
        output = { fromTaskDefinition: from, toTaskDefinition: to, deploymentId };
        ctx.log.line(`deployment ${deploymentId ?? '(unknown id)'} started`);
        return await followRollout(ctx, describe, deploymentId, pollIntervalMs, signal, output, label);
      } catch (error) {
        if (signal.aborted) return stopped(output);
        if (error instanceof EcsFailure) {
          return { outcome: 'failed', error: error.message, ...(output === undefined ? {} : { output }) };
        }
        throw error;
      }
    },
  };
}

type Call = <T>(name: string, send: () => Promise<T>) => Promise<T>;

/** The highest ACTIVE revision of the current family below the current revision. */
async function previousRevision(
  ctx: ExecutorContext,
  current: string,
  call: Call,
  client: ECSClient,
  signal: AbortSignal,
): Promise<string | StepResult> {
  const parsed = parseFamilyRevision(current);
  if (!parsed) return { outcome: 'failed', error: `cannot read family:revision from ${current}` };
  const candidates: { arn: string; revision: number }[] = [];
  let nextToken: string | undefined;
  do {
    const token = nextToken;
    const page = await call('ListTaskDefinitions', () =>
      client.send(
        new ListTaskDefinitionsCommand({
          familyPrefix: parsed.family,
          status: 'ACTIVE',
          sort: 'DESC',
          ...(token === undefined ? {} : { nextToken: token }),
        }),
        { abortSignal: signal },
      ),
    );
    for (const arn of page.taskDefinitionArns ?? []) {
      const revision = parseFamilyRevision(arn);
      if (revision?.family === parsed.family && revision.revision < parsed.revision) {
        candidates.push({ arn, revision: revision.revision });
      }
    }
    nextToken = page.nextToken;
  } while (nextToken !== undefined && candidates.length === 0);
  const best = candidates.sort((a, b) => b.revision - a.revision)[0];
  if (!best) {
    return {
      outcome: 'failed',
      error: `no ACTIVE revision of ${parsed.family} before ${parsed.family}:${parsed.revision} to go back to`,
    };
  }
  ctx.log.line(`previous ACTIVE revision of ${parsed.family}: ${best.revision}`);
  return best.arn;
}

/** A named task definition, resolved to its ARN (and so checked to exist). */
async function namedRevision(
  name: string,
  call: Call,
  client: ECSClient,
  signal: AbortSignal,
): Promise<string | StepResult> {
  const answer = await call('DescribeTaskDefinition', () =>
    client.send(new DescribeTaskDefinitionCommand({ taskDefinition: name }), { abortSignal: signal }),
  );
  const arn = answer.taskDefinition?.taskDefinitionArn;
  return arn ?? { outcome: 'failed', error: `task definition ${name} not found` };
}

const primary = (service: Service | undefined): Deployment | undefined =>
  service?.deployments?.find((d) => d.status === 'PRIMARY');

async function followRollout(
  ctx: ExecutorContext,
  describe: () => Promise<Service>,
  deploymentId: string | null,
  intervalMs: number,
  signal: AbortSignal,
  output: Record<string, unknown>,
  label: string,
): Promise<StepResult> {
  let last = '';
  for (;;) {
    if (!(await pause(intervalMs, signal))) throw new Error('stopped');
    const svc = await describe();
    const deployment = primary(svc);
    if (!deployment) throw new EcsFailure(`ECS service ${label} has no PRIMARY deployment`);
    if (deploymentId !== null && deployment.id !== deploymentId) {
      return {
        outcome: 'failed',
        error: `deployment ${deploymentId} was replaced by another deployment (${deployment.id ?? '?'}) before it completed`,
        output,
      };
    }
    const state = deployment.rolloutState ?? 'IN_PROGRESS';
    const line = `rollout ${state}: ${deployment.runningCount ?? 0}/${deployment.desiredCount ?? 0} running`;
    if (line !== last) ctx.log.line(line);
    last = line;
    if (state === 'COMPLETED') {
      return {
        outcome: 'succeeded',
        output,
        summary: `${label} is on ${String(output['toTaskDefinition'])} (was ${String(output['fromTaskDefinition'])}); rollout completed`,
      };
    }
    if (state === 'FAILED') {
      return {
        outcome: 'failed',
        error: `rollout of ${String(output['toTaskDefinition'])} failed: ${deployment.rolloutStateReason ?? 'no reason given'}`,
        output,
      };
    }
  }
}

export const ecsExecutor = createEcsExecutor();
