/**
 * The checkout service on the local ECS API, reached the way production configures the SDK: the
 * endpoint, region-less client and credentials come from the environment (AWS_ENDPOINT_URL_ECS,
 * AWS_ACCESS_KEY_ID, ...), so the executor builds its default ECSClient and nothing is injected.
 */
import { vi } from 'vitest';
import type { ExecutorContext, StepTarget } from '../../src/executors/executor.js';
import { createEcsExecutor } from '../../src/executors/ecs/index.js';
import { startFakeEcs, TEST_CREDENTIALS, type FakeEcs, type FakeEcsOptions } from './fake-ecs-api.js';
import { stepContext } from './http-peer.js';

export const IMAGE = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout';
export const LOG_ROUTER = {
  name: 'log-router',
  image: 'public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.0',
};

/** The versions of the ACTIVE revisions of `checkout` (1-37 are deregistered history). */
export const VERSIONS: Record<number, string> = {
  38: 'v1.2.0',
  39: 'v1.2.1',
  40: 'v1.3.0',
  41: 'v1.4.1',
  42: 'v1.5.0',
  43: 'v1.6.0',
};

/** Starts the fake with checkout:1-43 and `prod/checkout-svc` on `current`, and points the SDK at it. */
export async function checkoutOn(current: number, options: FakeEcsOptions = {}): Promise<FakeEcs> {
  const fake = await startFakeEcs({ region: 'eu-west-1', ...options });
  for (let revision = 1; revision <= 43; revision += 1) {
    const version = VERSIONS[revision] ?? `v0.${revision}.0`;
    fake.register('checkout', [{ name: 'checkout', image: `${IMAGE}:${version}` }, LOG_ROUTER]);
    if (VERSIONS[revision] === undefined) fake.deregister(`checkout:${revision}`);
  }
  fake.createService('prod', 'checkout-svc', `checkout:${current}`);
  useSdkEnvironment(fake.url);
  return fake;
}

/** The SDK's own variables, as in production: no `endpoint` or `credentials` option is passed. */
export function useSdkEnvironment(url: string): void {
  vi.stubEnv('AWS_ENDPOINT_URL_ECS', url);
  vi.stubEnv('AWS_ACCESS_KEY_ID', TEST_CREDENTIALS.accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', TEST_CREDENTIALS.secretAccessKey);
  vi.stubEnv('AWS_SESSION_TOKEN', '');
  vi.stubEnv('AWS_PROFILE', '');
  vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/aws-config');
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/aws-credentials');
}

/** The executor as the registry builds it, polling fast; AWS_REGION is unset unless a test sets it. */
export const executor = createEcsExecutor({ pollIntervalMs: 5, env: {} });

export const checkoutParams = (extra: Record<string, unknown> = {}) =>
  executor.params.parse({ cluster: 'prod', service: 'checkout-svc', region: 'eu-west-1', ...extra });

/** A step context, with the recorded target when the step has one. */
export function attempt(target?: StepTarget, signal?: AbortSignal, timeoutMs?: number) {
  const { ctx, lines } = stepContext(signal, timeoutMs);
  const withTarget: ExecutorContext = target === undefined ? ctx : { ...ctx, target };
  return { ctx: withTarget, lines };
}

export const resolveContext = (toVersion: string | null, signal = new AbortController().signal) => ({
  signal,
  toVersion,
  rollback: { id: 'rb-1', service: 'checkout', environment: 'production' },
});
