/**
 * What `run` does with the history it has just read, decided in one place for every kind whose
 * template goes back with a plain patch (Deployments, StatefulSets, DaemonSets): which revision it
 * restores, and whether the object already runs it.
 *
 * With a recorded target (the approved one, handed back on every attempt) it never chooses again: a
 * retried step that recomputed "the revision before the current one" after a first patch would put
 * the bad version back. It only converges: already on the target means the patch is done and only
 * the rollout is left; still on the start means patch; anything else is a conflict for a human.
 * Without one (older code paths) it chooses as `kubectl rollout undo` does.
 */
import { chooseTarget, converge, type History, type Pin, type Revision } from './target.js';
import { sameTemplate } from './step.js';

export type RestoreDecision =
  /** The target is gone or a third template runs: change nothing, stop for a human. */
  | { kind: 'conflict'; error: string }
  /** No recorded target, and no revision to choose (`toRevision` missing, nothing before the current one). */
  | { kind: 'refused'; error: string }
  /** The object already runs the recorded target (an earlier attempt patched it): only wait for its rollout. */
  | { kind: 'converged'; target: Revision }
  /** No recorded target, and the object already runs the chosen one: nothing to roll back. */
  | { kind: 'unchanged'; target: Revision }
  /** Put the target's template back. */
  | { kind: 'patch'; target: Revision };

/** `toRevision` counts only without a recorded `pin`: the pin already names the approved target. */
export function decideRestore(
  history: History,
  ask: { pin: Pin | undefined; toRevision: number | undefined },
): RestoreDecision {
  if (ask.pin !== undefined) {
    const where = converge(history, ask.pin);
    if (where.kind === 'conflict') return where;
    return { kind: where.kind === 'at-target' ? 'converged' : 'patch', target: where.target };
  }
  // Without a recorded target the version asked for is not looked at: `resolve` matches versions
  // before approval, and what it chose comes back as the pin.
  const chosen = chooseTarget(history, { toRevision: ask.toRevision, toVersion: null });
  if (!chosen.ok) return { kind: 'refused', error: chosen.error };
  const target = chosen.to;
  if (target.number === history.currentNumber || sameTemplate(target.template, history.live)) {
    return { kind: 'unchanged', target };
  }
  return { kind: 'patch', target };
}
