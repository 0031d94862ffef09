/**
 * `rollback-bot demo`: plays a whole rollback on this machine, with no Slack and no Redis. The real
 * engine runtime, executors and step performer run the plan of `manifests/demo/demo-plan.yaml`
 * (harmless local commands) on an in-memory store; the channel is printed as a person would read it.
 */
import { fileURLToPath } from 'node:url';
import { loadManifests } from '../config/manifests.js';
import { formatProblem } from '../config/problem.js';
import { strategyNeedsHuman } from '../domain/plan.js';
import type { PersistedRollback } from '../domain/rollback-machine.js';
import type { NotifyDetail, RollbackInput } from '../domain/rollback-types.js';
import { createEngineRuntime } from '../engine/runtime.js';
import type { EffectHandler } from '../engine/outbox-worker.js';
import { defaultRegistry } from '../executors/default-registry.js';
import { createStepPerformer } from '../executors/step-performer.js';
import { silentLogger } from '../logging.js';
import { MemoryStore } from '../store/index.js';
import type { CliIo } from './io.js';

const PLAN_FILE = fileURLToPath(new URL('../../manifests/demo/demo-plan.yaml', import.meta.url));
const SERVICE = 'demo-service';
const ENVIRONMENT = 'production';
const PEOPLE = {
  declarer: 'U0DECL',
  outsider: 'U0NOBODY',
  oncall: 'U0ONCALL1',
} as const;
const ONCALL_ROLES = ['on-call-engineer'];
const FINAL_WAIT_MS = 20_000;

/** HH:MM:SS in local time. */
export function clock(at: number): string {
  return new Date(at).toTimeString().slice(0, 8);
}

function isExecuting(snapshot: unknown): boolean {
  const value = (snapshot as PersistedRollback).value;
  return typeof value === 'object' && 'executing' in value;
}

export async function runDemo(io: CliIo): Promise<number> {
  const say = (at: number, text: string): void => {
    io.out(`${clock(at)}  ${text}\n`);
  };
  const manifests = await loadManifests(PLAN_FILE, defaultRegistry(), { cwd: io.cwd });
  const errors = manifests.problems.filter((p) => p.severity === 'error');
  const plan = manifests.plans.get(SERVICE);
  const policy = plan ? manifests.policies.get(plan.authority) : undefined;
  const strategy = plan?.strategies[plan.defaultStrategy];
  if (errors.length > 0 || !plan || !policy || !strategy) {
    for (const problem of errors) io.err(`${formatProblem(problem)}\n`);
    io.err(`rollback-bot demo: ${PLAN_FILE} does not hold a usable ${SERVICE} plan\n`);
    return 1;
  }

  const now = (): number => Date.now();
  const store = new MemoryStore({ now });
  const stepName = (index: number): string => strategy.steps[index]?.name ?? `step ${index + 1}`;
  const checkName = (index: number): string => strategy.validate[index]?.name ?? `check ${index + 1}`;

  // Output lines of a step are held until its "started" message is in the channel.
  const started = new Set<number>();
  const held = new Map<number, string[]>();
  let manualRequested: (checkIndex: number) => void = () => undefined;
  const manualCheck = new Promise<number>((resolve) => {
    manualRequested = resolve;
  });

  const notify: EffectHandler = (effect) => {
    const n = effect.payload as unknown as NotifyDetail & { at: number; by: string };
    switch (n.event) {
      case 'declared':
        say(n.at, `📣 ${n.by} declared a rollback of ${SERVICE} (${ENVIRONMENT}) to ${input.toVersion}`);
        break;
      case 'approval-requested':
        say(
          n.at,
          `🔔 Approval needed from the ${n.tier.approver}${n.tier.notify ? ` (${n.tier.notify} informed)` : ''}: ` +
            `${n.approvals.count}/${n.approvals.required}, expires at ${clock(n.expiresAt)}`,
        );
        break;
      case 'approved':
        say(n.at, `✅ ${n.approver} (${n.role}) approved (${n.approvals.count}/${n.approvals.required})`);
        break;
      case 'authorized':
        say(n.at, `🔓 Rollback authorized (${n.via}); running ${strategy.steps.length} steps`);
        break;
      case 'step-started':
        say(n.at, `▶️  Step ${n.stepIndex + 1}/${strategy.steps.length} "${stepName(n.stepIndex)}" started`);
        started.add(n.stepIndex);
        for (const line of held.get(n.stepIndex) ?? []) io.out(`          │ ${line}\n`);
        held.delete(n.stepIndex);
        break;
      case 'step-succeeded':
        say(n.at, `✔️  Step ${n.stepIndex + 1} "${stepName(n.stepIndex)}" succeeded`);
        break;
      case 'step-failed':
        say(
          n.at,
          `❌ Step ${n.stepIndex + 1} "${stepName(n.stepIndex)}" failed: ${n.error} (next: ${n.next})`,
        );
        break;
      case 'manual-check-requested':
        say(n.at, `📝 Manual check "${checkName(n.checkIndex)}": waiting for someone to mark it done`);
        manualRequested(n.checkIndex);
        break;
      case 'validation-failed':
        say(n.at, `❌ Check "${checkName(n.checkIndex)}" ${n.status}: ${n.detail}`);
        break;
      case 'validation-passed':
        say(n.at, `🩺 Validation passed${n.accepted ? ' (accepted)' : ''}: every check is green`);
        break;
      case 'resolved':
        say(n.at, `🎉 Rollback resolved: ${n.reason}`);
        break;
      case 'failed':
      case 'aborted':
      case 'cancelled':
      case 'rejected':
      case 'expired':
        say(n.at, `🛑 Rollback ${n.event}: ${n.reason}`);
        break;
      default:
        say(n.at, `ℹ️  ${n.event}`);
    }
    return Promise.resolve();
  };
  const freeze: EffectHandler = (effect) => {
    io.out(
      `${clock(now())}  🧊 Deploy freeze ${effect.payload['on'] === true ? 'on' : 'off'} for ${SERVICE}\n`,
    );
    return Promise.resolve();
  };

  const performer = createStepPerformer({
    registry: defaultRegistry(),
    env: io.env,
    log: silentLogger,
    maxStepMs: 60_000,
    onLine(work, line) {
      if (!isExecuting(work.snapshot)) {
        io.out(`          │ [${checkName(work.index)}] ${line}\n`);
      } else if (started.has(work.index)) {
        io.out(`          │ ${line}\n`);
      } else {
        held.set(work.index, [...(held.get(work.index) ?? []), line]);
      }
    },
  });
  const runtime = createEngineRuntime({
    store,
    log: silentLogger,
    now,
    workerId: `demo-${process.pid}`,
    performStep: performer.performStep,
    performCheck: performer.performCheck,
    handlers: { notify, freeze },
    outboxPollMs: 50,
    timerPollMs: 50,
  });

  const declaredAt = now();
  const id = `rb-demo-${declaredAt.toString(36)}`;
  const input: RollbackInput = {
    id,
    service: SERVICE,
    environment: ENVIRONMENT,
    strategy,
    policy,
    fromVersion: 'v1.5.0',
    toVersion: 'v1.4.1',
    reason: '5xx spike after v1.5.0',
    declaredBy: PEOPLE.declarer,
    at: declaredAt,
    incidentStartedAt: declaredAt,
    trigger: { kind: 'manual' },
    drill: false,
    requiresHuman: strategyNeedsHuman(strategy),
  };

  io.out(`rollback-bot demo: ${SERVICE} in ${ENVIRONMENT}, plan ${plan.name} / ${strategy.name}\n`);
  io.out(`(in-memory store, real executors running harmless local commands)\n\n`);
  runtime.start();
  let finalState: string | undefined;
  try {
    const declared = await runtime.engine.declare(
      { id, service: SERVICE, environment: ENVIRONMENT },
      input,
      declaredAt,
      PEOPLE.declarer,
    );
    if (!declared.ok) {
      io.err(`rollback-bot demo: could not declare: ${declared.message}\n`);
      return 1;
    }
    io.out(`${clock(declaredAt)}  💬 ${PEOPLE.declarer}: "${input.reason}"\n`);
    await pause(300);

    const outsider = await runtime.engine.dispatch(id, {
      type: 'APPROVE',
      at: now(),
      by: PEOPLE.outsider,
      roles: [],
    });
    say(
      now(),
      outsider.accepted
        ? `⚠️  ${PEOPLE.outsider} clicked Approve and it was accepted (unexpected)`
        : `🚫 ${PEOPLE.outsider} clicked Approve: refused: ${outsider.reason}`,
    );
    await pause(200);
    const approvedAt = now();
    say(approvedAt, `👍 ${PEOPLE.oncall} (${ONCALL_ROLES.join(', ')}) clicked Approve`);
    const approved = await runtime.engine.dispatch(id, {
      type: 'APPROVE',
      at: approvedAt,
      by: PEOPLE.oncall,
      roles: ONCALL_ROLES,
    });
    if (!approved.accepted) say(now(), `🚫 refused: ${approved.reason}`);

    const checkIndex = await Promise.race([manualCheck, pause(FINAL_WAIT_MS, true).then(() => null)]);
    if (checkIndex !== null) {
      await pause(300);
      const doneAt = now();
      say(doneAt, `☑️  ${PEOPLE.oncall} marks "${checkName(checkIndex)}" done`);
      const done = await runtime.engine.dispatch(id, {
        type: 'MANUAL_DONE',
        at: doneAt,
        by: PEOPLE.oncall,
        roles: ONCALL_ROLES,
        check: checkIndex,
      });
      if (!done.accepted) say(now(), `🚫 refused: ${done.reason}`);
    }

    const deadline = now() + FINAL_WAIT_MS;
    for (;;) {
      const rollback = await store.getRollback(id);
      finalState = rollback?.state ?? 'missing';
      if (rollback?.final || now() > deadline) break;
      await pause(50);
    }
    // Let the outbox print the last notifications before the timeline.
    await pause(200);

    io.out(`\nTimeline of ${id} (final state: ${finalState})\n`);
    for (const entry of await store.readAudit(id)) {
      io.out(`  ${clock(entry.at)}  ${entry.event.padEnd(16)} ${entry.by.padEnd(10)} → ${entry.state}\n`);
    }
  } finally {
    await runtime.stop(1_000);
    await store.close();
  }
  io.out(`\nSlack arrives later (issue 4): this demo prints the channel instead of posting to it.\n`);
  return finalState === 'resolved' ? 0 : 1;
}

/** `unref`: a pause that must not keep the process alive once everything else is done. */
function pause(ms: number, unref = false): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (unref) timer.unref();
  });
}
