import { notImplementedExecutor } from '../executor.js';
import { manualParams } from './params.js';

export const manualExecutor = notImplementedExecutor(
  'manual',
  'A checklist item a human marks done with a button.',
  manualParams,
);
