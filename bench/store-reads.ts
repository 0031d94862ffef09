/**
 * Store reads per click: how many times the bot reads the rollback record, its audit and other
 * documents between one click on Approve and the rollback waiting at its manual check (two command
 * steps run in between, six transitions in all); then for one click alone, Reject on a second
 * rollback (one transition: its card, its thread notice, its incident bookkeeping).
 *
 *   npx tsx bench/store-reads.ts
 *
 * The real bot (createBot) on the memory store, wrapped to count calls by method and by the module
 * that made them; Slack is the simulator. Counts, not times: they do not depend on the machine.
 */
import { createBot } from '../src/wiring/bot.js';
import { loadManifests } from '../src/config/manifests.js';
import { defaultRegistry } from '../src/executors/default-registry.js';
import { silentLogger } from '../src/lib/logging.js';
import { SlackDriver, startSlackSimulator } from '../src/simulator/index.js';
import { decodeButtonValue } from '../src/slack/blocks/kit.js';
import { MemoryStore, type Store } from '../src/store/index.js';

const READS = new Set(['getRollback', 'readAudit', 'getDoc', 'listDocs', 'listRollbacks', 'listDeployments']);
const CHANNEL = 'C0INCIDENTS';

const counts = new Map<string, number>();
const callers = new Map<string, number>();
function count(method: string): void {
  counts.set(method, (counts.get(method) ?? 0) + 1);
  const frame = new Error().stack
    ?.split('\n')
    .slice(3)
    .find((line) => line.includes('/src/') && !line.includes('/src/store/'));
  const where = /\/src\/([^:]+):(\d+)/.exec(frame ?? '');
  const key = `${method} <- ${where ? `${where[1]}:${where[2]}` : '?'}`;
  callers.set(key, (callers.get(key) ?? 0) + 1);
}

function counting(store: Store): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      const name = String(property);
      return (...args: unknown[]) => {
        if (READS.has(name)) count(name);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

function snapshot(): Record<string, number> {
  return Object.fromEntries([...counts.entries()].sort());
}

async function until(probe: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const sim = await startSlackSimulator({
  botToken: 'xoxb-bench',
  botUserId: 'UBOT',
  teamId: 'T0BENCH',
  channels: [CHANNEL],
  users: { U0DECL: { name: 'decl' }, U0ONCALL1: { name: 'oncall' } },
  usergroups: { S0ONCALL: ['U0ONCALL1'] },
});
const raw = new MemoryStore();
const store = counting(raw);
const registry = defaultRegistry();
const manifests = await loadManifests(
  new URL('../test/fixtures/e2e/plans.yaml', import.meta.url).pathname,
  registry,
);
const bot = await createBot({
  slack: { botToken: 'xoxb-bench', signingSecret: 'bench-secret', apiUrl: sim.url, retries: 0 },
  apiToken: 'bench-api',
  alertToken: 'bench-alert',
  log: silentLogger,
  store,
  catalog: () => manifests,
  registry,
  env: { E2E_FAIL_SWITCH: '' },
});
const port = await bot.start(0, '127.0.0.1');
const driver = new SlackDriver({
  botUrl: `http://127.0.0.1:${port}/slack/events`,
  signingSecret: 'bench-secret',
  simulator: sim,
});

try {
  await raw.recordDeployment({
    service: 'checkout',
    environment: 'production',
    version: 'v1.5.0',
    at: Date.now() - 60_000,
  });
  const declared = await driver.slashCommand({
    user: 'U0DECL',
    channel: CHANNEL,
    text: 'checkout --env production --to v1.4.1 --reason "bench"',
    expectResponses: 1,
  });
  const id = /rb-[0-9a-f]+/.exec(JSON.stringify(declared.responses))?.[0];
  if (!id) throw new Error('no rollback declared');
  const card = () => sim.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id));
  await until(() => card() !== undefined);
  await new Promise((resolve) => setTimeout(resolve, 300));
  counts.clear();
  callers.clear();

  await driver.click({
    user: 'U0ONCALL1',
    actionId: 'rollback:approve',
    value: (value) => decodeButtonValue(value)?.rollbackId === id,
  });
  await until(async () => (await raw.getRollback(id))?.state === 'validating');
  await until(() => JSON.stringify(card()?.blocks).includes('rollback:check-done'));
  await new Promise((resolve) => setTimeout(resolve, 300));

  const transitions = (await raw.readAudit(id)).filter((entry) => entry.event !== 'DECLARE').length;
  const all = snapshot();
  const total = Object.values(all).reduce((sum, n) => sum + n, 0);
  console.log(`approve -> 2 steps -> validating: ${transitions} transitions, ${total} store reads`);
  console.log(`  by method: ${JSON.stringify(all)}`);
  console.log(`  reads per transition: ${(total / transitions).toFixed(1)}`);
  if (process.env.STORE_READS_CALLERS) {
    for (const [key, n] of [...callers.entries()].sort((a, b) => b[1] - a[1]))
      console.log(`    ${n}  ${key}`);
  }

  // One click alone: Reject on a fresh rollback.
  const second = await driver.slashCommand({
    user: 'U0DECL',
    channel: CHANNEL,
    text: 'checkout --env staging --to v1.4.1 --reason "bench"',
    expectResponses: 1,
  });
  const other = /rb-[0-9a-f]+/.exec(JSON.stringify(second.responses))?.[0];
  if (!other) throw new Error('no second rollback declared');
  const otherCard = () => sim.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes(other));
  await until(() => otherCard() !== undefined);
  await new Promise((resolve) => setTimeout(resolve, 300));
  counts.clear();
  callers.clear();
  await driver.click({
    user: 'U0ONCALL1',
    actionId: 'rollback:reject',
    value: (value) => decodeButtonValue(value)?.rollbackId === other,
  });
  await until(() => JSON.stringify(otherCard()?.blocks).includes('rejected'));
  await new Promise((resolve) => setTimeout(resolve, 300));
  const click = snapshot();
  const clickTotal = Object.values(click).reduce((sum, n) => sum + n, 0);
  console.log(`one click (Reject): ${clickTotal} store reads ${JSON.stringify(click)}`);
  if (process.env.STORE_READS_CALLERS) {
    for (const [key, n] of [...callers.entries()].sort((a, b) => b[1] - a[1]))
      console.log(`    ${n}  ${key}`);
  }
} finally {
  await bot.stop(1_000);
  await sim.stop();
}
