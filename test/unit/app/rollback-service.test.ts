/**
 * RollbackService.declare over the in-memory store and the real engine: how a declaration relates
 * to the open incident of its service and environment (a drill never does).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { RollbackService, type Catalog } from '../../../src/app/rollback-service.js';
import { RollbackReads } from '../../../src/app/rollback-reads.js';
import type { RollbackPlan } from '../../../src/domain/plan.js';
import type { RollbackInput } from '../../../src/domain/rollback-types.js';
import { Engine } from '../../../src/engine/engine.js';
import { rollbackDecider } from '../../../src/engine/rollback-decider.js';
import { RoleLookupError } from '../../../src/lib/errors.js';
import { silentLogger } from '../../../src/lib/logging.js';
import { MemoryStore } from '../../../src/store/memory/memory-store.js';
import {
  MINUTE,
  T0,
  USERS,
  blueGreenWithAfter,
  rollbackInput,
  standardPolicy,
  standardStrategy,
} from '../../support/domain-fixtures.js';

const plan: RollbackPlan = {
  name: 'checkout',
  service: 'checkout',
  channel: 'C1',
  environments: ['production', 'staging'],
  criticality: 'high',
  rtoMs: 15 * 60_000,
  authority: 'default',
  defaultStrategy: 'blue-green',
  strategies: { 'blue-green': standardStrategy() },
  triggers: [],
  limitations: [],
};
const catalog: Catalog = {
  plans: new Map([['checkout', plan]]),
  policies: new Map([['default', standardPolicy()]]),
};

let asked: string[];
let joined: string[];
let service: RollbackService;
let reads: RollbackReads;
let ids: number;
let store: MemoryStore;
beforeEach(() => {
  store = new MemoryStore();
  asked = [];
  joined = [];
  ids = 0;
  reads = new RollbackReads({ store, now: () => T0 });
  service = new RollbackService({
    engine: new Engine<RollbackInput>({ store, decider: rollbackDecider, log: silentLogger }),
    store,
    catalog: () => catalog,
    rolesOf: () => Promise.resolve([]),
    now: () => T0,
    newId: () => `rb-${++ids}`,
    log: silentLogger,
    // An incident is open in every environment, opened an hour before the declaration.
    incidents: {
      current: (name, environment) => {
        asked.push(`${name}/${environment}`);
        return Promise.resolve({ id: `inc-${environment}`, startedAt: T0 - 60 * MINUTE });
      },
      join: (incidentId, rollbackId) => {
        joined.push(`${incidentId}:${rollbackId}`);
        return Promise.resolve();
      },
    },
  });
});

describe('RollbackService.declare and the open incident', () => {
  it('joins the open incident and inherits its start', async () => {
    const outcome = await service.declare({ service: 'checkout', toVersion: 'v1', by: USERS.declarer });
    expect(outcome.ok).toBe(true);
    expect(asked).toEqual(['checkout/production']);
    expect(joined).toEqual(['inc-production:rb-1']);
    expect((await reads.view('rb-1'))?.incidentStartedAt).toBe(new Date(T0 - 60 * MINUTE).toISOString());
  });

  it('a drill neither looks up nor joins it, and starts its own clock', async () => {
    const outcome = await service.declare({
      service: 'checkout',
      toVersion: 'v1',
      by: USERS.declarer,
      drill: true,
    });
    expect(outcome).toMatchObject({ ok: true, rollback: { environment: 'staging' } });
    expect(asked).toEqual([]);
    expect(joined).toEqual([]);
    expect((await reads.view('rb-1'))?.incidentStartedAt).toBe(new Date(T0).toISOString());
  });
});

describe('RollbackService.declare and versions', () => {
  const record = (version: string, at: number) =>
    store.recordDeployment({ service: 'checkout', environment: 'production', version, at });

  it('refuses a target that is not a version, whoever asks', async () => {
    const outcome = await service.declare({
      service: 'checkout',
      toVersion: '../../admin/purge?all=true#',
      by: USERS.declarer,
    });
    expect(outcome).toMatchObject({ ok: false, code: 'invalid_version' });
    expect(outcome.ok ? '' : outcome.message).toMatch(
      /^a version is letters, digits and \. _ \+ - .*starts with '\.'/,
    );
    expect(await store.listRollbacks()).toEqual([]);
  });

  it('will not roll back to a deployment recorded (before versions were checked) with a bad version', async () => {
    await record('--log-file=/tmp/x', T0 - 2 * MINUTE);
    await record('v2', T0 - MINUTE);
    const outcome = await service.declare({ service: 'checkout', by: USERS.declarer });
    expect(outcome).toMatchObject({ ok: false, code: 'invalid_version' });
    expect(outcome.ok ? '' : outcome.message).toMatch(
      /^the previous recorded deployment of checkout in production cannot be rolled back to \(.*'--log-file=\/tmp\/x' starts with '-'\): say which version with --to VERSION\.$/,
    );
    expect(await store.listRollbacks()).toEqual([]);
  });

  it('takes a current version that is not one as unknown', async () => {
    await record('v1', T0 - 2 * MINUTE);
    await record('v2/../..', T0 - MINUTE);
    expect(await service.declare({ service: 'checkout', by: USERS.declarer })).toMatchObject({ ok: true });
    expect(await reads.view('rb-1')).toMatchObject({ fromVersion: null, toVersion: 'v1' });
  });
});

describe('RollbackService.declare and the steps after an earlier resolution', () => {
  /** rb-1 resolved with its clean-up still to run (the plan scales blue down 5 minutes after). */
  async function resolvedWithCleanUp(): Promise<Engine<RollbackInput>> {
    const engine = new Engine<RollbackInput>({ store, decider: rollbackDecider, log: silentLogger });
    const strategy = blueGreenWithAfter({ stabilizeMs: 0 });
    const input = rollbackInput({ id: 'rb-old', strategy });
    await engine.declare(
      { id: 'rb-old', service: 'checkout', environment: 'production' },
      input,
      T0,
      USERS.declarer,
    );
    const events = [
      { type: 'APPROVE', by: USERS.oncall, roles: ['on-call-engineer'], at: T0 + MINUTE },
      { type: 'STEP_STARTED', step: 0, attempt: 1, by: 'system', at: T0 + MINUTE },
      { type: 'STEP_SUCCEEDED', step: 0, by: 'system', at: T0 + MINUTE },
      { type: 'STEP_STARTED', step: 1, attempt: 1, by: 'system', at: T0 + MINUTE },
      { type: 'STEP_SUCCEEDED', step: 1, by: 'system', at: T0 + MINUTE },
      { type: 'CHECK_PASSED', check: 0, by: 'system', at: T0 + MINUTE },
      { type: 'MANUAL_DONE', check: 1, by: USERS.oncall, roles: ['on-call-engineer'], at: T0 + MINUTE },
    ];
    for (const event of events) expect((await engine.dispatch('rb-old', event)).ok).toBe(true);
    expect(await store.getRollback('rb-old')).toMatchObject({ state: 'resolved', final: true });
    return engine;
  }

  it('calls them off, naming the new rollback, before the new one is declared', async () => {
    await resolvedWithCleanUp();
    const outcome = await service.declare({ service: 'checkout', toVersion: 'v1', by: USERS.declarer });
    expect(outcome.ok).toBe(true);
    const old = await reads.view('rb-old');
    expect(old?.afterSteps.map((s) => [s.status, s.note])).toEqual([
      ['skipped', 'called off: rollback rb-1 of checkout in production was declared'],
      ['skipped', 'called off: rollback rb-1 of checkout in production was declared'],
    ]);
    const audit = await store.readAudit('rb-old');
    expect(audit.at(-1)).toMatchObject({ event: 'SUPERSEDED', by: USERS.declarer, state: 'resolved' });
  });

  it('leaves those of another environment alone', async () => {
    await resolvedWithCleanUp();
    await service.declare({
      service: 'checkout',
      environment: 'staging',
      toVersion: 'v1',
      by: USERS.declarer,
    });
    expect((await reads.view('rb-old'))?.afterSteps.map((s) => s.status)).toEqual(['pending', 'pending']);
  });
});

describe('RollbackService.act when the roles cannot be read', () => {
  it('refuses with the one refusal shape and commits nothing', async () => {
    const blind = new RollbackService({
      engine: new Engine<RollbackInput>({ store, decider: rollbackDecider, log: silentLogger }),
      store,
      catalog: () => catalog,
      rolesOf: () => Promise.reject(new RoleLookupError(new Error('usergroups.users.list did not answer'))),
      now: () => T0,
      newId: () => `rb-${++ids}`,
      log: silentLogger,
    });
    const declared = await blind.declare({ service: 'checkout', toVersion: 'v1.4.1', by: USERS.declarer });
    if (!declared.ok) throw new Error(declared.message);
    const id = declared.rollback.id;
    expect(await blind.act(id, USERS.oncall, { type: 'APPROVE' })).toEqual({
      ok: false,
      code: 'role_unavailable',
      message:
        "Cannot check your role now (Slack's user groups did not answer) — nothing was changed, try again in a minute.",
    });
    expect((await store.getRollback(id))?.version).toBe(1);
    expect(await store.readAudit(id)).toHaveLength(1);
  });
});
