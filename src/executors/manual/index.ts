// Tested by test/unit/executors/manual.test.ts.
import type { Executor } from '../executor.js';
import { manualParams, type ManualParams } from './params.js';

const NOT_A_STEP =
  'manual items belong under validate: they are checked off by a person; steps must run by themselves';

/**
 * Under `validate`, the rollback machine itself handles a manual item: it asks in the thread and
 * waits for a person to press the rollback:check-done button, so `run` is never called there.
 * `validate` refuses `manual` under `steps` (see `notAStep`); `run` is a last safeguard.
 */
export const manualExecutor: Executor<ManualParams> = {
  kind: 'manual',
  description: 'A checklist item a human marks done with a button.',
  params: manualParams,
  notAStep: NOT_A_STEP,
  run: () => Promise.resolve({ outcome: 'failed', error: NOT_A_STEP }),
};
