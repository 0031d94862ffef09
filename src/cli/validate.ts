/**
 * `rollback-bot validate [PATH] [--env-check]`: every problem on its own line, then a summary. With
 * REDIS_URL set, plans whose production strategy was not drilled in 30 days get a warning; without
 * it, one note on stderr says the drill records were not checked (stdout stays the problem list).
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseStepTimeoutMax } from '../config/env.js';
import { loadManifests, type ManifestSet } from '../config/manifests.js';
import { formatProblem } from '../config/problem.js';
import { defaultRegistry } from '../executors/default-registry.js';
import { checkDrills, type DrillCheckOptions } from './drill-check.js';
import { USAGE, type CliIo } from './io.js';

export async function runValidate(
  args: readonly string[],
  io: CliIo,
  drillOptions: DrillCheckOptions = {},
): Promise<number> {
  const flags = args.filter((arg) => arg.startsWith('-'));
  const paths = args.filter((arg) => !arg.startsWith('-'));
  const unknown = flags.filter((flag) => flag !== '--env-check');
  if (unknown.length > 0 || paths.length > 1) {
    io.err(`rollback-bot validate: unexpected ${[...unknown, ...paths.slice(1)].join(' ')}\n\n${USAGE}`);
    return 2;
  }
  const path = paths[0] ?? io.env.ROLLBACK_CONFIG ?? 'manifests/';
  const absolute = resolve(io.cwd, path);
  if (!(await exists(absolute))) {
    io.err(`${path}: no such file or folder (give a manifest file or a folder of them)\n`);
    return 1;
  }
  // The limit of the bot that will run these plans: where validate runs in its image or its CI job,
  // STEP_TIMEOUT_MAX is the same variable the bot reads.
  const stepTimeoutMax = parseStepTimeoutMax(io.env.STEP_TIMEOUT_MAX);
  if (!stepTimeoutMax.ok) {
    io.err(`STEP_TIMEOUT_MAX ${stepTimeoutMax.problem}: set it to a duration such as 60m, or unset it\n`);
    return 2;
  }
  const set = await loadManifests(absolute, defaultRegistry(), {
    cwd: io.cwd,
    stepTimeoutMaxMs: stepTimeoutMax.ms,
    ...(flags.includes('--env-check') ? { env: io.env } : {}),
  });
  const drills = await checkDrills(set.plans.values(), io.env.REDIS_URL, drillOptions);
  const checked: ManifestSet = { ...set, problems: [...set.problems, ...drills.problems] };
  for (const problem of checked.problems) io.out(`${formatProblem(problem)}\n`);
  if (drills.note !== undefined) io.err(`${drills.note}\n`);
  io.out(`${summary(checked)}\n`);
  return checked.problems.some((p) => p.severity === 'error') ? 1 : 0;
}

/** `3 plans, 1 authority policy, 0 communications: 2 errors, 1 warning` */
export function summary(set: ManifestSet): string {
  const errors = set.problems.filter((p) => p.severity === 'error').length;
  const warnings = set.problems.length - errors;
  return (
    `${count(set.plans.size, 'plan', 'plans')}, ${count(set.policies.size, 'authority policy', 'authority policies')}, ` +
    `${set.communications.size} communications: ${count(errors, 'error', 'errors')}, ${count(warnings, 'warning', 'warnings')}`
  );
}

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
