/**
 * The aws-elb executor against a local ELBv2 API speaking the query protocol (form bodies, XML
 * answers; test/support/fake-elb.ts), reached through AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2 in
 * the executor's env, every request signed and checked: what resolve names, the exact
 * ModifyListener, convergence on retry, conflicts, refusals, the time limit and an abort mid-call.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createElbExecutor } from '../../../src/executors/aws-elb/index.js';
import type { StepTarget } from '../../../src/executors/executor.js';
import { TEST_KEYS } from '../../support/fake-aws-json.js';
import { AwsFault } from '../../support/fake-aws-query.js';
import { startFakeElb, type FakeElb } from '../../support/fake-elb.js';
import { stepContext } from '../../support/http-peer.js';

const LISTENER =
  'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/checkout/50dc6c495c0c9188/f2f7dc8efc522ab2';
const BLUE = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/checkout-blue/6d0ecf831eec9f09';
const GREEN =
  'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/checkout-green/943f017f100becff';
const OBJECT = 'alb listener checkout/f2f7dc8efc522ab2';
let elb: FakeElb;

const executor = () =>
  createElbExecutor({
    env: {
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: elb.url,
      AWS_ACCESS_KEY_ID: TEST_KEYS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_KEYS.secretAccessKey,
    },
  });
const params = (extra: Record<string, unknown> = {}) =>
  executor().params.parse({ listenerArn: LISTENER, targetGroupArn: BLUE, ...extra });
const resolveContext = () => ({
  signal: new AbortController().signal,
  toVersion: null,
  rollback: { id: 'rb-1', service: 'checkout', environment: 'production' },
});
const attempt = (target?: StepTarget, signal?: AbortSignal) => {
  const { ctx } = stepContext(signal);
  return target === undefined ? ctx : { ...ctx, target };
};
async function resolved(extra: Record<string, unknown> = {}): Promise<StepTarget> {
  const result = await executor().resolve!(resolveContext(), params(extra));
  if (!result.ok) throw new Error(result.error);
  return result.target;
}
const onGreen = () => [
  {
    Type: 'forward',
    Order: 1,
    TargetGroups: [
      { TargetGroupArn: BLUE, Weight: 0 },
      { TargetGroupArn: GREEN, Weight: 100 },
    ],
  },
];

beforeEach(async () => {
  elb = await startFakeElb();
  elb.addListener(LISTENER, onGreen());
});
afterEach(async () => {
  await elb.close();
});

describe('aws-elb resolve', () => {
  it('names the weights now and the weights it sets, reading only DescribeListeners', async () => {
    expect(await resolved()).toEqual({
      object: OBJECT,
      current: { revision: 'checkout-blue 0%, checkout-green 100%', images: [] },
      target: { revision: 'checkout-blue 100%, checkout-green 0%', images: [] },
      pin: {
        from: JSON.stringify([
          [BLUE, 0],
          [GREEN, 100],
        ]),
        to: JSON.stringify([
          [BLUE, 100],
          [GREEN, 0],
        ]),
      },
    });
    expect(elb.requests.map((r) => r.params)).toEqual([
      { Action: 'DescribeListeners', Version: '2015-12-01', 'ListenerArns.member.1': LISTENER },
    ]);
    expect(elb.requests[0]!.headers.authorization).toContain('/eu-west-1/elasticloadbalancing/aws4_request');
  });

  it('refuses a listener that does not exist or has no forward, and a weight with several other groups', async () => {
    const result = await executor().resolve!(resolveContext(), params({ listenerArn: `${LISTENER}x` }));
    expect(result).toEqual({
      ok: false,
      error: 'ELB DescribeListeners failed: ListenerNotFoundException: One or more listeners not found',
    });
    elb.addListener(LISTENER, [{ Type: 'fixed-response' }]);
    expect(await executor().resolve!(resolveContext(), params())).toEqual({
      ok: false,
      error: `${OBJECT} has no forward default action to shift`,
    });
    elb.addListener(LISTENER, [
      {
        Type: 'forward',
        TargetGroups: [
          { TargetGroupArn: BLUE, Weight: 0 },
          { TargetGroupArn: GREEN, Weight: 50 },
          { TargetGroupArn: `${GREEN}2`, Weight: 50 },
        ],
      },
    ]);
    expect(await executor().resolve!(resolveContext(), params({ weight: 10 }))).toEqual({
      ok: false,
      error: `${OBJECT} forwards to 2 other target groups: a weight below 100 needs exactly one other`,
    });
  });
});

describe('aws-elb run', () => {
  it('shifts the forward with one ModifyListener, keeping the other actions and the stickiness', async () => {
    elb.addListener(LISTENER, [
      { Type: 'authenticate-oidc', Order: 1 },
      { ...onGreen()[0]!, Order: 2, Stickiness: true },
    ]);
    const result = await executor().run(attempt(await resolved()), params());
    expect(result).toEqual({
      outcome: 'succeeded',
      summary: `${OBJECT} forwards checkout-blue 100%, checkout-green 0% (was checkout-blue 0%, checkout-green 100%)`,
      output: { listener: LISTENER, weights: { 'checkout-blue': 100, 'checkout-green': 0 } },
    });
    expect(elb.calls('ModifyListener')).toEqual([
      {
        Action: 'ModifyListener',
        Version: '2015-12-01',
        ListenerArn: LISTENER,
        'DefaultActions.member.1.Type': 'authenticate-oidc',
        'DefaultActions.member.1.Order': '1',
        'DefaultActions.member.2.Type': 'forward',
        'DefaultActions.member.2.Order': '2',
        'DefaultActions.member.2.ForwardConfig.TargetGroups.member.1.TargetGroupArn': BLUE,
        'DefaultActions.member.2.ForwardConfig.TargetGroups.member.1.Weight': '100',
        'DefaultActions.member.2.ForwardConfig.TargetGroups.member.2.TargetGroupArn': GREEN,
        'DefaultActions.member.2.ForwardConfig.TargetGroups.member.2.Weight': '0',
        'DefaultActions.member.2.ForwardConfig.TargetGroupStickinessConfig.Enabled': 'true',
      },
    ]);
    expect(elb.actionsOf(LISTENER)[1]!.TargetGroups).toEqual([
      { TargetGroupArn: BLUE, Weight: 100 },
      { TargetGroupArn: GREEN, Weight: 0 },
    ]);
  });

  it('splits by weight, and turns a single-group forward into a weighted one', async () => {
    await executor().run(attempt(), params({ weight: 90 }));
    expect(elb.actionsOf(LISTENER)[0]!.TargetGroups).toEqual([
      { TargetGroupArn: BLUE, Weight: 90 },
      { TargetGroupArn: GREEN, Weight: 10 },
    ]);
    elb.addListener(LISTENER, [{ Type: 'forward', TargetGroupArn: GREEN }]);
    expect(await executor().run(attempt(), params())).toMatchObject({
      outcome: 'succeeded',
      output: { weights: { 'checkout-green': 0, 'checkout-blue': 100 } },
    });
  });

  it('converges on retry: a listener already on the target weights is not written again', async () => {
    const target = await resolved();
    expect((await executor().run(attempt(target), params())).outcome).toBe('succeeded');
    expect(await executor().run(attempt(target), params())).toMatchObject({
      outcome: 'succeeded',
      summary: `${OBJECT} already forwards checkout-blue 100%, checkout-green 0%: nothing to change`,
    });
    expect(elb.calls('ModifyListener')).toHaveLength(1);
  });

  it('refuses to shift a listener someone else changed since the approval (a conflict)', async () => {
    const target = await resolved();
    elb.addListener(LISTENER, [
      {
        Type: 'forward',
        TargetGroups: [
          { TargetGroupArn: BLUE, Weight: 50 },
          { TargetGroupArn: GREEN, Weight: 50 },
        ],
      },
    ]);
    expect(await executor().run(attempt(target), params())).toEqual({
      outcome: 'failed',
      conflict: true,
      error: `${OBJECT} changed since the rollback was approved: it forwards checkout-blue 50%, checkout-green 50%, neither the start nor the target; nothing was changed`,
    });
    expect(elb.calls('ModifyListener')).toEqual([]);
  });

  it('fails with what ELB said when the change is refused', async () => {
    elb.refuse(
      'ModifyListener',
      new AwsFault('AccessDenied', 'not authorized to perform: elasticloadbalancing:ModifyListener', 403),
    );
    expect(await executor().run(attempt(await resolved()), params())).toEqual({
      outcome: 'failed',
      error:
        'ELB ModifyListener failed: AccessDenied: not authorized to perform: elasticloadbalancing:ModifyListener',
    });
  });

  it("stops at the step's time limit when ELB does not answer", async () => {
    const target = await resolved();
    elb.stall('ModifyListener');
    expect(await executor().run(attempt(target), params({ timeout: '300ms' }))).toEqual({
      outcome: 'failed',
      error: `shifting ${OBJECT} did not finish within the step's time limit of 300ms`,
    });
  });

  it('stops at once when the rollback is aborted mid-call', async () => {
    const target = await resolved();
    elb.stall('ModifyListener');
    const abort = new AbortController();
    const running = executor().run(attempt(target, abort.signal), params());
    await expect.poll(() => elb.calls('ModifyListener').length).toBe(1);
    abort.abort();
    expect(await running).toEqual({
      outcome: 'failed',
      error: `shifting ${OBJECT} was stopped (rollback cancelled or bot shutting down)`,
    });
    expect(elb.actionsOf(LISTENER)).toEqual(onGreen());
  });
});

describe('aws-elb parameters', () => {
  it('refuses bad parameters with a message per field', () => {
    const problems = (value: unknown) =>
      executor()
        .params.safeParse(value)
        .error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    expect(problems({ listenerArn: LISTENER })).toEqual([
      'targetGroupArn: Invalid input: expected string, received undefined',
    ]);
    expect(problems({ listenerArn: LISTENER, targetGroupArn: BLUE, weight: 0 })).toEqual([
      'weight: Too small: expected number to be >=1',
    ]);
    expect(problems({ listenerArn: LISTENER, targetGroupArn: BLUE, region: 'eu-west' })).toEqual([
      'region: is not an AWS region such as us-east-1',
    ]);
  });
});
