/**
 * aws-elb `action: deregister` against the local ELBv2 query-protocol peer (test/support/
 * fake-elb.ts), reached through AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2, every request signed
 * and checked: what resolve names, the exact DeregisterTargets, waiting while ELB drains, targets
 * already out, convergence on retry, refusals, the time limit, an abort and a role through STS.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../../src/executors/default-registry.js';
import { createElbExecutor } from '../../../src/executors/aws-elb/index.js';
import type { StepTarget } from '../../../src/executors/executor.js';
import { KeyRing, TEST_KEYS } from '../../support/fake-aws-json.js';
import { AwsFault } from '../../support/fake-aws-query.js';
import { startFakeElb, type FakeElb } from '../../support/fake-elb.js';
import { startFakeSts, type FakeSts } from '../../support/fake-sts.js';
import { stepContext } from '../../support/http-peer.js';

const GREEN =
  'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/checkout-green/943f017f100becff';
const OBJECT = 'target group checkout-green';
const ROLE = 'arn:aws:iam::210987654321:role/rollback-checkout';
const TARGETS = [
  { id: 'i-0a1b2c3d4e5f60001', port: 8080 },
  { id: 'i-0a1b2c3d4e5f60002', port: 8080 },
];
const A = 'i-0a1b2c3d4e5f60001:8080';
const B = 'i-0a1b2c3d4e5f60002:8080';
let keys: KeyRing;
let elb: FakeElb;
let sts: FakeSts;

const executor = () =>
  createElbExecutor({
    pollIntervalMs: 5,
    env: {
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: elb.url,
      AWS_ENDPOINT_URL_STS: sts.url,
      AWS_ACCESS_KEY_ID: TEST_KEYS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_KEYS.secretAccessKey,
    },
  });
const params = (extra: Record<string, unknown> = {}) =>
  executor().params.parse({ action: 'deregister', targetGroupArn: GREEN, targets: TARGETS, ...extra });
const resolveContext = () => ({
  signal: new AbortController().signal,
  toVersion: null,
  rollback: { id: 'rb-1', service: 'checkout', environment: 'production' },
});
const attempt = (target?: StepTarget, signal?: AbortSignal) => {
  const { ctx, lines } = stepContext(signal);
  return { ctx: target === undefined ? ctx : { ...ctx, target }, lines };
};
async function resolved(extra: Record<string, unknown> = {}) {
  const result = await executor().resolve!(resolveContext(), params(extra));
  if (!result.ok) throw new Error(result.error);
  return result.target;
}
const deregistrations = () => elb.calls('DeregisterTargets');
const healthRequest = {
  Action: 'DescribeTargetHealth',
  Version: '2015-12-01',
  TargetGroupArn: GREEN,
  'Targets.member.1.Id': TARGETS[0]!.id,
  'Targets.member.1.Port': '8080',
  'Targets.member.2.Id': TARGETS[1]!.id,
  'Targets.member.2.Port': '8080',
};

beforeEach(async () => {
  keys = new KeyRing();
  elb = await startFakeElb({ keys });
  sts = await startFakeSts({ keys, roles: [ROLE] });
  elb.addTargetGroup(GREEN, 8080, [
    { id: TARGETS[0]!.id },
    { id: TARGETS[1]!.id, state: 'unhealthy', reason: 'Target.FailedHealthChecks' },
    { id: 'i-0a1b2c3d4e5f60003' },
  ]);
});
afterEach(async () => {
  await Promise.all([elb.close(), sts.close()]);
});

describe('aws-elb deregister resolve', () => {
  it('names the given targets still registered, whatever their health, reading only DescribeTargetHealth', async () => {
    expect(await resolved()).toEqual({
      object: OBJECT,
      current: { revision: `registered: ${A}, ${B}`, images: [] },
      target: { revision: 'registered: none', images: [] },
      pin: { deregister: `${A}, ${B}` },
    });
    expect(elb.requests.map((r) => r.params)).toEqual([healthRequest]);
    expect(elb.requests[0]!.headers.authorization).toContain('/eu-west-1/elasticloadbalancing/aws4_request');
  });

  it('counts a target already draining as on its way out, so its draining does not change the target', async () => {
    elb.addTargetGroup(GREEN, 8080, [
      { id: TARGETS[0]!.id, state: 'draining', reason: 'Target.DeregistrationInProgress', drainReads: 100 },
      { id: TARGETS[1]!.id },
    ]);
    expect((await resolved()).current.revision).toBe(`registered: ${B}`);
    const { ctx, lines } = attempt();
    expect((await executor().run(ctx, params({ timeout: '300ms' }))).outcome).toBe('failed');
    expect(lines.slice(0, 2)).toEqual([`${OBJECT}: deregistering ${B}`, `${A} draining, ${B} draining`]);
    expect(Object.keys(deregistrations()[0]!)).not.toContain('Targets.member.2.Id');
  });

  it('refuses a target group that does not exist', async () => {
    expect(await executor().resolve!(resolveContext(), params({ targetGroupArn: `${GREEN}x` }))).toEqual({
      ok: false,
      error:
        'ELB DescribeTargetHealth failed: TargetGroupNotFoundException: One or more target groups not found',
    });
  });
});

describe('aws-elb deregister run', () => {
  it('deregisters the targets in one call and waits until ELB has drained them', async () => {
    const { ctx, lines } = attempt(await resolved());
    expect(await executor().run(ctx, params())).toEqual({
      outcome: 'succeeded',
      summary: `${OBJECT}: ${A}, ${B} deregistered and drained`,
      output: { targetGroup: GREEN, deregistered: [A, B], targets: [A, B] },
    });
    expect(deregistrations()).toEqual([
      {
        Action: 'DeregisterTargets',
        Version: '2015-12-01',
        TargetGroupArn: GREEN,
        'Targets.member.1.Id': TARGETS[0]!.id,
        'Targets.member.1.Port': '8080',
        'Targets.member.2.Id': TARGETS[1]!.id,
        'Targets.member.2.Port': '8080',
      },
    ]);
    expect(lines).toEqual([
      `${OBJECT}: deregistering ${A}, ${B}`,
      `${A} draining, ${B} draining`,
      `${OBJECT}: none of ${A}, ${B} registered`,
    ]);
    expect(elb.targetsOf(GREEN).map((t) => t.id)).toEqual(['i-0a1b2c3d4e5f60003']);
  });

  it("sends a target's port and zone only when given: ELB then uses the group's port", async () => {
    const targets = [{ id: TARGETS[0]!.id }, { id: '10.0.3.7', port: 8080, availabilityZone: 'all' }];
    elb.addTargetGroup(GREEN, 8080, [{ id: TARGETS[0]!.id }, { id: '10.0.3.7' }]);
    expect((await executor().run(attempt().ctx, params({ targets }))).outcome).toBe('succeeded');
    expect(deregistrations()).toEqual([
      {
        Action: 'DeregisterTargets',
        Version: '2015-12-01',
        TargetGroupArn: GREEN,
        'Targets.member.1.Id': TARGETS[0]!.id,
        'Targets.member.2.Id': '10.0.3.7',
        'Targets.member.2.Port': '8080',
        'Targets.member.2.AvailabilityZone': 'all',
      },
    ]);
  });

  it('deregisters only the targets still registered: one someone else took out is not sent', async () => {
    elb.addTargetGroup(GREEN, 8080, [{ id: TARGETS[1]!.id }]);
    expect(await executor().run(attempt(await resolved()).ctx, params())).toMatchObject({
      outcome: 'succeeded',
      summary: `${OBJECT}: ${B} deregistered and drained`,
      output: { deregistered: [B], targets: [A, B] },
    });
    expect(Object.keys(deregistrations()[0]!)).not.toContain('Targets.member.2.Id');
  });

  it('converges on retry: targets already draining are only waited for, targets gone are done', async () => {
    const target = await resolved();
    elb.drainReads = 1000;
    const abort = new AbortController();
    const first = executor().run(attempt(target, abort.signal).ctx, params());
    await expect.poll(() => elb.targetsOf(GREEN).filter((t) => t.state === 'draining').length).toBe(2);
    abort.abort();
    expect(await first).toMatchObject({ outcome: 'failed' });
    // The drain goes on in ELB; the retry does not deregister again, it waits. (3 reads: a read the
    // aborted attempt had in flight may still arrive and count.)
    for (const t of elb.targetsOf(GREEN)) if (t.state === 'draining') t.drainReads = 3;
    expect(await executor().run(attempt(target).ctx, params())).toMatchObject({
      outcome: 'succeeded',
      summary: `${OBJECT}: ${A}, ${B} drained (deregistered before this step)`,
    });
    expect(await executor().run(attempt(target).ctx, params())).toMatchObject({
      outcome: 'succeeded',
      summary: `${OBJECT} has none of ${A}, ${B} registered: nothing to change`,
    });
    expect(deregistrations()).toHaveLength(1);
  });

  it("stops at the step's time limit when ELB does not answer", async () => {
    elb.stall('DescribeTargetHealth');
    expect(await executor().run(attempt().ctx, params({ timeout: '300ms' }))).toEqual({
      outcome: 'failed',
      error: `deregistering targets of ${OBJECT} did not finish within the step's time limit of 300ms`,
    });
  });

  it('fails naming the call ELB refused', async () => {
    elb.refuse(
      'DeregisterTargets',
      new AwsFault('AccessDenied', 'not authorized to perform: elasticloadbalancing:DeregisterTargets', 403),
    );
    expect(await executor().run(attempt(await resolved()).ctx, params())).toEqual({
      outcome: 'failed',
      error:
        'ELB DeregisterTargets failed: AccessDenied: not authorized to perform: elasticloadbalancing:DeregisterTargets',
      output: { targetGroup: GREEN, deregistered: [A, B], targets: [A, B] },
    });
  });

  it('stops waiting at once when the rollback is aborted while the targets drain', async () => {
    const target = await resolved();
    elb.drainReads = 1000;
    const abort = new AbortController();
    const running = executor().run(attempt(target, abort.signal).ctx, params());
    await expect.poll(() => elb.calls('DescribeTargetHealth').length).toBeGreaterThan(3);
    abort.abort();
    expect(await running).toEqual({
      outcome: 'failed',
      error: `deregistering targets of ${OBJECT} was stopped (rollback cancelled or bot shutting down); ELB goes on draining the targets it was asked to deregister`,
      output: { targetGroup: GREEN, deregistered: [A, B], targets: [A, B] },
    });
  });

  it('stops at once when aborted mid-call', async () => {
    elb.stall('DescribeTargetHealth');
    const abort = new AbortController();
    const running = executor().run(attempt(undefined, abort.signal).ctx, params());
    await expect.poll(() => elb.calls('DescribeTargetHealth').length).toBe(1);
    abort.abort();
    expect(await running).toEqual({
      outcome: 'failed',
      error: `deregistering targets of ${OBJECT} was stopped (rollback cancelled or bot shutting down)`,
    });
    expect(deregistrations()).toEqual([]);
  });

  it('makes its calls as roleArn, assumed through STS', async () => {
    expect((await executor().run(attempt().ctx, params({ roleArn: ROLE }))).outcome).toBe('succeeded');
    expect(sts.requests).toHaveLength(1);
    expect(elb.requests.every((r) => r.role === ROLE)).toBe(true);
  });
});

describe('aws-elb parameters', () => {
  const registry = defaultRegistry();
  const problems = (value: unknown) =>
    registry.validateParams('aws-elb', value).map((p) => `${p.path.join('.')}: ${p.message}`);

  it('keeps a plan without action a shift, as before', () => {
    expect(executor().params.parse({ listenerArn: 'arn:l', targetGroupArn: 'arn:tg' })).toMatchObject({
      action: 'shift',
      weight: 100,
    });
    expect(problems({ action: 'shift', listenerArn: 'arn:l', targetGroupArn: 'arn:tg' })).toEqual([]);
  });

  it('refuses bad deregister parameters with a message per field', () => {
    expect(problems({ action: 'deregister', targetGroupArn: GREEN })).toEqual(['targets: is required']);
    expect(problems({ action: 'deregister', targetGroupArn: GREEN, targets: [] })).toEqual([
      'targets: must have at least 1 item',
    ]);
    expect(
      problems({ action: 'deregister', targetGroupArn: GREEN, targets: [{ id: 'i-1', port: 70000 }] }),
    ).toEqual(['targets.0.port: must be at most 65535']);
    expect(
      problems({
        action: 'deregister',
        targetGroupArn: GREEN,
        listenerArn: 'arn:l',
        targets: [{ id: 'i-1' }],
      }),
    ).toEqual(['listenerArn: unknown key "listenerArn"']);
    expect(problems({ action: 'drain', targetGroupArn: GREEN })).toEqual([
      'action: must be one of "shift", "deregister", not the text "drain"',
    ]);
  });
});
