/**
 * Argo Rollouts, done natively like `kubectl argo rollouts abort` and `undo`: abort sets
 * `status.abort` with a merge patch on the status subresource (the controller sends traffic back to
 * the stable ReplicaSet); undo copies the pod template of the target revision's ReplicaSet back into
 * `spec.template` with a JSON Patch guarded by resourceVersion, then waits for phase Healthy.
 */
import * as k8s from '@kubernetes/client-node';
import type { ExecutorContext, Resolution, ResolveContext, StepResult } from '../executor.js';
import {
  abortState,
  revisionOf,
  rolloutApi,
  ROLLOUT_REVISION,
  undoState,
  type Rollout,
  type RolloutParams,
} from './argo-api.js';
import { callOptions } from './client.js';
import {
  imagesOf,
  outputOf,
  plural,
  resolveStep,
  runStep,
  sameTemplate,
  templatePatch,
  versionOf,
} from './step.js';
import { chooseTarget, converge, readPin, resolution, type Pin, type Revision } from './target.js';

/**
 * What the step would do now. Undo: the revision it restores, as for a Deployment. Abort: the canary
 * (the current pod-template hash) and the stable revision traffic goes back to.
 */
export function resolveRollout(
  ctx: ResolveContext,
  params: RolloutParams,
  config: k8s.KubeConfig,
): Promise<Resolution> {
  const what = `rollout ${params.namespace}/${params.name}`;
  const api = rolloutApi(params, config);
  return resolveStep(ctx, params, what, async (call, signal) => {
    const rollout = await api.read(call, signal);
    if (revisionOf(rollout.metadata) === undefined) {
      return { ok: false, error: `${what} has no ${ROLLOUT_REVISION} annotation: it has never rolled out` };
    }
    if (params.action === 'undo' && rollout.spec?.workloadRef !== undefined && !rollout.spec.template) {
      return { ok: false, error: `${what} uses a workloadRef: roll back the workload it references instead` };
    }
    const history = await api.history(rollout, call, signal);
    if (params.action === 'undo') {
      const chosen = chooseTarget(history, { toRevision: params.toRevision, toVersion: ctx.toVersion });
      if (!chosen.ok) return chosen;
      return resolution(history, chosen, 'hash', { action: 'undo' });
    }
    const { currentPodHash, stableRS } = rollout.status ?? {};
    const from = history.revisions.find((r) => r.key === currentPodHash);
    const to = history.revisions.find((r) => r.key === stableRS);
    if (to === undefined) {
      return {
        ok: false,
        error: `${what} has no stable ReplicaSet (status.stableRS ${stableRS ?? 'unset'})`,
      };
    }
    const stable = versionOf(to.template, params.container);
    if (ctx.toVersion !== null && stable !== ctx.toVersion) {
      return {
        ok: false,
        error: `${what}: abort goes back to the stable revision ${to.number}, which runs ${stable ?? 'no tagged image'}, not ${ctx.toVersion}; use action: undo to restore another version`,
        ...(stable === undefined ? {} : { restorable: [stable] }),
      };
    }
    return resolution(history, { from, to }, 'hash', { action: 'abort' });
  });
}

export async function rollbackRollout(
  ctx: ExecutorContext,
  params: RolloutParams,
  config: k8s.KubeConfig,
): Promise<StepResult> {
  const { namespace, name } = params;
  const what = `rollout ${namespace}/${name}`;
  const api = rolloutApi(params, config);
  const { custom, ref } = api;

  return runStep(ctx, params, what, async ({ signal, found, call, waitFor }) => {
    const read = () => api.read(call, signal);
    let rollout = await read();
    found.fromRevision = revisionOf(rollout.metadata);
    if (found.fromRevision === undefined) {
      return {
        outcome: 'failed',
        error: `${what} has no ${ROLLOUT_REVISION} annotation: it has never rolled out`,
      };
    }
    const from = found.fromRevision;
    let pin: Pin | undefined;
    if (ctx.target !== undefined) {
      const pinned = readPin(what, 'hash', ctx.target.pin);
      if (!pinned.ok) return { outcome: 'failed', conflict: true, error: pinned.error };
      const pinnedAction = ctx.target.pin['action'];
      if (pinnedAction !== params.action) {
        return {
          outcome: 'failed',
          conflict: true,
          error: `the recorded target of ${what} was for action ${String(pinnedAction)}, not ${params.action}; nothing was changed`,
        };
      }
      pin = pinned.pin;
    }
    const phase = rollout.status?.phase ?? 'unknown';

    if (params.action === 'abort') {
      if (pin !== undefined) {
        const { currentPodHash, stableRS } = rollout.status ?? {};
        if (currentPodHash === pin.to) {
          ctx.log.line(`${what} already runs its stable revision: nothing to abort`);
          return {
            outcome: 'succeeded',
            output: { fromRevision: from, aborted: false, changed: false },
            summary: `${what} already on the stable revision: nothing to abort`,
          };
        }
        if (currentPodHash !== pin.from || stableRS !== pin.to) {
          const images = imagesOf(rollout.spec?.template).join(', ');
          return {
            outcome: 'failed',
            conflict: true,
            error: `${what} changed since the abort was approved: it runs revision ${from} (${images}), neither the update of revision ${pin.fromRevision} (start) nor the stable revision ${pin.toRevision}; nothing was changed`,
          };
        }
      }
      const aborted = await abortUpdate();
      const end = await waitFor(async () => abortState(await read()));
      if (end.kind === 'failed') {
        return { outcome: 'failed', error: `${what} abort ${end.detail}`, output: outputOf(found) };
      }
      return {
        outcome: 'succeeded',
        output: { fromRevision: from, aborted, changed: aborted },
        summary: `${what}: update to revision ${from} aborted, traffic back on the stable ReplicaSet`,
      };
    }

    if (rollout.spec?.workloadRef !== undefined && rollout.spec.template === undefined) {
      // Aborts an update in progress first, as it always has, then refuses.
      if (pin === undefined) await abortUpdate();
      return {
        outcome: 'failed',
        error: `${what} uses a workloadRef: roll back the workload it references instead`,
      };
    }

    let target: Revision;
    let aborted = false;
    if (pin !== undefined) {
      const where = converge(await api.history(rollout, call, signal), pin);
      if (where.kind === 'conflict') {
        return { outcome: 'failed', conflict: true, error: where.error, output: outputOf(found) };
      }
      target = where.target;
      found.toRevision = target.number;
      found.images = imagesOf(target.template);
      if (where.kind === 'at-target') {
        // Never abort here: the update in progress is the rollback itself, and aborting it would
        // send traffic back to the stable ReplicaSet, which may be the revision being undone.
        const images = found.images.join(', ');
        ctx.log.line(
          `${what} already runs the target template (revision ${from}, ${images}): waiting for its rollout`,
        );
        let current = rollout;
        const end = await waitFor(async () => {
          current = await read();
          return undoState(current, rollout.metadata?.generation ?? 0);
        });
        if (end.kind === 'failed') {
          return {
            outcome: 'failed',
            error: `${what} rollback to revision ${from} ${end.detail}`,
            output: outputOf(found),
          };
        }
        const revision = revisionOf(current.metadata);
        return {
          outcome: 'succeeded',
          output: {
            ...outputOf(found),
            ...(revision === undefined ? {} : { revision }),
            aborted,
            changed: false,
          },
          summary: `${what} is on the target revision ${revision ?? from} (${images}): rollout complete`,
        };
      }
      aborted = await abortUpdate();
    } else {
      aborted = await abortUpdate();
      const history = await api.history(rollout, call, signal);
      const chosen = chooseTarget(history, { toRevision: params.toRevision, toVersion: null });
      found.toRevision = params.toRevision ?? (chosen.ok ? chosen.to.number : undefined);
      if (!chosen.ok) return { outcome: 'failed', error: chosen.error, output: outputOf(found) };
      target = chosen.to;
      found.images = imagesOf(target.template);
      if (target.number === from || sameTemplate(target.template, rollout.spec?.template)) {
        const images = found.images.join(', ');
        ctx.log.line(`${what} already runs the template of revision ${target.number}: nothing to roll back`);
        return {
          outcome: 'succeeded',
          output: { ...outputOf(found), aborted, changed: aborted },
          summary: `${what} already on revision ${target.number} (${images})${aborted ? ': update aborted' : ': nothing to roll back'}`,
        };
      }
    }
    const to = target.number;
    const images = found.images.join(', ');
    ctx.log.line(
      `current revision ${from} → rolling back to revision ${to} (${plural(found.images.length, 'image')} ${images})`,
    );
    const cause = `rollback-bot: rollback ${ctx.rollback.id} of ${ctx.rollback.service} to revision ${to}`;
    const patched = (await call('patch', () =>
      custom.patchNamespacedCustomObject(
        { ...ref, body: templatePatch(rollout.metadata, target.template, cause) },
        callOptions(signal, k8s.PatchStrategy.JsonPatch),
      ),
    )) as Rollout;
    const generation = patched.metadata?.generation ?? 0;
    ctx.log.line(`template of revision ${to} applied (generation ${generation}); waiting for the rollout`);
    let current: Rollout = patched;
    const end = await waitFor(async () => {
      current = await read();
      return undoState(current, generation);
    });
    if (end.kind === 'failed') {
      return {
        outcome: 'failed',
        error: `${what} rollback to revision ${to} ${end.detail}`,
        output: outputOf(found),
      };
    }
    const revision = revisionOf(current.metadata);
    return {
      outcome: 'succeeded',
      output: { ...outputOf(found), ...(revision === undefined ? {} : { revision }), aborted, changed: true },
      summary: `${what} rolled back from revision ${from} to revision ${to} (${images})`,
    };

    /** Aborts an update in progress (action abort, or undo of a Rollout that is not Healthy). */
    async function abortUpdate(): Promise<boolean> {
      if (params.action !== 'abort' && phase === 'Healthy') return false;
      if (rollout.status?.abort) {
        ctx.log.line(`the update to revision ${from} is already aborted (phase ${phase})`);
        return false;
      }
      ctx.log.line(`aborting the update to revision ${from} (phase ${phase})`);
      rollout = (await call('abort', () =>
        custom.patchNamespacedCustomObjectStatus(
          { ...ref, body: { status: { abort: true } } },
          callOptions(signal, k8s.PatchStrategy.MergePatch),
        ),
      )) as Rollout;
      return true;
    }
  });
}
