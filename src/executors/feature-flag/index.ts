/**
 * Turns a feature flag off (or on): Unleash's admin API toggle for one environment, LaunchDarkly's
 * semantic patch `turnFlagOff` with a comment naming the rollback, or a generic HTTP endpoint.
 * One request, never retried (it may have taken effect before an error). The token arrives
 * rendered from `${env:...}`: it goes into the Authorization header and nowhere else.
 *
 * `resolve` reads the flag's state in the environment (Unleash, LaunchDarkly) without changing it;
 * `run`, given the recorded target, reads it again and writes only when the flag is not already in
 * the target state. The generic endpoint has no read API: its current state shows as unknown.
 */

// Tested by test/integration/executors/feature-flag.test.ts.
import { z } from 'zod';
import type { Executor, ExecutorContext, ResolveContext, Resolution, StepResult } from '../executor.js';
import { human, sendHttp, statusLine } from '../http-kit.js';
import { excerpt } from '../../lib/text.js';
import { featureFlagParams, type FeatureFlagParams } from './params.js';
import {
  credentialName,
  flagObject,
  flagState,
  PROVIDER_NAMES,
  readFlag,
  readUrl,
  unleashApi,
  type FlagState,
} from './state.js';

export const featureFlagExecutor: Executor<FeatureFlagParams> = {
  kind: 'feature-flag',
  description: 'Turns a feature flag off or on through Unleash, LaunchDarkly or a generic HTTP endpoint.',
  params: featureFlagParams,
  valuePlaces: { url: 'url' },
  resolve: resolveFeatureFlag,
  run: runFeatureFlag,
};

interface FlagRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** Statuses that mean the flag was set. */
  accepted: (status: number) => boolean;
  /** What the thread says is being done, without the token. */
  action: string;
  /** Where the flag lives, for a 404. */
  where: string;
}

const stateOnly = (revision: FlagState | 'unknown') => ({ revision, images: [] });

/** What the flag is now and what the step sets it to; read-only. */
async function resolveFeatureFlag(ctx: ResolveContext, params: FeatureFlagParams): Promise<Resolution> {
  const to = flagState(params.enabled);
  const object = flagObject(params);
  if (params.provider === 'http') {
    // No read API: the card says so (in `object`) and still names the state the step sets.
    return {
      ok: true,
      target: { object, current: stateOnly('unknown'), target: stateOnly(to), pin: { from: 'unknown', to } },
    };
  }
  const read = await readFlag(params, ctx.signal, params.timeout);
  if (read.kind !== 'state') return { ok: false, error: read.error };
  return {
    ok: true,
    target: {
      object,
      current: stateOnly(read.state),
      target: stateOnly(to),
      pin: { from: read.state, to },
    },
  };
}

const flagPin = z.object({ from: z.enum(['on', 'off', 'unknown']), to: z.enum(['on', 'off']) });

/**
 * Without a recorded target: one write, as before. With one: the flag already in the target state
 * succeeds without writing; otherwise (it is in the start state: a flag has two) it is set. Setting
 * is idempotent, so the only conflict is a flag (or environment) that no longer exists.
 */
async function runFeatureFlag(ctx: ExecutorContext, params: FeatureFlagParams): Promise<StepResult> {
  const started = performance.now();
  const limitMs = Math.min(params.timeout, ctx.timeoutMs);
  const recorded = ctx.target;
  if (recorded === undefined) return setFlag(ctx, params, limitMs);
  const { data: pin } = flagPin.safeParse(recorded.pin);
  if (!pin) {
    return {
      outcome: 'failed',
      error: `the recorded target of ${recorded.object} is not one the feature-flag executor wrote (${JSON.stringify(recorded.pin)}); nothing was changed`,
    };
  }
  const state = flagState(params.enabled);
  if (pin.to !== state) {
    return {
      outcome: 'failed',
      error: `the recorded target of ${recorded.object} turns it ${pin.to}, but the step now turns it ${state}; nothing was changed`,
    };
  }
  if (params.provider !== 'http') {
    const name = PROVIDER_NAMES[params.provider];
    ctx.log.line(`reading ${name} flag "${params.flag}" in ${params.environment}: GET ${readUrl(params)}`);
    const read = await readFlag(params, ctx.signal, limitMs);
    switch (read.kind) {
      case 'missing':
        return {
          outcome: 'failed',
          error: `${read.error}: it was removed since the rollback was approved; nothing was changed`,
          conflict: true,
        };
      case 'error':
        return { outcome: 'failed', error: `${read.error}; nothing was changed` };
      case 'state':
        break;
    }
    ctx.log.line(`→ the flag is ${read.state}`);
    if (read.state === pin.to) {
      return {
        outcome: 'succeeded',
        output: {
          provider: params.provider,
          flag: params.flag,
          environment: params.environment,
          state: read.state,
          changed: false,
        },
        summary: `${name}: flag "${params.flag}" is already ${state} in ${params.environment}; nothing was written`,
      };
    }
  }
  const result = await setFlag(ctx, params, Math.max(1, limitMs - (performance.now() - started)));
  return result.outcome === 'succeeded' ? { ...result, output: { ...result.output, changed: true } } : result;
}

/** One write that sets the flag. */
async function setFlag(
  ctx: ExecutorContext,
  params: FeatureFlagParams,
  limitMs: number,
): Promise<StepResult> {
  const request = buildRequest(ctx, params);
  const name = PROVIDER_NAMES[params.provider];
  const state = params.enabled ? 'on' : 'off';
  const environment = params.environment ?? null;
  const call = `${request.method} ${request.url}`;
  ctx.log.line(`${request.action}: ${call}`);
  const outcome = await sendHttp({
    method: request.method,
    url: request.url,
    headers: request.headers,
    ...(request.body === undefined ? {} : { body: request.body }),
    signal: ctx.signal,
    timeoutMs: limitMs,
  });
  switch (outcome.kind) {
    case 'aborted':
      return {
        outcome: 'failed',
        error: `${call} was stopped (rollback cancelled or bot shutting down); the flag may or may not be ${state}`,
      };
    case 'timeout':
      return {
        outcome: 'failed',
        error: `${name} did not answer within ${human(limitMs)} (${call}); the flag may or may not be ${state}`,
      };
    case 'no-answer':
      return { outcome: 'failed', error: `${name} could not be reached (${call}): ${outcome.error}` };
    case 'answer':
      break;
  }
  ctx.log.line(`→ ${statusLine(outcome.status, outcome.statusText)} (${outcome.durationMs} ms)`);
  const output = { provider: params.provider, flag: params.flag, environment, status: outcome.status };
  if (request.accepted(outcome.status)) {
    return {
      outcome: 'succeeded',
      output,
      summary: `${name}: flag "${params.flag}" turned ${state}${environment ? ` in ${environment}` : ''}`,
    };
  }
  const body = outcome.text.trim() ? `: ${excerpt(outcome.text)}` : '';
  const credential = credentialName(params.provider);
  let error: string;
  switch (outcome.status) {
    case 401:
      error = `${name} refused the ${credential} (401)`;
      break;
    case 403:
      error = `${name}: the ${credential} may not change flag "${params.flag}" (403)${body}`;
      break;
    case 404:
      error = `${name} has no flag "${params.flag}" ${request.where} (404)${body}`;
      break;
    default:
      error = `${name} answered ${statusLine(outcome.status, outcome.statusText)} to ${call}${body}`;
  }
  return { outcome: 'failed', error, output };
}

function buildRequest(ctx: ExecutorContext, params: FeatureFlagParams): FlagRequest {
  const segment = encodeURIComponent;
  const base = params.url.replace(/\/+$/, '');
  switch (params.provider) {
    case 'unleash': {
      const api = unleashApi(params.url);
      const toggle = params.enabled ? 'on' : 'off';
      return {
        method: 'POST',
        url: `${api}/admin/projects/${segment(params.project)}/features/${segment(params.flag)}/environments/${segment(params.environment)}/${toggle}`,
        headers: { authorization: params.token, accept: 'application/json' },
        accepted: (status) => status === 200 || status === 202,
        action: `turning Unleash flag "${params.flag}" ${toggle} in ${params.environment}`,
        where: `in project "${params.project}" and environment "${params.environment}"`,
      };
    }
    case 'launchdarkly': {
      const kind = params.enabled ? 'turnFlagOn' : 'turnFlagOff';
      return {
        method: 'PATCH',
        url: `${base}/api/v2/flags/${segment(params.projectKey)}/${segment(params.flag)}`,
        headers: {
          authorization: params.token,
          'content-type': 'application/json; domain-model=launchdarkly.semanticpatch',
          accept: 'application/json',
        },
        body: JSON.stringify({
          environmentKey: params.environment,
          instructions: [{ kind }],
          comment: `rollback-bot: rollback ${ctx.rollback.id} of ${ctx.rollback.service} (${ctx.rollback.environment})`,
        }),
        accepted: (status) => status === 200,
        action: `${kind} for LaunchDarkly flag "${params.flag}" in ${params.environment}`,
        where: `in project "${params.projectKey}"`,
      };
    }
    case 'http':
      return {
        method: params.method,
        url: params.url,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(params.token === undefined ? {} : { authorization: `Bearer ${params.token}` }),
        },
        body: JSON.stringify({
          flag: params.flag,
          enabled: params.enabled,
          environment: params.environment ?? null,
        }),
        accepted: (status) => status >= 200 && status < 300,
        action: `setting flag "${params.flag}" ${params.enabled ? 'on' : 'off'}`,
        where: 'at the endpoint',
      };
  }
}
