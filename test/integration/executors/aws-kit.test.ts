/**
 * What every AWS step shares (src/executors/aws-kit.ts): `region` templatable and checked once
 * rendered, endpoints and keys from the given env, and `roleArn` assumed through a local STS
 * (query protocol, AWS_ENDPOINT_URL_STS) whose keys then sign the service's calls.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsClientConfig, sessionName } from '../../../src/executors/aws-kit.js';
import { createSsmParameterExecutor } from '../../../src/executors/aws-ssm-parameter/index.js';
import { prepareParams } from '../../../src/executors/render-params.js';
import { KeyRing, TEST_KEYS } from '../../support/fake-aws-json.js';
import { startFakeSsm, type FakeSsm } from '../../support/fake-ssm.js';
import { startFakeSts, type FakeSts } from '../../support/fake-sts.js';
import { stepContext } from '../../support/http-peer.js';

const ROLE = 'arn:aws:iam::210987654321:role/rollback-checkout';
const NAME = '/app/production/checkout/config';
let keys: KeyRing;
let ssm: FakeSsm;
let sts: FakeSts;

beforeEach(async () => {
  keys = new KeyRing();
  ssm = await startFakeSsm({ keys });
  sts = await startFakeSts({ keys, roles: [ROLE] });
  ssm.putElsewhere(NAME, 'a');
  ssm.putElsewhere(NAME, 'b');
});
afterEach(async () => {
  await Promise.all([ssm.close(), sts.close()]);
});

const env = () => ({
  AWS_ENDPOINT_URL_SSM: ssm.url,
  AWS_ENDPOINT_URL_STS: sts.url,
  AWS_ACCESS_KEY_ID: TEST_KEYS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: TEST_KEYS.secretAccessKey,
});

describe('roleArn: a role assumed through STS for the step', () => {
  it('assumes the role once, with a session naming the rollback, and signs every call with its keys', async () => {
    const executor = createSsmParameterExecutor({ env: env() });
    const params = executor.params.parse({ name: NAME, region: 'eu-west-1', roleArn: ROLE });
    const { ctx } = stepContext();
    const result = await executor.run(ctx, params);
    expect(result.outcome).toBe('succeeded');
    expect(sts.requests.map((r) => r.params)).toEqual([
      {
        Action: 'AssumeRole',
        Version: '2011-06-15',
        RoleArn: ROLE,
        RoleSessionName: 'rollback-bot-rb-1',
        DurationSeconds: '3600',
      },
    ]);
    expect(sts.requests[0]!.headers.authorization).toContain(`Credential=${TEST_KEYS.accessKeyId}/`);
    expect(sts.requests[0]!.headers.authorization).toContain('/eu-west-1/sts/aws4_request');
    expect(ssm.requests.map((r) => [r.operation, r.role])).toEqual([
      ['GetParameterHistory', ROLE],
      ['PutParameter', ROLE],
    ]);
    expect(ssm.requests.every((r) => typeof r.headers['x-amz-security-token'] === 'string')).toBe(true);
    expect(ssm.versions(NAME).at(-1)).toMatchObject({ Value: 'a', LastModifiedUser: ROLE });
  });

  it('fails the step naming the role and what STS said when the role may not be assumed', async () => {
    const executor = createSsmParameterExecutor({ env: env() });
    const other = 'arn:aws:iam::210987654321:role/admin';
    const params = executor.params.parse({ name: NAME, region: 'eu-west-1', roleArn: other });
    const result = await executor.run(stepContext().ctx, params);
    expect(result).toEqual({
      outcome: 'failed',
      error: `assuming role ${other} failed: AccessDenied: User: arn:aws:iam::123456789012:user/rollback-bot is not authorized to perform: sts:AssumeRole on resource: ${other}`,
    });
    expect(ssm.requests).toEqual([]);
    const resolved = await executor.resolve!(
      {
        signal: new AbortController().signal,
        toVersion: null,
        rollback: { id: 'rb-1', service: 'checkout', environment: 'production' },
      },
      params,
    );
    expect(resolved.ok).toBe(false);
    expect(!resolved.ok && resolved.error).toMatch(`assuming role ${other} failed: AccessDenied`);
  });

  it('keeps a session name within what STS accepts', () => {
    expect(sessionName('rb/2026:11:23 #42')).toBe('rollback-bot-rb-2026-11-23--42');
    expect(sessionName('x'.repeat(80))).toHaveLength(64);
  });
});

describe('region: templatable, checked once rendered', () => {
  const executor = createSsmParameterExecutor({ env: {} });
  const vars = {
    ...stepContext().ctx.vars,
    steps: { where: { output: { region: 'ap-southeast-2', bad: 'production' } } },
  };

  it('accepts a template in the plan and the rendered region at run time', () => {
    expect(executor.params.safeParse({ name: NAME, region: '{{ steps.where.output.region }}' }).success).toBe(
      true,
    );
    const prepared = prepareParams(
      executor.params,
      { name: NAME, region: '{{ steps.where.output.region }}' },
      vars,
      {},
    );
    expect(prepared).toMatchObject({ ok: true, params: { region: 'ap-southeast-2' } });
  });

  it('refuses a rendered value that is not a region', () => {
    const prepared = prepareParams(
      executor.params,
      { name: NAME, region: '{{ steps.where.output.bad }}' },
      vars,
      {},
    );
    expect(prepared.ok).toBe(false);
    expect(!prepared.ok && prepared.error).toContain('is not an AWS region such as us-east-1');
  });

  it('checks the region again when the client is configured, whatever the schema let through', () => {
    const signal = new AbortController().signal;
    expect(
      awsClientConfig(
        { envId: 'SSM', label: 'SSM' },
        { region: '{{ x }}' },
        { env: {}, rollbackId: 'rb-1', signal },
      ),
    ).toEqual({
      ok: false,
      error: 'region "{{ x }}" is not an AWS region such as us-east-1',
    });
    expect(
      awsClientConfig(
        { envId: 'SSM', label: 'SSM' },
        {},
        {
          env: { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
          rollbackId: 'rb-1',
          signal,
        },
      ),
    ).toEqual({
      ok: true,
      region: 'us-east-1',
      config: { region: 'us-east-1', endpoint: 'http://127.0.0.1:9' },
    });
  });
});
