import { notImplementedExecutor } from '../executor.js';
import { prometheusParams } from './params.js';

export const prometheusExecutor = notImplementedExecutor(
  'prometheus',
  'Runs a PromQL query against a threshold or a baseline: pass, fail, or inconclusive when it cannot tell.',
  prometheusParams,
);
