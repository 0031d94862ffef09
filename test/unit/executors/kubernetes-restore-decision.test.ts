import { describe, expect, it } from 'vitest';
import { decideRestore } from '../../../src/executors/kubernetes/restore-decision.js';
import type { History, Pin, Revision } from '../../../src/executors/kubernetes/target.js';

const template = (image: string) => ({ spec: { containers: [{ name: 'app', image }] } });
const revision = (number: number, image: string): Revision => ({
  number,
  key: `hash-${image}`,
  template: template(image),
});

const v130 = revision(5, 'app:v1.3.0');
const v141 = revision(6, 'app:v1.4.1');
const bad = revision(7, 'app:v1.5.0-BAD');

/** A Deployment with these revisions, on revision `current`, running the template of `live`. */
function history(revisions: Revision[], current: number, live: string): History {
  return {
    what: 'deployment checkout/api',
    noun: 'ReplicaSet',
    revisions,
    currentNumber: current,
    live: template(live),
    container: undefined,
  };
}
const onBad = history([v130, v141, bad], 7, 'app:v1.5.0-BAD');

/** The approved target: from revision 7 (bad) back to revision 6. */
const pin: Pin = { from: 'hash-app:v1.5.0-BAD', to: 'hash-app:v1.4.1', fromRevision: 7, toRevision: 6 };

describe('decideRestore with a recorded target: converge, never choose again', () => {
  it('still on the start: patch to the recorded target', () => {
    const decision = decideRestore(onBad, { pin, toRevision: undefined });
    expect(decision).toEqual({ kind: 'patch', target: v141 });
  });

  it('already on the target after the controller renumbered it: only wait, never put the bad version back', () => {
    // A first attempt patched 7 → 6; the controller made the restored ReplicaSet revision 8.
    const renumbered = history([v130, bad, revision(8, 'app:v1.4.1')], 8, 'app:v1.4.1');
    expect(decideRestore(renumbered, { pin, toRevision: undefined })).toEqual({
      kind: 'converged',
      target: revision(8, 'app:v1.4.1'),
    });
    // Choosing again on the same history would restore "the revision before the current one": the bad one.
    expect(decideRestore(renumbered, { pin: undefined, toRevision: undefined })).toEqual({
      kind: 'patch',
      target: bad,
    });
  });

  it('the pin wins over toRevision', () => {
    const decision = decideRestore(onBad, { pin, toRevision: 5 });
    expect(decision).toEqual({ kind: 'patch', target: v141 });
  });

  it('a third template runs: conflict, naming what runs', () => {
    expect(
      decideRestore(history([v130, v141, bad], 8, 'app:v1.6.0'), { pin, toRevision: undefined }),
    ).toEqual({
      kind: 'conflict',
      error:
        'deployment checkout/api changed since the rollback was approved: it runs revision 8 (app:v1.6.0), neither revision 7 (start) nor the target (app:v1.4.1); nothing was changed',
    });
  });

  it("the target's ReplicaSet is gone: conflict", () => {
    const cleaned = history([v130, bad], 7, 'app:v1.5.0-BAD');
    expect(decideRestore(cleaned, { pin, toRevision: undefined })).toEqual({
      kind: 'conflict',
      error:
        'deployment checkout/api no longer has the ReplicaSet of the target revision 6 (hash-app:v1.4.1): it was removed since the rollback was approved; nothing was changed',
    });
  });
});

describe('decideRestore without a recorded target: choose as kubectl rollout undo', () => {
  const none = { pin: undefined };

  it('the revision before the current one', () => {
    expect(decideRestore(onBad, { ...none, toRevision: undefined })).toEqual({
      kind: 'patch',
      target: v141,
    });
  });

  it('toRevision', () => {
    expect(decideRestore(onBad, { ...none, toRevision: 5 })).toEqual({
      kind: 'patch',
      target: v130,
    });
  });

  it('toRevision is the current one: nothing to roll back', () => {
    expect(decideRestore(onBad, { ...none, toRevision: 7 })).toEqual({
      kind: 'unchanged',
      target: bad,
    });
  });

  it('toRevision is the current number while the live template differs from its ReplicaSet: nothing to roll back', () => {
    const edited = history([v130, v141, bad], 7, 'app:v1.5.1');
    expect(decideRestore(edited, { ...none, toRevision: 7 })).toEqual({ kind: 'unchanged', target: bad });
  });

  it('the chosen revision has the template that runs, under another number: nothing to roll back', () => {
    // Revision 4 kept v1.3.0's template: the object runs it as revision 5.
    const older = { ...revision(4, 'app:v1.3.0'), key: 'older' };
    const twin = history([older, v130], 5, 'app:v1.3.0');
    expect(decideRestore(twin, { ...none, toRevision: undefined })).toEqual({
      kind: 'unchanged',
      target: older,
    });
  });

  it('a toRevision the history does not have: refused, listing the revisions', () => {
    expect(decideRestore(onBad, { ...none, toRevision: 4 })).toEqual({
      kind: 'refused',
      error: 'deployment checkout/api has no revision 4; revisions: 5, 6, 7',
    });
  });

  it('no revision before the current one: refused', () => {
    const first = history([v130], 5, 'app:v1.3.0');
    expect(decideRestore(first, { ...none, toRevision: undefined })).toEqual({
      kind: 'refused',
      error: 'deployment checkout/api has no revision before 5 to roll back to; revisions: 5',
    });
  });
});
