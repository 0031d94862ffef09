import { notImplementedExecutor } from '../executor.js';
import { ecsParams } from './params.js';

export const ecsExecutor = notImplementedExecutor(
  'ecs',
  'Puts an ECS service back on its previous (or a named) task definition and waits until it is stable.',
  ecsParams,
);
