import { describe, expect, it } from 'vitest';
import { versionOf } from '../../../src/executors/kubernetes/step.js';

const template = (...images: [string, string | undefined][]) => ({
  spec: { containers: images.map(([name, image]) => ({ name, ...(image === undefined ? {} : { image }) })) },
});

describe('versionOf: the version --to is matched against', () => {
  it.each([
    ['app:v1.4.1', 'v1.4.1'],
    ['registry:5000/team/app:v1.4.1', 'v1.4.1'],
    ['registry:5000/team/app', undefined],
    ['app:v1.4.1@sha256:0123abcd', 'v1.4.1'],
    ['registry:5000/app@sha256:0123abcd', 'sha256:0123abcd'],
    ['app', undefined],
  ])('%s → %s', (image, version) => {
    expect(versionOf(template(['api', image]))).toBe(version);
  });

  it('reads the named container, else the first; none without an image', () => {
    const pod = template(['api', 'app:v2'], ['proxy', 'envoy:1.30'], ['init', undefined]);
    expect(versionOf(pod)).toBe('v2');
    expect(versionOf(pod, 'proxy')).toBe('1.30');
    expect(versionOf(pod, 'init')).toBeUndefined();
    expect(versionOf(pod, 'absent')).toBeUndefined();
  });
});
