import { notImplementedExecutor } from '../executor.js';
import { httpParams } from './params.js';

export const httpExecutor = notImplementedExecutor(
  'http',
  'Calls an HTTP endpoint (switch traffic, trigger a pipeline) and checks the status code.',
  httpParams,
);
