import { describe, expect, it } from 'vitest';
import { targetLine, type StepTarget } from '../../../src/domain/step-target.js';

const target = (current: StepTarget['current'], to: StepTarget['target'], object = 'x'): StepTarget => ({
  object,
  current,
  target: to,
  pin: {},
});

describe('targetLine', () => {
  it('names revisions with their images, and a target already running', () => {
    const v15 = { revision: '7', version: 'v1.5.0', images: ['app:v1.5.0'] };
    const v14 = { revision: '6', version: 'v1.4.1', images: ['app:v1.4.1'] };
    expect(targetLine(target(v15, v14, 'deployment checkout/api'))).toBe(
      'deployment checkout/api: revision 7 (app:v1.5.0) → revision 6 (app:v1.4.1)',
    );
    expect(targetLine(target(v14, v14, 'deployment checkout/api'))).toBe(
      'deployment checkout/api: already runs revision 6 (app:v1.4.1); the step only waits for it',
    );
  });

  it('shows a state without images or version (a flag) as it is', () => {
    const flag = 'unleash flag checkout-new-flow (production)';
    const on = { revision: 'on', images: [] };
    const off = { revision: 'off', images: [] };
    expect(targetLine(target(on, off, flag))).toBe(`${flag}: on → off`);
    expect(targetLine(target(off, off, flag))).toBe(`${flag}: already off; the step changes nothing`);
    expect(targetLine(target({ revision: 'unknown', images: [] }, on, flag))).toBe(`${flag}: unknown → on`);
  });
});
