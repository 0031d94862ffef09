/**
 * Seed 002's `aws appconfig create-deployment ... --configuration-version $PREVIOUS_VERSION`,
 * natively: deploys an earlier configuration version of a profile to an environment with
 * StartDeployment, then follows that deployment until AppConfig calls it COMPLETE, or ROLLED_BACK
 * (its alarms fired), or the step's time runs out.
 *
 * `resolve` reads the profile's deployments and names the version live now and the version it
 * deploys; given that recorded target, `run` starts a deployment only while the pinned start is
 * live, only waits when the target is already deploying or live (a retry), and refuses (a
 * conflict) when someone else deployed another version in between.
 */

// Tested by test/integration/executors/aws-appconfig.test.ts.
import { AppConfigClient } from '@aws-sdk/client-appconfig';
import { z } from 'zod';
import { AwsError, resolveFailure, awsClientConfig, type AwsExecutorOptions } from '../aws-kit.js';
import type { Executor, ExecutorContext, Resolution, StepResult } from '../executor.js';
import { human, pause } from '../http-kit.js';
import {
  appconfigApi,
  chooseVersion,
  decides,
  inFlight,
  isLive,
  live,
  type AppconfigApi,
  type Deployment,
} from './deployments.js';
import { appconfigParams, type AppconfigParams } from './params.js';

/** Every call the executor makes. */
export const APPCONFIG_IAM_ACTIONS = [
  'appconfig:ListDeployments',
  'appconfig:GetDeployment',
  'appconfig:StartDeployment',
] as const;

export interface AppconfigExecutorOptions extends AwsExecutorOptions {
  /** Time between two GetDeployment while the deployment runs (default 10 s). */
  pollIntervalMs?: number;
}

const APPCONFIG = { envId: 'APPCONFIG', label: 'AppConfig' };
const pin = z.object({ from: z.string().min(1), to: z.string().min(1) });

export const appconfigObject = (
  params: Pick<AppconfigParams, 'application' | 'environment' | 'configurationProfile'>,
) => `appconfig ${params.application}/${params.environment}/${params.configurationProfile}`;

class Stopped extends Error {}

export function createAppconfigExecutor(options: AppconfigExecutorOptions = {}): Executor<AppconfigParams> {
  const env = options.env ?? process.env;
  const resolveTimeoutMs = options.resolveTimeoutMs ?? 30_000;
  const pollIntervalMs = options.pollIntervalMs ?? 10_000;

  return {
    kind: 'aws-appconfig',
    description:
      'Deploys the previous (or a named) AppConfig configuration version and waits until it is COMPLETE.',
    params: appconfigParams,
    iamActions: APPCONFIG_IAM_ACTIONS,

    async resolve(ctx, params): Promise<Resolution> {
      const object = appconfigObject(params);
      const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(resolveTimeoutMs)]);
      const setup = awsClientConfig(APPCONFIG, params, { env, rollbackId: ctx.rollback.id, signal });
      if (!setup.ok) return setup;
      const client = new AppConfigClient(setup.config);
      try {
        const deployments = await appconfigApi(client, params, signal).ofProfile((found) =>
          decides(found, params.configurationVersion, ctx.toVersion),
        );
        const current = live(deployments, object);
        const chosen = chooseVersion(deployments, params.configurationVersion, ctx.toVersion, object);
        if (!chosen.ok) return chosen;
        return {
          ok: true,
          target: {
            object,
            current: {
              revision: `version ${current.ConfigurationVersion}`,
              ...(current.VersionLabel ? { version: current.VersionLabel } : {}),
              images: [],
            },
            target: {
              revision: `version ${chosen.version}`,
              ...(chosen.label === undefined ? {} : { version: chosen.label }),
              images: [],
            },
            pin: { from: current.ConfigurationVersion, to: chosen.version },
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
        client.destroy();
      }
    },

    async run(ctx, params): Promise<StepResult> {
      const object = appconfigObject(params);
      const limitMs = Math.min(params.timeout, ctx.timeoutMs);
      const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(limitMs)]);
      const setup = awsClientConfig(APPCONFIG, params, { env, rollbackId: ctx.rollback.id, signal });
      if (!setup.ok) return { outcome: 'failed', error: setup.error };
      const client = new AppConfigClient(setup.config);
      const api = appconfigApi(client, params, signal);
      let output: Record<string, unknown> | undefined;
      try {
        // With a recorded target only the live deployment matters; without, what resolve would read.
        const deployments = await api.ofProfile((found) =>
          ctx.target === undefined ? decides(found, params.configurationVersion, null) : found.some(isLive),
        );
        const current = live(deployments, object);
        let from = current.ConfigurationVersion;
        let to: string;
        if (ctx.target === undefined) {
          const chosen = chooseVersion(deployments, params.configurationVersion, null, object);
          if (!chosen.ok) return { outcome: 'failed', error: chosen.error };
          to = chosen.version;
        } else {
          const recorded = pin.safeParse(ctx.target.pin);
          if (!recorded.success) {
            return {
              outcome: 'failed',
              error: `the recorded target of ${object} has no version pin (from, to): resolve it again`,
            };
          }
          ({ from, to } = recorded.data);
        }
        let deployment: Deployment;
        if (current.ConfigurationVersion === to) {
          deployment = current;
          ctx.log.line(
            `${object} already has version ${to} (deployment ${current.DeploymentNumber}, ${current.State ?? '?'})`,
          );
        } else if (current.ConfigurationVersion === from) {
          ctx.log.line(`${object}: version ${from} → version ${to} (${params.deploymentStrategy})`);
          deployment = await api.start(to, `rollback ${ctx.rollback.id}: back to version ${to}`);
          ctx.log.line(`deployment ${deployment.DeploymentNumber} started`);
        } else {
          return {
            outcome: 'failed',
            conflict: true,
            error: `${object} changed since the rollback was approved: version ${current.ConfigurationVersion} is live (deployment ${current.DeploymentNumber}), neither version ${from} (start) nor version ${to} (target); nothing was changed`,
          };
        }
        output = { fromVersion: from, toVersion: to, deploymentNumber: deployment.DeploymentNumber };
        return await follow(ctx, api, deployment, pollIntervalMs, signal, object, output);
      } catch (error) {
        if (signal.aborted || error instanceof Stopped) {
          return {
            outcome: 'failed',
            error: ctx.signal.aborted
              ? `the deployment of ${object} was stopped (rollback cancelled or bot shutting down); AppConfig goes on with a deployment already started`
              : `${object} did not finish its deployment within the step's time limit of ${human(limitMs)}`,
            ...(output === undefined ? {} : { output }),
          };
        }
        if (error instanceof AwsError)
          return { outcome: 'failed', error: error.userMessage, ...(output === undefined ? {} : { output }) };
        throw error;
      } finally {
        client.destroy();
      }
    },
  };
}

/** Polls the deployment until COMPLETE (success) or rolled back (failure), one line per change. */
async function follow(
  ctx: ExecutorContext,
  api: AppconfigApi,
  started: Deployment,
  intervalMs: number,
  signal: AbortSignal,
  object: string,
  output: Record<string, unknown>,
): Promise<StepResult> {
  let deployment = started;
  let last = '';
  for (;;) {
    const line = `deployment ${deployment.DeploymentNumber} ${deployment.State ?? 'DEPLOYING'} ${deployment.PercentageComplete ?? 0}%`;
    if (line !== last) ctx.log.line(line);
    last = line;
    if (deployment.State === 'COMPLETE') {
      return {
        outcome: 'succeeded',
        output,
        summary: `${object} is on version ${deployment.ConfigurationVersion} (was ${String(output['fromVersion'])}); deployment ${deployment.DeploymentNumber} COMPLETE`,
      };
    }
    if (deployment.State !== undefined && !inFlight(deployment)) {
      const event = deployment.EventLog?.[0]?.Description;
      return {
        outcome: 'failed',
        error: `deployment ${deployment.DeploymentNumber} of version ${deployment.ConfigurationVersion} ended ${deployment.State}${event ? `: ${event}` : ''}`,
        output,
      };
    }
    if (!(await pause(intervalMs, signal))) throw new Stopped('stopped');
    deployment = await api.get(deployment.DeploymentNumber);
  }
}
