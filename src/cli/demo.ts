/**
 * `rollback-bot demo`: plays a whole rollback on this machine through Slack's wire format, with no
 * Slack account, no network and no Redis. The Slack simulator stands in for Slack; the real bot
 * (Bolt, engine, executors) runs over an in-memory store with the plans of `manifests/demo/`
 * (harmless local commands as steps); the simulator's driver types the slash command and clicks the
 * buttons as people would. At the end the channel is printed as a person reads it, then the
 * rollback's timeline from the bot's HTTP API.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createBot, type Bot } from '../wiring/bot.js';
import { loadManifests } from '../config/manifests.js';
import { formatProblem } from '../config/problem.js';
import { defaultRegistry } from '../executors/default-registry.js';
import { silentLogger } from '../lib/logging.js';
import { ACTION_IDS, decodeButtonValue } from '../slack/blocks/kit.js';
import {
  channelTranscript,
  SlackDriver,
  startSlackSimulator,
  type SlackSimulator,
} from '../simulator/index.js';
import { MemoryStore } from '../store/index.js';
import type { CliIo } from './io.js';

const PLAN_DIR = fileURLToPath(new URL('../../manifests/demo/', import.meta.url));
const SERVICE = 'demo-service';
const ENVIRONMENT = 'production';
const PEOPLE = {
  declarer: 'U0DECL',
  oncall: 'U0ONCALL1',
  outsider: 'U0NOBODY',
} as const;
const COMMAND = `${SERVICE} --to v1.4.1 --reason "5xx spike after v1.5.0"`;
const SIGNING_SECRET = 'demo-signing-secret';
const BOT_TOKEN = 'xoxb-demo';
const WAIT_MS = 20_000;

/** HH:MM:SS (UTC, as the transcript shows times) of an ISO time or epoch ms. */
export function clock(at: string | number): string {
  return new Date(at).toISOString().slice(11, 19);
}

interface ApiRollback {
  id: string;
  state: string;
  timeline: Array<{ at: string; event: string; by: string; state: string }>;
}

export async function runDemo(io: CliIo): Promise<number> {
  const registry = defaultRegistry();
  const manifests = await loadManifests(PLAN_DIR, registry, { cwd: io.cwd });
  const errors = manifests.problems.filter((p) => p.severity === 'error');
  const plan = manifests.plans.get(SERVICE);
  const policy = plan ? manifests.policies.get(plan.authority) : undefined;
  if (errors.length > 0 || !plan || !policy) {
    for (const problem of errors) io.err(`${formatProblem(problem)}\n`);
    io.err(`rollback-bot demo: ${PLAN_DIR} does not hold a usable ${SERVICE} plan\n`);
    return 1;
  }
  const channel = plan.channel;
  // The on-call user is in every user group the demo policy names (the on-call rota).
  const usergroups = Object.fromEntries(
    policy.roles.flatMap((role) =>
      role.members.usergroup === undefined ? [] : [[role.members.usergroup, [PEOPLE.oncall]]],
    ),
  );

  io.out(`rollback-bot demo: ${SERVICE} in ${ENVIRONMENT}, plan ${plan.name} / ${plan.defaultStrategy}\n`);
  io.out(
    `(the real bot over HTTP against the local Slack simulator, in-memory store, steps are harmless local commands)\n\n`,
  );

  let sim: SlackSimulator | undefined;
  let bot: Bot | undefined;
  const store = new MemoryStore();
  let finalState = 'missing';
  try {
    sim = await startSlackSimulator({
      botToken: BOT_TOKEN,
      botUserId: 'UBOT',
      teamId: 'T0DEMO',
      channels: [channel],
      channelNames: { [channel]: 'incidents' },
      users: Object.fromEntries(Object.values(PEOPLE).map((id) => [id, { name: id }])),
      usergroups,
    });
    const apiToken = randomBytes(16).toString('hex');
    bot = await createBot({
      slack: { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, apiUrl: sim.url, retries: 0 },
      apiToken,
      store,
      catalog: () => manifests,
      registry,
      env: io.env,
      log: silentLogger,
    });
    const port = await bot.start(0, '127.0.0.1');
    const base = `http://127.0.0.1:${port}`;
    const driver = new SlackDriver({
      botUrl: `${base}/slack/events`,
      signingSecret: SIGNING_SECRET,
      simulator: sim,
    });
    const step = (text: string): void => {
      io.out(`▸ ${text}\n`);
    };

    // The deploy pipeline told the bot what runs now, so the rollback knows where it comes from.
    await store.recordDeployment({
      service: SERVICE,
      environment: ENVIRONMENT,
      version: 'v1.5.0',
      at: Date.now() - 10 * 60_000,
    });

    step(`${PEOPLE.declarer} types: /rollback ${COMMAND}`);
    const command = await driver.slashCommand({
      user: PEOPLE.declarer,
      channel,
      text: COMMAND,
      expectResponses: 1,
    });
    const answer = command.responses.map((r) => r.text).join('\n');
    const id = /rb-[0-9a-f]+/.exec(answer)?.[0];
    if (command.status !== 200 || id === undefined) {
      io.err(
        `rollback-bot demo: the command was not answered as expected (HTTP ${command.status}): ${answer}\n`,
      );
      return 1;
    }
    const ofThisRollback = (value: string | undefined): boolean =>
      decodeButtonValue(value)?.rollbackId === id;
    const card = () => sim?.messages(channel).find((m) => JSON.stringify(m.blocks).includes(id));
    const state = async (): Promise<string> => (await store.getRollback(id))?.state ?? 'missing';
    await waitFor(card, Boolean, 'the status card');

    step(`${PEOPLE.outsider} clicks Approve`);
    await driver.click({ user: PEOPLE.outsider, actionId: ACTION_IDS.approve, value: ofThisRollback });
    await waitFor(
      () => sim?.ephemerals({ user: PEOPLE.outsider }).length ?? 0,
      (n) => n > 0,
      'the refusal shown to the outsider',
    );

    step(`${PEOPLE.oncall} clicks Approve`);
    await driver.click({ user: PEOPLE.oncall, actionId: ACTION_IDS.approve, value: ofThisRollback });
    await waitFor(state, (s) => s === 'validating' || isFinal(s), 'validation');
    if ((await state()) === 'validating') {
      await waitFor(
        () => JSON.stringify(card()?.blocks ?? []),
        (blocks) => blocks.includes(ACTION_IDS.checkDone),
        'the manual check on the card',
      );
      step(`${PEOPLE.oncall} clicks Mark done on the manual check`);
      await driver.click({ user: PEOPLE.oncall, actionId: ACTION_IDS.checkDone, value: ofThisRollback });
    }
    finalState = await waitFor(state, isFinal, 'the end of the rollback').catch(() => state());
    // The last notices and the card's redraw follow the final transition through the outbox: the
    // card says the final state, and an ending that ran steps has its post-mortem in the thread.
    await waitFor(
      () => JSON.stringify(card()?.blocks ?? []),
      (blocks) => blocks.includes(`*State*`) && blocks.includes(finalState),
      'the final card',
    ).catch(() => undefined);
    if (POST_MORTEM_ENDINGS.has(finalState)) {
      await waitFor(
        () => {
          const parent = card();
          return parent === undefined ? [] : (sim?.replies(channel, parent.ts) ?? []);
        },
        (replies) => replies.some((reply) => JSON.stringify(reply.blocks).includes('Post-Mortem')),
        'the post-mortem',
      ).catch(() => undefined);
    }
    await pause(300);

    io.out(`\n#incidents (${channel}) as people see it, with every ephemeral and who saw it:\n\n`);
    io.out(`${readable(channelTranscript(sim, channel), sim)}\n`);

    const api = await fetch(`${base}/api/rollbacks/${id}`, {
      headers: { authorization: `Bearer ${apiToken}` },
    });
    const rollback = (await api.json()) as ApiRollback;
    finalState = rollback.state;
    io.out(`\nTimeline of ${id} from GET /api/rollbacks/${id} (final state: ${rollback.state})\n`);
    for (const entry of rollback.timeline) {
      io.out(`  ${clock(entry.at)}  ${entry.event.padEnd(16)} ${entry.by.padEnd(10)} → ${entry.state}\n`);
    }
  } catch (error) {
    io.err(`rollback-bot demo: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    await bot?.stop(1_000).catch(() => undefined);
    await store.close();
    await sim?.stop().catch(() => undefined);
  }
  return finalState === 'resolved' ? 0 : 1;
}

/**
 * What Slack's client shows for the mrkdwn tokens the transcript leaves as sent: `<@U1>` as @name,
 * `<!subteam^S1>` as @S1, `<#C1>` as #name and a `<!date^...>` as its time (UTC, like the transcript).
 */
export function readable(text: string, sim: SlackSimulator): string {
  const { users, channelNames } = sim.config;
  return text
    .replace(/<@(\w+)(?:\|[^>]*)?>/g, (_, id: string) => `@${users[id]?.name ?? id}`)
    .replace(/<!subteam\^(\w+)(?:\|([^>]*))?>/g, (_, id: string, handle?: string) => `@${handle ?? id}`)
    .replace(
      /<#(\w+)(?:\|([^>]*))?>/g,
      (_, id: string, name?: string) => `#${name ?? channelNames[id] ?? id}`,
    )
    .replace(/<!date\^(\d+)\^[^|>]*(?:\|[^>]*)?>/g, (_, seconds: string) => clock(Number(seconds) * 1_000));
}

const FINAL = new Set(['resolved', 'rejected', 'cancelled', 'aborted', 'failed', 'expired']);
/** Endings after which the thread gets a post-mortem draft (the steps ran). */
const POST_MORTEM_ENDINGS: ReadonlySet<string> = new Set(['resolved', 'failed', 'aborted']);
function isFinal(state: string): boolean {
  return FINAL.has(state);
}

async function waitFor<T>(
  probe: () => T | Promise<T>,
  accept: (value: T) => boolean,
  what: string,
  timeoutMs = WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${timeoutMs} ms`);
    await pause(25);
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
