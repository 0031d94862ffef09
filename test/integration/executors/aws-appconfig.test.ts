/**
 * The aws-appconfig executor against a local AppConfig speaking REST JSON (test/support/
 * fake-appconfig.ts), reached through AWS_ENDPOINT_URL_APPCONFIG in the executor's env, every
 * request signed and checked: what resolve names, the exact StartDeployment, following it to
 * COMPLETE or ROLLED_BACK, convergence on retry, conflicts, the time limit and an abort.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAppconfigExecutor } from '../../../src/executors/aws-appconfig/index.js';
import type { StepTarget } from '../../../src/executors/executor.js';
import { TEST_KEYS } from '../../support/fake-aws-json.js';
import { startFakeAppconfig, type FakeAppconfig } from '../../support/fake-appconfig.js';
import { stepContext } from '../../support/http-peer.js';

const APP = 'abc1234';
const ENV = 'prod567';
const PROFILE = 'flags89';
const OBJECT = `appconfig ${APP}/${ENV}/${PROFILE}`;
const BASE = `/applications/${APP}/environments/${ENV}/deployments`;
let appconfig: FakeAppconfig;

const executor = () =>
  createAppconfigExecutor({
    pollIntervalMs: 5,
    env: {
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL_APPCONFIG: appconfig.url,
      AWS_ACCESS_KEY_ID: TEST_KEYS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_KEYS.secretAccessKey,
    },
  });
const params = (extra: Record<string, unknown> = {}) =>
  executor().params.parse({ application: APP, environment: ENV, configurationProfile: PROFILE, ...extra });
const resolveContext = (toVersion: string | null = null) => ({
  signal: new AbortController().signal,
  toVersion,
  rollback: { id: 'rb-1', service: 'checkout', environment: 'production' },
});
const attempt = (target?: StepTarget, signal?: AbortSignal) => {
  const { ctx, lines } = stepContext(signal);
  return { ctx: target === undefined ? ctx : { ...ctx, target }, lines };
};
async function resolved(extra: Record<string, unknown> = {}, toVersion: string | null = null) {
  const result = await executor().resolve!(resolveContext(toVersion), params(extra));
  if (!result.ok) throw new Error(result.error);
  return result.target;
}
const started = () => appconfig.requests.filter((r) => r.method === 'POST');

beforeEach(async () => {
  appconfig = await startFakeAppconfig({ application: APP, environment: ENV });
  appconfig.deployElsewhere(PROFILE, '4', { label: 'v1.3.0' });
  appconfig.deployElsewhere('other-profile', '9');
  appconfig.deployElsewhere(PROFILE, '5', { label: 'v1.4.1' });
  appconfig.deployElsewhere(PROFILE, '6', { state: 'ROLLED_BACK' });
  appconfig.deployElsewhere(PROFILE, '7', { label: 'v1.5.0' });
});
afterEach(async () => {
  await appconfig.close();
});

describe('aws-appconfig resolve', () => {
  it("names the live version and the previous COMPLETE one of the profile, skipping others' and rolled-back deployments", async () => {
    expect(await resolved()).toEqual({
      object: OBJECT,
      current: { revision: 'version 7', version: 'v1.5.0', images: [] },
      target: { revision: 'version 5', version: 'v1.4.1', images: [] },
      pin: { from: '7', to: '5' },
    });
    // Newest first, and no further than what decides: deployment 3 is the previous COMPLETE one.
    expect(appconfig.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET ${BASE}?max_results=50`,
      `GET ${BASE}/5`,
      `GET ${BASE}/4`,
      `GET ${BASE}/3`,
    ]);
    expect(appconfig.requests[0]!.headers.authorization).toContain('/eu-west-1/appconfig/aws4_request');
  });

  it("follows ListDeployments' pages when other profiles' deployments fill the first ones", async () => {
    for (let n = 0; n < 7; n += 1) appconfig.deployElsewhere('other-profile', String(10 + n));
    appconfig.pageSize = 4;
    expect((await resolved()).pin).toEqual({ from: '7', to: '5' });
    expect(appconfig.requests.filter((r) => !/\/\d+$/.test(r.path)).map((r) => r.path)).toEqual([
      `${BASE}?max_results=50`,
      `${BASE}?max_results=50&next_token=4`,
      `${BASE}?max_results=50&next_token=8`,
    ]);
  });

  it('reads the whole search depth for a --to no deployment has, then takes the previous one', async () => {
    expect((await resolved({}, 'v0.1.0')).pin).toEqual({ from: '7', to: '5' });
    expect(appconfig.requests.filter((r) => /\/\d+$/.test(r.path))).toHaveLength(5);
  });

  it('maps --to to a deployed version or label, and a named configurationVersion wins', async () => {
    expect((await resolved({}, 'v1.3.0')).pin).toEqual({ from: '7', to: '4' });
    expect((await resolved({}, '4')).pin).toEqual({ from: '7', to: '4' });
    expect((await resolved({ configurationVersion: '3' }, 'v1.3.0')).pin).toEqual({ from: '7', to: '3' });
  });

  it('refuses a profile with no earlier version and an unknown application', async () => {
    expect(
      await executor().resolve!(resolveContext(), params({ configurationProfile: 'other-profile' })),
    ).toEqual({
      ok: false,
      error: `appconfig ${APP}/${ENV}/other-profile has no earlier COMPLETE deployment of another version than 9 to go back to`,
    });
    expect(await executor().resolve!(resolveContext(), params({ application: 'nope' }))).toEqual({
      ok: false,
      error:
        'AppConfig ListDeployments failed: ResourceNotFoundException: Application or environment not found',
    });
  });
});

describe('aws-appconfig run', () => {
  it('starts the deployment of the recorded version and follows it to COMPLETE', async () => {
    const { ctx, lines } = attempt(await resolved());
    expect(await executor().run(ctx, params())).toEqual({
      outcome: 'succeeded',
      summary: `${OBJECT} is on version 5 (was 7); deployment 6 COMPLETE`,
      output: { fromVersion: '7', toVersion: '5', deploymentNumber: 6 },
    });
    expect(started().map((r) => [r.path, r.body])).toEqual([
      [
        BASE,
        {
          DeploymentStrategyId: 'AppConfig.AllAtOnce',
          ConfigurationProfileId: PROFILE,
          ConfigurationVersion: '5',
          Description: 'rollback rb-1: back to version 5',
        },
      ],
    ]);
    expect(lines).toEqual([
      `${OBJECT}: version 7 → version 5 (AppConfig.AllAtOnce)`,
      'deployment 6 started',
      'deployment 6 DEPLOYING 0%',
      'deployment 6 DEPLOYING 50%',
      'deployment 6 COMPLETE 100%',
    ]);
  });

  it("fails with AppConfig's reason when the deployment is rolled back by its alarm", async () => {
    appconfig.plans.push('rollback');
    expect(await executor().run(attempt(await resolved()).ctx, params())).toEqual({
      outcome: 'failed',
      error:
        'deployment 6 of version 5 ended ROLLED_BACK: Rollback triggered by CloudWatch alarm checkout-5xx',
      output: { fromVersion: '7', toVersion: '5', deploymentNumber: 6 },
    });
  });

  it('converges on retry: after AppConfig rolled it back it deploys the same version again; once live it only follows it', async () => {
    const target = await resolved();
    appconfig.plans.push('rollback');
    expect((await executor().run(attempt(target).ctx, params())).outcome).toBe('failed');
    // Rolled back: version 7 is live again, so the retry deploys version 5 again, never an older one.
    expect((await executor().run(attempt(target).ctx, params())).outcome).toBe('succeeded');
    expect(started().map((r) => r.body['ConfigurationVersion'])).toEqual(['5', '5']);
    const again = attempt(target);
    expect(await executor().run(again.ctx, params())).toMatchObject({ outcome: 'succeeded' });
    expect(again.lines[0]).toBe(`${OBJECT} already has version 5 (deployment 7, COMPLETE)`);
    expect(started()).toHaveLength(2);
  });

  it('refuses when someone else deployed another version since the approval (a conflict)', async () => {
    const target = await resolved();
    appconfig.deployElsewhere(PROFILE, '8');
    expect(await executor().run(attempt(target).ctx, params())).toEqual({
      outcome: 'failed',
      conflict: true,
      error: `${OBJECT} changed since the rollback was approved: version 8 is live (deployment 6), neither version 7 (start) nor version 5 (target); nothing was changed`,
    });
    expect(started()).toEqual([]);
  });

  it("stops at the step's time limit while the deployment runs, saying so", async () => {
    appconfig.plans.push('never');
    expect(await executor().run(attempt(await resolved()).ctx, params({ timeout: '300ms' }))).toEqual({
      outcome: 'failed',
      error: `${OBJECT} did not finish its deployment within the step's time limit of 300ms`,
      output: { fromVersion: '7', toVersion: '5', deploymentNumber: 6 },
    });
  });

  it('stops at once when the rollback is aborted mid-call', async () => {
    const target = await resolved();
    appconfig.stall('POST');
    const abort = new AbortController();
    const running = executor().run(attempt(target, abort.signal).ctx, params());
    await expect.poll(() => started().length).toBe(1);
    abort.abort();
    expect(await running).toEqual({
      outcome: 'failed',
      error: `the deployment of ${OBJECT} was stopped (rollback cancelled or bot shutting down); AppConfig goes on with a deployment already started`,
    });
  });
});

describe('aws-appconfig parameters', () => {
  it('refuses bad parameters with a message per field', () => {
    const problems = (value: unknown) =>
      executor()
        .params.safeParse(value)
        .error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    expect(problems({ application: APP, environment: ENV })).toEqual([
      'configurationProfile: Invalid input: expected string, received undefined',
    ]);
    expect(
      problems({ application: APP, environment: ENV, configurationProfile: 'p', deploymentStrategy: '' }),
    ).toEqual(['deploymentStrategy: must not be empty']);
    expect(problems({ application: APP, environment: ENV, configurationProfile: 'p', roleArn: 'x' })).toEqual(
      ['roleArn: is not an IAM role ARN such as arn:aws:iam::123456789012:role/rollback'],
    );
  });
});
