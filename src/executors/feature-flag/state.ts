/**
 * A flag's state in one environment, read without changing it: Unleash's admin "get a feature"
 * (`environments[].enabled`) and LaunchDarkly's "get feature flag" (`environments[env].on`). The
 * generic HTTP provider has no read API. Every failure is a sentence; the token goes into the
 * Authorization header and nowhere else.
 */
import { z } from 'zod';
import { human, sendHttp, statusLine } from '../http-kit.js';
import { excerpt } from '../../lib/text.js';
import type { FeatureFlagParams } from './params.js';

export type FlagState = 'on' | 'off';

export const flagState = (enabled: boolean): FlagState => (enabled ? 'on' : 'off');

/** The providers whose flag state can be read. */
export type ReadableFlagParams = Extract<FeatureFlagParams, { provider: 'unleash' | 'launchdarkly' }>;

export const PROVIDER_NAMES = {
  unleash: 'Unleash',
  launchdarkly: 'LaunchDarkly',
  http: 'the flag endpoint',
} as const;

export function credentialName(provider: FeatureFlagParams['provider']): string {
  return provider === 'launchdarkly' ? 'API key' : provider === 'unleash' ? 'API token' : 'token';
}

/** The admin API lives under /api; the plan may give the base with or without it. */
export function unleashApi(url: string): string {
  const base = url.replace(/\/+$/, '');
  return base.endsWith('/api') ? base : `${base}/api`;
}

/** `unleash flag checkout-new-flow (production)`, as the card names it. */
export function flagObject(params: FeatureFlagParams): string {
  if (params.provider !== 'http') return `${params.provider} flag ${params.flag} (${params.environment})`;
  const where = params.environment === undefined ? '' : `${params.environment}; `;
  return `http flag ${params.flag} (${where}its current state cannot be read)`;
}

export type FlagRead =
  | { kind: 'state'; state: FlagState }
  /** The flag, or its environment, does not exist (any more). */
  | { kind: 'missing'; error: string }
  | { kind: 'error'; error: string };

const unleashFeature = z.object({
  environments: z.array(z.object({ name: z.string(), enabled: z.boolean() })),
});

const launchDarklyFlag = z.object({
  environments: z.record(z.string(), z.object({ on: z.boolean() })),
});

export function readUrl(params: ReadableFlagParams): string {
  const segment = encodeURIComponent;
  if (params.provider === 'unleash') {
    return `${unleashApi(params.url)}/admin/projects/${segment(params.project)}/features/${segment(params.flag)}`;
  }
  const base = params.url.replace(/\/+$/, '');
  return `${base}/api/v2/flags/${segment(params.projectKey)}/${segment(params.flag)}?env=${segment(params.environment)}`;
}

function project(params: ReadableFlagParams): string {
  return params.provider === 'unleash' ? params.project : params.projectKey;
}

/** The flag's state in the step's environment, read with one GET. */
export async function readFlag(
  params: ReadableFlagParams,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<FlagRead> {
  const name = PROVIDER_NAMES[params.provider];
  const url = readUrl(params);
  const call = `GET ${url}`;
  const outcome = await sendHttp({
    method: 'GET',
    url,
    headers: { authorization: params.token, accept: 'application/json' },
    signal,
    timeoutMs,
  });
  switch (outcome.kind) {
    case 'aborted':
      return { kind: 'error', error: `${call} was stopped before ${name} answered` };
    case 'timeout':
      return { kind: 'error', error: `${name} did not answer within ${human(timeoutMs)} (${call})` };
    case 'no-answer':
      return { kind: 'error', error: `${name} could not be reached (${call}): ${outcome.error}` };
    case 'answer':
      break;
  }
  const body = outcome.text.trim() ? `: ${excerpt(outcome.text)}` : '';
  const credential = credentialName(params.provider);
  const flag = `flag "${params.flag}"`;
  switch (outcome.status) {
    case 200:
      break;
    case 401:
      return { kind: 'error', error: `${name} refused the ${credential} (401)` };
    case 403:
      return { kind: 'error', error: `${name}: the ${credential} may not read ${flag} (403)${body}` };
    case 404:
      return { kind: 'missing', error: `${name} has no ${flag} in project "${project(params)}" (404)` };
    default:
      return {
        kind: 'error',
        error: `${name} answered ${statusLine(outcome.status, outcome.statusText)} to ${call}${body}`,
      };
  }
  let json: unknown;
  try {
    json = JSON.parse(outcome.text);
  } catch {
    json = undefined;
  }
  const notAFlag: FlagRead = {
    kind: 'error',
    error: `${name} answered ${call} with something that is not a flag${body}`,
  };
  if (params.provider === 'unleash') {
    const { data } = unleashFeature.safeParse(json);
    if (!data) return notAFlag;
    const environment = data.environments.find((e) => e.name === params.environment);
    if (environment === undefined) {
      const known = data.environments.map((e) => e.name).join(', ') || 'none';
      return {
        kind: 'missing',
        error: `${name} ${flag} has no environment "${params.environment}" in project "${params.project}"; environments: ${known}`,
      };
    }
    return { kind: 'state', state: flagState(environment.enabled) };
  }
  const { data } = launchDarklyFlag.safeParse(json);
  if (!data) return notAFlag;
  const environment = new Map(Object.entries(data.environments)).get(params.environment);
  if (environment === undefined) {
    return {
      kind: 'missing',
      error: `${name} ${flag} has no environment "${params.environment}" in project "${params.projectKey}"`,
    };
  }
  return { kind: 'state', state: flagState(environment.on) };
}
