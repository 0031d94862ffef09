import { z } from 'zod';
import { nonEmptyText, strictObject } from '../../schema/zod-kit.js';
import { awsStepParams } from '../aws-kit.js';
import { timeout } from '../shared-params.js';

export const ecsParams = strictObject({
  cluster: nonEmptyText('ECS cluster name or ARN.'),
  service: nonEmptyText('ECS service name.'),
  taskDefinition: nonEmptyText(
    'Task definition (family:revision or ARN) to return to; it wins over the version asked with --to (default: the newest ACTIVE revision running that version, else the previous ACTIVE revision).',
  ).optional(),
  container: nonEmptyText(
    'Container whose image tag is the version the service runs (default: the first container of the task definition).',
  )
    .meta({ examples: ['app'] })
    .optional(),
  ...awsStepParams,
  timeout: timeout('15m'),
});

export type EcsParams = z.output<typeof ecsParams>;
