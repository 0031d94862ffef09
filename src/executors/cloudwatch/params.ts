import { z } from 'zod';
import { duration, nonEmptyText, strictObject } from '../../schema/zod-kit.js';
import { awsStepParams } from '../aws-kit.js';
import { timeout } from '../shared-params.js';

const STATISTIC = /^(Average|Sum|Minimum|Maximum|SampleCount|p\d{1,2}(\.\d{1,2})?)$/;

const metric = strictObject({
  namespace: nonEmptyText('Metric namespace, e.g. AWS/ApplicationELB.'),
  name: nonEmptyText('Metric name, e.g. HTTPCode_Target_5XX_Count.'),
  dimensions: z
    .record(z.string().min(1), z.string().min(1))
    .optional()
    .describe(
      'Dimensions by name, e.g. { LoadBalancer: app/checkout/50dc6c495c0c9188 }; may use {{ templates }}.',
    ),
  statistic: z
    .string()
    .regex(STATISTIC, {
      error: 'must be Average, Sum, Minimum, Maximum, SampleCount or a percentile such as p99',
    })
    .prefault('Average')
    .describe(
      'Statistic of each period: Average, Sum, Minimum, Maximum, SampleCount or pNN (default Average).',
    ),
  period: duration('Length of one datapoint: 1s, 5s, 10s, 30s or a multiple of 60s (default 60s).')
    .prefault('60s')
    .refine((ms) => [1_000, 5_000, 10_000, 30_000].includes(ms) || (ms > 0 && ms % 60_000 === 0), {
      error: 'must be 1s, 5s, 10s, 30s or a multiple of 60s',
    }),
  window: duration(
    'How far back datapoints are read; the newest one in the window is judged (default 5m).',
  ).prefault('5m'),
}).describe('A metric read with GetMetricData; its newest datapoint is compared with threshold.');

const threshold = strictObject({
  op: z.enum(['<', '<=', '>', '>=']).describe('How the datapoint must compare to value to pass.'),
  value: z.number().describe('The threshold.'),
}).describe('Pass when the newest datapoint compares to value as op says.');

export const cloudwatchParams = strictObject({
  alarm: nonEmptyText(
    'Name of a metric or composite alarm: OK passes, ALARM fails, INSUFFICIENT_DATA is inconclusive.',
  ).optional(),
  metric: metric.optional(),
  threshold: threshold.optional(),
  label: nonEmptyText(
    'What the metric measures, for the thread: "5xx count" (default: its name).',
  ).optional(),
  ...awsStepParams,
  timeout: timeout('30s'),
}).superRefine((params, ctx) => {
  if ((params.alarm === undefined) === (params.metric === undefined)) {
    ctx.addIssue({ code: 'custom', path: [], message: 'give exactly one of alarm or metric' });
  }
  if (params.metric !== undefined && params.threshold === undefined) {
    ctx.addIssue({ code: 'custom', path: ['threshold'], message: 'a metric needs a threshold' });
  }
  if (params.alarm !== undefined && params.threshold !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['threshold'],
      message: 'an alarm has its own threshold: remove this one',
    });
  }
});

export type CloudwatchParams = z.output<typeof cloudwatchParams>;
