/**
 * What every rollback of the kubernetes executor shares besides the Deployment's own code: the
 * step's abort signal (cancel or time limit), API calls that stop at once and fail with one plain
 * line, the wait loop that logs each change of state, and the stopped/timed-out result.
 */
import type * as k8s from '@kubernetes/client-node';
import { isDeepStrictEqual } from 'node:util';
import type { ExecutorContext, Resolution, ResolveContext, StepResult } from '../executor.js';
import { pause } from '../http-kit.js';
import { apiStatus, describeApiError } from './client.js';
import type { KubernetesParams } from './params.js';

/** Stopped by the caller (abort/cancel) or by the step's time limit: thrown out of the API calls. */
export class Stopped extends Error {}

export type WaitState =
  { kind: 'waiting' | 'done'; line: string } | { kind: 'failed'; line: string; detail: string };

/** What the step has found so far: reported in the output of a failure too. */
export interface Found {
  fromRevision?: number;
  toRevision?: number;
  images: string[];
  /** The last state line, named when the time limit runs out. */
  last?: string;
}

export interface StepTools {
  signal: AbortSignal;
  found: Found;
  call: ApiCall;
  /** Polls `check` every pollInterval until it is done or failed, one thread line per change. */
  waitFor: (check: () => Promise<WaitState>) => Promise<Exclude<WaitState, { kind: 'waiting' }>>;
}

export async function runStep(
  ctx: ExecutorContext,
  params: KubernetesParams,
  what: string,
  body: (tools: StepTools) => Promise<StepResult>,
): Promise<StepResult> {
  const limitMs = Math.min(params.timeout, ctx.timeoutMs);
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(Math.max(1, limitMs))]);
  const found: Found = { images: [] };
  const call = apiCaller(signal, what);
  const waitFor: StepTools['waitFor'] = async (check) => {
    for (;;) {
      const state = await check();
      if (state.line !== found.last) ctx.log.line(state.line);
      found.last = state.line;
      if (state.kind !== 'waiting') return state;
      if (!(await pause(params.pollInterval, signal))) throw new Stopped();
    }
  };
  try {
    return await body({ signal, found, call, waitFor });
  } catch (error) {
    const output = outputOf(found);
    if (error instanceof Stopped) {
      const doing = found.toRevision === undefined ? 'rollback' : `rollback to revision ${found.toRevision}`;
      return {
        outcome: 'failed',
        error: ctx.signal.aborted
          ? `${what} ${doing} was stopped (rollback cancelled or bot shutting down)`
          : `${what} ${doing} did not finish within the step's time limit of ${humanMs(limitMs)}${found.last ? ` (last seen: ${found.last})` : ''}`,
        output,
      };
    }
    return { outcome: 'failed', error: error instanceof Error ? error.message : String(error), output };
  }
}

/**
 * Runs a read-only resolve: the same plain failure lines as a step, bounded by the step's timeout
 * and stopped by the caller's signal.
 */
export async function resolveStep(
  ctx: ResolveContext,
  params: KubernetesParams,
  what: string,
  body: (call: ApiCall, signal: AbortSignal) => Promise<Resolution>,
): Promise<Resolution> {
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(Math.max(1, params.timeout))]);
  try {
    return await body(apiCaller(signal, what), signal);
  } catch (error) {
    if (error instanceof Stopped) {
      return {
        ok: false,
        error: ctx.signal.aborted
          ? `reading ${what} was stopped (rollback cancelled or bot shutting down)`
          : `reading ${what} did not finish within ${humanMs(params.timeout)}`,
      };
    }
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

export type ApiCall = <T>(doing: string, request: () => Promise<T>) => Promise<T>;

/**
 * Calls that stop at once when `signal` aborts (throwing Stopped) and otherwise fail with one plain
 * line: `deployment checkout/api not found`, `patch deployment checkout/api failed: 422 Invalid: ...`.
 */
export function apiCaller(signal: AbortSignal, what: string): ApiCall {
  // A function, not the property: TypeScript would narrow `signal.aborted` across the await.
  const stopped = () => signal.aborted;
  return async <T>(doing: string, request: () => Promise<T>): Promise<T> => {
    if (stopped()) throw new Stopped();
    try {
      return await request();
    } catch (error) {
      if (stopped()) throw new Stopped('stopped', { cause: error });
      if (apiStatus(error) === 404 && doing === 'read')
        throw new Error(`${what} not found`, { cause: error });
      throw new Error(`${doing} ${what} failed: ${describeApiError(error)}`, { cause: error });
    }
  };
}

export function outputOf(found: Found) {
  return { fromRevision: found.fromRevision, toRevision: found.toRevision, images: found.images };
}

export function humanMs(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000}m` : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** matchLabels as a label selector string. */
export function labelSelector(selector: k8s.V1LabelSelector | undefined): string {
  return Object.entries(selector?.matchLabels ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

/** The part of a pod template that names its images (a V1PodTemplateSpec or plain JSON). */
export interface TemplateImages {
  spec?: { containers?: { name: string; image?: string }[] };
}

/**
 * Two pod templates are the same when their JSON is: a template the client built (class instances,
 * absent fields as undefined) compares equal to the same template read as plain JSON.
 */
export function sameTemplate(a: unknown, b: unknown): boolean {
  return a !== undefined && b !== undefined && isDeepStrictEqual(asJson(a), asJson(b));
}

function asJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}

/** The container whose image tag is the version: the named one, or the first. */
export function containerOf(template: TemplateImages | undefined, name: string | undefined) {
  const containers = template?.spec?.containers ?? [];
  return name === undefined ? containers[0] : containers.find((c) => c.name === name);
}

/** The version a template runs: the tag of that container's image (its digest when it has no tag). */
export function versionOf(template: TemplateImages | undefined, container?: string): string | undefined {
  const image = containerOf(template, container)?.image;
  if (image === undefined) return undefined;
  const [named = '', digest] = image.split('@');
  const tag = /:([^/:]+)$/.exec(named)?.[1];
  return tag ?? digest;
}

export function imagesOf(template: TemplateImages | undefined): string[] {
  return (template?.spec?.containers ?? []).map((c) => c.image ?? `${c.name} (no image)`);
}

/** The template without one label (the hash a controller adds to the copies it keeps). */
export function withoutLabel(template: k8s.V1PodTemplateSpec, label: string): k8s.V1PodTemplateSpec {
  const copy = structuredClone(template);
  const labels = copy.metadata?.labels;
  if (copy.metadata && labels) {
    copy.metadata.labels = Object.fromEntries(Object.entries(labels).filter(([key]) => key !== label));
  }
  return copy;
}

/**
 * A JSON Patch: fails (422) if the object changed since it was read, replaces the template whole
 * (a merge would keep fields only the newer template has) and records the change cause.
 */
export function templatePatch(metadata: k8s.V1ObjectMeta | undefined, template: object, cause: string) {
  return [
    { op: 'test', path: '/metadata/resourceVersion', value: metadata?.resourceVersion },
    { op: 'replace', path: '/spec/template', value: template },
    metadata?.annotations !== undefined
      ? { op: 'add', path: '/metadata/annotations/kubernetes.io~1change-cause', value: cause }
      : { op: 'add', path: '/metadata/annotations', value: { 'kubernetes.io/change-cause': cause } },
  ];
}

export function revisionList(revisions: number[]): string {
  return revisions.join(', ') || 'none';
}

export function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}
