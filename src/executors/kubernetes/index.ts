import { notImplementedExecutor } from '../executor.js';
import { kubernetesParams } from './params.js';

export const kubernetesExecutor = notImplementedExecutor(
  'kubernetes',
  'Rolls a workload back to its previous or a named revision and waits for the rollout.',
  kubernetesParams,
);
