/**
 * The aws-autoscaling executor against a local Auto Scaling API and a local EC2 (both the query
 * protocol, form bodies and XML answers; test/support/fake-autoscaling.ts, fake-ec2.ts), reached
 * through AWS_ENDPOINT_URL_AUTO_SCALING and AWS_ENDPOINT_URL_EC2, every request signed and checked:
 * what resolve names, the exact UpdateAutoScalingGroup and StartInstanceRefresh, following the
 * refresh to Successful or Failed, convergence on retry, a deploy's refresh in the way, conflicts,
 * the time limit, an abort mid-run and a role assumed through a local STS.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAutoscalingExecutor } from '../../../src/executors/aws-autoscaling/index.js';
import type { StepTarget } from '../../../src/executors/executor.js';
import { KeyRing, TEST_KEYS } from '../../support/fake-aws-json.js';
import { AwsFault } from '../../support/fake-aws-query.js';
import { startFakeAutoscaling, type FakeAutoscaling } from '../../support/fake-autoscaling.js';
import { startFakeEc2, type FakeEc2 } from '../../support/fake-ec2.js';
import { startFakeSts, type FakeSts } from '../../support/fake-sts.js';
import { stepContext } from '../../support/http-peer.js';

const GROUP = 'checkout-web';
const LT = 'lt-0a1b2c3d4e5f67890';
const OBJECT = `asg ${GROUP}`;
const ROLE = 'arn:aws:iam::210987654321:role/rollback-checkout';
let keys: KeyRing;
let asg: FakeAutoscaling;
let ec2: FakeEc2;
let sts: FakeSts;

const env = () => ({
  AWS_REGION: 'eu-west-1',
  AWS_ENDPOINT_URL_AUTO_SCALING: asg.url,
  AWS_ENDPOINT_URL_EC2: ec2.url,
  AWS_ENDPOINT_URL_STS: sts.url,
  AWS_ACCESS_KEY_ID: TEST_KEYS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: TEST_KEYS.secretAccessKey,
});
const executor = () => createAutoscalingExecutor({ pollIntervalMs: 5, env: env() });
const params = (extra: Record<string, unknown> = {}) =>
  executor().params.parse({ autoScalingGroup: GROUP, ...extra });
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
const started = () => asg.calls('StartInstanceRefresh');
const updates = () => asg.calls('UpdateAutoScalingGroup');

beforeEach(async () => {
  keys = new KeyRing();
  asg = await startFakeAutoscaling({ keys });
  ec2 = await startFakeEc2({ keys });
  sts = await startFakeSts({ keys, roles: [ROLE] });
  // 42 versions: 40 older ones a deploy described with no version, then v1.4.1 and v1.5.0 (bad).
  ec2.addTemplate(LT, 'checkout-web', [
    ...Array.from({ length: 39 }, () => undefined),
    'v1.4.0',
    'v1.4.1',
    'v1.5.0',
  ]);
  asg.addGroup({ name: GROUP, launchTemplate: { id: LT, name: 'checkout-web', version: '42' } });
});
afterEach(async () => {
  await Promise.all([asg.close(), ec2.close(), sts.close()]);
});

describe('aws-autoscaling resolve', () => {
  it('names the version the group is on and the one before it, reading every page of the versions', async () => {
    ec2.pageSize = 20;
    expect(await resolved()).toEqual({
      object: OBJECT,
      current: { revision: 'version 42', version: 'v1.5.0', images: [] },
      target: { revision: 'version 41', version: 'v1.4.1', images: [] },
      pin: { launchTemplateId: LT, from: 42, to: 41 },
    });
    expect(asg.requests.map((r) => r.params)).toEqual([
      { Action: 'DescribeAutoScalingGroups', Version: '2011-01-01', 'AutoScalingGroupNames.member.1': GROUP },
    ]);
    expect(ec2.requests.map((r) => r.params)).toEqual([
      {
        Action: 'DescribeLaunchTemplateVersions',
        Version: '2016-11-15',
        LaunchTemplateId: LT,
        'LaunchTemplateVersion.1': '42',
      },
      ...[undefined, '20', '40'].map((token) => ({
        Action: 'DescribeLaunchTemplateVersions',
        Version: '2016-11-15',
        LaunchTemplateId: LT,
        MaxVersion: '42',
        MaxResults: '200',
        ...(token === undefined ? {} : { NextToken: token }),
      })),
    ]);
    expect(asg.requests[0]!.headers.authorization).toContain('/eu-west-1/autoscaling/aws4_request');
    expect(ec2.requests[0]!.headers.authorization).toContain('/eu-west-1/ec2/aws4_request');
  });

  it('reads $Latest and $Default as the numbers they are, and skips deleted versions', async () => {
    asg.setVersion(GROUP, '$Latest');
    ec2.deleteVersions(LT, [41]);
    expect((await resolved()).pin).toEqual({ launchTemplateId: LT, from: 42, to: 40 });
    ec2.setDefault(LT, 40);
    asg.setVersion(GROUP, '$Default');
    expect(await resolved()).toMatchObject({
      current: { revision: 'version 40', version: 'v1.4.0' },
      target: { revision: 'version 39', images: [] },
    });
  });

  it('maps --to to a version description, and a named launchTemplateVersion wins', async () => {
    expect((await resolved({}, 'v1.4.0')).pin).toEqual({ launchTemplateId: LT, from: 42, to: 40 });
    // No version described so: the previous one, as without --to.
    expect((await resolved({}, 'v0.9.0')).pin).toMatchObject({ to: 41 });
    expect((await resolved({ launchTemplateVersion: 7 }, 'v1.4.0')).pin).toMatchObject({ to: 7 });
  });

  it('refuses what it cannot restore, saying why', async () => {
    const refusal = async (extra: Record<string, unknown>) =>
      await executor().resolve!(resolveContext(), params(extra));
    expect(await refusal({ autoScalingGroup: 'nope' })).toEqual({ ok: false, error: 'asg nope not found' });
    asg.addGroup({ name: 'old', launchConfiguration: 'old-lc' });
    expect(await refusal({ autoScalingGroup: 'old' })).toEqual({
      ok: false,
      error: 'asg old uses launch configuration old-lc, not a launch template',
    });
    asg.addGroup({
      name: 'spot',
      mixed: true,
      launchTemplate: { id: LT, name: 'checkout-web', version: '2' },
    });
    expect(await refusal({ autoScalingGroup: 'spot' })).toEqual({
      ok: false,
      error:
        'asg spot uses a mixed instances policy: aws-autoscaling only restores the launch template of a group that names one directly',
    });
    asg.setVersion(GROUP, '1');
    expect(await refusal({})).toEqual({
      ok: false,
      error: `${OBJECT} has no launch template version before version 1 to go back to`,
    });
    expect(await refusal({ launchTemplateVersion: 99 })).toEqual({
      ok: false,
      error: `EC2 DescribeLaunchTemplateVersions failed: InvalidLaunchTemplateId.VersionNotFound: Could not find launch template version 99 for launch template ${LT}`,
    });
  });
});

describe('aws-autoscaling run', () => {
  it('puts the group on the recorded version, starts an instance refresh onto it and follows it to Successful', async () => {
    const { ctx, lines } = attempt(await resolved());
    const result = await executor().run(
      ctx,
      params({ minHealthyPercentage: 50, maxHealthyPercentage: 150, instanceWarmup: '2m' }),
    );
    const id = asg.refreshes(GROUP)[0]!.id;
    expect(result).toEqual({
      outcome: 'succeeded',
      summary: `${OBJECT} is on version 41 (was 42); instance refresh ${id} Successful`,
      output: {
        group: GROUP,
        launchTemplateId: LT,
        fromVersion: 42,
        toVersion: 41,
        instanceRefreshId: id,
        status: 'Successful',
      },
    });
    expect(updates()).toEqual([
      {
        Action: 'UpdateAutoScalingGroup',
        Version: '2011-01-01',
        AutoScalingGroupName: GROUP,
        'LaunchTemplate.LaunchTemplateId': LT,
        'LaunchTemplate.Version': '41',
      },
    ]);
    expect(started()).toEqual([
      {
        Action: 'StartInstanceRefresh',
        Version: '2011-01-01',
        AutoScalingGroupName: GROUP,
        Strategy: 'Rolling',
        'DesiredConfiguration.LaunchTemplate.LaunchTemplateId': LT,
        'DesiredConfiguration.LaunchTemplate.Version': '41',
        'Preferences.MinHealthyPercentage': '50',
        'Preferences.MaxHealthyPercentage': '150',
        'Preferences.InstanceWarmup': '120',
        'Preferences.SkipMatching': 'true',
      },
    ]);
    expect(asg.group(GROUP).launchTemplate?.version).toBe('41');
    expect(lines).toEqual([
      `${OBJECT}: checkout-web version 42 → version 41`,
      `instance refresh ${id} started`,
      `instance refresh ${id} Pending 0%, 3 to update`,
      `instance refresh ${id} InProgress 0%, 3 to update`,
      `instance refresh ${id} InProgress 50%, 2 to update`,
      `instance refresh ${id} Successful 100%, 0 to update`,
    ]);
  });

  it("fails with AWS's reason when the refresh fails, leaving the group on the restored version", async () => {
    asg.plans.push('fail');
    const result = await executor().run(attempt(await resolved()).ctx, params());
    const id = asg.refreshes(GROUP)[0]!.id;
    expect(result).toEqual({
      outcome: 'failed',
      error: `instance refresh ${id} of ${OBJECT} ended Failed: Instance i-0b1c2d3e4f5a6b7c8 failed to launch: the instance did not pass the ELB health check of target group checkout-web.; the group stays on version 41`,
      output: {
        group: GROUP,
        launchTemplateId: LT,
        fromVersion: 42,
        toVersion: 41,
        instanceRefreshId: id,
        status: 'Failed',
      },
    });
    expect(asg.group(GROUP).launchTemplate?.version).toBe('41');
  });

  it('converges on retry: a failed refresh is started again without touching the group, a running or successful one is not', async () => {
    const target = await resolved();
    asg.plans.push('fail');
    expect((await executor().run(attempt(target).ctx, params())).outcome).toBe('failed');
    // Retry: the group is on 41 already; a new refresh onto 41, never back to 42.
    expect((await executor().run(attempt(target).ctx, params())).outcome).toBe('succeeded');
    expect(updates()).toHaveLength(1);
    expect(started()).toHaveLength(2);
    const again = attempt(target);
    const done = await executor().run(again.ctx, params());
    const id = asg.refreshes(GROUP)[1]!.id;
    expect(done).toMatchObject({
      outcome: 'succeeded',
      summary: `${OBJECT} is already on checkout-web version 41 and instance refresh ${id} was Successful: nothing to change`,
    });
    expect(started()).toHaveLength(2);
    expect(asg.group(GROUP).launchTemplate?.version).toBe('41');
  });

  it('follows a refresh onto the target that an earlier attempt left running instead of starting another', async () => {
    const target = await resolved();
    asg.plans.push('never');
    const abort = new AbortController();
    const first = executor().run(attempt(target, abort.signal).ctx, params());
    await expect.poll(() => asg.refreshes(GROUP)[0]?.status).toBe('InProgress');
    abort.abort();
    expect((await first).outcome).toBe('failed');
    const running = asg.refreshes(GROUP)[0]!;
    // The refresh goes on in AWS; the next attempt follows it to its end.
    running.plan = 'succeed';
    const second = attempt(target);
    expect(await executor().run(second.ctx, params())).toMatchObject({
      outcome: 'succeeded',
      output: { instanceRefreshId: running.id },
    });
    expect(second.lines[0]).toBe(
      `${OBJECT} is already on checkout-web version 41; following instance refresh ${running.id} (InProgress)`,
    );
    expect(started()).toHaveLength(1);
    expect(asg.calls('CancelInstanceRefresh')).toEqual([]);
  });

  it("cancels the bad deploy's refresh still in progress before it restores the group", async () => {
    const target = await resolved();
    const deploys = asg.startElsewhere(GROUP, 'never');
    const { ctx, lines } = attempt(target);
    const before = asg.requests.length;
    expect((await executor().run(ctx, params())).outcome).toBe('succeeded');
    expect(deploys.status).toBe('Cancelled');
    expect(asg.requests.slice(before).map((r) => r.action)).toEqual([
      'DescribeAutoScalingGroups',
      'DescribeInstanceRefreshes',
      'CancelInstanceRefresh',
      'DescribeInstanceRefreshes',
      'DescribeInstanceRefreshes',
      'UpdateAutoScalingGroup',
      'StartInstanceRefresh',
      ...Array.from({ length: 4 }, () => 'DescribeInstanceRefreshes'),
    ]);
    expect(asg.calls('CancelInstanceRefresh')).toEqual([
      { Action: 'CancelInstanceRefresh', Version: '2011-01-01', AutoScalingGroupName: GROUP },
    ]);
    expect(lines.slice(0, 3)).toEqual([
      `instance refresh ${deploys.id} (Pending) is not onto the restored version: cancelling it`,
      `instance refresh ${deploys.id} Cancelled`,
      `${OBJECT}: checkout-web version 42 → version 41`,
    ]);
  });

  it('goes on when the refresh in the way ended before it could be cancelled', async () => {
    const target = await resolved();
    const deploys = asg.startElsewhere(GROUP, 'succeed');
    asg.refuse(
      'CancelInstanceRefresh',
      new AwsFault(
        'ActiveInstanceRefreshNotFound',
        `No in progress or pending Instance Refresh found for Auto Scaling group ${GROUP}`,
      ),
      1,
    );
    const { ctx, lines } = attempt(target);
    expect((await executor().run(ctx, params())).outcome).toBe('succeeded');
    expect(lines[1]).toBe(`instance refresh ${deploys.id} Successful`);
    expect(started()).toHaveLength(1);
  });

  it('refuses a group someone else moved since the approval (a conflict), changing nothing', async () => {
    const target = await resolved();
    asg.setVersion(GROUP, String(ec2.addVersion(LT, 'v1.5.1')));
    expect(await executor().run(attempt(target).ctx, params())).toEqual({
      outcome: 'failed',
      conflict: true,
      error: `${OBJECT} changed since the rollback was approved: it is on version 43, neither version 42 (start) nor version 41 (target) of ${LT}; nothing was changed`,
    });
    expect(updates()).toEqual([]);
    expect(started()).toEqual([]);
  });

  it('fails naming the call AWS refused', async () => {
    asg.refuse(
      'UpdateAutoScalingGroup',
      new AwsFault('AccessDenied', 'You are not authorized to use launch template: checkout-web', 403),
    );
    expect(await executor().run(attempt(await resolved()).ctx, params())).toEqual({
      outcome: 'failed',
      error:
        'Auto Scaling UpdateAutoScalingGroup failed: AccessDenied: You are not authorized to use launch template: checkout-web',
      output: { group: GROUP, launchTemplateId: LT, fromVersion: 42, toVersion: 41 },
    });
    expect(started()).toEqual([]);
  });

  it("stops waiting at the step's time limit, leaving the refresh running in AWS", async () => {
    asg.plans.push('never');
    // Long enough for the refresh to start even on a busy machine; it never ends.
    const result = await executor().run(attempt(await resolved()).ctx, params({ timeout: '2s' }));
    const refresh = asg.refreshes(GROUP)[0]!;
    expect(result).toEqual({
      outcome: 'failed',
      error: `${OBJECT} did not finish its instance refresh within the step's time limit of 2s; instance refresh ${refresh.id} goes on in AWS (it is not cancelled)`,
      output: {
        group: GROUP,
        launchTemplateId: LT,
        fromVersion: 42,
        toVersion: 41,
        instanceRefreshId: refresh.id,
      },
    });
    expect(refresh.status).toBe('InProgress');
  });

  it('stops polling at once when the rollback is aborted mid-run, and does not cancel the refresh', async () => {
    const target = await resolved();
    asg.plans.push('never');
    const abort = new AbortController();
    const running = executor().run(attempt(target, abort.signal).ctx, params());
    await expect.poll(() => asg.refreshes(GROUP)[0]?.status).toBe('InProgress');
    abort.abort();
    const refresh = asg.refreshes(GROUP)[0]!;
    expect(await running).toMatchObject({
      outcome: 'failed',
      error: `the rollback of ${OBJECT} was stopped (rollback cancelled or bot shutting down); instance refresh ${refresh.id} goes on in AWS (it is not cancelled)`,
    });
    // Polling every 5 ms would add a score of reads in 100 ms; a read in flight at the abort may land.
    const reads = asg.calls('DescribeInstanceRefreshes').length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(asg.calls('DescribeInstanceRefreshes').length).toBeLessThanOrEqual(reads + 1);
    expect(asg.calls('CancelInstanceRefresh')).toEqual([]);
    expect(refresh.status).toBe('InProgress');
  });

  it('assumes roleArn once through STS and makes both services’ calls as that role', async () => {
    const target = await resolved();
    const result = await executor().run(attempt(target).ctx, params({ roleArn: ROLE }));
    expect(result.outcome).toBe('succeeded');
    expect(sts.requests.map((r) => r.params['RoleArn'])).toEqual([ROLE]);
    const asRole = (
      requests: ReadonlyArray<{ role: string | undefined; headers: Record<string, unknown> }>,
    ) => requests.filter((r) => r.role === ROLE && typeof r.headers['x-amz-security-token'] === 'string');
    const runAsg = asg.requests.slice(1);
    const runEc2 = ec2.requests.slice(ec2.requests.length - 1);
    expect(asRole(runAsg)).toHaveLength(runAsg.length);
    expect(asRole(runEc2)).toHaveLength(1);
  });
});

describe('aws-autoscaling parameters', () => {
  it('refuses bad parameters with a message per field', () => {
    const problems = (value: unknown) =>
      executor()
        .params.safeParse(value)
        .error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    expect(problems({})).toEqual(['autoScalingGroup: Invalid input: expected string, received undefined']);
    expect(problems({ autoScalingGroup: GROUP, launchTemplateVersion: 0 })).toEqual([
      'launchTemplateVersion: Too small: expected number to be >0',
    ]);
    expect(problems({ autoScalingGroup: GROUP, maxHealthyPercentage: 150 })).toEqual([
      'minHealthyPercentage: is required with maxHealthyPercentage',
    ]);
    expect(problems({ autoScalingGroup: GROUP, minHealthyPercentage: 0, maxHealthyPercentage: 200 })).toEqual(
      ['maxHealthyPercentage: must be at most 100 above minHealthyPercentage'],
    );
    expect(problems({ autoScalingGroup: GROUP, region: 'Ireland' })).toEqual([
      'region: is not an AWS region such as us-east-1',
    ]);
  });
});
