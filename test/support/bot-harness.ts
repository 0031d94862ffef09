/**
 * The whole bot over real HTTP against the Slack simulator: real Bolt, real Redis (or memory), real
 * executors, a clock the test can move. Each harness gets its own Redis key prefix, unless it is a
 * restart: given the prefix (and the Slack simulator) of a harness stopped with `keepData`, it is
 * the same bot started again.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createBot, type Bot, type BotOptions } from '../../src/wiring/bot.js';
import { loadManifests } from '../../src/config/manifests.js';
import { defaultRegistry } from '../../src/executors/default-registry.js';
import type { ExecutorRegistry } from '../../src/executors/registry.js';
import { silentLogger } from '../../src/lib/logging.js';
import { decodeButtonValue } from '../../src/slack/blocks/kit.js';
import { SlackDriver, startSlackSimulator, type SlackSimulator } from '../../src/simulator/index.js';
import { createRedisStore } from '../../src/store/redis/redis-store.js';
import type { Store } from '../../src/store/store.js';
import { deleteKeysWithPrefix } from './redis-cleanup.js';

export const SIGNING_SECRET = 'e2e-signing-secret';
export const BOT_TOKEN = 'xoxb-e2e';
export const CHANNEL = 'C0INCIDENTS';
export const ALERT_TOKEN = 'e2e-alert-token';
export const API_TOKEN = 'e2e-api-token';
export const PEOPLE = {
  declarer: 'U0DECL',
  oncall: 'U0ONCALL1',
  lead: 'U0LEAD1',
  outsider: 'U0NOBODY',
} as const;

export interface BotHarness {
  bot: Bot;
  sim: SlackSimulator;
  driver: SlackDriver;
  store: Store;
  /** The Redis key prefix of this harness (every key the bot wrote starts with it). */
  prefix: string;
  redisUrl: string;
  clock: { now: number };
  port: number;
  /** `keepData`: the Redis keys (and a simulator that was given) stay, for a harness started again. */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

export async function startBotHarness(
  options: {
    env?: Record<string, string>;
    planFile?: string;
    /** Executors (default: the bot's own registry). */
    registry?: ExecutorRegistry;
    incidentStart?: number;
    /** The Redis the bot uses (default TEST_REDIS_URL, else the machine's on 6379). */
    redisUrl?: string;
    /** A restart: the key prefix of a harness stopped with `keepData` (default: a fresh one). */
    prefix?: string;
    /** The Slack workspace to keep using (a restart's); not stopped with this harness. */
    sim?: SlackSimulator;
    /**
     * Stakeholder targets (SNS publisher, status page API) and how their outbox retries; the logger
     * and its secret mask; how long a click waits for Slack's user groups; how often incident
     * threads that fell behind are synced again.
     */
    bot?: Pick<
      BotOptions,
      | 'sns'
      | 'statuspage'
      | 'snsReceiver'
      | 'secrets'
      | 'roleLookupWaitMs'
      | 'stakeholderOutbox'
      | 'incidentSweepMs'
    > &
      Partial<Pick<BotOptions, 'log'>>;
  } = {},
): Promise<BotHarness> {
  const clock = { now: Date.now() };
  const ownSim = options.sim === undefined;
  const sim =
    options.sim ??
    (await startSlackSimulator({
      botToken: BOT_TOKEN,
      botUserId: 'UBOT',
      teamId: 'T0E2E',
      channels: [CHANNEL, 'C0ELSEWHERE'],
      users: Object.fromEntries(Object.values(PEOPLE).map((id) => [id, { name: id.toLowerCase() }])),
      usergroups: { S0ONCALL: [PEOPLE.oncall] },
    }));
  const url = options.redisUrl ?? process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  const prefix = options.prefix ?? `rollback-bot-test:e2e:${process.pid}-${randomBytes(4).toString('hex')}`;
  const store = await createRedisStore({ url, prefix });
  const registry = options.registry ?? defaultRegistry();
  const manifests = await loadManifests(options.planFile ?? 'test/fixtures/e2e/plans.yaml', registry);
  const errors = manifests.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) throw new Error(`e2e plans do not validate: ${JSON.stringify(errors)}`);
  const bot = await createBot({
    slack: { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, apiUrl: sim.url, retries: 0 },
    apiToken: API_TOKEN,
    alertToken: ALERT_TOKEN,
    log: silentLogger,
    ...options.bot,
    store,
    catalog: () => manifests,
    registry,
    env: { E2E_FAIL_SWITCH: '', ...options.env },
    now: () => clock.now,
    leaseTtlMs: 2_000,
  });
  const port = await bot.start(0, '127.0.0.1');
  const driver = new SlackDriver({
    botUrl: `http://127.0.0.1:${port}/slack/events`,
    signingSecret: SIGNING_SECRET,
    simulator: sim,
  });
  return {
    bot,
    sim,
    driver,
    store,
    prefix,
    redisUrl: url,
    clock,
    port,
    async stop(stopping = {}) {
      await bot.stop(1_000);
      await store.close();
      if (stopping.keepData) return;
      if (ownSim) await sim.stop();
      const admin = new Redis(url);
      await deleteKeysWithPrefix(admin, prefix);
      await admin.quit();
    },
  };
}

/** A predicate for the `value` of a button naming this rollback (and step or check). */
export const forRollback =
  (id: string) =>
  (value: string | undefined): boolean =>
    decodeButtonValue(value)?.rollbackId === id;

export async function eventually<T>(
  probe: () => T | Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline)
      throw new Error(
        `condition not met in ${timeoutMs} ms; last value: ${((JSON.stringify(value) as string | undefined) ?? 'undefined').slice(0, 2_000)}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * `/rollback <text>` typed by the declarer in the incident channel: the new rollback's id, once its
 * card is posted. Throws with the bot's answer when it declared nothing.
 */
export async function declareBySlash(h: Pick<BotHarness, 'driver' | 'sim'>, text: string): Promise<string> {
  const command = await h.driver.slashCommand({
    user: PEOPLE.declarer,
    channel: CHANNEL,
    text,
    expectResponses: 1,
  });
  const answer = JSON.stringify(command.responses);
  const id = /rb-[0-9a-f]+/.exec(answer)?.[0];
  if (!id) throw new Error(`no rollback id in the answer: ${answer}`);
  await eventually(() => h.sim.allMessages().find((m) => JSON.stringify(m.blocks).includes(id)), Boolean);
  return id;
}
