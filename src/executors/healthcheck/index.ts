import { notImplementedExecutor } from '../executor.js';
import { healthcheckParams } from './params.js';

export const healthcheckExecutor = notImplementedExecutor(
  'healthcheck',
  'Polls a health endpoint until it succeeds N times in a row within M attempts.',
  healthcheckParams,
);
