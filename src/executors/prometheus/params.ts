import { z } from 'zod';
import { duration, strictObject, templatedUrl } from '../../schema/zod-kit.js';
import { timeout } from '../shared-params.js';

const threshold = strictObject({
  op: z.enum(['<', '<=', '>', '>=']).describe('How the query result must compare to value to pass.'),
  value: z.number().describe('The threshold.'),
}).describe('Pass when the query result compares to value as op says.');

const baseline = strictObject({
  maxIncrease: z
    .number()
    .positive()
    .describe('Largest accepted increase over the baseline as a ratio: 0.5 allows +50%.'),
  offset: duration('How far back the baseline is measured (PromQL offset, default 1h).').prefault('1h'),
}).describe('Pass when the result has not grown by more than maxIncrease over the same query offset back.');

export const prometheusParams = strictObject({
  url: templatedUrl('Prometheus base URL, e.g. http://prometheus:9090.'),
  query: z
    .string()
    .trim()
    .min(1)
    .describe('PromQL instant query returning one number per series; may use {{ templates }}.'),
  label: z
    .string()
    .trim()
    .min(1)
    .optional()
    .describe('What the query measures, for the thread: "error rate" (default "value").'),
  threshold: threshold.optional(),
  baseline: baseline.optional(),
  timeout: timeout('30s'),
}).superRefine((params, ctx) => {
  if ((params.threshold === undefined) === (params.baseline === undefined)) {
    ctx.addIssue({ code: 'custom', path: [], message: 'give exactly one of threshold or baseline' });
  }
});

export type PrometheusParams = z.output<typeof prometheusParams>;
