/**
 * Two replicas of the bot as shipped (`src/main.ts` in child processes) behind one round-robin load
 * balancer, over a Redis of their own, with Slack simulated: what the multi-replica tests start.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startSlackSimulator, SlackDriver, type SlackSimulator } from '../../src/simulator/index.js';
import { DEFAULT_REDIS_PREFIX } from '../../src/store/index.js';
import { createRedisStore, type RedisStore } from '../../src/store/redis/redis-store.js';
import { ALERT_TOKEN, BOT_TOKEN, CHANNEL, PEOPLE, SIGNING_SECRET } from './bot-harness.js';
import { startBotReplica, type BotReplica } from './bot-replica.js';
import { startStandaloneRedis } from './redis-servers.js';
import { startRoundRobinProxy, type RoundRobinProxy } from './round-robin-proxy.js';

export interface ReplicaPair {
  replicas: BotReplica[];
  proxy: RoundRobinProxy;
  sim: SlackSimulator;
  /** The replicas' store, for the test to read what they wrote. */
  store: RedisStore;
  /** Sends Slack's requests through the balancer. */
  driver: SlackDriver;
  /** A directory of the test's own (plan files, files the steps write). */
  dir: string;
  stop(): Promise<void>;
}

/** `plans` writes the plan file in the test's directory and answers its path; `env` adds to theirs. */
export async function startReplicaPair(options: {
  plans: (dir: string) => Promise<string>;
  env?: (dir: string) => Record<string, string>;
}): Promise<ReplicaPair> {
  const redis = await startStandaloneRedis();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rollback-bot-replicas-'));
  const sim = await startSlackSimulator({
    botToken: BOT_TOKEN,
    botUserId: 'UBOT',
    teamId: 'T0E2E',
    channels: [CHANNEL],
    users: Object.fromEntries(Object.values(PEOPLE).map((id) => [id, { name: id.toLowerCase() }])),
    usergroups: { S0ONCALL: [PEOPLE.oncall] },
  });
  const env = {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: sim.url,
    REDIS_URL: redis.url,
    ROLLBACK_CONFIG: await options.plans(dir),
    ALERT_WEBHOOK_TOKEN: ALERT_TOKEN,
    LOG_LEVEL: 'info',
    ...options.env?.(dir),
  };
  const replicas = await Promise.all([startBotReplica(env), startBotReplica(env)]);
  const proxy = await startRoundRobinProxy(() => replicas.map((replica) => replica.port));
  const store = await createRedisStore({ url: redis.url, prefix: DEFAULT_REDIS_PREFIX });
  const driver = new SlackDriver({
    botUrl: `${proxy.url}/slack/events`,
    signingSecret: SIGNING_SECRET,
    simulator: sim,
  });
  return {
    replicas,
    proxy,
    sim,
    store,
    driver,
    dir,
    async stop() {
      await Promise.all(replicas.map((replica) => replica.kill('SIGKILL')));
      await proxy.stop();
      await sim.stop();
      await store.close();
      await redis.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
