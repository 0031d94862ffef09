/**
 * Checks that need more than one document, or more than the shape of one: references between
 * manifests, executor parameters, templates, step order, tier order and duplicates.
 */
import { stepId } from '../domain/template-vars.js';
import type { ExecutorRegistry } from '../executors/registry.js';
import { didYouMean } from '../schema/did-you-mean.js';
import { formatPath } from './problem.js';
import { checkCommunicationsTemplates, checkPlanTemplates } from './template-checks.js';
import { checkCondition, checkWithValues, type Finding } from './template-refs.js';
import type { SourceDocument } from './yaml-source.js';
import type { ZodType } from 'zod';
import { formatDuration } from '../domain/duration.js';
import type {
  AfterStepManifest,
  AuthorityPolicyManifest,
  CheckManifest,
  CommunicationsManifest,
  RollbackPlanManifest,
  StepManifest,
} from './manifest-schema.js';

export type ParsedManifest =
  | { kind: 'RollbackPlan'; doc: SourceDocument; manifest: RollbackPlanManifest }
  | { kind: 'AuthorityPolicy'; doc: SourceDocument; manifest: AuthorityPolicyManifest }
  | { kind: 'Communications'; doc: SourceDocument; manifest: CommunicationsManifest };

export interface LocatedFinding extends Finding {
  doc: SourceDocument;
}

export interface CrossCheckOptions {
  registry: ExecutorRegistry;
  env?: Readonly<Record<string, string | undefined>>;
  /** STEP_TIMEOUT_MAX of the bot that will run these plans: a longer `timeout` is refused. */
  stepTimeoutMaxMs: number;
}

export function crossCheck(all: readonly ParsedManifest[], options: CrossCheckOptions): LocatedFinding[] {
  const findings: LocatedFinding[] = [...checkDuplicates(all)];
  const names = (kind: ParsedManifest['kind']) =>
    all.filter((m) => m.kind === kind).map((m) => m.manifest.metadata.name);
  const context = { ...options, policies: names('AuthorityPolicy'), communications: names('Communications') };
  for (const parsed of all) {
    const local =
      parsed.kind === 'RollbackPlan'
        ? [...checkPlan(parsed.manifest, context), ...checkPlanTemplates(parsed.manifest)]
        : parsed.kind === 'AuthorityPolicy'
          ? checkPolicy(parsed.manifest)
          : checkCommunicationsTemplates(parsed.manifest);
    findings.push(...local.map((finding) => ({ ...finding, doc: parsed.doc })));
  }
  return findings;
}

function checkDuplicates(all: readonly ParsedManifest[]): LocatedFinding[] {
  const findings: LocatedFinding[] = [];
  const seen = new Map<string, SourceDocument>();
  const where = (doc: SourceDocument) => `${doc.file}${lineOf(doc, ['metadata', 'name'])}`;
  for (const parsed of all) {
    const key = `${parsed.kind}/${parsed.manifest.metadata.name}`;
    const first = seen.get(key);
    if (first) {
      findings.push(
        error(
          parsed.doc,
          ['metadata', 'name'],
          `another ${parsed.kind} is already named "${parsed.manifest.metadata.name}" (${where(first)}); names must be unique per kind`,
        ),
      );
    } else seen.set(key, parsed.doc);
    if (parsed.kind !== 'RollbackPlan') continue;
    const serviceKey = `service/${parsed.manifest.spec.service}`;
    const owner = seen.get(serviceKey);
    if (owner) {
      findings.push(
        error(
          parsed.doc,
          ['spec', 'service'],
          `service "${parsed.manifest.spec.service}" already has a plan (${where(owner)}); one plan per service`,
        ),
      );
    } else seen.set(serviceKey, parsed.doc);
  }
  return findings;
}

function lineOf(doc: SourceDocument, path: (string | number)[]): string {
  const position = doc.locate(path);
  return position ? `:${position.line}` : '';
}

function error(doc: SourceDocument, path: (string | number)[], message: string): LocatedFinding {
  return { doc, path, message, severity: 'error' };
}

type PlanContext = CrossCheckOptions & { policies: string[]; communications: string[] };

function checkPlan(plan: RollbackPlanManifest, context: PlanContext): Finding[] {
  const findings: Finding[] = [];
  const add = (path: (string | number)[], message: string, severity: Finding['severity'] = 'error') =>
    findings.push({ path: ['spec', ...path], message, severity });
  const { spec } = plan;
  const strategies = Object.keys(spec.strategies);
  if (!context.policies.includes(spec.authority)) {
    add(
      ['authority'],
      `no AuthorityPolicy is named "${spec.authority}"${didYouMean(spec.authority, context.policies)}`,
    );
  }
  const use = spec.communications?.use;
  if (use !== undefined && !context.communications.includes(use)) {
    add(
      ['communications', 'use'],
      `no Communications manifest is named "${use}"${didYouMean(use, context.communications)}`,
    );
  }
  if (!strategies.includes(spec.defaultStrategy)) {
    add(
      ['defaultStrategy'],
      `no strategy is named "${spec.defaultStrategy}"${didYouMean(spec.defaultStrategy, strategies)}; strategies: ${strategies.join(', ')}`,
    );
  }
  spec.triggers.forEach((trigger, i) => {
    if (trigger.strategy !== undefined && !strategies.includes(trigger.strategy)) {
      add(
        ['triggers', i, 'strategy'],
        `no strategy is named "${trigger.strategy}"${didYouMean(trigger.strategy, strategies)}; strategies: ${strategies.join(', ')}`,
      );
    }
    if (trigger.action === 'auto' && trigger.delay === undefined) {
      add(
        ['triggers', i, 'action'],
        'an auto trigger needs a delay so humans can cancel it, e.g. delay: 30s (delay: 0s starts at once)',
      );
    }
    if (trigger.action === 'propose' && trigger.delay !== undefined) {
      add(
        ['triggers', i, 'delay'],
        'delay is ignored when action is propose: a human starts the rollback',
        'warning',
      );
    }
  });
  for (const [name, strategy] of Object.entries(spec.strategies)) {
    const ids = strategy.steps.map(stepId);
    strategy.steps.forEach((step, i) => {
      const path = ['strategies', name, 'steps', i];
      const notAStep = context.registry.get(step.uses)?.notAStep;
      if (notAStep !== undefined) add([...path, 'uses'], notAStep);
      const order = { earlier: ids.slice(0, i), later: ids.slice(i + 1), self: ids[i]! };
      findings.push(...checkStepOptions(step, path), ...checkUses(step, path, context, order));
      if (step.when !== undefined)
        findings.push(...checkCondition(step.when, ['spec', ...path, 'when'], order));
      const duplicate = ids.indexOf(ids[i]!);
      if (duplicate < i)
        add(
          [...path, step.id === undefined ? 'name' : 'id'],
          `step id "${ids[i]!}" is also the id of step ${duplicate + 1}; give one of them an id`,
        );
    });
    strategy.validate.forEach((check, i) => {
      findings.push(
        ...checkUses(check, ['strategies', name, 'validate', i], context, { earlier: ids, later: [] }),
      );
    });
    // Watches run beside the steps: no step's output is there for sure, and nobody is asked.
    strategy.watch.forEach((check, i) => {
      const path = ['strategies', name, 'watch', i];
      if (check.uses === 'manual')
        add([...path, 'uses'], 'a watch is sampled automatically while the steps run: manual cannot be one');
      findings.push(...checkUses(check, path, context, { earlier: [], later: ids }));
    });
    findings.push(...checkAfterSteps(strategy.after, ['strategies', name, 'after'], ids, context));
  }
  return findings;
}

/**
 * Steps after resolution run after every step and in list order: each may use the outputs of the
 * steps and of the after-steps above it. Their ids share one namespace with the steps'.
 */
function checkAfterSteps(
  after: readonly AfterStepManifest[],
  at: (string | number)[],
  stepIds: readonly string[],
  context: PlanContext,
): Finding[] {
  const findings: Finding[] = [];
  const ids = after.map(stepId);
  after.forEach((step, i) => {
    const path = [...at, i];
    const notAStep = context.registry.get(step.uses)?.notAStep;
    if (notAStep !== undefined) {
      findings.push({ path: ['spec', ...path, 'uses'], message: notAStep, severity: 'error' });
    }
    findings.push(
      ...checkUses(step, path, context, {
        earlier: [...stepIds, ...ids.slice(0, i)],
        later: ids.slice(i + 1),
      }),
    );
    const id = ids[i]!;
    const clash = stepIds.includes(id)
      ? 'of a step'
      : ids.indexOf(id) < i
        ? `of after-step ${ids.indexOf(id) + 1}`
        : null;
    if (clash !== null) {
      findings.push({
        path: ['spec', ...path, step.id === undefined ? 'name' : 'id'],
        message: `step id "${id}" is also the id ${clash}; give one of them an id`,
        severity: 'error',
      });
    }
    const above = after[i - 1];
    if (above !== undefined && step.delay < above.delay) {
      findings.push({
        path: ['spec', ...path, 'delay'],
        message: `runs after "${above.name}" (delay ${formatDuration(above.delay)}) anyway: after-steps run in list order`,
        severity: 'warning',
      });
    }
  });
  return findings;
}

function checkStepOptions(step: StepManifest, path: (string | number)[]): Finding[] {
  if (step.retries !== undefined && step.onFailure !== 'retry') {
    return [
      {
        path: ['spec', ...path, 'retries'],
        message: `retries is ignored unless onFailure is retry (it is ${step.onFailure})`,
        severity: 'warning',
      },
    ];
  }
  return [];
}

function checkUses(
  step: StepManifest | CheckManifest | AfterStepManifest,
  path: (string | number)[],
  context: PlanContext,
  order: { earlier: string[]; later: string[]; self?: string },
): Finding[] {
  const at = ['spec', ...path];
  const executor = context.registry.get(step.uses);
  if (!executor) {
    const kinds = context.registry.kinds();
    return [
      {
        path: [...at, 'uses'],
        severity: 'error',
        message: `unknown executor "${step.uses}"${didYouMean(step.uses, kinds)}; known: ${kinds.join(', ')}`,
      },
    ];
  }
  const paramFindings: Finding[] = context.registry.validateParams(step.uses, step.with).map((problem) => ({
    path: [...at, 'with', ...problem.path],
    message: problem.message,
    severity: 'error',
  }));
  const reported = new Set(paramFindings.map((f) => formatPath(f.path)));
  const valueFindings = checkWithValues(step.with, [...at, 'with'], {
    ...order,
    ...(context.env ? { env: context.env } : {}),
  }).filter((f) => !reported.has(formatPath(f.path)));
  const limitFindings =
    paramFindings.length === 0 ? checkTimeout(step, executor.params, at, context.stepTimeoutMaxMs) : [];
  return [...paramFindings, ...valueFindings, ...limitFindings];
}

/**
 * The bot stops every step at STEP_TIMEOUT_MAX. A plan that asks for longer would be cut short in
 * the middle of an incident, so it is refused here, with both numbers; an executor's default that
 * is longer (only when STEP_TIMEOUT_MAX was lowered) is a warning, since the plan asked for nothing.
 */
function checkTimeout(
  step: StepManifest | CheckManifest | AfterStepManifest,
  schema: ZodType,
  at: (string | number)[],
  maxMs: number,
): Finding[] {
  const parsed = schema.safeParse(step.with);
  const data: unknown = parsed.success ? parsed.data : undefined;
  const timeout =
    typeof data === 'object' && data !== null ? (data as Record<string, unknown>)['timeout'] : undefined;
  if (typeof timeout !== 'number' || timeout <= maxMs) return [];
  const written = 'timeout' in step.with;
  const limit = `STEP_TIMEOUT_MAX (${formatDuration(maxMs)}), the longest the bot lets any step run`;
  return written
    ? [
        {
          path: [...at, 'with', 'timeout'],
          message: `timeout ${formatDuration(timeout)} is longer than ${limit}: lower it, or raise STEP_TIMEOUT_MAX where the bot runs`,
          severity: 'error',
        },
      ]
    : [
        {
          path: [...at, 'uses'],
          message: `the ${step.uses} executor's default timeout (${formatDuration(timeout)}) is longer than ${limit}: the step would be stopped at ${formatDuration(maxMs)}; set timeout`,
          severity: 'warning',
        },
      ];
}

function checkPolicy(policy: AuthorityPolicyManifest): Finding[] {
  const findings: Finding[] = [];
  const add = (path: (string | number)[], message: string, severity: Finding['severity'] = 'error') =>
    findings.push({ path: ['spec', ...path], message, severity });
  const roles = policy.spec.roles.map((role) => role.name);
  policy.spec.roles.forEach((role, i) => {
    if (roles.indexOf(role.name) < i) add(['roles', i, 'name'], `role "${role.name}" is listed twice`);
    if (role.members.usergroup === undefined && role.members.users.length === 0) {
      add(
        ['roles', i, 'members'],
        `role "${role.name}" has no members: nobody can approve or be told as ${role.name}`,
        'warning',
      );
    }
  });
  policy.spec.tiers.forEach((tier, i) => {
    const previous = policy.spec.tiers[i - 1];
    if (i === 0 && tier.after !== 0)
      add(
        ['tiers', 0, 'after'],
        'the first tier must start at 0m, or nobody may approve at the start of an incident',
      );
    if (previous && tier.after <= previous.after)
      add(
        ['tiers', i, 'after'],
        `tiers must be in ascending order of after: this one does not come after tier ${i}`,
      );
    for (const field of ['approver', 'notify'] as const) {
      const name = tier[field];
      if (name !== undefined && !roles.includes(name)) {
        add(
          ['tiers', i, field],
          `no role is named "${name}"${didYouMean(name, roles)}; roles: ${roles.join(', ')}`,
        );
      }
    }
  });
  return findings;
}
