/**
 * Turns a feature flag off (or on): Unleash's admin API toggle for one environment, LaunchDarkly's
 * semantic patch `turnFlagOff` with a comment naming the rollback, or a generic HTTP endpoint.
 * One request, never retried (it may have taken effect before an error). The token arrives
 * rendered from `${env:...}`: it goes into the Authorization header and nowhere else.
 */
import type { Executor, ExecutorContext, StepResult } from '../executor.js';
import { human, sendHttp, statusLine } from '../http-kit.js';
import { excerpt } from '../../text.js';
import { featureFlagParams, type FeatureFlagParams } from './params.js';

export const featureFlagExecutor: Executor<FeatureFlagParams> = {
  kind: 'feature-flag',
  description: 'Turns a feature flag off or on through Unleash, LaunchDarkly or a generic HTTP endpoint.',
  params: featureFlagParams,
  valuePlaces: { url: 'url' },
  implemented: true,
  run: runFeatureFlag,
};

const PROVIDER_NAMES = { unleash: 'Unleash', launchdarkly: 'LaunchDarkly', http: 'the flag endpoint' };

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

async function runFeatureFlag(ctx: ExecutorContext, params: FeatureFlagParams): Promise<StepResult> {
  const request = buildRequest(ctx, params);
  const name = PROVIDER_NAMES[params.provider];
  const state = params.enabled ? 'on' : 'off';
  const environment = params.environment ?? null;
  const limitMs = Math.min(params.timeout, ctx.timeoutMs);
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
  const credential =
    params.provider === 'launchdarkly' ? 'API key' : params.provider === 'unleash' ? 'API token' : 'token';
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
      // The admin API lives under /api; the plan may give the base with or without it.
      const api = base.endsWith('/api') ? base : `${base}/api`;
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
