import { z } from 'zod';
import { nonEmptyText, strictObject } from '../../schema/zod-kit.js';
import { awsStepParams } from '../aws-kit.js';
import { timeout } from '../shared-params.js';

export const appconfigParams = strictObject({
  application: nonEmptyText('AppConfig application ID (abc1234); may use {{ templates }}.'),
  environment: nonEmptyText('AppConfig environment ID; may use {{ templates }}.'),
  configurationProfile: nonEmptyText('Configuration profile ID whose deployment is rolled back.'),
  deploymentStrategy: nonEmptyText(
    'Deployment strategy ID for the rollback deployment (default AppConfig.AllAtOnce: a rollback should not bake for an hour).',
  ).prefault('AppConfig.AllAtOnce'),
  configurationVersion: nonEmptyText(
    'Configuration version to deploy; it wins over the version asked with --to (default: the version of the newest earlier COMPLETE deployment with another version).',
  ).optional(),
  ...awsStepParams,
  timeout: timeout('15m'),
});

export type AppconfigParams = z.output<typeof appconfigParams>;
