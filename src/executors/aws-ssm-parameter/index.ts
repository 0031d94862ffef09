/**
 * Puts an SSM Parameter Store parameter back on the value of an earlier version of its history:
 * PutParameter with Overwrite, which SSM records as a new version holding the old value (the
 * history stays whole, and the revert is itself visible in it).
 *
 * `resolve` reads the history and names the version it restores; given that recorded target,
 * `run` never chooses again: it writes only when the parameter is still on the pinned start,
 * succeeds without writing when an earlier attempt's write is already the newest version, and
 * refuses (a conflict) when someone else wrote the parameter in between.
 */

// Tested by test/integration/executors/aws-ssm-parameter.test.ts, test/integration/executors/aws-kit.test.ts.
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { z } from 'zod';
import { AwsError, resolveFailure, awsCall, awsClientConfig, type AwsExecutorOptions } from '../aws-kit.js';
import type { Executor, Resolution, StepResult } from '../executor.js';
import { human } from '../http-kit.js';
import { chooseVersion, readHistory, resolution, type KnownVersion } from './history.js';
import { ssmParameterParams, type SsmParameterParams } from './params.js';

/** Every call the executor makes; SecureString parameters also need kms:Decrypt and kms:Encrypt on their key. */
export const SSM_PARAMETER_IAM_ACTIONS = ['ssm:GetParameterHistory', 'ssm:PutParameter'] as const;

const SSM = { envId: 'SSM', label: 'SSM' };
const ssmPin = z.object({ from: z.int(), to: z.int() });

export const ssmObject = (params: Pick<SsmParameterParams, 'name'>): string => `ssm parameter ${params.name}`;

type Plan =
  | { kind: 'put'; current: KnownVersion; target: KnownVersion }
  | { kind: 'done'; summary: string; output: Record<string, unknown> }
  | { kind: 'refuse'; result: StepResult };

export function createSsmParameterExecutor(options: AwsExecutorOptions = {}): Executor<SsmParameterParams> {
  const env = options.env ?? process.env;
  const resolveTimeoutMs = options.resolveTimeoutMs ?? 30_000;

  return {
    kind: 'aws-ssm-parameter',
    description:
      'Puts an SSM parameter back on the value of an earlier version from its history (PutParameter with Overwrite).',
    params: ssmParameterParams,
    iamActions: SSM_PARAMETER_IAM_ACTIONS,

    async resolve(ctx, params): Promise<Resolution> {
      const object = ssmObject(params);
      const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(resolveTimeoutMs)]);
      const setup = awsClientConfig(SSM, params, { env, rollbackId: ctx.rollback.id, signal });
      if (!setup.ok) return setup;
      const client = new SSMClient(setup.config);
      try {
        const history = await readHistory(client, params.name, signal);
        return resolution(history, params.version, ctx.toVersion, object);
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

    async run(ctx, params) {
      const object = ssmObject(params);
      const limitMs = Math.min(params.timeout, ctx.timeoutMs);
      const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(limitMs)]);
      const setup = awsClientConfig(SSM, params, { env, rollbackId: ctx.rollback.id, signal });
      if (!setup.ok) return { outcome: 'failed', error: setup.error };
      const client = new SSMClient(setup.config);
      try {
        const history = await readHistory(client, params.name, signal);
        const plan =
          ctx.target === undefined
            ? choose(history, params, object)
            : converge(history, ctx.target.pin, object);
        if (plan.kind === 'refuse') return plan.result;
        if (plan.kind === 'done') {
          ctx.log.line(plan.summary);
          return { outcome: 'succeeded', summary: plan.summary, output: plan.output };
        }
        const { current, target } = plan;
        ctx.log.line(`${params.name}: version ${current.Version} → the value of version ${target.Version}`);
        const answer = await awsCall('SSM PutParameter', signal, (options) =>
          client.send(
            new PutParameterCommand({
              Name: params.name,
              Value: target.Value,
              Type: current.Type ?? target.Type ?? 'String',
              Overwrite: true,
              ...(current.Type === 'SecureString' && current.KeyId !== undefined
                ? { KeyId: current.KeyId }
                : {}),
              ...(current.Tier === undefined ? {} : { Tier: current.Tier }),
              ...(current.DataType === undefined ? {} : { DataType: current.DataType }),
            }),
            options,
          ),
        );
        const written = answer.Version;
        const summary = `${object} holds the value of version ${target.Version} again (as version ${written ?? '?'}; was version ${current.Version})`;
        ctx.log.line(summary);
        return {
          outcome: 'succeeded',
          summary,
          output: {
            name: params.name,
            fromVersion: current.Version,
            restoredVersion: target.Version,
            newVersion: written ?? null,
          },
        };
      } catch (error) {
        if (signal.aborted) {
          return {
            outcome: 'failed',
            error: ctx.signal.aborted
              ? `reverting ${object} was stopped (rollback cancelled or bot shutting down)`
              : `reverting ${object} did not finish within the step's time limit of ${human(limitMs)}`,
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

/** No recorded target (a plan run without resolve): the named version, or the previous value. */
function choose(history: readonly KnownVersion[], params: SsmParameterParams, object: string): Plan {
  const chosen = chooseVersion(history, params.version, null, object);
  if (!chosen.ok) return { kind: 'refuse', result: { outcome: 'failed', error: chosen.error } };
  const current = history.at(-1)!;
  if (chosen.entry.Version === current.Version) return already(object, current, chosen.entry);
  return { kind: 'put', current, target: chosen.entry };
}

function already(object: string, current: KnownVersion, target: KnownVersion): Plan {
  return {
    kind: 'done',
    summary:
      current.Version === target.Version
        ? `${object} is already on version ${target.Version}: nothing to write`
        : `${object} already holds the value of version ${target.Version} (version ${current.Version}): nothing to write`,
    output: {
      name: current.Name ?? null,
      fromVersion: current.Version,
      restoredVersion: target.Version,
      newVersion: current.Version,
    },
  };
}

/**
 * A recorded target: still on the pinned start → write the target's value; a newer version that
 * holds the target's value → an earlier attempt wrote it, done; anything else → a conflict.
 */
function converge(history: readonly KnownVersion[], recorded: Record<string, unknown>, object: string): Plan {
  const pin = ssmPin.safeParse(recorded);
  if (!pin.success) {
    return {
      kind: 'refuse',
      result: {
        outcome: 'failed',
        error: `the recorded target of ${object} has no version pin (from, to): resolve it again`,
      },
    };
  }
  const { from, to } = pin.data;
  const current = history.at(-1)!;
  const target = history.find((entry) => entry.Version === to);
  if (!target) {
    return {
      kind: 'refuse',
      result: {
        outcome: 'failed',
        error: `${object} no longer keeps version ${to} (SSM keeps the last 100 versions); nothing was changed`,
      },
    };
  }
  if (current.Version === from)
    return from === to ? already(object, current, target) : { kind: 'put', current, target };
  if (current.Version > from && current.Value === target.Value && current.Type === target.Type) {
    return already(object, current, target);
  }
  return {
    kind: 'refuse',
    result: {
      outcome: 'failed',
      conflict: true,
      error: `${object} changed since the rollback was approved: it is on version ${current.Version}, neither version ${from} (start) nor the value of version ${to} (target); nothing was changed`,
    },
  };
}
