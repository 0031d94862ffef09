import { describe, expect, it } from 'vitest';
import { manualExecutor } from '../../../src/executors/manual/index.js';
import { stepContext } from '../../support/http-peer.js';

describe('manual executor', () => {
  it('is never run as a step: run fails with the same explanation validate gives', async () => {
    const { ctx } = stepContext();
    const explanation =
      'manual items belong under validate: they are checked off by a person; steps must run by themselves';
    expect(manualExecutor.notAStep).toBe(explanation);
    await expect(manualExecutor.run(ctx, { instructions: 'Place a test order' })).resolves.toEqual({
      outcome: 'failed',
      error: explanation,
    });
  });
});
