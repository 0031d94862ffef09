/**
 * The engine's behaviour on any store: the same suite runs on the in-memory store and on real Redis.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Store, StoredRollback } from '../../src/store/store.js';
import { Engine } from '../../src/engine/engine.js';
import { rollbackDecider } from '../../src/engine/rollback-decider.js';
import { chainHead, verifyAuditChain } from '../../src/lib/audit-chain.js';
import { silentLogger } from '../../src/lib/logging.js';
import { MINUTE, ROLES, standardPolicy, T0, USERS } from './domain-fixtures.js';
import {
  commandRollback,
  commandStep,
  startHarness,
  stepStatuses,
  waitFor,
  type Harness,
} from './engine-harness.js';

/** Steps after resolution of a stored rollback (reads the persisted context). */
function afterOf(rollback: StoredRollback): Array<{ status: string; output?: unknown; error?: string }> {
  return (
    (rollback.snapshot as { context: { afterSteps?: Array<{ status: string }> } }).context.afterSteps ?? []
  );
}

const checkStatus = (rollback: StoredRollback): string | undefined =>
  (rollback.snapshot as { context: { checks: Array<{ status: string }> } }).context.checks[0]?.status;

export function describeEngineSuite(
  name: string,
  makeStore: () => Promise<{ store: Store; cleanup: () => Promise<void> }>,
): void {
  describe(`engine on ${name}`, () => {
    const running: Array<{ harness?: Harness; cleanup: () => Promise<void> }> = [];
    afterEach(async () => {
      for (const entry of running.splice(0)) {
        await entry.harness?.runtime.stop(1_000);
        await entry.cleanup();
      }
    });
    async function setup(): Promise<{ store: Store; harness: Harness }> {
      const { store, cleanup } = await makeStore();
      const harness = startHarness(store);
      running.push({ harness, cleanup });
      return { store, harness };
    }
    const approve = (by: string = USERS.oncall, roles: string[] = ROLES.oncall, at = T0 + MINUTE) => ({
      type: 'APPROVE',
      by,
      roles,
      at,
    });

    it('declares, approves, runs real steps and checks, and resolves with a gap-free version sequence', async () => {
      const { store, harness } = await setup();
      const input = commandRollback('rb-happy');
      const declared = await harness.runtime.engine.declare(input, input, T0, USERS.declarer);
      expect(declared.ok).toBe(true);
      expect((await harness.runtime.engine.dispatch('rb-happy', approve())).ok).toBe(true);
      await waitFor(store, 'rb-happy', (r) => r.state === 'validating' || r.final);
      // The probe passes; the manual smoke test waits for a human.
      const check = {
        type: 'MANUAL_DONE',
        check: 1,
        by: USERS.oncall,
        roles: ROLES.oncall,
        at: T0 + 2 * MINUTE,
      };
      await waitFor(
        store,
        'rb-happy',
        (r) =>
          (r.snapshot as { context: { checks: Array<{ status: string }> } }).context.checks[0]?.status ===
          'succeeded',
      );
      expect((await harness.runtime.engine.dispatch('rb-happy', check)).ok).toBe(true);
      const resolved = await waitFor(store, 'rb-happy', (r) => r.final);
      expect(resolved.state).toBe('resolved');
      expect(stepStatuses(resolved)).toEqual(['succeeded', 'succeeded']);
      const audit = await store.readAudit('rb-happy');
      expect(audit.map((a) => a.version)).toEqual(audit.map((_a, i) => i + 1));
      expect(audit.at(-1)?.version).toBe(resolved.version);
      // Each entry chains onto the one before, and the record names the newest.
      expect(verifyAuditChain({ rollbackId: 'rb-happy', entries: audit, record: resolved })).toEqual({
        status: 'verified',
        entries: audit.length,
        unchained: [],
        head: audit.at(-1)?.hash,
      });
      expect(resolved.auditHash).toBe(audit.at(-1)?.hash);
      expect(audit.map((a) => a.event)).toEqual(
        expect.arrayContaining([
          'DECLARE',
          'APPROVE',
          'STEP_STARTED',
          'STEP_SUCCEEDED',
          'CHECK_PASSED',
          'MANUAL_DONE',
        ]),
      );
      // Notifications are effects, carried out after the commit: wait for the last one.
      await expect
        .poll(() => harness.notices.map((n) => n.payload['event']), { timeout: 5_000 })
        .toEqual(
          expect.arrayContaining(['declared', 'authorized', 'step-started', 'step-succeeded', 'resolved']),
        );
    });

    it('refuses an unauthorised approval with the authority reason and changes nothing', async () => {
      const { store, harness } = await setup();
      const input = commandRollback('rb-refuse');
      await harness.runtime.engine.declare(input, input, T0, USERS.declarer);
      const result = await harness.runtime.engine.dispatch('rb-refuse', approve(USERS.outsider, ROLES.none));
      expect(result).toMatchObject({ ok: false, code: 'refused' });
      expect(result.ok ? '' : result.message).toMatch(/needs on-call-engineer or above/);
      expect((await store.getRollback('rb-refuse'))?.version).toBe(1);
    });

    it('allows one active rollback per service and environment, naming the active one', async () => {
      const { harness } = await setup();
      const first = commandRollback('rb-first', { service: 'checkout' });
      const second = commandRollback('rb-second', { service: 'checkout' });
      expect((await harness.runtime.engine.declare(first, first, T0, USERS.declarer)).ok).toBe(true);
      const refused = await harness.runtime.engine.declare(second, second, T0, USERS.declarer);
      expect(refused).toMatchObject({ ok: false, code: 'active_rollback_exists', activeId: 'rb-first' });
      expect(refused.ok ? '' : refused.message).toContain('rb-first');
      const staging = commandRollback('rb-staging', { service: 'checkout', environment: 'staging' });
      expect((await harness.runtime.engine.declare(staging, staging, T0, USERS.declarer)).ok).toBe(true);
      await harness.runtime.engine.dispatch('rb-first', {
        type: 'CANCEL',
        by: USERS.oncall,
        roles: ROLES.oncall,
        at: T0 + MINUTE,
      });
      expect((await harness.runtime.engine.declare(second, second, T0 + MINUTE, USERS.declarer)).ok).toBe(
        true,
      );
    });

    it('fires the tier timer at minute 15 and drops a stale timer', async () => {
      const { store, harness } = await setup();
      const input = commandRollback('rb-tier');
      await harness.runtime.engine.declare(input, input, T0, USERS.declarer);
      const stale = await harness.runtime.engine.dispatch('rb-tier', {
        type: 'TIMER',
        timer: 'tier',
        seq: 999,
        at: T0 + 15 * MINUTE,
        by: 'system',
      });
      expect(stale.ok).toBe(false);
      harness.clock.now = T0 + 15 * MINUTE;
      harness.runtime.timers.nudge();
      await expect
        .poll(() => harness.notices.some((n) => n.payload['event'] === 'escalated'), { timeout: 5_000 })
        .toBe(true);
      const refused = await harness.runtime.engine.dispatch(
        'rb-tier',
        approve(USERS.oncall, ROLES.oncall, T0 + 15 * MINUTE),
      );
      expect(refused.ok ? '' : refused.message).toMatch(
        /needs team-lead or above since minute 15; you are on-call-engineer/,
      );
      expect(
        (await harness.runtime.engine.dispatch('rb-tier', approve(USERS.lead, ROLES.lead, T0 + 15 * MINUTE)))
          .ok,
      ).toBe(true);
      await waitFor(store, 'rb-tier', (r) => r.state === 'validating');
    });

    it('stops at a failed step, retries on request, and aborts on request', async () => {
      const { store, harness } = await setup();
      const dir = `/tmp/rollback-bot-retry-${Date.now()}-${Math.random().toString(36).slice(2)}`;
      const flaky = commandStep('Flaky switch', [
        'sh',
        '-c',
        `if [ -f ${dir} ]; then exit 0; else touch ${dir}; exit 7; fi`,
      ]);
      const input = commandRollback('rb-retry', {
        strategy: { ...commandRollback('x').strategy, steps: [flaky] },
      });
      await harness.runtime.engine.declare(input, input, T0, USERS.declarer);
      await harness.runtime.engine.dispatch('rb-retry', approve());
      const failed = await waitFor(store, 'rb-retry', (r) => stepStatuses(r)[0] === 'failed');
      expect(failed.state).toBe('executing');
      await harness.runtime.engine.dispatch('rb-retry', {
        type: 'RETRY_STEP',
        step: 0,
        by: USERS.oncall,
        roles: ROLES.oncall,
        at: T0 + 2 * MINUTE,
      });
      await waitFor(store, 'rb-retry', (r) => r.state === 'validating');

      const doomed = commandRollback('rb-abort', {
        strategy: { ...commandRollback('x').strategy, steps: [commandStep('Fails', ['false'])] },
      });
      await harness.runtime.engine.declare(doomed, doomed, T0, USERS.declarer);
      await harness.runtime.engine.dispatch('rb-abort', approve());
      await waitFor(store, 'rb-abort', (r) => stepStatuses(r)[0] === 'failed');
      await harness.runtime.engine.dispatch('rb-abort', {
        type: 'ABORT',
        by: USERS.oncall,
        roles: ROLES.oncall,
        at: T0 + 2 * MINUTE,
      });
      expect((await waitFor(store, 'rb-abort', (r) => r.final)).state).toBe('aborted');
    });

    it('delivers every effect at least once and repeated deliveries change nothing (counted)', async () => {
      const { store, cleanup } = await makeStore();
      const seen = new Map<string, number>();
      const applied = new Set<string>();
      let failNext = true;
      const harness = startHarness(store, {
        leaseTtlMs: 300,
        handlers: {
          notify: async (effect) => {
            seen.set(effect.id, (seen.get(effect.id) ?? 0) + 1);
            // Every other first delivery fails, as a Slack outage would: the effect comes back later.
            failNext = !failNext;
            if (failNext && seen.get(effect.id) === 1) throw new Error('Slack is down');
            if (await store.rememberOnce(`applied:${effect.id}`, 60_000)) applied.add(effect.id);
          },
        },
      });
      running.push({ harness, cleanup });
      const input = commandRollback('rb-outbox');
      await harness.runtime.engine.declare(input, input, T0, USERS.declarer);
      await harness.runtime.engine.dispatch('rb-outbox', approve());
      await waitFor(store, 'rb-outbox', (r) => r.state === 'validating');
      await harness.runtime.engine.dispatch('rb-outbox', {
        type: 'CANCEL',
        by: USERS.oncall,
        roles: ROLES.oncall,
        at: T0 + 3 * MINUTE,
      });
      await waitFor(store, 'rb-outbox', (r) => r.final);
      await expect.poll(() => [...seen.keys()].every((id) => applied.has(id)), { timeout: 8_000 }).toBe(true);
      expect([...seen.values()].some((n) => n > 1)).toBe(true);
      expect(applied.size).toBe(seen.size);
    });

    it('runs a step after resolution on its durable timer through the real step runner, and reports a failure without reopening', async () => {
      const { store, harness } = await setup();
      const input = commandRollback('rb-after', {
        strategy: {
          ...commandRollback('x').strategy,
          after: [
            {
              name: 'Scale down blue',
              uses: 'command',
              with: { argv: ['sh', '-c', 'echo scaled'] },
              delayMs: 5 * MINUTE,
            },
            {
              name: 'Prune',
              uses: 'command',
              with: { argv: ['sh', '-c', 'echo no space; exit 4'] },
              delayMs: 6 * MINUTE,
            },
          ],
        },
      });
      await harness.runtime.engine.declare(input, input, T0, USERS.declarer);
      await harness.runtime.engine.dispatch('rb-after', approve());
      await waitFor(store, 'rb-after', (r) => afterOf(r).length === 0 && checkStatus(r) === 'succeeded');
      const done = {
        type: 'MANUAL_DONE',
        check: 1,
        by: USERS.oncall,
        roles: ROLES.oncall,
        at: T0 + 2 * MINUTE,
      };
      expect((await harness.runtime.engine.dispatch('rb-after', done)).ok).toBe(true);
      const resolved = await waitFor(store, 'rb-after', (r) => r.final);
      expect(resolved.state).toBe('resolved');
      // Final for the engine: the service is free for a new rollback while the step waits.
      expect(await store.activeRollbackId(input.service, input.environment)).toBeNull();
      expect(afterOf(resolved).map((s) => s.status)).toEqual(['pending', 'pending']);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(afterOf((await store.getRollback('rb-after'))!)[0]?.status).toBe('pending');

      // Its time comes: the timer poller fires it, the step runner runs the real command.
      harness.clock.now = T0 + 2 * MINUTE + 6 * MINUTE;
      harness.runtime.timers.nudge();
      const after = await waitFor(store, 'rb-after', (r) => afterOf(r)[1]?.status === 'failed');
      expect(after.state).toBe('resolved');
      expect(after.final).toBe(true);
      expect(afterOf(after)).toMatchObject([
        { status: 'succeeded', output: { exitCode: 0, tail: expect.stringContaining('scaled') as unknown } },
        { status: 'failed', error: 'sh exited with code 4' },
      ]);
      const audit = (await store.readAudit('rb-after')).map((a) => a.event);
      expect(audit.slice(audit.indexOf('MANUAL_DONE') + 1)).toEqual([
        'TIMER',
        'AFTER_STEP_STARTED',
        'AFTER_STEP_SUCCEEDED',
        'TIMER',
        'AFTER_STEP_STARTED',
        'AFTER_STEP_FAILED',
      ]);
      await expect
        .poll(() => harness.notices.map((n) => n.payload['event']), { timeout: 5_000 })
        .toEqual(
          expect.arrayContaining(['after-steps-scheduled', 'after-step-succeeded', 'after-step-failed']),
        );
      // Resolved once, never again.
      expect(harness.notices.filter((n) => n.payload['event'] === 'resolved')).toHaveLength(1);
    });

    it('stops a running step after resolution when a new rollback supersedes it', async () => {
      const { store, harness } = await setup();
      const input = commandRollback('rb-superseded', {
        strategy: {
          ...commandRollback('x').strategy,
          validate: [],
          after: [{ name: 'Slow clean-up', uses: 'command', with: { argv: ['sleep', '30'] }, delayMs: 0 }],
        },
      });
      await harness.runtime.engine.declare(input, input, T0, USERS.declarer);
      await harness.runtime.engine.dispatch('rb-superseded', approve());
      await waitFor(store, 'rb-superseded', (r) => afterOf(r)[0]?.status === 'running');
      const started = Date.now();
      const superseded = await harness.runtime.engine.dispatch('rb-superseded', {
        type: 'SUPERSEDED',
        rollbackId: 'rb-next',
        by: USERS.declarer,
        at: T0 + 3 * MINUTE,
      });
      expect(superseded.ok).toBe(true);
      expect(afterOf((await store.getRollback('rb-superseded'))!)[0]?.status).toBe('interrupted');
      // The executor was told to stop (cancelStep), long before its 30 s sleep would end.
      await expect
        .poll(() => harness.notices.some((n) => n.payload['event'] === 'after-steps-cancelled'), {
          timeout: 5_000,
        })
        .toBe(true);
      await expect.poll(async () => store.leaseHolder('step:rb-superseded'), { timeout: 5_000 }).toBeNull();
      expect(Date.now() - started).toBeLessThan(10_000);
    });

    it('takes 1,000 concurrent dispatches from 4 engine instances without losing one or forking the state', async () => {
      const { store, cleanup } = await makeStore();
      running.push({ cleanup });
      const engines = Array.from(
        { length: 4 },
        () => new Engine({ store, decider: rollbackDecider, log: silentLogger }),
      );
      const approvers = Array.from({ length: 1_000 }, (_v, i) => `U${String(i).padStart(5, '0')}`);
      const policy = standardPolicy({ approvalsRequired: { default: 1_001, byEnvironment: {} } });
      const input = commandRollback('rb-race', { policy });
      await engines[0]!.declare(input, input, T0, USERS.declarer);
      const results = await Promise.all(
        approvers.map((user, i) =>
          engines[i % 4]!.dispatch('rb-race', approve(user, ROLES.oncall, T0 + MINUTE + i)),
        ),
      );
      expect(results.every((r) => r.ok)).toBe(true);
      const final = await store.getRollback('rb-race');
      expect(final?.version).toBe(1_001);
      const approvals = (final?.snapshot as { context: { approvals: Array<{ user: string }> } }).context
        .approvals;
      expect(new Set(approvals.map((a) => a.user)).size).toBe(1_000);
      const audit = await store.readAudit('rb-race');
      expect(audit.map((a) => a.version)).toEqual(Array.from({ length: 1_001 }, (_v, i) => i + 1));
      // Every conflict was decided again on a fresh read, so every entry chains onto its real predecessor.
      expect(verifyAuditChain({ rollbackId: 'rb-race', entries: audit, record: final })).toMatchObject({
        status: 'verified',
        entries: 1_001,
      });
    }, 60_000);

    it('chains onto a rollback whose first entries were written before the audit chain', async () => {
      const { store, cleanup } = await makeStore();
      running.push({ cleanup });
      const engine = new Engine({ store, decider: rollbackDecider, log: silentLogger });
      const input = commandRollback('rb-legacy');
      const start = rollbackDecider.start(input);
      // What an engine before the chain committed: no head on the record, no hash on the entry.
      await store.commit({
        rollback: {
          id: 'rb-legacy',
          service: input.service,
          environment: input.environment,
          version: 1,
          state: start.state,
          final: start.final,
          snapshot: start.snapshot,
          createdAt: T0,
          updatedAt: T0,
        },
        expectedVersion: 0,
        audit: [{ version: 1, at: T0, event: 'DECLARE', by: USERS.declarer, state: start.state }],
        effects: [],
        timers: [],
      });
      expect(
        (
          await engine.dispatch('rb-legacy', {
            type: 'REJECT',
            by: USERS.oncall,
            roles: ROLES.oncall,
            at: T0 + MINUTE,
          })
        ).ok,
      ).toBe(true);
      const audit = await store.readAudit('rb-legacy');
      const record = await store.getRollback('rb-legacy');
      expect(audit[0]).not.toHaveProperty('hash');
      expect(audit[1]?.prev).toBe(chainHead('rb-legacy', audit.slice(0, 1)));
      expect(verifyAuditChain({ rollbackId: 'rb-legacy', entries: audit, record })).toEqual({
        status: 'verified',
        entries: 2,
        unchained: [1],
        head: audit[1]?.hash,
      });
    });
  });
}
