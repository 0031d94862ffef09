/**
 * The aws-ssm-parameter executor against a local SSM speaking JSON 1.1 (test/support/fake-ssm.ts),
 * reached through AWS_ENDPOINT_URL_SSM in the executor's env, every request signed and checked:
 * what resolve chooses, the exact PutParameter, convergence on the recorded target, conflicts,
 * refusals, the time limit and an abort mid-call.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSsmParameterExecutor } from '../../../src/executors/aws-ssm-parameter/index.js';
import type { StepTarget } from '../../../src/executors/executor.js';
import { AwsFault, TEST_KEYS } from '../../support/fake-aws-json.js';
import { startFakeSsm, type FakeSsm } from '../../support/fake-ssm.js';
import { stepContext } from '../../support/http-peer.js';

const NAME = '/app/production/checkout/config';
let ssm: FakeSsm;

const envFor = (fake: FakeSsm) => ({
  AWS_ENDPOINT_URL_SSM: fake.url,
  AWS_ACCESS_KEY_ID: TEST_KEYS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: TEST_KEYS.secretAccessKey,
});
const executorFor = (fake: FakeSsm) => createSsmParameterExecutor({ env: envFor(fake) });
const params = (extra: Record<string, unknown> = {}) =>
  executorFor(ssm).params.parse({ name: NAME, region: 'eu-west-1', ...extra });
const resolveContext = (toVersion: string | null = null) => ({
  signal: new AbortController().signal,
  toVersion,
  rollback: { id: 'rb-1', service: 'checkout', environment: 'production' },
});
const attempt = (target?: StepTarget, signal?: AbortSignal) => {
  const { ctx, lines } = stepContext(signal);
  return { ctx: target === undefined ? ctx : { ...ctx, target }, lines };
};

async function resolved(
  extra: Record<string, unknown> = {},
  toVersion: string | null = null,
): Promise<StepTarget> {
  const result = await executorFor(ssm).resolve!(resolveContext(toVersion), params(extra));
  if (!result.ok) throw new Error(result.error);
  return result.target;
}

beforeEach(async () => {
  ssm = await startFakeSsm();
  ssm.putElsewhere(NAME, '{"pool":10}', { Labels: ['v1.3.0'] });
  ssm.putElsewhere(NAME, '{"pool":12}', { Labels: ['v1.4.1'] });
  ssm.putElsewhere(NAME, '{"pool":12}');
  ssm.putElsewhere(NAME, '{"pool":99}', { Labels: ['v1.5.0'] });
});
afterEach(async () => {
  await ssm.close();
});

describe('aws-ssm-parameter resolve', () => {
  it('names the newest older version whose value differs, reading the history decrypted and nothing else', async () => {
    const target = await resolved();
    expect(target).toEqual({
      object: `ssm parameter ${NAME}`,
      current: { revision: 'version 4', version: 'v1.5.0', images: [] },
      target: { revision: 'version 3', images: [] },
      pin: { from: 4, to: 3 },
    });
    expect(ssm.requests.map((r) => r.operation)).toEqual(['GetParameterHistory']);
    expect(ssm.calls('GetParameterHistory')).toEqual([{ Name: NAME, WithDecryption: true, MaxResults: 50 }]);
    const [request] = ssm.requests;
    expect(request!.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(request!.headers['x-amz-target']).toBe('AmazonSSM.GetParameterHistory');
    expect(request!.headers.authorization).toContain('/eu-west-1/ssm/aws4_request');
  });

  it('skips versions that hold the current value, and maps --to to a version label', async () => {
    ssm.putElsewhere(NAME, '{"pool":99}');
    expect((await resolved()).pin).toEqual({ from: 5, to: 3 });
    expect((await resolved({}, 'v1.3.0')).pin).toEqual({ from: 5, to: 1 });
    // A version no label names: the previous value, not a refusal (labels are optional in SSM).
    expect((await resolved({}, 'v9.9.9')).pin).toEqual({ from: 5, to: 3 });
    expect((await resolved({ version: 2 }, 'v1.3.0')).pin).toEqual({ from: 5, to: 2 });
  });

  it('reads every page of a long history', async () => {
    for (let i = 0; i < 60; i += 1) ssm.putElsewhere(NAME, `{"pool":${i}}`);
    expect((await resolved()).pin).toEqual({ from: 64, to: 63 });
    expect(ssm.calls('GetParameterHistory')).toEqual([
      { Name: NAME, WithDecryption: true, MaxResults: 50 },
      { Name: NAME, WithDecryption: true, MaxResults: 50, NextToken: '50' },
    ]);
  });

  it('refuses a version SSM does not keep, a missing parameter and a history with one value', async () => {
    const executor = executorFor(ssm);
    expect(await executor.resolve!(resolveContext(), params({ version: 9 }))).toEqual({
      ok: false,
      error: `ssm parameter ${NAME} has no version 9; SSM keeps versions 1–4`,
    });
    expect(await executor.resolve!(resolveContext(), params({ name: '/nope' }))).toEqual({
      ok: false,
      error: 'SSM GetParameterHistory failed: ParameterNotFound: Parameter /nope not found.',
    });
    ssm.putElsewhere('/single', 'a');
    ssm.putElsewhere('/single', 'a');
    expect(await executor.resolve!(resolveContext(), params({ name: '/single' }))).toEqual({
      ok: false,
      error: 'ssm parameter /single has no earlier version with another value than version 2 to go back to',
    });
  });
});

describe('aws-ssm-parameter run', () => {
  it('writes the value of the recorded target with Overwrite, as a new version', async () => {
    const target = await resolved();
    const { ctx, lines } = attempt(target);
    const result = await executorFor(ssm).run(ctx, params());
    expect(result).toEqual({
      outcome: 'succeeded',
      summary: `ssm parameter ${NAME} holds the value of version 3 again (as version 5; was version 4)`,
      output: { name: NAME, fromVersion: 4, restoredVersion: 3, newVersion: 5 },
    });
    expect(ssm.calls('PutParameter')).toEqual([
      {
        Name: NAME,
        Value: '{"pool":12}',
        Type: 'String',
        Overwrite: true,
        Tier: 'Standard',
        DataType: 'text',
      },
    ]);
    expect(ssm.versions(NAME).at(-1)).toMatchObject({ Version: 5, Value: '{"pool":12}' });
    expect(lines.join('\n')).not.toContain('pool');
  });

  it('converges on retry: a version already holding the target value is not written again', async () => {
    const target = await resolved();
    const executor = executorFor(ssm);
    expect((await executor.run(attempt(target).ctx, params())).outcome).toBe('succeeded');
    const again = await executor.run(attempt(target).ctx, params());
    expect(again).toMatchObject({
      outcome: 'succeeded',
      summary: `ssm parameter ${NAME} already holds the value of version 3 (version 5): nothing to write`,
    });
    expect(ssm.calls('PutParameter')).toHaveLength(1);
  });

  it('refuses to overwrite a value someone else wrote since the approval (a conflict)', async () => {
    const target = await resolved();
    ssm.putElsewhere(NAME, '{"pool":50}');
    const result = await executorFor(ssm).run(attempt(target).ctx, params());
    expect(result).toEqual({
      outcome: 'failed',
      conflict: true,
      error: `ssm parameter ${NAME} changed since the rollback was approved: it is on version 5, neither version 4 (start) nor the value of version 3 (target); nothing was changed`,
    });
    expect(ssm.calls('PutParameter')).toEqual([]);
  });

  it('puts a SecureString back with its key, decrypted from the history', async () => {
    ssm.putElsewhere('/secret', 'old-password', { Type: 'SecureString', KeyId: 'alias/app' });
    ssm.putElsewhere('/secret', 'new-password');
    const target = await resolved({ name: '/secret' });
    const result = await executorFor(ssm).run(attempt(target).ctx, params({ name: '/secret' }));
    expect(result.outcome).toBe('succeeded');
    expect(ssm.calls('PutParameter')).toEqual([
      {
        Name: '/secret',
        Value: 'old-password',
        Type: 'SecureString',
        KeyId: 'alias/app',
        Overwrite: true,
        Tier: 'Standard',
        DataType: 'text',
      },
    ]);
    expect(JSON.stringify(result)).not.toContain('password');
  });

  it('without a recorded target, restores the previous value', async () => {
    const result = await executorFor(ssm).run(attempt().ctx, params());
    expect(result).toMatchObject({ outcome: 'succeeded', output: { restoredVersion: 3, newVersion: 5 } });
  });

  it('fails with what SSM said when the write is refused', async () => {
    ssm.refuse(
      'PutParameter',
      new AwsFault('AccessDeniedException', 'User is not authorized to perform: ssm:PutParameter'),
    );
    const result = await executorFor(ssm).run(attempt(await resolved()).ctx, params());
    expect(result).toEqual({
      outcome: 'failed',
      error:
        'SSM PutParameter failed: AccessDeniedException: User is not authorized to perform: ssm:PutParameter',
    });
  });

  it('retries a throttled read as the SDK does', async () => {
    const target = await resolved();
    ssm.throttle('GetParameterHistory', 1);
    const result = await executorFor(ssm).run(attempt(target).ctx, params());
    expect(result.outcome).toBe('succeeded');
    expect(
      ssm.requests
        .filter((r) => r.operation === 'GetParameterHistory')
        .map((r) => r.headers['amz-sdk-request']),
    ).toEqual(['attempt=1; max=3', 'attempt=1; max=3', 'attempt=2; max=3']);
  });

  it("stops at the step's time limit when SSM does not answer", async () => {
    const target = await resolved();
    ssm.stall('PutParameter');
    const started = performance.now();
    const result = await executorFor(ssm).run(attempt(target).ctx, params({ timeout: '300ms' }));
    expect(result).toEqual({
      outcome: 'failed',
      error: `reverting ssm parameter ${NAME} did not finish within the step's time limit of 300ms`,
    });
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it('stops at once when the rollback is aborted mid-call, leaving the parameter as it was', async () => {
    const target = await resolved();
    ssm.stall('PutParameter');
    const abort = new AbortController();
    const running = executorFor(ssm).run(attempt(target, abort.signal).ctx, params());
    await expect.poll(() => ssm.calls('PutParameter').length).toBe(1);
    abort.abort();
    expect(await running).toEqual({
      outcome: 'failed',
      error: `reverting ssm parameter ${NAME} was stopped (rollback cancelled or bot shutting down)`,
    });
    expect(ssm.versions(NAME)).toHaveLength(4);
  });

  it('refuses a recorded target without a version pin', async () => {
    const target = { ...(await resolved()), pin: { from: 'x' } };
    expect(await executorFor(ssm).run(attempt(target).ctx, params())).toEqual({
      outcome: 'failed',
      error: `the recorded target of ssm parameter ${NAME} has no version pin (from, to): resolve it again`,
    });
  });
});

describe('aws-ssm-parameter parameters', () => {
  it('refuses bad parameters with a message per field', () => {
    const schema = executorFor(ssm).params;
    const problems = (value: unknown) =>
      schema.safeParse(value).error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    expect(problems({ name: NAME, version: 0 })).toEqual(['version: Too small: expected number to be >0']);
    expect(problems({ name: '' })).toEqual(['name: must not be empty']);
    expect(problems({ name: NAME, region: 'moon-1' })).toEqual([
      'region: is not an AWS region such as us-east-1',
    ]);
    expect(problems({ name: NAME, roleArn: 'admin' })).toEqual([
      'roleArn: is not an IAM role ARN such as arn:aws:iam::123456789012:role/rollback',
    ]);
    expect(problems({ name: NAME, verison: 3 })).toEqual([
      ': unknown key "verison" (did you mean "version"?)',
    ]);
  });

  it('fails plainly without a region', async () => {
    const result = await executorFor(ssm).run(attempt().ctx, executorFor(ssm).params.parse({ name: NAME }));
    expect(result).toEqual({ outcome: 'failed', error: 'no AWS region: set with.region or AWS_REGION' });
    expect(ssm.requests).toEqual([]);
  });
});
