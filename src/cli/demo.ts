/**
 * `rollback-bot demo`: plays a whole rollback on this machine through Slack's wire format, with no
 * Slack account, no network and no Redis. The Slack simulator stands in for Slack; the real bot
 * (Bolt, engine, executors) runs over an in-memory store with the plans of `manifests/demo/`
 * (harmless local commands as steps); the simulator's driver types the slash command and clicks the
 * buttons as people would. At the end the channel is printed as a person reads it, then the
 * rollback's timeline from the bot's HTTP API. `demo --serve` shows the same world in a browser
 * instead, for people to click through themselves (demo-serve.ts).
 */
import { ACTION_IDS, decodeButtonValue } from '../slack/blocks/kit.js';
import { channelTranscript, type SlackSimulator } from '../simulator/index.js';
import { DEFAULT_PORT, interrupted, serveDemo } from './demo-serve.js';
import {
  ENVIRONMENT,
  loadDemoCatalog,
  PEOPLE,
  SERVICE,
  startDemoWorld,
  type DemoWorld,
} from './demo-world.js';
import type { CliIo } from './io.js';

const COMMAND = `${SERVICE} --to v1.4.1 --reason "5xx spike after v1.5.0"`;
const WAIT_MS = 20_000;

export const DEMO_USAGE = `usage: rollback-bot demo [--serve [--port N]]

  (no option)   play a whole rollback and print the channel and the timeline
  --serve       serve the channel as a web page to click through yourself (Ctrl-C stops)
  --port N      the page's port (default ${DEFAULT_PORT}; 0: any free port)
`;

/** HH:MM:SS (UTC, as the transcript shows times) of an ISO time or epoch ms. */
export function clock(at: string | number): string {
  return new Date(at).toISOString().slice(11, 19);
}

interface ApiRollback {
  id: string;
  state: string;
  timeline: Array<{ at: string; event: string; by: string; state: string }>;
}

/** `demo [--serve [--port N]]`: the terminal journey, or the browser demo. */
export async function runDemo(args: readonly string[], io: CliIo): Promise<number> {
  const options = parseDemoArgs(args);
  if (typeof options === 'string') {
    io.err(`rollback-bot demo: ${options}\n\n${DEMO_USAGE}`);
    return 2;
  }
  if (options.serve) return serveDemo(io, { port: options.port, until: interrupted() });
  return playDemo(io);
}

/** The options of `demo`, or what is wrong with them. */
export function parseDemoArgs(args: readonly string[]): { serve: boolean; port: number } | string {
  let serve = false;
  let port: number | undefined;
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    if (arg === '--serve') {
      serve = true;
    } else if (arg === '--port' || arg.startsWith('--port=')) {
      const text = arg === '--port' ? args[(i += 1)] : arg.slice('--port='.length);
      const value = Number(text);
      if (text === undefined || !/^\d+$/.test(text) || value > 65_535)
        return `--port needs a port number (0 to 65535), got ${text === undefined ? 'nothing' : JSON.stringify(text)}`;
      port = value;
    } else {
      return `unknown option ${JSON.stringify(arg)}`;
    }
  }
  if (port !== undefined && !serve) return '--port goes with --serve';
  return { serve, port: port ?? DEFAULT_PORT };
}

async function playDemo(io: CliIo): Promise<number> {
  const catalog = await loadDemoCatalog(io);
  if (catalog === undefined) return 1;
  const { plan } = catalog;
  const channel = plan.channel;

  io.out(`rollback-bot demo: ${SERVICE} in ${ENVIRONMENT}, plan ${plan.name} / ${plan.defaultStrategy}\n`);
  io.out(
    `(the real bot over HTTP against the local Slack simulator, in-memory store, steps are harmless local commands)\n\n`,
  );

  let world: DemoWorld | undefined;
  let finalState = 'missing';
  try {
    world = await startDemoWorld(io, catalog);
    const { sim, store, driver, base, apiToken } = world;
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

    step(`${PEOPLE.declarer.id} types: /rollback ${COMMAND}`);
    const command = await driver.slashCommand({
      user: PEOPLE.declarer.id,
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
    const card = () => sim.messages(channel).find((m) => JSON.stringify(m.blocks).includes(id));
    const state = async (): Promise<string> => (await store.getRollback(id))?.state ?? 'missing';
    await waitFor(card, Boolean, 'the status card');

    step(`${PEOPLE.outsider.id} clicks Approve`);
    await driver.click({ user: PEOPLE.outsider.id, actionId: ACTION_IDS.approve, value: ofThisRollback });
    await waitFor(
      () => sim.ephemerals({ user: PEOPLE.outsider.id }).length,
      (n) => n > 0,
      'the refusal shown to the outsider',
    );

    step(`${PEOPLE.oncall.id} clicks Approve`);
    await driver.click({ user: PEOPLE.oncall.id, actionId: ACTION_IDS.approve, value: ofThisRollback });
    await waitFor(state, (s) => s === 'validating' || isFinal(s), 'validation');
    if ((await state()) === 'validating') {
      await waitFor(
        () => JSON.stringify(card()?.blocks ?? []),
        (blocks) => blocks.includes(ACTION_IDS.checkDone),
        'the manual check on the card',
      );
      step(`${PEOPLE.oncall.id} clicks Mark done on the manual check`);
      await driver.click({ user: PEOPLE.oncall.id, actionId: ACTION_IDS.checkDone, value: ofThisRollback });
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
          return parent === undefined ? [] : sim.replies(channel, parent.ts);
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
    await world?.stop();
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
