/**
 * What every AWS executor shares, so `region` and `roleArn` read and fail the same in each step:
 * the two parameters (templatable, checked again once rendered), the client configuration for a
 * step (region, the endpoint an `AWS_ENDPOINT_URL_<SERVICE>` names, credentials), a role assumed
 * through STS AssumeRole when the step names one (so one bot serves several accounts), and one
 * way to name what AWS refused.
 *
 * The environment is given, never read here from `process.env`: the composition root passes the
 * bot's, a test passes its own.
 */
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { z } from 'zod';
import { human } from './http-kit.js';
import { RollbackError } from '../lib/errors.js';
import { TEMPLATE_REFERENCE } from '../domain/template-vars.js';

export type AwsEnv = Readonly<Record<string, string | undefined>>;

/** What the composition root (or a test) gives every AWS executor. */
export interface AwsExecutorOptions {
  /** Where AWS_REGION, AWS_ENDPOINT_URL_<SERVICE> and keys are read (default: process.env). */
  env?: AwsEnv;
  /** How long `resolve` may take (default 30 s). */
  resolveTimeoutMs?: number;
}

/** Credentials as every SDK client takes them (the shape of the SDK's AwsCredentialIdentity). */
export interface AwsCredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}
export type AwsCredentialIdentityProvider = () => Promise<AwsCredentialIdentity>;

export const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
export const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** The action `roleArn` needs on the role (the bot's own credentials call it). */
export const ASSUME_ROLE_ACTION = 'sts:AssumeRole';

const templated = (text: string): boolean => new RegExp(TEMPLATE_REFERENCE.source).test(text);

/** A value that is either what `pattern` accepts or holds a `{{ template }}`, checked again when rendered. */
const templatable = (pattern: RegExp, error: string, description: string) =>
  z
    .string()
    .trim()
    .refine((text) => pattern.test(text) || templated(text), { error })
    .describe(description);

/** `region` and `roleArn`, spread into each AWS executor's parameters. */
export const awsStepParams = {
  region: templatable(
    AWS_REGION,
    'is not an AWS region such as us-east-1',
    'AWS region, e.g. eu-west-1; may use {{ templates }}, checked once rendered (default: AWS_REGION of the bot).',
  ).optional(),
  roleArn: templatable(
    ROLE_ARN,
    'is not an IAM role ARN such as arn:aws:iam::123456789012:role/rollback',
    'IAM role assumed through STS AssumeRole for this step (another account, least privilege); may use {{ templates }} (default: the bot’s own credentials).',
  ).optional(),
};

export interface AwsStepParams {
  region?: string | undefined;
  roleArn?: string | undefined;
}

/** A service as the SDK names its endpoint variable (`AWS_ENDPOINT_URL_SSM`) and as people name it. */
export interface AwsService {
  /** SDK service id in upper case with underscores: SSM, CLOUDWATCH, STS. */
  envId: string;
  label: string;
}

/** A failure to show as it is: a call AWS refused, an object that is not there, a role not assumed. */
export class AwsError extends RollbackError {
  constructor(userMessage: string, cause?: unknown) {
    super({ code: 'aws_failed', userMessage, retryable: false, cause });
  }
}

/** "ThrottlingException: Rate exceeded", as the SDK names it. */
export function awsError(error: unknown): string {
  if (error instanceof AwsError) return error.userMessage;
  if (error instanceof Error) {
    return error.message.startsWith(error.name) || error.name === 'Error'
      ? error.message
      : `${error.name}: ${error.message}`;
  }
  return String(error);
}

/**
 * One call to AWS: its failure becomes an AwsError naming the service and the call (`SSM
 * PutParameter failed: AccessDeniedException: ...`); a role that could not be assumed stays as it
 * is said; an aborted signal rethrows untouched, so the executor can tell a stop from a failure.
 */
export async function awsCall<T>(
  what: string,
  signal: AbortSignal,
  send: (options: { abortSignal: AbortSignal }) => Promise<T>,
): Promise<T> {
  try {
    return await send({ abortSignal: signal });
  } catch (error) {
    if (signal.aborted || error instanceof AwsError) throw error;
    throw new AwsError(`${what} failed: ${awsError(error)}`, error);
  }
}

/** The configuration a client of one step is built with; only what is known is set. */
export interface AwsClientConfig {
  region: string;
  endpoint?: string;
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

export type AwsSetup = { ok: true; region: string; config: AwsClientConfig } | { ok: false; error: string };

const endpointFor = (env: AwsEnv, service: AwsService): string | undefined =>
  env[`AWS_ENDPOINT_URL_${service.envId}`] || env['AWS_ENDPOINT_URL'] || undefined;

/** Keys in the given environment, as the SDK's `fromEnv` reads them; else the SDK's default chain. */
function baseCredentials(env: AwsEnv): AwsCredentialIdentity | undefined {
  const accessKeyId = env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'];
  if (!accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = env['AWS_SESSION_TOKEN'];
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

/** A role session name STS accepts ([\w+=,.@-], 2-64 characters) that names the rollback. */
export const sessionName = (rollbackId: string): string =>
  `rollback-bot-${rollbackId}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);

/** Credentials of `roleArn`, asked from STS once and again 5 minutes before they expire. */
function assumedRole(
  roleArn: string,
  region: string,
  env: AwsEnv,
  session: string,
  signal: AbortSignal,
): AwsCredentialIdentityProvider {
  let cached: AwsCredentialIdentity | undefined;
  return async () => {
    const expiration = cached?.expiration?.getTime();
    if (cached && (expiration === undefined || expiration - Date.now() > 5 * 60_000)) return cached;
    const base = baseCredentials(env);
    const endpoint = endpointFor(env, { envId: 'STS', label: 'STS' });
    const sts = new STSClient({
      region,
      ...(endpoint === undefined ? {} : { endpoint }),
      ...(base === undefined ? {} : { credentials: base }),
    });
    try {
      const answer = await sts.send(
        new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: session, DurationSeconds: 3600 }),
        { abortSignal: signal },
      );
      const c = answer.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey) {
        throw new AwsError(`STS AssumeRole of ${roleArn} returned no credentials`);
      }
      cached = {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        ...(c.SessionToken === undefined ? {} : { sessionToken: c.SessionToken }),
        ...(c.Expiration === undefined ? {} : { expiration: c.Expiration }),
      };
      return cached;
    } catch (error) {
      if (signal.aborted || error instanceof AwsError) throw error;
      throw new AwsError(`assuming role ${roleArn} failed: ${awsError(error)}`, error);
    } finally {
      sts.destroy();
    }
  };
}

/**
 * The client configuration of one step: the region (`with.region` once rendered, else AWS_REGION),
 * the endpoint of `AWS_ENDPOINT_URL_<SERVICE>` (else the SDK's own), and credentials: the role of
 * `with.roleArn`, assumed with the bot's credentials; else keys in the environment; else the SDK's
 * default chain (profile, web identity, container or instance role). `signal` stops an AssumeRole.
 */
export function awsClientConfig(
  service: AwsService,
  params: AwsStepParams,
  options: { env: AwsEnv; rollbackId: string; signal: AbortSignal },
): AwsSetup {
  const { env } = options;
  const region = params.region ?? env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'];
  if (!region) return { ok: false, error: 'no AWS region: set with.region or AWS_REGION' };
  if (!AWS_REGION.test(region)) {
    return { ok: false, error: `region "${region}" is not an AWS region such as us-east-1` };
  }
  if (params.roleArn !== undefined && !ROLE_ARN.test(params.roleArn)) {
    return { ok: false, error: `roleArn "${params.roleArn}" is not an IAM role ARN` };
  }
  const endpoint = endpointFor(env, service);
  const credentials =
    params.roleArn === undefined
      ? baseCredentials(env)
      : assumedRole(params.roleArn, region, env, sessionName(options.rollbackId), options.signal);
  return {
    ok: true,
    region,
    config: {
      region,
      ...(endpoint === undefined ? {} : { endpoint }),
      ...(credentials === undefined ? {} : { credentials }),
    },
  };
}

/**
 * The configuration of a second service's client in the same step (Auto Scaling and EC2): the same
 * region and credentials (one AssumeRole, not one per client), that service's endpoint.
 */
export function awsClientConfigFor(
  config: AwsClientConfig,
  service: AwsService,
  env: AwsEnv,
): AwsClientConfig {
  const { endpoint: _other, ...rest } = config;
  const endpoint = endpointFor(env, service);
  return { ...rest, ...(endpoint === undefined ? {} : { endpoint }) };
}

/**
 * Why reading an AWS object for `resolve` failed, in the words the card shows: AWS's own refusal,
 * a stop (the rollback went away), or the time allowed for reading. Anything else is a bug: thrown.
 */
export function resolveFailure(
  error: unknown,
  read: { object: string; stopped: AbortSignal; limited: AbortSignal; timeoutMs: number },
): { ok: false; error: string } {
  if (error instanceof AwsError) return { ok: false, error: error.userMessage };
  if (read.stopped.aborted) return { ok: false, error: `reading ${read.object} was stopped` };
  if (read.limited.aborted) {
    return { ok: false, error: `reading ${read.object} took longer than ${human(read.timeoutMs)}` };
  }
  throw error;
}
