/**
 * FreezeService over the in-memory store: who may freeze, what CI is told, how manual freezes and
 * active rollbacks combine, and the plain sentences of every refusal.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { ALL, FreezeService } from '../../../src/app/freeze-service.js';
import { COLLECTIONS } from '../../../src/store/collections.js';
import { RoleLookupError } from '../../../src/lib/errors.js';
import type { Catalog } from '../../../src/app/rollback-service.js';
import { resolveRoles } from '../../../src/domain/authority.js';
import type { AuthorityPolicy, RollbackPlan } from '../../../src/domain/plan.js';
import { MemoryStore } from '../../../src/store/memory/memory-store.js';
import { standardPolicy, standardStrategy, T0, USERS } from '../../support/domain-fixtures.js';
import { rollbackAt } from '../../support/store-contract/fixtures.js';

function plan(service: string, overrides: Partial<RollbackPlan> = {}): RollbackPlan {
  return {
    name: service,
    service,
    channel: 'C1',
    environments: ['production', 'staging'],
    criticality: 'high',
    rtoMs: 15 * 60_000,
    authority: 'default',
    defaultStrategy: 'blue-green',
    strategies: { 'blue-green': standardStrategy() },
    triggers: [],
    limitations: [],
    ...overrides,
  };
}

const catalog: Catalog = {
  plans: new Map([
    ['checkout', plan('checkout')],
    ['orphan', plan('orphan', { authority: 'missing' })],
  ]),
  policies: new Map([['default', standardPolicy()]]),
};
const rolesOf = (user: string, policy: AuthorityPolicy) =>
  Promise.resolve(resolveRoles(policy, user, new Map([['S0ONCALL', [USERS.oncall]]])));

let store: MemoryStore;
let freezes: FreezeService;
let clock: number;
beforeEach(() => {
  store = new MemoryStore();
  clock = T0;
  freezes = new FreezeService({ store, catalog: () => catalog, rolesOf, now: () => clock });
});

async function activeRollback(id: string, final = false): Promise<void> {
  const rollback = rollbackAt(id, 1, { service: 'checkout', state: final ? 'resolved' : 'declared', final });
  await store.commit({ rollback, expectedVersion: 0, audit: [], effects: [], timers: [] });
  await store.acquireActiveLock('checkout', 'production', id);
}

describe('FreezeService', () => {
  it('lets a role of the policy freeze and lift; CI is told who and why', async () => {
    const on = await freezes.freeze({ service: 'checkout', by: USERS.lead, reason: 'release train' });
    expect(on).toEqual({
      ok: true,
      freeze: {
        service: 'checkout',
        environment: 'production',
        by: USERS.lead,
        reason: 'release train',
        at: T0,
      },
    });
    expect(await freezes.status('checkout', 'production')).toMatchObject({
      frozen: true,
      reason: `frozen by ${USERS.lead}: release train`,
    });
    expect(await freezes.status('checkout', 'staging')).toEqual({ frozen: false });
    const again = await freezes.freeze({ service: 'checkout', by: USERS.oncall });
    expect(again).toMatchObject({ ok: false, code: 'already_frozen' });
    expect(!again.ok && again.message).toContain('since 2026-11-23T06:00:00.000Z');

    expect(await freezes.lift({ service: 'checkout', by: USERS.oncall })).toMatchObject({ ok: true });
    expect(await freezes.status('checkout', 'production')).toEqual({ frozen: false });
    const twice = await freezes.lift({ service: 'checkout', by: USERS.oncall });
    expect(twice).toEqual({
      ok: false,
      code: 'not_frozen',
      message: 'checkout in production is not frozen.',
    });
  });

  it('refuses with a sentence: no role, unknown service or environment, missing policy', async () => {
    const outsider = await freezes.freeze({ service: 'checkout', by: USERS.outsider });
    expect(outsider).toMatchObject({ ok: false, code: 'not_allowed' });
    expect(!outsider.ok && outsider.message).toBe(
      'only people with a role in the "default" authority policy (on-call-engineer, team-lead, engineering-manager, vp-engineering, cto) may freeze checkout deploys; you hold none of them.',
    );
    expect(await store.listDocs(COLLECTIONS.freezes)).toEqual([]);
    const typo = await freezes.freeze({ service: 'chekout', by: USERS.lead });
    expect(typo).toMatchObject({ ok: false, code: 'unknown_service' });
    expect(!typo.ok && typo.message).toContain('did you mean `checkout`');
    expect(await freezes.freeze({ service: 'checkout', environment: 'qa', by: USERS.lead })).toMatchObject({
      code: 'unknown_environment',
    });
    expect(await freezes.freeze({ service: 'orphan', by: USERS.lead })).toMatchObject({
      code: 'unknown_policy',
    });
  });

  it('refuses, unchanged, when the roles cannot be read now', async () => {
    const blind = new FreezeService({
      store,
      catalog: () => catalog,
      rolesOf: () => Promise.reject(new RoleLookupError(new Error('fatal_error'))),
      now: () => clock,
    });
    for (const service of ['checkout', ALL]) {
      expect(await blind.freeze({ service, by: USERS.oncall })).toEqual({
        ok: false,
        code: 'role_unavailable',
        message: new RoleLookupError().userMessage,
      });
    }
    expect(await store.listDocs(COLLECTIONS.freezes)).toEqual([]);
  });

  it('freezes every service only in an environment some plan covers', async () => {
    const typo = await freezes.freeze({ service: ALL, environment: 'prodution', by: USERS.lead });
    expect(typo).toEqual({
      ok: false,
      code: 'unknown_environment',
      message:
        'no plan covers the environment "prodution" (did you mean "production"?); plans cover production, staging.',
    });
    const short = await freezes.freeze({ service: ALL, environment: 'prod', by: USERS.lead });
    expect(!short.ok && short.message).toBe(
      'no plan covers the environment "prod"; plans cover production, staging.',
    );
    expect(await store.listDocs(COLLECTIONS.freezes)).toEqual([]);
    expect(await freezes.freeze({ service: ALL, environment: 'staging', by: USERS.lead })).toMatchObject({
      ok: true,
    });
    expect(await freezes.status('checkout', 'staging')).toMatchObject({ frozen: true });
    expect(await freezes.freeze({ service: ALL, by: USERS.lead })).toMatchObject({ ok: true });
  });

  it('combines an active rollback with a manual freeze, and forgets a rollback that has ended', async () => {
    await activeRollback('rb-1');
    expect(await freezes.status('checkout', 'production')).toEqual({
      frozen: true,
      reason: 'rollback rb-1 is declared',
      rollbackId: 'rb-1',
    });
    const lift = await freezes.lift({ service: 'checkout', by: USERS.lead });
    expect(!lift.ok && lift.message).toContain('frozen because rollback rb-1 is declared');
    clock += 1_000;
    await freezes.freeze({
      service: 'checkout',
      environment: 'staging',
      by: USERS.lead,
      reason: 'drill week',
    });
    await freezes.freeze({ service: 'checkout', by: USERS.lead, reason: 'release' });
    expect((await freezes.status('checkout', 'production')) as unknown).toMatchObject({
      reason: `rollback rb-1 is declared; frozen by ${USERS.lead}: release`,
      rollbackId: 'rb-1',
    });
    expect((await freezes.list()).map((f) => [f.environment, f.kind, f.rollbackId ?? null])).toEqual([
      ['production', 'rollback', 'rb-1'],
      ['production', 'manual', null],
      ['staging', 'manual', null],
    ]);

    const ended = new MemoryStore();
    freezes = new FreezeService({ store: ended, catalog: () => catalog, rolesOf, now: () => clock });
    store = ended;
    await activeRollback('rb-2', true);
    expect(await freezes.status('checkout', 'production')).toEqual({ frozen: false });
  });

  it('skips a freeze document it cannot read instead of failing', async () => {
    await store.putDoc(COLLECTIONS.freezes, 'checkout/production', { nonsense: true }, 0);
    expect(await freezes.list()).toEqual([]);
    expect(await freezes.status('checkout', 'production')).toEqual({ frozen: false });
  });
});
