/**
 * Watching key metrics while the steps run: samples every interval from authorisation to
 * validation, a breach asks at once and holds the next step until someone says continue or abort.
 */
import { describe, expect, it } from 'vitest';
import type { RollbackEvent } from '../../../src/domain/rollback-events.js';
import { MINUTE, ROLES, USERS, at, rollbackInput, standardStrategy } from '../../support/domain-fixtures.js';
import { RollbackDriver, ev, notices } from '../../support/rollback-driver.js';

const WATCH = { name: '5xx ratio', uses: 'prometheus', with: { query: 'ratio', expect: '< 0.05' } };

function watched(): RollbackDriver {
  return new RollbackDriver(
    rollbackInput({ strategy: standardStrategy({ watch: { everyMs: 30_000, checks: [WATCH] } }) }),
  );
}

const sample = (
  atMs: number,
  attempt: number,
  status: 'ok' | 'breached' | 'inconclusive',
): RollbackEvent => ({
  type: 'WATCH_SAMPLED',
  at: atMs,
  by: 'system',
  watch: 0,
  attempt,
  status,
  detail: status === 'breached' ? '5xx ratio 7.4% > 5%' : '0.4%',
});

const continueBy = (atMs: number): RollbackEvent => ({
  type: 'CONTINUE',
  at: atMs,
  by: USERS.oncall,
  roles: ROLES.oncall,
});

describe('watch while the steps run', () => {
  it('samples every interval from authorisation and stops at validation', () => {
    const run = watched();
    run.send(ev.approve(at(MINUTE)));
    expect(run.ctx.deadlines.watch?.dueAt).toBe(at(MINUTE) + 30_000);
    const effects = run.fire('watch');
    expect(effects).toContainEqual({ kind: 'runWatch', watchIndex: 0, attempt: 1 });
    run.send(sample(at(MINUTE) + 31_000, 1, 'ok'));
    expect(run.ctx.watches?.[0]).toMatchObject({ status: 'ok', detail: '0.4%' });
    run.ctx.steps.forEach((_, index) => {
      run.send(ev.started(at(2 * MINUTE) + index * 2, index));
      run.send(ev.succeeded(at(2 * MINUTE) + index * 2 + 1, index));
    });
    expect(run.state).toBe('validating');
    expect(run.ctx.deadlines.watch).toBeUndefined();
  });

  it('a breach asks at once and holds the next step until someone says continue', () => {
    const run = watched();
    run.send(ev.approve(at(MINUTE)));
    run.send(ev.started(at(MINUTE) + 1, 0));
    run.fire('watch');
    const asked = run.send(sample(at(MINUTE) + 31_000, 1, 'breached'));
    expect(notices(asked)).toMatchObject([
      { event: 'watch-breached', watchIndex: 0, stepIndex: 0, choices: ['continue', 'abort'] },
    ]);
    // The running step finishes; the next one is not asked for.
    const done = run.send(ev.succeeded(at(MINUTE) + 40_000, 0));
    expect(run.path).toBe('executing.held');
    expect(done.some((effect) => effect.kind === 'runStep')).toBe(false);
    // Another breach while held asks nothing new.
    run.fire('watch');
    expect(notices(run.send(sample(at(MINUTE) + 61_000, 2, 'breached')))).toEqual([]);
    const going = run.send(continueBy(at(MINUTE) + 70_000));
    expect(run.path).toBe('executing.queued');
    expect(going).toContainEqual({ kind: 'runStep', stepIndex: 1, attempt: 1 });
    expect(run.ctx.watchHold).toBeNull();
  });

  it('continue answered while the step still runs lifts the hold before it matters', () => {
    const run = watched();
    run.send(ev.approve(at(MINUTE)));
    run.send(ev.started(at(MINUTE) + 1, 0));
    run.fire('watch');
    run.send(sample(at(MINUTE) + 31_000, 1, 'breached'));
    run.send(continueBy(at(MINUTE) + 35_000));
    run.send(ev.succeeded(at(MINUTE) + 40_000, 0));
    expect(run.path).toBe('executing.queued');
  });

  it('abort stops a held rollback; an inconclusive sample holds nothing', () => {
    const run = watched();
    run.send(ev.approve(at(MINUTE)));
    run.send(ev.started(at(MINUTE) + 1, 0));
    run.fire('watch');
    run.send(sample(at(MINUTE) + 31_000, 1, 'inconclusive'));
    expect(run.ctx.watchHold ?? null).toBeNull();
    run.fire('watch');
    run.send(sample(at(MINUTE) + 61_000, 2, 'breached'));
    run.send(ev.succeeded(at(MINUTE) + 62_000, 0));
    run.send(ev.abort(at(MINUTE) + 70_000));
    expect(run.state).toBe('aborted');
  });

  it('refuses continue without a breach, a late sample, and an outsider', () => {
    const run = watched();
    run.send(ev.approve(at(MINUTE)));
    expect(run.refuse(continueBy(at(MINUTE) + 1)).code).toBe('stale');
    run.fire('watch');
    run.fire('watch');
    expect(run.refuse(sample(at(2 * MINUTE), 1, 'breached')).code).toBe('stale');
    run.send(sample(at(2 * MINUTE), 2, 'breached'));
    expect(run.refuse({ type: 'CONTINUE', at: at(2 * MINUTE) + 1, by: USERS.outsider, roles: [] }).code).toBe(
      'unauthorized',
    );
  });
});
