/**
 * Which revision a rollback restores, decided once: every kind reads its history into the same
 * shape (revisions with a name that survives renumbering), picks the target from it (`toRevision`,
 * the version asked for, or the one before the current), and a later attempt given the recorded
 * target only tells whether the object is at the start, at the target, or somewhere else.
 */
import { z } from 'zod';
import { closest } from '../../schema/did-you-mean.js';
import type { Resolution, StepTarget, TargetState } from '../executor.js';
import { imagesOf, revisionList, sameTemplate, versionOf, type TemplateImages } from './step.js';

/** One entry of a workload's history. */
export interface Revision {
  number: number;
  /** The pod-template hash of a ReplicaSet, or a ControllerRevision's name: kept when renumbered. */
  key: string;
  template: TemplateImages;
}

export interface History {
  /** `deployment checkout/api` */
  what: string;
  /** What one revision is, in a sentence: `ReplicaSet`, `ControllerRevision`. */
  noun: string;
  /** Sorted by number. */
  revisions: Revision[];
  currentNumber: number;
  /** The template the object runs now. */
  live: TemplateImages | undefined;
  /** The container named by the `container` parameter, if any. */
  container: string | undefined;
}

export interface Choice {
  /** Undefined while the controller has not yet made the current revision's ReplicaSet. */
  from: Revision | undefined;
  to: Revision;
}

export type Chosen = ({ ok: true } & Choice) | { ok: false; error: string; restorable?: string[] };

/** The revision the object runs now: the one with its number, or else the one with its template. */
export function currentOf(history: History): Revision | undefined {
  const { revisions, currentNumber, live } = history;
  return (
    revisions.find((r) => r.number === currentNumber) ?? revisions.find((r) => sameTemplate(r.template, live))
  );
}

/** `toRevision` wins; then the version asked for (the newest revision running it); else the previous one. */
export function chooseTarget(
  history: History,
  ask: { toRevision?: number | undefined; toVersion: string | null },
): Chosen {
  const { what, revisions, currentNumber, live, container } = history;
  const numbers = revisions.map((r) => r.number);
  if (container !== undefined && versionOf(live, container) === undefined) {
    const names = (live?.spec?.containers ?? []).map((c) => c.name);
    const hint = closest(container, names);
    return {
      ok: false,
      error: `${what} has no container "${container}"; containers: ${names.join(', ') || 'none'}${hint ? ` (did you mean ${hint}?)` : ''}`,
    };
  }
  const from = currentOf(history);
  let to: Revision | undefined;
  if (ask.toRevision !== undefined) {
    to = revisions.find((r) => r.number === ask.toRevision);
    if (to === undefined) {
      return {
        ok: false,
        error: `${what} has no revision ${ask.toRevision}; revisions: ${revisionList(numbers)}`,
      };
    }
  } else if (ask.toVersion !== null) {
    const wanted = ask.toVersion;
    to =
      (versionOf(live, container) === wanted ? from : undefined) ??
      revisions.filter((r) => versionOf(r.template, container) === wanted).at(-1);
    if (to === undefined) return noSuchVersion(history, from, wanted);
  } else {
    to = revisions.filter((r) => r.number < currentNumber).at(-1);
    if (to === undefined) {
      return {
        ok: false,
        error: `${what} has no revision before ${currentNumber} to roll back to; revisions: ${revisionList(numbers)}`,
      };
    }
  }
  return { ok: true, from, to };
}

function noSuchVersion(history: History, from: Revision | undefined, wanted: string): Chosen {
  const seen = new Set<string>([versionOf(history.live, history.container) ?? '']);
  const restorable: { version: string; number: number }[] = [];
  for (const r of [...history.revisions].reverse()) {
    const version = versionOf(r.template, history.container);
    if (r === from || version === undefined || seen.has(version)) continue;
    seen.add(version);
    restorable.push({ version, number: r.number });
  }
  const versions = restorable.map((r) => r.version);
  const hint = closest(wanted, versions);
  const list = restorable.map((r) => `${r.version} (revision ${r.number})`).join(', ');
  return {
    ok: false,
    error: `${history.what} has no revision running ${wanted}; ${list ? `it can restore ${list}` : 'it has no other version to restore'}${hint ? ` (did you mean ${hint}?)` : ''}`,
    restorable: versions,
  };
}

export function stateOf(revision: Revision, container: string | undefined): TargetState {
  const version = versionOf(revision.template, container);
  return {
    revision: String(revision.number),
    ...(version === undefined ? {} : { version }),
    images: imagesOf(revision.template),
  };
}

/** The names the pin keeps for each kind: a pod-template hash, or a ControllerRevision's name. */
export type PinNames = 'hash' | 'name';

/** What `resolve` answers for a choice. */
export function resolution(
  history: History,
  choice: Choice,
  names: PinNames,
  extra: Record<string, string> = {},
): Resolution {
  const { from, to } = choice;
  if (from === undefined) {
    return {
      ok: false,
      error: `${history.what} has no ${history.noun} for its current revision ${history.currentNumber} yet: try again once the controller has created it`,
    };
  }
  const target: StepTarget = {
    object: history.what,
    current: stateOf(from, history.container),
    target: stateOf(to, history.container),
    pin: {
      ...extra,
      ...(names === 'hash' ? { fromHash: from.key, toHash: to.key } : { fromName: from.key, toName: to.key }),
      fromRevision: from.number,
      toRevision: to.number,
    },
  };
  return { ok: true, target };
}

/** A recorded pin, read back: the keys of the start and of the target, and their numbers then. */
export interface Pin {
  from: string;
  to: string;
  fromRevision: number;
  toRevision: number;
}

const revisionNumber = z.number().int().min(1);
const hashPin = z.object({
  fromHash: z.string().min(1),
  toHash: z.string().min(1),
  fromRevision: revisionNumber,
  toRevision: revisionNumber,
});
const namePin = z.object({
  fromName: z.string().min(1),
  toName: z.string().min(1),
  fromRevision: revisionNumber,
  toRevision: revisionNumber,
});

/** The pin as this executor wrote it, or a sentence saying why it cannot be used. */
export function readPin(
  what: string,
  names: PinNames,
  pin: Record<string, unknown>,
): { ok: true; pin: Pin } | { ok: false; error: string } {
  if (names === 'hash') {
    const { data } = hashPin.safeParse(pin);
    if (data) return { ok: true, pin: { ...data, from: data.fromHash, to: data.toHash } };
  } else {
    const { data } = namePin.safeParse(pin);
    if (data) return { ok: true, pin: { ...data, from: data.fromName, to: data.toName } };
  }
  return {
    ok: false,
    error: `the recorded target of ${what} is not one the kubernetes executor wrote for this kind (${JSON.stringify(pin)}); nothing was changed`,
  };
}

export type Convergence =
  | { kind: 'at-target'; target: Revision }
  | { kind: 'at-start'; start: Revision; target: Revision }
  | { kind: 'conflict'; error: string };

/** Where the object stands against the recorded target: never a new choice. */
export function converge(history: History, pin: Pin): Convergence {
  const { what, noun, revisions, live, currentNumber } = history;
  const target = revisions.find((r) => r.key === pin.to);
  if (target === undefined) {
    return {
      kind: 'conflict',
      error: `${what} no longer has the ${noun} of the target revision ${pin.toRevision} (${pin.to}): it was removed since the rollback was approved; nothing was changed`,
    };
  }
  if (sameTemplate(live, target.template)) return { kind: 'at-target', target };
  const start = revisions.find((r) => r.key === pin.from);
  if (start !== undefined && sameTemplate(live, start.template)) return { kind: 'at-start', start, target };
  return {
    kind: 'conflict',
    error: `${what} changed since the rollback was approved: it runs revision ${currentNumber} (${imagesOf(live).join(', ')}), neither revision ${pin.fromRevision} (start) nor the target (${imagesOf(target.template).join(', ')}); nothing was changed`,
  };
}
