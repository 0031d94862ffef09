/**
 * A validation check on CloudWatch: an alarm's state (DescribeAlarms) or a metric's newest
 * datapoint against a threshold (GetMetricData). Three outcomes stay apart, as with `prometheus`:
 * it passes (succeeded), it does not (failed), or CloudWatch cannot tell (inconclusive: no
 * datapoint in the window, INSUFFICIENT_DATA, no such alarm, a refused or unanswered call), and
 * then a human decides instead of the bot guessing.
 */

// Tested by test/integration/executors/cloudwatch.test.ts.
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  type CompositeAlarm,
  type GetMetricDataCommandOutput,
  type MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import { AwsError, awsCall, awsClientConfig, type AwsExecutorOptions } from '../aws-kit.js';
import type { Executor, ExecutorContext, StepResult } from '../executor.js';
import { human } from '../http-kit.js';
import { cloudwatchParams, type CloudwatchParams } from './params.js';

/** Every call the executor makes. */
export const CLOUDWATCH_IAM_ACTIONS = ['cloudwatch:DescribeAlarms', 'cloudwatch:GetMetricData'] as const;

const CLOUDWATCH = { envId: 'CLOUDWATCH', label: 'CloudWatch' };

export interface CloudwatchExecutorOptions extends AwsExecutorOptions {
  /** The clock the metric window ends at (default Date.now). */
  now?: () => number;
}

export function createCloudwatchExecutor(
  options: CloudwatchExecutorOptions = {},
): Executor<CloudwatchParams> {
  const env = options.env ?? process.env;
  const now = options.now ?? Date.now;

  return {
    kind: 'cloudwatch',
    description:
      'Checks a CloudWatch alarm state or a metric against a threshold: pass, fail, or inconclusive when it cannot tell.',
    params: cloudwatchParams,
    iamActions: CLOUDWATCH_IAM_ACTIONS,

    async run(ctx, params) {
      const limitMs = Math.min(params.timeout, ctx.timeoutMs);
      const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(limitMs)]);
      const setup = awsClientConfig(CLOUDWATCH, params, { env, rollbackId: ctx.rollback.id, signal });
      if (!setup.ok) return { outcome: 'failed', error: setup.error };
      const client = new CloudWatchClient(setup.config);
      try {
        return params.alarm === undefined
          ? await checkMetric(ctx, client, params, now(), signal)
          : await checkAlarm(ctx, client, params.alarm, signal);
      } catch (error) {
        if (ctx.signal.aborted) {
          return {
            outcome: 'failed',
            error: 'the CloudWatch check was stopped (rollback cancelled or bot shutting down)',
          };
        }
        if (signal.aborted) {
          return { outcome: 'inconclusive', detail: `CloudWatch did not answer within ${human(limitMs)}` };
        }
        if (error instanceof AwsError) return { outcome: 'inconclusive', detail: error.userMessage };
        throw error;
      } finally {
        client.destroy();
      }
    },
  };
}

async function checkAlarm(
  ctx: ExecutorContext,
  client: CloudWatchClient,
  name: string,
  signal: AbortSignal,
): Promise<StepResult> {
  ctx.log.line(`alarm ${name}`);
  // Pages until the alarm is found: AWS does not promise it on the first page, even asked by name.
  let alarm: MetricAlarm | CompositeAlarm | undefined;
  let nextToken: string | undefined;
  do {
    const token = nextToken;
    const page = await awsCall('CloudWatch DescribeAlarms', signal, (options) =>
      client.send(
        new DescribeAlarmsCommand({
          AlarmNames: [name],
          AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
          ...(token === undefined ? {} : { NextToken: token }),
        }),
        options,
      ),
    );
    alarm = [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])].find((a) => a.AlarmName === name);
    nextToken = page.NextToken || undefined;
  } while (alarm === undefined && nextToken !== undefined);
  if (!alarm) return { outcome: 'inconclusive', detail: `there is no CloudWatch alarm named ${name}` };
  const reason = alarm.StateReason ? `: ${alarm.StateReason}` : '';
  const since = alarm.StateUpdatedTimestamp ? ` since ${alarm.StateUpdatedTimestamp.toISOString()}` : '';
  const output = { alarm: name, state: alarm.StateValue ?? null };
  switch (alarm.StateValue) {
    case 'OK':
      return { outcome: 'succeeded', output, summary: `alarm ${name} is OK${since}` };
    case 'ALARM':
      return { outcome: 'failed', error: `alarm ${name} is in ALARM${since}${reason}`, output };
    default:
      return {
        outcome: 'inconclusive',
        detail: `alarm ${name} is ${alarm.StateValue ?? 'in no state'}${since}${reason}`,
      };
  }
}

async function checkMetric(
  ctx: ExecutorContext,
  client: CloudWatchClient,
  params: CloudwatchParams,
  endMs: number,
  signal: AbortSignal,
): Promise<StepResult> {
  const metric = params.metric!;
  const threshold = params.threshold!;
  const label = params.label ?? metric.name;
  const period = metric.period / 1000;
  // Whole periods, so the window's datapoints line up with CloudWatch's own.
  const end = Math.floor(endMs / metric.period) * period;
  const start = end - Math.max(period, Math.ceil(metric.window / metric.period) * period);
  const dimensions = Object.entries(metric.dimensions ?? {}).map(([Name, Value]) => ({ Name, Value }));
  ctx.log.line(
    `${metric.namespace} ${metric.name} (${metric.statistic}, ${human(metric.period)}) from ${iso(start)} to ${iso(end)}`,
  );
  const values: number[] = [];
  const times: Date[] = [];
  let nextToken: string | undefined;
  // Every page: a window of many datapoints comes back in parts (StatusCode PartialData, NextToken).
  do {
    const token = nextToken;
    const page: GetMetricDataCommandOutput = await awsCall('CloudWatch GetMetricData', signal, (options) =>
      client.send(
        new GetMetricDataCommand({
          MetricDataQueries: [
            {
              Id: 'm',
              MetricStat: {
                Metric: { Namespace: metric.namespace, MetricName: metric.name, Dimensions: dimensions },
                Period: period,
                Stat: metric.statistic,
              },
              ReturnData: true,
            },
          ],
          StartTime: new Date(start * 1000),
          EndTime: new Date(end * 1000),
          ScanBy: 'TimestampDescending',
          ...(token === undefined ? {} : { NextToken: token }),
        }),
        options,
      ),
    );
    const result = page.MetricDataResults?.find((r) => r.Id === 'm');
    if (result?.StatusCode === 'Forbidden' || result?.StatusCode === 'InternalError') {
      const message = page.Messages?.map((m) => m.Value).join('; ');
      return {
        outcome: 'inconclusive',
        detail: `CloudWatch answered ${result.StatusCode} for ${label}${message ? `: ${message}` : ''}`,
      };
    }
    values.push(...(result?.Values ?? []));
    times.push(...(result?.Timestamps ?? []));
    nextToken = page.NextToken || undefined;
  } while (nextToken !== undefined);
  // ScanBy TimestampDescending: the newest first; checked anyway, CloudWatch is the authority.
  let newest = -1;
  times.forEach((time, index) => {
    if (newest === -1 || time.getTime() > times[newest]!.getTime()) newest = index;
  });
  const value = values[newest];
  if (newest === -1 || value === undefined || !Number.isFinite(value)) {
    return {
      outcome: 'inconclusive',
      detail: `${label} has no datapoint from ${iso(start)} to ${iso(end)} (${metric.namespace} ${metric.name}, ${metric.statistic}${dimensions.length > 0 ? `, ${dimensions.map((d) => `${d.Name}=${d.Value}`).join(', ')}` : ''})`,
    };
  }
  const at = times[newest]!.toISOString();
  const output = { value, timestamp: at, datapoints: values.length };
  const text = `${label} ${fmt(value)} at ${at}`;
  if (compare(value, threshold.op, threshold.value)) {
    return { outcome: 'succeeded', output, summary: `${text} ${threshold.op} ${fmt(threshold.value)}` };
  }
  return {
    outcome: 'failed',
    error: `${text} (passes when ${threshold.op} ${fmt(threshold.value)})`,
    output,
  };
}

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();

function compare(value: number, op: '<' | '<=' | '>' | '>=', threshold: number): boolean {
  switch (op) {
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
  }
}

/** Four significant digits, no trailing zeros. */
const fmt = (value: number): string => String(Number(value.toPrecision(4)));
