/**
 * Seed 002's "previous launch template version" of an Auto Scaling group, natively: the group is
 * put back on an earlier launch template version (UpdateAutoScalingGroup, so every instance it
 * launches from then on is the restored one), then an instance refresh replaces the instances
 * still on the bad version, and the step follows it until AWS calls it Successful, Failed or
 * Cancelled, or the step's time runs out.
 *
 * `resolve` reads the group and the template's versions (EC2) and names the version the group is
 * on and the exact version it restores. Given that recorded target, `run` updates the group only
 * while it is still on the pinned start; when it is already on the target it starts no second
 * refresh while one for that version runs or has succeeded, and it never moves the group back;
 * any other version is a conflict.
 */

// Tested by test/integration/executors/aws-autoscaling.test.ts.
import { AutoScalingClient, type InstanceRefresh } from '@aws-sdk/client-auto-scaling';
import { z } from 'zod';
import {
  AwsError,
  awsClientConfig,
  awsClientConfigFor,
  resolveFailure,
  type AwsClientConfig,
  type AwsExecutorOptions,
} from '../aws-kit.js';
import type { Executor, ExecutorContext, Resolution, StepResult } from '../executor.js';
import { human, pause } from '../http-kit.js';
import {
  autoscalingApi,
  chooseVersion,
  isActive,
  isFor,
  versionState,
  type AutoscalingApi,
  type GroupTemplate,
  type TemplateVersion,
} from './group.js';
import { loadEc2 } from './ec2.js';
import { autoscalingParams, type AutoscalingParams } from './params.js';

/**
 * Every call the executor makes. Auto Scaling checks the caller's ec2:RunInstances (and
 * ec2:CreateTags for a template that tags, iam:PassRole for one with an instance profile) when a
 * group or a refresh is given a launch template version.
 */
export const AUTOSCALING_IAM_ACTIONS = [
  'autoscaling:DescribeAutoScalingGroups',
  'autoscaling:DescribeInstanceRefreshes',
  'autoscaling:UpdateAutoScalingGroup',
  'autoscaling:StartInstanceRefresh',
  'autoscaling:CancelInstanceRefresh',
  'ec2:DescribeLaunchTemplateVersions',
  'ec2:RunInstances',
  'ec2:CreateTags',
  'iam:PassRole',
] as const;

export interface AutoscalingExecutorOptions extends AwsExecutorOptions {
  /** Time between two DescribeInstanceRefreshes while a refresh runs (default 15 s). */
  pollIntervalMs?: number;
}

const AUTO_SCALING = { envId: 'AUTO_SCALING', label: 'Auto Scaling' };
const EC2 = { envId: 'EC2', label: 'EC2' };
const pinSchema = z.object({
  launchTemplateId: z.string().min(1),
  from: z.int().positive(),
  to: z.int().positive(),
});
type Pin = z.output<typeof pinSchema>;

export const asgObject = (params: Pick<AutoscalingParams, 'autoScalingGroup'>): string =>
  `asg ${params.autoScalingGroup}`;

class Stopped extends Error {}

/** The version the step restores, read as `resolve` reads it. */
async function target(
  api: AutoscalingApi,
  group: GroupTemplate,
  current: TemplateVersion,
  params: AutoscalingParams,
  toVersion: string | null,
  object: string,
): Promise<{ ok: true; version: TemplateVersion } | { ok: false; error: string }> {
  if (params.launchTemplateVersion !== undefined) {
    return { ok: true, version: await api.version(group, String(params.launchTemplateVersion)) };
  }
  return chooseVersion(await api.versionsUpTo(group, current.number), current.number, toVersion, object);
}

export function createAutoscalingExecutor(
  options: AutoscalingExecutorOptions = {},
): Executor<AutoscalingParams> {
  const env = options.env ?? process.env;
  const resolveTimeoutMs = options.resolveTimeoutMs ?? 30_000;
  const pollIntervalMs = options.pollIntervalMs ?? 15_000;

  // One configuration, so a roleArn is assumed once for both services.
  const clients = async (config: AwsClientConfig) => {
    const sdk = await loadEc2();
    return {
      autoscaling: new AutoScalingClient(config),
      ec2: { sdk, client: new sdk.EC2Client(awsClientConfigFor(config, EC2, env)) },
    };
  };

  return {
    kind: 'aws-autoscaling',
    description:
      'Puts an Auto Scaling group back on its previous (or a named) launch template version and waits for an instance refresh.',
    params: autoscalingParams,
    iamActions: AUTOSCALING_IAM_ACTIONS,
    async preload() {
      await loadEc2();
    },

    async resolve(ctx, params): Promise<Resolution> {
      const object = asgObject(params);
      const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(resolveTimeoutMs)]);
      const setup = awsClientConfig(AUTO_SCALING, params, { env, rollbackId: ctx.rollback.id, signal });
      if (!setup.ok) return setup;
      const { autoscaling, ec2 } = await clients(setup.config);
      try {
        const api = autoscalingApi(autoscaling, ec2, params, signal);
        const group = await api.group();
        const current = await api.version(group, group.version);
        const chosen = await target(api, group, current, params, ctx.toVersion, object);
        if (!chosen.ok) return chosen;
        return {
          ok: true,
          target: {
            object,
            current: versionState(current),
            target: versionState(chosen.version),
            pin: { launchTemplateId: group.id, from: current.number, to: chosen.version.number },
          },
        };
      } catch (error) {
        return resolveFailure(error, {
          object,
          stopped: ctx.signal,
          limited: signal,
          timeoutMs: resolveTimeoutMs,
        });
      } finally {
        autoscaling.destroy();
        ec2.client.destroy();
      }
    },

    async run(ctx, params): Promise<StepResult> {
      const object = asgObject(params);
      const limitMs = Math.min(params.timeout, ctx.timeoutMs);
      const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(limitMs)]);
      const setup = awsClientConfig(AUTO_SCALING, params, { env, rollbackId: ctx.rollback.id, signal });
      if (!setup.ok) return { outcome: 'failed', error: setup.error };
      const { autoscaling, ec2 } = await clients(setup.config);
      const api = autoscalingApi(autoscaling, ec2, params, signal);
      let output: Record<string, unknown> | undefined;
      let refreshId: string | undefined;
      try {
        const group = await api.group();
        const current = await api.version(group, group.version);
        let pin: Pin;
        if (ctx.target === undefined) {
          const chosen = await target(api, group, current, params, null, object);
          if (!chosen.ok) return { outcome: 'failed', error: chosen.error };
          pin = { launchTemplateId: group.id, from: current.number, to: chosen.version.number };
        } else {
          const recorded = pinSchema.safeParse(ctx.target.pin);
          if (!recorded.success) {
            return {
              outcome: 'failed',
              error: `the recorded target of ${object} has no launch template pin (launchTemplateId, from, to): resolve it again`,
            };
          }
          pin = recorded.data;
        }
        if (group.id !== pin.launchTemplateId || (current.number !== pin.from && current.number !== pin.to)) {
          const uses = group.id === pin.launchTemplateId ? '' : ` of launch template ${group.id}`;
          return {
            outcome: 'failed',
            conflict: true,
            error: `${object} changed since the rollback was approved: it is on version ${current.number}${uses}, neither version ${pin.from} (start) nor version ${pin.to} (target) of ${pin.launchTemplateId}; nothing was changed`,
          };
        }
        output = {
          group: params.autoScalingGroup,
          launchTemplateId: pin.launchTemplateId,
          fromVersion: pin.from,
          toVersion: pin.to,
        };
        const plan = await refreshPlan(ctx, api, group, current.number, pin, object);
        if (plan.kind === 'done') {
          ctx.log.line(plan.summary);
          return { outcome: 'succeeded', summary: plan.summary, output: { ...output, ...plan.output } };
        }
        if (plan.inTheWay !== undefined) {
          await stopRefresh(ctx, api, plan.inTheWay, pollIntervalMs, signal);
        }
        if (current.number === pin.from && pin.from !== pin.to) {
          ctx.log.line(`${object}: ${group.name} version ${pin.from} → version ${pin.to}`);
          await api.update(group, pin.to);
        }
        refreshId = plan.follow ?? (await api.startRefresh(pin.launchTemplateId, pin.to));
        output = { ...output, instanceRefreshId: refreshId };
        if (plan.follow === undefined) ctx.log.line(`instance refresh ${refreshId} started`);
        return await follow(ctx, api, refreshId, pollIntervalMs, signal, object, output);
      } catch (error) {
        if (signal.aborted || error instanceof Stopped) {
          const goesOn =
            refreshId === undefined
              ? ''
              : `; instance refresh ${refreshId} goes on in AWS (it is not cancelled)`;
          return {
            outcome: 'failed',
            error: ctx.signal.aborted
              ? `the rollback of ${object} was stopped (rollback cancelled or bot shutting down)${goesOn}`
              : `${object} did not finish its instance refresh within the step's time limit of ${human(limitMs)}${goesOn}`,
            ...(output === undefined ? {} : { output }),
          };
        }
        if (error instanceof AwsError) {
          return { outcome: 'failed', error: error.userMessage, ...(output === undefined ? {} : { output }) };
        }
        throw error;
      } finally {
        autoscaling.destroy();
        ec2.client.destroy();
      }
    },
  };
}

type RefreshPlan =
  | { kind: 'done'; summary: string; output: Record<string, unknown> }
  /** `follow`: a refresh onto the target that runs already; `inTheWay`: another that runs, cancelled first. */
  | { kind: 'refresh'; follow?: string; inTheWay?: InstanceRefresh };

/** What is done about refreshes, from the group's newest ones. */
async function refreshPlan(
  ctx: ExecutorContext,
  api: AutoscalingApi,
  group: GroupTemplate,
  now: number,
  pin: Pin,
  object: string,
): Promise<RefreshPlan> {
  const refreshes = await api.newestRefreshes();
  const active = refreshes.find(isActive);
  const onTarget = now === pin.to;
  if (active !== undefined) {
    if (onTarget && isFor(active, pin.launchTemplateId, pin.to)) {
      ctx.log.line(
        `${object} is already on ${group.name} version ${pin.to}; following instance refresh ${active.InstanceRefreshId!} (${active.Status!})`,
      );
      return { kind: 'refresh', follow: active.InstanceRefreshId! };
    }
    return { kind: 'refresh', inTheWay: active };
  }
  const newest = [...refreshes].sort((a, b) => time(b.StartTime) - time(a.StartTime))[0];
  if (
    onTarget &&
    newest !== undefined &&
    newest.Status === 'Successful' &&
    isFor(newest, pin.launchTemplateId, pin.to)
  ) {
    return {
      kind: 'done',
      summary: `${object} is already on ${group.name} version ${pin.to} and instance refresh ${newest.InstanceRefreshId!} was Successful: nothing to change`,
      output: { instanceRefreshId: newest.InstanceRefreshId, status: newest.Status },
    };
  }
  return { kind: 'refresh' };
}

const time = (date: Date | undefined): number => date?.getTime() ?? 0;

/** Cancels a refresh of another configuration that would block ours, and waits until it has stopped. */
async function stopRefresh(
  ctx: ExecutorContext,
  api: AutoscalingApi,
  refresh: InstanceRefresh,
  intervalMs: number,
  signal: AbortSignal,
): Promise<void> {
  const id = refresh.InstanceRefreshId!;
  ctx.log.line(`instance refresh ${id} (${refresh.Status!}) is not onto the restored version: cancelling it`);
  await api.cancelRefresh();
  for (;;) {
    const now = await api.refresh(id);
    if (!isActive(now)) {
      ctx.log.line(`instance refresh ${id} ${now.Status ?? 'ended'}`);
      return;
    }
    if (!(await pause(intervalMs, signal))) throw new Stopped('stopped');
  }
}

/** Polls the refresh until it ends, one line per change: Successful succeeds, anything else fails. */
async function follow(
  ctx: ExecutorContext,
  api: AutoscalingApi,
  id: string,
  intervalMs: number,
  signal: AbortSignal,
  object: string,
  output: Record<string, unknown>,
): Promise<StepResult> {
  let last = '';
  for (;;) {
    const refresh = await api.refresh(id);
    const left = refresh.InstancesToUpdate === undefined ? '' : `, ${refresh.InstancesToUpdate} to update`;
    const line = `instance refresh ${id} ${refresh.Status ?? '?'} ${refresh.PercentageComplete ?? 0}%${left}`;
    if (line !== last) ctx.log.line(line);
    last = line;
    if (refresh.Status === 'Successful') {
      return {
        outcome: 'succeeded',
        output: { ...output, status: refresh.Status },
        summary: `${object} is on version ${String(output['toVersion'])} (was ${String(output['fromVersion'])}); instance refresh ${id} Successful`,
      };
    }
    if (!isActive(refresh)) {
      return {
        outcome: 'failed',
        error: `instance refresh ${id} of ${object} ended ${refresh.Status ?? 'without a status'}${refresh.StatusReason ? `: ${refresh.StatusReason}` : ''}; the group stays on version ${String(output['toVersion'])}`,
        output: { ...output, status: refresh.Status ?? null },
      };
    }
    if (!(await pause(intervalMs, signal))) throw new Stopped('stopped');
  }
}
