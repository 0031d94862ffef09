import { notImplementedExecutor } from '../executor.js';
import { featureFlagParams } from './params.js';

export const featureFlagExecutor = notImplementedExecutor(
  'feature-flag',
  'Turns a feature flag off or on through Unleash, LaunchDarkly or a generic HTTP endpoint.',
  featureFlagParams,
);
