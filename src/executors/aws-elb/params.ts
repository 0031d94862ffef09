import { z } from 'zod';
import { nonEmptyText, strictObject } from '../../schema/zod-kit.js';
import { awsStepParams } from '../aws-kit.js';
import { timeout } from '../shared-params.js';

export const elbParams = strictObject({
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

export type ElbParams = z.output<typeof elbParams>;
