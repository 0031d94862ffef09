import { z } from 'zod';
import { nonEmptyText, strictObject } from '../../schema/zod-kit.js';
import { awsStepParams } from '../aws-kit.js';
import { timeout } from '../shared-params.js';

const shift = strictObject({
  action: z
    .literal('shift')
    .default('shift')
    .describe(
      'shift (the default): move the listener’s forward to targetGroupArn; deregister: take targets out of targetGroupArn.',
    ),
  listenerArn: nonEmptyText(
    'ARN of the ALB listener whose default forward is shifted; may use {{ templates }}.',
  ),
  targetGroupArn: nonEmptyText(
    'ARN of the target group that gets the traffic (the blue one when rolling back from green); may use {{ templates }}.',
  ),
  weight: z
    .int()
    .min(1)
    .max(100)
    .prefault(100)
    .describe(
      'Percent of the traffic targetGroupArn gets (default 100); the rest goes to the listener’s other target group, which must then be exactly one.',
    ),
  ...awsStepParams,
  timeout: timeout('1m'),
});

const target = strictObject({
  id: nonEmptyText(
    'Instance ID (i-0abc...), IP address or Lambda ARN, as registered; may use {{ templates }}.',
  ),
  port: z
    .int()
    .min(1)
    .max(65535)
    .optional()
    .describe('Port it is registered on (default: the target group’s port).'),
  availabilityZone: nonEmptyText(
    'Availability Zone it was registered with (an IP target outside the VPC: all).',
  ).optional(),
});

const deregister = strictObject({
  action: z
    .literal('deregister')
    .describe('Take the targets out of the target group and wait until drained.'),
  targetGroupArn: nonEmptyText('ARN of the target group the targets leave; may use {{ templates }}.'),
  targets: z.array(target).min(1).describe('The targets to deregister, all in one DeregisterTargets call.'),
  ...awsStepParams,
  timeout: timeout('10m'),
});

export const elbParams = z
  .discriminatedUnion('action', [shift, deregister])
  .describe(
    'Shifts an ALB listener’s weighted forward to a target group, or deregisters targets from a target group and waits until they are drained.',
  );

export type ElbParams = z.output<typeof elbParams>;
export type ElbShiftParams = Extract<ElbParams, { action: 'shift' }>;
export type ElbDeregisterParams = Extract<ElbParams, { action: 'deregister' }>;
