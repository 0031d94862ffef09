import { z } from 'zod';
import { nonEmptyText, strictObject } from '../../schema/zod-kit.js';
import { awsStepParams } from '../aws-kit.js';
import { timeout } from '../shared-params.js';

export const ssmParameterParams = strictObject({
  name: nonEmptyText('Parameter name (/app/prod/checkout/config) or ARN; may use {{ templates }}.'),
  version: z
    .int()
    .positive()
    .optional()
    .describe(
      'The version whose value is put back; it wins over the version asked with --to (default: the newest version labelled with the asked version, else the newest older version whose value differs from the current one).',
    ),
  ...awsStepParams,
  timeout: timeout('1m'),
});

export type SsmParameterParams = z.output<typeof ssmParameterParams>;
