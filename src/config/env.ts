/**
 * The bot's environment (DESIGN section 9), parsed once at start-up. `loadConfig` is strict: Slack's
 * token and signing secret are required; a caller that can run without Slack (the demo) supplies
 * its own values instead of loosening this. Every problem becomes one line of a `ConfigError` that
 * says how to fix it, so an operator fixes them all in one go.
 */
import { z } from 'zod';
import { TOPIC_ARN } from '../alerts/sns.js';
import { formatDuration, parseDuration } from '../domain/duration.js';
import { ConfigError } from '../lib/errors.js';
import { parseRedisUrl, type RedisTarget } from '../store/redis/redis-url.js';

export type { RedisTarget } from '../store/redis/redis-url.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const NODE_ENVS = ['development', 'production', 'test'] as const;

export interface Config {
  slack: { botToken: string; signingSecret: string; appToken?: string; apiUrl: string };
  port: number;
  /** Unset: the in-memory store (a warning is in `warnings`); never in production. */
  redis?: RedisTarget;
  nodeEnv: (typeof NODE_ENVS)[number];
  /** A manifest file or a folder of them. */
  rollbackConfig: string;
  alertWebhookToken?: string;
  apiToken?: string;
  statuspage: { apiKey?: string; apiUrl: string };
  awsRegion?: string;
  /** STEP_TIMEOUT_MAX: no step, check or watch runs longer; `validate` refuses a longer `timeout`. */
  stepTimeoutMaxMs: number;
  /** The SNS alert receiver (`POST /alerts/sns`). */
  sns: {
    /** Allowed topic ARNs; empty refuses every topic. */
    topicArns: string[];
    /** Extra SigningCertURL / SubscribeURL prefixes allowed besides https://sns.<region>.amazonaws.com. */
    certUrlPrefixes: string[];
    /** A PEM file of CAs trusted besides Node's root store; the caller reads it. */
    caFile?: string;
  };
  logLevel: (typeof LOG_LEVELS)[number];
  /** Things that work but deserve a line in the start-up log. */
  warnings: string[];
}

type Env = Record<string, string | undefined>;

/** What to tell the operator for each variable, after "X is missing:" or "X <problem>:". */
const FIX: Record<string, string> = {
  SLACK_BOT_TOKEN: "set it to the bot token (xoxb-...) from your Slack app's OAuth & Permissions page",
  SLACK_SIGNING_SECRET: "set it to the signing secret from your Slack app's Basic Information page",
  SLACK_APP_TOKEN:
    'set it to an app-level token (xapp-...) with connections:write to use Socket Mode, or unset it',
  SLACK_API_URL: 'set it to the Web API base URL ending with a slash, e.g. https://slack.com/api/',
  PORT: 'set it to a whole number from 0 to 65535 (0 picks a free port), or unset it for 3000',
  REDIS_URL:
    'set it to redis://[:password@]host:port[/db], rediss://... (TLS), redis+sentinel://host:port[,host:port]/master-name[/db], or a comma-separated list of redis:// URLs for a cluster',
  NODE_ENV: `set it to one of ${NODE_ENVS.join(', ')}`,
  ROLLBACK_CONFIG: 'set it to a manifest file or a folder of them, or unset it for manifests/',
  ALERT_WEBHOOK_TOKEN: 'set it to the bearer token alert sources send to /alerts/*, or unset it',
  API_TOKEN: 'set it to the bearer token CI and tools send to /api/*, or unset it',
  STATUSPAGE_API_KEY: 'set it to an API key from your Statuspage profile, or unset it',
  STATUSPAGE_API_URL: 'set it to the Statuspage API base, e.g. https://api.statuspage.io/v1',
  AWS_REGION: 'set it to an AWS region name such as us-east-1, or unset it',
  STEP_TIMEOUT_MAX:
    'set it to a duration from 1s to 24h such as 60m or 2h (the longest a step may run), or unset it for 60m',
  SNS_TOPIC_ARNS:
    'set it to a comma-separated list of SNS topic ARNs such as arn:aws:sns:us-east-1:123456789012:alerts, or unset it to refuse every topic',
  SNS_CERT_URL_PREFIXES:
    'set it to a comma-separated list of http(s) URL prefixes ending with a slash (local stacks and tests only), or unset it',
  SNS_CA_FILE: 'set it to the path of a PEM file of extra trusted CAs, or unset it',
  LOG_LEVEL: `set it to one of ${LOG_LEVELS.join(', ')}`,
};

/** Empty values count as unset: `FOO=` in an env file means "not given", not "the empty string". */
const optionalText = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());

function textWith(check: (value: string) => string | undefined) {
  return optionalText.superRefine((value, ctx) => {
    const problem = value === undefined ? undefined : check(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });
}

const noSpaces = (value: string) => (/\s/.test(value) ? 'contains whitespace' : undefined);
const prefixed = (prefix: string) => (value: string) =>
  value.startsWith(prefix) ? noSpaces(value) : `does not start with ${prefix}`;

function httpUrl(value: string, mustEndWithSlash: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `is not a URL ("${value}")`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be an http(s) URL ("${value}")`;
  if (mustEndWithSlash && !value.endsWith('/')) return `must end with a slash ("${value}")`;
  return undefined;
}

/** A comma-separated list: blanks around entries and empty entries are ignored. */
const listOf = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');

function everyEntry(check: (entry: string) => string | undefined) {
  return (value: string) =>
    listOf(value)
      .map(check)
      .find((problem) => problem !== undefined);
}

const topicArn = (value: string) =>
  TOPIC_ARN.test(value) ? undefined : `has "${value}", which is not an SNS topic ARN`;

function port(value: string): string | undefined {
  if (!/^\d+$/.test(value) || Number(value) > 65_535) return `is not a port number ("${value}")`;
  return undefined;
}

function oneOf(values: readonly string[]) {
  return (value: string) => (values.includes(value) ? undefined : `is "${value}", which is not allowed`);
}

/** STEP_TIMEOUT_MAX when unset: longer than every default `timeout` of the executors (30m at most). */
export const DEFAULT_STEP_TIMEOUT_MAX_MS = 60 * 60_000;
/**
 * A step longer than a day is not an incident step; past about 24.8 days Node's timers overflow
 * and would fire at once, stopping every step the moment it starts.
 */
const MAX_STEP_TIMEOUT_MAX_MS = 24 * 3_600_000;

/** STEP_TIMEOUT_MAX as milliseconds (the default when unset or empty), or what is wrong with it. */
export function parseStepTimeoutMax(
  text: string | undefined,
): { ok: true; ms: number } | { ok: false; problem: string } {
  if (text === undefined || text === '') return { ok: true, ms: DEFAULT_STEP_TIMEOUT_MAX_MS };
  const parsed = parseDuration(text);
  if (!parsed.ok) return { ok: false, problem: `is not a duration ("${text}")` };
  if (parsed.ms < 1_000 || parsed.ms > MAX_STEP_TIMEOUT_MAX_MS) {
    return {
      ok: false,
      problem: `is ${formatDuration(parsed.ms)}, outside 1s to 24h`,
    };
  }
  return { ok: true, ms: parsed.ms };
}

const checkStepTimeoutMax = (value: string): string | undefined => {
  const parsed = parseStepTimeoutMax(value);
  return parsed.ok ? undefined : parsed.problem;
};

const REQUIRED = new Set(['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET']);

const envSchema = z.object({
  SLACK_BOT_TOKEN: textWith(prefixed('xoxb-')),
  SLACK_SIGNING_SECRET: textWith(noSpaces),
  SLACK_APP_TOKEN: textWith(prefixed('xapp-')),
  SLACK_API_URL: textWith((v) => httpUrl(v, true)),
  PORT: textWith(port),
  REDIS_URL: textWith((v) => parseRedisUrl(v).problem),
  NODE_ENV: textWith(oneOf(NODE_ENVS)),
  ROLLBACK_CONFIG: optionalText,
  ALERT_WEBHOOK_TOKEN: textWith(noSpaces),
  API_TOKEN: textWith(noSpaces),
  STATUSPAGE_API_KEY: textWith(noSpaces),
  STATUSPAGE_API_URL: textWith((v) => httpUrl(v, false)),
  AWS_REGION: textWith((v) => (/^[a-z]{2}(-[a-z]+)+-\d+$/.test(v) ? undefined : `is not a region ("${v}")`)),
  STEP_TIMEOUT_MAX: textWith(checkStepTimeoutMax),
  SNS_TOPIC_ARNS: textWith(everyEntry(topicArn)),
  SNS_CERT_URL_PREFIXES: textWith(everyEntry((v) => httpUrl(v, true))),
  SNS_CA_FILE: optionalText,
  LOG_LEVEL: textWith(oneOf(LOG_LEVELS)),
});

/** Every variable the bot reads itself (docs/operations/configuration.md documents each). */
export const ENV_VARIABLES = Object.keys(envSchema.shape) as ReadonlyArray<keyof typeof envSchema.shape>;

export function loadConfig(env: Env = process.env): Config {
  const parsed = envSchema.safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0]);
      problems.push(`${name} ${issue.message}: ${FIX[name] ?? 'fix or unset it'}`);
    }
  }
  const values = parsed.success ? parsed.data : undefined;
  for (const name of REQUIRED) {
    if (!env[name]) problems.push(`${name} is missing: ${FIX[name] ?? ''}`);
  }
  const nodeEnv = (values?.NODE_ENV ?? 'development') as Config['nodeEnv'];
  if (nodeEnv === 'production' && !env.REDIS_URL) {
    problems.push(
      `REDIS_URL is missing and NODE_ENV=production: the in-memory store loses every rollback on restart; ${FIX.REDIS_URL ?? ''}`,
    );
  }
  if (values === undefined || problems.length > 0) throw new ConfigError(problems);
  return toConfig(values, nodeEnv);
}

function toConfig(values: z.output<typeof envSchema>, nodeEnv: Config['nodeEnv']): Config {
  const warnings: string[] = [];
  // The schema has refused a bad value already: not ok cannot happen here.
  const stepTimeoutMax = parseStepTimeoutMax(values.STEP_TIMEOUT_MAX);
  const redis = values.REDIS_URL === undefined ? undefined : parseRedisUrl(values.REDIS_URL).target;
  if (redis === undefined) {
    warnings.push('REDIS_URL is not set: using the in-memory store; rollbacks are lost on restart');
  }
  if (nodeEnv === 'production' && values.SNS_CERT_URL_PREFIXES !== undefined) {
    warnings.push(
      'SNS_CERT_URL_PREFIXES is set in production: SNS messages signed with certificates from those URLs are trusted; unset it unless this is a local stack',
    );
  }
  return {
    slack: {
      botToken: values.SLACK_BOT_TOKEN ?? '',
      signingSecret: values.SLACK_SIGNING_SECRET ?? '',
      ...(values.SLACK_APP_TOKEN === undefined ? {} : { appToken: values.SLACK_APP_TOKEN }),
      apiUrl: values.SLACK_API_URL ?? 'https://slack.com/api/',
    },
    port: values.PORT === undefined ? 3000 : Number(values.PORT),
    ...(redis === undefined ? {} : { redis }),
    nodeEnv,
    rollbackConfig: values.ROLLBACK_CONFIG ?? 'manifests/',
    ...(values.ALERT_WEBHOOK_TOKEN === undefined ? {} : { alertWebhookToken: values.ALERT_WEBHOOK_TOKEN }),
    ...(values.API_TOKEN === undefined ? {} : { apiToken: values.API_TOKEN }),
    statuspage: {
      ...(values.STATUSPAGE_API_KEY === undefined ? {} : { apiKey: values.STATUSPAGE_API_KEY }),
      apiUrl: (values.STATUSPAGE_API_URL ?? 'https://api.statuspage.io/v1').replace(/\/+$/, ''),
    },
    ...(values.AWS_REGION === undefined ? {} : { awsRegion: values.AWS_REGION }),
    stepTimeoutMaxMs: stepTimeoutMax.ok ? stepTimeoutMax.ms : DEFAULT_STEP_TIMEOUT_MAX_MS,
    sns: {
      topicArns: listOf(values.SNS_TOPIC_ARNS),
      certUrlPrefixes: listOf(values.SNS_CERT_URL_PREFIXES),
      ...(values.SNS_CA_FILE === undefined ? {} : { caFile: values.SNS_CA_FILE }),
    },
    logLevel: (values.LOG_LEVEL ?? 'info') as Config['logLevel'],
    warnings,
  };
}
