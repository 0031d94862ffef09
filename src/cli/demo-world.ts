/**
 * What `rollback-bot demo` plays on, in the terminal and in the browser alike: the plans of
 * `manifests/demo/` (harmless local commands as steps), the Slack simulator with the demo's people,
 * the real bot over HTTP against it with an in-memory store, and the simulator's driver.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Catalog } from '../app/rollback-service.js';
import { loadManifests } from '../config/manifests.js';
import { formatProblem } from '../config/problem.js';
import type { AuthorityPolicy, RollbackPlan } from '../domain/plan.js';
import { defaultRegistry } from '../executors/default-registry.js';
import type { ExecutorRegistry } from '../executors/registry.js';
import { silentLogger } from '../lib/logging.js';
import { SlackDriver, startSlackSimulator, type SlackSimulator } from '../simulator/index.js';
import { MemoryStore } from '../store/index.js';
import { createBot, type Bot } from '../wiring/bot.js';
import type { CliIo } from './io.js';

export const PLAN_DIR = fileURLToPath(new URL('../../manifests/demo/', import.meta.url));
export const SERVICE = 'demo-service';
export const ENVIRONMENT = 'production';
const SIGNING_SECRET = 'demo-signing-secret';
const BOT_TOKEN = 'xoxb-demo';

/**
 * The demo workspace's people. Their user names are their ids (the terminal transcript prints
 * them so); the web page shows their real names. The team lead is the policy's `team-lead`.
 */
export const PEOPLE = {
  declarer: { id: 'U0DECL', realName: 'Dana', role: 'developer' },
  oncall: { id: 'U0ONCALL1', realName: 'Omar', role: 'on-call engineer' },
  lead: { id: 'U0LEAD1', realName: 'Lena', role: 'team lead' },
  outsider: { id: 'U0NOBODY', realName: 'Otto', role: 'outsider, holds no role' },
} as const;

/**
 * The demo plan's steps fail once when the file this variable names exists (and remove it): the
 * browser demo's "fail the next step" switch. The terminal demo leaves it empty.
 */
export const FAIL_SWITCH_VARIABLE = 'DEMO_FAIL_NEXT_STEP';

export interface DemoCatalog {
  manifests: Catalog;
  registry: ExecutorRegistry;
  plan: RollbackPlan;
  policy: AuthorityPolicy;
}

/** The demo's plan and policy; undefined (the problems printed) when `manifests/demo/` is unusable. */
export async function loadDemoCatalog(io: CliIo): Promise<DemoCatalog | undefined> {
  const registry = defaultRegistry();
  const manifests = await loadManifests(PLAN_DIR, registry, { cwd: io.cwd });
  const errors = manifests.problems.filter((p) => p.severity === 'error');
  const plan = manifests.plans.get(SERVICE);
  const policy = plan ? manifests.policies.get(plan.authority) : undefined;
  if (errors.length > 0 || !plan || !policy) {
    for (const problem of errors) io.err(`${formatProblem(problem)}\n`);
    io.err(`rollback-bot demo: ${PLAN_DIR} does not hold a usable ${SERVICE} plan\n`);
    return undefined;
  }
  return { manifests, registry, plan, policy };
}

export interface DemoWorld {
  channel: string;
  sim: SlackSimulator;
  bot: Bot;
  store: MemoryStore;
  driver: SlackDriver;
  /** The bot's HTTP base, `http://127.0.0.1:<port>`. */
  base: string;
  apiToken: string;
  /** ALERT_WEBHOOK_TOKEN of this bot: `Authorization: Bearer` on `POST /alerts/*`. */
  alertToken: string;
  stop(): Promise<void>;
}

/** Starts the simulator and the bot; `failSwitch` is the file of FAIL_SWITCH_VARIABLE, if any. */
export async function startDemoWorld(
  io: CliIo,
  catalog: DemoCatalog,
  options: { failSwitch?: string } = {},
): Promise<DemoWorld> {
  const { plan, policy, manifests, registry } = catalog;
  const channel = plan.channel;
  // The on-call user is in every user group the demo policy names (the on-call rota).
  const usergroups = Object.fromEntries(
    policy.roles.flatMap((role) =>
      role.members.usergroup === undefined ? [] : [[role.members.usergroup, [PEOPLE.oncall.id]]],
    ),
  );
  const store = new MemoryStore();
  let sim: SlackSimulator | undefined;
  let bot: Bot | undefined;
  const stop = async (): Promise<void> => {
    await bot?.stop(1_000).catch(() => undefined);
    await store.close();
    await sim?.stop().catch(() => undefined);
  };
  try {
    sim = await startSlackSimulator({
      botToken: BOT_TOKEN,
      botUserId: 'UBOT',
      teamId: 'T0DEMO',
      channels: [channel],
      channelNames: { [channel]: 'incidents' },
      users: Object.fromEntries(
        Object.values(PEOPLE).map((p) => [p.id, { name: p.id, real_name: p.realName }]),
      ),
      usergroups,
    });
    const apiToken = randomBytes(16).toString('hex');
    const alertToken = randomBytes(16).toString('hex');
    bot = await createBot({
      slack: { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, apiUrl: sim.url, retries: 0 },
      apiToken,
      alertToken,
      store,
      catalog: () => manifests,
      registry,
      env: { ...io.env, [FAIL_SWITCH_VARIABLE]: options.failSwitch ?? '' },
      log: silentLogger,
    });
    const port = await bot.start(0, '127.0.0.1');
    const base = `http://127.0.0.1:${port}`;
    const driver = new SlackDriver({
      botUrl: `${base}/slack/events`,
      signingSecret: SIGNING_SECRET,
      simulator: sim,
    });
    return { channel, sim, bot, store, driver, base, apiToken, alertToken, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
