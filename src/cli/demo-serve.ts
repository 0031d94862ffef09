/**
 * `rollback-bot demo --serve`: the demo's world (the real bot against the Slack simulator) with the
 * simulator's channel served as a web page, for a person to click through: fire a sample
 * Alertmanager alert, propose and approve the rollback as the people of the demo workspace, make a
 * step fail to try Retry, Skip and Abort. Runs until Ctrl-C.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulatorWeb, type SimulatorWeb } from '../simulator/index.js';
import {
  ENVIRONMENT,
  loadDemoCatalog,
  PEOPLE,
  SERVICE,
  startDemoWorld,
  type DemoWorld,
} from './demo-world.js';
import type { CliIo } from './io.js';

/** A fixed port, so the page can be bookmarked and reloaded across runs; `--port 0` takes any free one. */
export const DEFAULT_PORT = 8300;

/**
 * Resolves at the first Ctrl-C (SIGINT) or SIGTERM. The handlers stay: under `npm run` a Ctrl-C
 * reaches this process twice (from the terminal and relayed by tsx), and the second must not cut
 * the shutdown short.
 */
export function interrupted(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

export async function serveDemo(io: CliIo, options: { port: number; until: Promise<void> }): Promise<number> {
  const catalog = await loadDemoCatalog(io);
  if (catalog === undefined) return 1;
  const { plan } = catalog;
  const switchDir = await mkdtemp(join(tmpdir(), 'rollback-bot-demo-'));
  const failSwitch = join(switchDir, 'fail-next-step');
  let world: DemoWorld | undefined;
  let web: SimulatorWeb | undefined;
  try {
    world = await startDemoWorld(io, catalog, { failSwitch });
    // The deploy pipeline told the bot what ran before and what runs now: a rollback proposed from
    // an alert goes back to the previous version.
    const now = Date.now();
    for (const [version, ago] of [
      ['v1.4.1', 3 * 24 * 3_600_000],
      ['v1.5.0', 10 * 60_000],
    ] as const)
      await world.store.recordDeployment({
        service: SERVICE,
        environment: ENVIRONMENT,
        version,
        at: now - ago,
      });

    const alerts = alertSender(world);
    const switchArmed = (): boolean => existsSync(failSwitch);
    web = await startSimulatorWeb({
      simulator: world.sim,
      driver: world.driver,
      channel: world.channel,
      people: [PEOPLE.declarer, PEOPLE.oncall, PEOPLE.lead, PEOPLE.outsider].map((p) => ({
        id: p.id,
        label: `${p.realName}, ${p.role}`,
      })),
      actions: [
        {
          id: 'fire-alert',
          label: 'Fire a sample alert',
          title: `POST an Alertmanager webhook for ${SERVICE} to the bot's /alerts/alertmanager`,
          run: () => alerts.fire(),
        },
        {
          id: 'fail-next-step',
          label: 'Fail the next step',
          title: 'The next step of a rollback fails once (press again to disarm)',
          async run() {
            if (switchArmed()) {
              await unlink(failSwitch).catch(() => undefined);
              return 'Disarmed: the next step runs normally.';
            }
            await writeFile(failSwitch, '');
            return 'Armed: the next step that runs fails once. Then try Retry, Skip or Abort on the card.';
          },
        },
      ],
      notes: () =>
        switchArmed()
          ? ['⚠️ Armed: the next step that runs will fail once ("Fail the next step" again disarms).']
          : [],
      title: 'rollback-bot demo · #incidents',
      botName: 'rollback-bot',
      commandPlaceholder: `${SERVICE} --to v1.4.1 --reason "5xx spike after v1.5.0"`,
      port: options.port,
    });
  } catch (error) {
    await world?.stop();
    await rm(switchDir, { recursive: true, force: true });
    const inUse = (error as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
    io.err(
      inUse
        ? `rollback-bot demo: port ${options.port} is in use: choose another with --port N (--port 0: any free port)\n`
        : `rollback-bot demo: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }

  io.out(`rollback-bot demo: ${SERVICE} in ${ENVIRONMENT}, plan ${plan.name} / ${plan.defaultStrategy}\n`);
  io.out(
    `(the real bot over HTTP against the local Slack simulator, in-memory store, steps are harmless local commands)\n\n`,
  );
  io.out(`Open ${web.url} in a browser: #incidents as the person you choose sees it, live.\n`);
  io.out(
    `Try: "Fire a sample alert", then "Roll back" in the incident's thread, then approve as ${PEOPLE.oncall.realName}, the on-call engineer.\n`,
  );
  io.out(`Ctrl-C stops the demo.\n`);

  await options.until;
  await web.stop();
  await world.stop();
  await rm(switchDir, { recursive: true, force: true });
  io.out('rollback-bot demo: stopped\n');
  return 0;
}

/**
 * Posts the Alertmanager webhook (payload version 4, as Alertmanager sends it) of an error-rate
 * alert for the demo service, authenticated with the bot's alert token. Each press is a new alert
 * (its own fingerprint) of the same group, so an open incident gains it in its thread.
 */
function alertSender(world: DemoWorld): { fire(): Promise<string> } {
  let fired = 0;
  return {
    async fire() {
      fired += 1;
      const labels = {
        alertname: 'HighErrorRate',
        service: SERVICE,
        environment: ENVIRONMENT,
        severity: 'page',
        instance: `demo-service-${fired}:8080`,
      };
      const annotations = { summary: `5xx ratio above 5% on ${labels.instance} since v1.5.0` };
      const body = {
        receiver: 'rollback-bot',
        status: 'firing',
        alerts: [
          {
            status: 'firing',
            labels,
            annotations,
            startsAt: new Date(Date.now() - 60_000).toISOString(),
            endsAt: '0001-01-01T00:00:00Z',
            generatorURL: 'http://prometheus.demo/graph?g0.expr=job%3Aerror_ratio%3Arate5m+%3E+0.05',
            fingerprint: `demo${fired.toString(16).padStart(12, '0')}`,
          },
        ],
        groupLabels: { alertname: labels.alertname, service: SERVICE, environment: ENVIRONMENT },
        commonLabels: labels,
        commonAnnotations: annotations,
        externalURL: 'http://alertmanager.demo',
        version: '4',
        groupKey: `{}:{alertname="HighErrorRate", environment="${ENVIRONMENT}", service="${SERVICE}"}`,
        truncatedAlerts: 0,
      };
      const response = await fetch(`${world.base}/alerts/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${world.alertToken}` },
        body: JSON.stringify(body),
      });
      const answer = await response.text();
      return response.ok
        ? `Alertmanager sent "HighErrorRate" for ${SERVICE} (${labels.instance}); the bot answered HTTP ${response.status}.`
        : `The bot refused the alert: HTTP ${response.status} ${answer}`;
    },
  };
}
