import { z } from 'zod';
import { duration, nonEmptyText, strictObject } from '../../schema/zod-kit.js';
import { awsStepParams } from '../aws-kit.js';
import { timeout } from '../shared-params.js';

export const autoscalingParams = strictObject({
  autoScalingGroup: nonEmptyText('Name of the Auto Scaling group; may use {{ templates }}.'),
  launchTemplateVersion: z
    .int()
    .positive()
    .optional()
    .describe(
      'Launch template version to put the group back on; it wins over the version asked with --to (default: the newest version whose description is the asked version, else the newest version before the one the group uses).',
    ),
  minHealthyPercentage: z
    .int()
    .min(0)
    .max(100)
    .optional()
    .describe(
      'Percent of the group that must stay in service during the instance refresh (default: the group’s instance maintenance policy, else AWS’s 90).',
    ),
  maxHealthyPercentage: z
    .int()
    .min(100)
    .max(200)
    .optional()
    .describe(
      'Percent of the group that may be in service during the refresh, above 100 to launch before terminating; needs minHealthyPercentage, at most 100 above it.',
    ),
  instanceWarmup: duration(
    'Time a new instance is given before it counts as healthy in the refresh (default: the group’s health check grace period).',
  ).optional(),
  skipMatching: z
    .boolean()
    .prefault(true)
    .describe(
      'Leave instances already on the restored version in place (default true: a retry replaces only what is left).',
    ),
  ...awsStepParams,
  timeout: timeout('30m'),
}).superRefine((params, ctx) => {
  if (params.maxHealthyPercentage === undefined) return;
  if (params.minHealthyPercentage === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['minHealthyPercentage'],
      message: 'is required with maxHealthyPercentage',
    });
  } else if (params.maxHealthyPercentage - params.minHealthyPercentage > 100) {
    ctx.addIssue({
      code: 'custom',
      path: ['maxHealthyPercentage'],
      message: 'must be at most 100 above minHealthyPercentage',
    });
  }
});

export type AutoscalingParams = z.output<typeof autoscalingParams>;
