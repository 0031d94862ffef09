/**
 * The cloudwatch check against a local CloudWatch speaking what the installed SDK sends (JSON 1.0,
 * query compatible; test/support/fake-cloudwatch.ts), reached through AWS_ENDPOINT_URL_CLOUDWATCH
 * in the executor's env, every request signed and checked: pass, fail and inconclusive for a
 * metric and for an alarm, the exact requests, refusals, the time limit and an abort mid-call.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCloudwatchExecutor } from '../../../src/executors/cloudwatch/index.js';
import { AwsFault, KeyRing, TEST_KEYS } from '../../support/fake-aws-json.js';
import { startFakeCloudwatch, type FakeCloudwatch } from '../../support/fake-cloudwatch.js';
import { startFakeSts, type FakeSts } from '../../support/fake-sts.js';
import { stepContext } from '../../support/http-peer.js';

const NOW = Date.parse('2026-11-23T06:10:30Z');
const END = Date.parse('2026-11-23T06:10:00Z') / 1000;
const START = END - 300;
const ERRORS = {
  namespace: 'AWS/ApplicationELB',
  name: 'HTTPCode_Target_5XX_Count',
  dimensions: { LoadBalancer: 'app/checkout/50dc6c495c0c9188' },
  stat: 'Sum',
  period: 60,
};
const ROLE = 'arn:aws:iam::210987654321:role/rollback-read';

let keys: KeyRing;
let cloudwatch: FakeCloudwatch;
let sts: FakeSts;

beforeEach(async () => {
  keys = new KeyRing();
  cloudwatch = await startFakeCloudwatch({ keys });
  sts = await startFakeSts({ keys, roles: [ROLE] });
});
afterEach(async () => {
  await Promise.all([cloudwatch.close(), sts.close()]);
});

const executor = () =>
  createCloudwatchExecutor({
    now: () => NOW,
    env: {
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL_CLOUDWATCH: cloudwatch.url,
      AWS_ENDPOINT_URL_STS: sts.url,
      AWS_ACCESS_KEY_ID: TEST_KEYS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_KEYS.secretAccessKey,
    },
  });
const metricParams = (extra: Record<string, unknown> = {}) =>
  executor().params.parse({
    metric: {
      namespace: ERRORS.namespace,
      name: ERRORS.name,
      dimensions: ERRORS.dimensions,
      statistic: 'Sum',
    },
    threshold: { op: '<', value: 10 },
    label: '5xx count',
    ...extra,
  });
const run = (params: ReturnType<typeof metricParams>, signal?: AbortSignal) =>
  executor().run(stepContext(signal).ctx, params);

describe('cloudwatch metric', () => {
  it('passes on the newest datapoint of the window, asking GetMetricData exactly', async () => {
    cloudwatch.putData(ERRORS, [
      [END - 240, 40],
      [END - 60, 3],
      [END - 120, 12],
      [END - 600, 99],
    ]);
    expect(await run(metricParams())).toEqual({
      outcome: 'succeeded',
      summary: '5xx count 3 at 2026-11-23T06:09:00.000Z < 10',
      output: { value: 3, timestamp: '2026-11-23T06:09:00.000Z', datapoints: 3 },
    });
    expect(cloudwatch.calls('GetMetricData')).toEqual([
      {
        MetricDataQueries: [
          {
            Id: 'm',
            MetricStat: {
              Metric: {
                Namespace: ERRORS.namespace,
                MetricName: ERRORS.name,
                Dimensions: [{ Name: 'LoadBalancer', Value: ERRORS.dimensions.LoadBalancer }],
              },
              Period: 60,
              Stat: 'Sum',
            },
            ReturnData: true,
          },
        ],
        StartTime: START,
        EndTime: END,
        ScanBy: 'TimestampDescending',
      },
    ]);
    const [request] = cloudwatch.requests;
    expect(request!.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(request!.headers['x-amz-target']).toBe('GraniteServiceVersion20100801.GetMetricData');
    expect(request!.headers['x-amzn-query-mode']).toBe('true');
    expect(request!.headers.authorization).toContain('/eu-west-1/monitoring/aws4_request');
  });

  it('reads every page of a window that comes back in parts (PartialData, NextToken)', async () => {
    cloudwatch.putData(ERRORS, [
      [END - 60, 42],
      [END - 120, 2],
      [END - 180, 3],
      [END - 240, 4],
      [END - 300, 5],
    ]);
    cloudwatch.pointsPerPage = 2;
    expect(await run(metricParams())).toEqual({
      outcome: 'failed',
      error: '5xx count 42 at 2026-11-23T06:09:00.000Z (passes when < 10)',
      output: { value: 42, timestamp: '2026-11-23T06:09:00.000Z', datapoints: 5 },
    });
    expect(cloudwatch.calls('GetMetricData').map((body) => body['NextToken'])).toEqual([undefined, '2', '4']);
  });

  it('fails when the newest datapoint is past the threshold', async () => {
    cloudwatch.putData(ERRORS, [
      [END - 120, 2],
      [END - 60, 42],
    ]);
    expect(await run(metricParams())).toEqual({
      outcome: 'failed',
      error: '5xx count 42 at 2026-11-23T06:09:00.000Z (passes when < 10)',
      output: { value: 42, timestamp: '2026-11-23T06:09:00.000Z', datapoints: 2 },
    });
  });

  it('is inconclusive with no datapoint in the window', async () => {
    cloudwatch.putData(ERRORS, [[END - 900, 1]]);
    expect(await run(metricParams())).toEqual({
      outcome: 'inconclusive',
      detail:
        '5xx count has no datapoint from 2026-11-23T06:05:00.000Z to 2026-11-23T06:10:00.000Z (AWS/ApplicationELB HTTPCode_Target_5XX_Count, Sum, LoadBalancer=app/checkout/50dc6c495c0c9188)',
    });
  });

  it('is inconclusive when CloudWatch answers Forbidden for the query, or refuses the call', async () => {
    cloudwatch.statusOf(ERRORS, 'Forbidden', 'User is not authorized to read AWS/ApplicationELB');
    expect(await run(metricParams())).toEqual({
      outcome: 'inconclusive',
      detail:
        'CloudWatch answered Forbidden for 5xx count: User is not authorized to read AWS/ApplicationELB',
    });
    cloudwatch.refuse('GetMetricData', new AwsFault('InvalidParameterCombination', 'Period is too short'));
    expect(await run(metricParams())).toEqual({
      outcome: 'inconclusive',
      detail: 'CloudWatch GetMetricData failed: InvalidParameterCombinationException: Period is too short',
    });
  });

  it('reads a window of whole periods and through a role when the step names one', async () => {
    const p99 = { ...ERRORS, name: 'TargetResponseTime', stat: 'p99', period: 300 };
    cloudwatch.putData(p99, [[END - 300 - 300 * 0, 0.2]]);
    const params = metricParams({
      metric: {
        namespace: p99.namespace,
        name: p99.name,
        dimensions: p99.dimensions,
        statistic: 'p99',
        period: '5m',
        window: '12m',
      },
      threshold: { op: '<=', value: 0.5 },
      label: undefined,
      roleArn: ROLE,
    });
    const result = await run(params);
    expect(result).toMatchObject({
      outcome: 'succeeded',
      summary: 'TargetResponseTime 0.2 at 2026-11-23T06:05:00.000Z <= 0.5',
    });
    expect(cloudwatch.calls('GetMetricData')[0]).toMatchObject({ StartTime: END - 900, EndTime: END });
    expect(cloudwatch.requests[0]!.role).toBe(ROLE);
    expect(sts.requests).toHaveLength(1);
  });
});

describe('cloudwatch alarm', () => {
  const alarmParams = (name: string) => executor().params.parse({ alarm: name, region: 'eu-west-1' });

  it('passes on OK, fails on ALARM with its reason, is inconclusive on INSUFFICIENT_DATA or no such alarm', async () => {
    cloudwatch.setAlarm({ name: 'checkout-5xx', state: 'OK', updatedAt: END });
    cloudwatch.setAlarm({
      name: 'checkout-latency',
      state: 'ALARM',
      reason: 'Threshold Crossed: 3 datapoints were greater than 0.5',
      updatedAt: END,
    });
    cloudwatch.setAlarm({
      name: 'checkout-health',
      state: 'INSUFFICIENT_DATA',
      composite: true,
      reason: 'no data',
      updatedAt: END,
    });
    expect(await run(alarmParams('checkout-5xx'))).toEqual({
      outcome: 'succeeded',
      summary: 'alarm checkout-5xx is OK since 2026-11-23T06:10:00.000Z',
      output: { alarm: 'checkout-5xx', state: 'OK' },
    });
    expect(await run(alarmParams('checkout-latency'))).toEqual({
      outcome: 'failed',
      error:
        'alarm checkout-latency is in ALARM since 2026-11-23T06:10:00.000Z: Threshold Crossed: 3 datapoints were greater than 0.5',
      output: { alarm: 'checkout-latency', state: 'ALARM' },
    });
    expect(await run(alarmParams('checkout-health'))).toEqual({
      outcome: 'inconclusive',
      detail: 'alarm checkout-health is INSUFFICIENT_DATA since 2026-11-23T06:10:00.000Z: no data',
    });
    expect(await run(alarmParams('checkout-typo'))).toEqual({
      outcome: 'inconclusive',
      detail: 'there is no CloudWatch alarm named checkout-typo',
    });
    expect(cloudwatch.calls('DescribeAlarms')[0]).toEqual({
      AlarmNames: ['checkout-5xx'],
      AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
    });
  });

  it('follows NextToken past a page without the alarm', async () => {
    cloudwatch.setAlarm({ name: 'checkout-5xx', state: 'OK', updatedAt: END });
    cloudwatch.emptyAlarmPages = 1;
    expect(await run(alarmParams('checkout-5xx'))).toMatchObject({ outcome: 'succeeded' });
    expect(cloudwatch.calls('DescribeAlarms')).toEqual([
      { AlarmNames: ['checkout-5xx'], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] },
      {
        AlarmNames: ['checkout-5xx'],
        AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
        NextToken: 'after-an-empty-page',
      },
    ]);
  });
});

describe('cloudwatch time and stops', () => {
  it("is inconclusive when CloudWatch does not answer within the step's time limit", async () => {
    cloudwatch.stall('GetMetricData');
    const started = performance.now();
    expect(await run(metricParams({ timeout: '300ms' }))).toEqual({
      outcome: 'inconclusive',
      detail: 'CloudWatch did not answer within 300ms',
    });
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it('stops at once when the rollback is aborted mid-call', async () => {
    cloudwatch.stall('DescribeAlarms');
    const abort = new AbortController();
    const running = run(executor().params.parse({ alarm: 'checkout-5xx' }), abort.signal);
    await expect.poll(() => cloudwatch.calls('DescribeAlarms').length).toBe(1);
    abort.abort();
    expect(await running).toEqual({
      outcome: 'failed',
      error: 'the CloudWatch check was stopped (rollback cancelled or bot shutting down)',
    });
  });
});

describe('cloudwatch parameters', () => {
  const problems = (value: unknown) =>
    executor()
      .params.safeParse(value)
      .error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);

  it('refuses bad parameters with a message per field', () => {
    expect(problems({})).toEqual([': give exactly one of alarm or metric']);
    expect(problems({ metric: { namespace: 'A', name: 'B' } })).toEqual([
      'threshold: a metric needs a threshold',
    ]);
    expect(problems({ alarm: 'a', threshold: { op: '<', value: 1 } })).toEqual([
      'threshold: an alarm has its own threshold: remove this one',
    ]);
    expect(
      problems({
        metric: { namespace: 'A', name: 'B', statistic: 'Mean', period: '90s' },
        threshold: { op: '<', value: 1 },
      }),
    ).toEqual([
      'metric.statistic: must be Average, Sum, Minimum, Maximum, SampleCount or a percentile such as p99',
      'metric.period: must be 1s, 5s, 10s, 30s or a multiple of 60s',
    ]);
    expect(problems({ alarm: 'a', region: 'Ireland' })).toEqual([
      'region: is not an AWS region such as us-east-1',
    ]);
  });

  it('fails plainly on a rendered region that is not one, before any call', async () => {
    const params = executor().params.parse({ alarm: 'a', region: '{{ environment }}' });
    expect(await run(params)).toEqual({
      outcome: 'failed',
      error: 'region "{{ environment }}" is not an AWS region such as us-east-1',
    });
    expect(cloudwatch.requests).toEqual([]);
  });
});
