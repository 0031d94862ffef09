/**
 * Untrusted text stays text (docs/security.md): what a user types, an alert says, CI posts or a
 * step prints is data. It never expands the bot's secrets into a step, and the secrets a step does
 * use (written by the plan's author) never show: not on the card, in the thread, in ephemerals, in
 * the API, in debug logs, nor in any Redis key of the run. Each journey goes through the bot's HTTP
 * surface: signed Slack requests from the simulator, alert webhooks, the API.
 */
import { Redis } from 'ioredis';
import { writePlanFile } from '../support/plan-files.js';
import { afterEach, describe, expect, it } from 'vitest';
import { SecretMask } from '../../src/domain/secret-mask.js';
import { createLogger } from '../../src/lib/logging.js';
import { selectOption, textInput } from '../../src/simulator/index.js';
import { alertmanagerPayload, postAlerts } from '../support/alert-payloads.js';
import {
  ALERT_TOKEN,
  API_TOKEN,
  BOT_TOKEN,
  CHANNEL,
  eventually,
  forRollback,
  PEOPLE,
  SIGNING_SECRET,
  startBotHarness,
  type BotHarness,
} from '../support/bot-harness.js';
import { reply, startPeer, type HttpPeer } from '../support/http-peer.js';
import { dumpKeysWithPrefix } from '../support/redis-cleanup.js';

const DEPLOY_TOKEN = 'deploy-token-7f3a9c1e';
/** The bot's environment as in production: its own credentials sit beside the plans' secrets. */
const ENV = {
  DEPLOY_TOKEN,
  SLACK_SIGNING_SECRET: SIGNING_SECRET,
  SLACK_BOT_TOKEN: BOT_TOKEN,
  API_TOKEN,
  ALERT_WEBHOOK_TOKEN: ALERT_TOKEN,
};
const BOT_SECRETS = [SIGNING_SECRET, BOT_TOKEN, API_TOKEN, ALERT_TOKEN];
const ALL_SECRETS = [...BOT_SECRETS, DEPLOY_TOKEN];
const HOSTILE_REASON =
  'broke ${env:SLACK_SIGNING_SECRET} ${env:DEPLOY_TOKEN} {{ rollback.id }} ${file:/etc/hostname}';

function planFile(peer: string): string {
  return writePlanFile(
    `apiVersion: rollback-bot/v1
kind: RollbackPlan
metadata: { name: leaky }
spec:
  service: leaky
  channel: ${CHANNEL}
  environments: [production]
  criticality: high
  rto: 15m
  authority: default
  defaultStrategy: redeploy
  strategies:
    redeploy:
      steps:
        - name: Deploy previous
          uses: http
          with:
            method: POST
            url: '${peer}/deploy/{{ service }}/{{ toVersion }}?reason={{ rollback.reason }}'
            headers: { Authorization: 'Bearer \${env:DEPLOY_TOKEN}' }
            json: { reason: '{{ rollback.reason }}', to: '{{ toVersion }}', from: '{{ fromVersion }}' }
        - name: Print token
          uses: command
          with:
            argv: ['sh', '-c', 'echo "token=$TOKEN"; printf "{\\"token\\":\\"%s\\"}\\n" "$TOKEN"']
            env: { TOKEN: '\${env:DEPLOY_TOKEN}' }
            timeout: 10s
      validate:
        - name: Health with token
          uses: healthcheck
          with: { url: '${peer}/health?token=\${env:DEPLOY_TOKEN}', attempts: 1 }
      stabilize: 0s
  triggers:
    - name: errors
      match: { rollback_trigger: errors }
      action: auto
      delay: 1m
`,
  );
}

interface Run {
  h: BotHarness;
  peer: HttpPeer;
  logs: string[];
}

let run: Run | undefined;
afterEach(async () => {
  await run?.h.stop();
  await run?.peer.close();
  run = undefined;
});

async function start(): Promise<Run> {
  // The peer echoes what it was sent, as a careless deploy API would: output that holds the token.
  const peer = await startPeer((request, res) => {
    reply(res, 200, { youSent: { authorization: request.headers.authorization, body: request.body } });
  });
  const logs: string[] = [];
  const secrets = new SecretMask();
  const log = createLogger('debug', { write: (line: string) => logs.push(line) }, secrets);
  const h = await startBotHarness({ planFile: planFile(peer.url), env: ENV, bot: { log, secrets } });
  return (run = { h, peer, logs });
}

async function api(h: BotHarness, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`http://127.0.0.1:${h.port}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
  });
}

async function deployed(h: BotHarness, version: string, agoMs: number): Promise<void> {
  const at = new Date(h.clock.now - agoMs).toISOString();
  const answer = await api(h, '/api/deployments', {
    method: 'POST',
    body: JSON.stringify({ service: 'leaky', environment: 'production', version, at }),
  });
  expect(answer.status).toBe(201);
}

async function approveAndResolve(h: BotHarness, id: string): Promise<void> {
  await eventually(() => h.sim.messages(CHANNEL).some((m) => JSON.stringify(m.blocks).includes(id)), Boolean);
  await h.driver.click({ user: PEOPLE.oncall, actionId: 'rollback:approve', value: forRollback(id) });
  await eventually(
    async () => (await h.bot.reads.view(id))?.state,
    (state) => state === 'resolved',
    20_000,
  );
}

const forms = (secret: string): string[] => [secret, encodeURIComponent(secret)];

/** Every place the run kept or showed text, as one string per place. */
async function everythingShown(r: Run, id: string): Promise<Record<string, string>> {
  const status = await r.h.driver.slashCommand({
    user: PEOPLE.outsider,
    channel: CHANNEL,
    text: `status ${id}`,
    expectResponses: 1,
  });
  const admin = new Redis(r.h.redisUrl);
  try {
    return {
      'Slack Web API calls': JSON.stringify(r.h.sim.calls.map((call) => call.args)),
      'response_url posts': JSON.stringify(r.h.sim.responsePosts()),
      '/rollback status': JSON.stringify(status.responses),
      'GET /api/rollbacks/:id': await (await api(r.h, `/api/rollbacks/${id}`)).text(),
      'GET /api/rollbacks': await (await api(r.h, '/api/rollbacks?service=leaky')).text(),
      'debug logs': r.logs.join(''),
      'Redis keys': await dumpKeysWithPrefix(admin, r.h.prefix),
    };
  } finally {
    await admin.quit();
  }
}

function expectNoSecretIn(places: Record<string, string>, secrets: readonly string[]): void {
  for (const [place, text] of Object.entries(places)) {
    for (const secret of secrets) {
      for (const form of forms(secret)) {
        expect(text.includes(form), `${place} holds the secret "${secret}"`).toBe(false);
      }
    }
  }
}

/** Requests the step targets received must never carry the bot's own credentials. */
function expectPeerNeverGot(peer: HttpPeer, secrets: readonly string[]): void {
  const sent = JSON.stringify(peer.requests.map((r) => ({ path: r.path, headers: r.headers, body: r.body })));
  for (const secret of secrets) {
    for (const form of forms(secret)) expect(sent.includes(form), `a step sent "${secret}"`).toBe(false);
  }
}

describe('untrusted text stays text', () => {
  it('a typed reason cannot expand a secret; plan secrets work and never show anywhere (F1, F2, F3)', async () => {
    const r = await start();
    const { h, peer } = r;
    await deployed(h, 'v1.9.0', 3_600_000);
    await deployed(h, 'v2.0.0', 60_000);
    const command = await h.driver.slashCommand({
      user: PEOPLE.declarer,
      channel: CHANNEL,
      text: `leaky --env production --to v1.9.0 --reason '${HOSTILE_REASON}'`,
      expectResponses: 1,
    });
    const id = /rb-[0-9a-f]+/.exec(JSON.stringify(command.responses))?.[0] ?? '';
    expect(id).not.toBe('');
    await approveAndResolve(h, id);

    // The deploy call: the reason went out as the characters typed, one query value, and the
    // plan's own secret went where its author wrote it.
    const deploy = peer.requests.find((q) => q.path.startsWith('/deploy/'));
    expect(deploy?.path).toBe(`/deploy/leaky/v1.9.0?reason=${encodeURIComponent(HOSTILE_REASON)}`);
    expect(JSON.parse(deploy?.body ?? '{}')).toEqual({
      reason: HOSTILE_REASON,
      to: 'v1.9.0',
      from: 'v2.0.0',
    });
    expect(deploy?.headers.authorization).toBe(`Bearer ${DEPLOY_TOKEN}`);
    expect(peer.requests.find((q) => q.path.startsWith('/health'))?.path).toBe(
      `/health?token=${DEPLOY_TOKEN}`,
    );
    expectPeerNeverGot(peer, BOT_SECRETS);
    // The deploy token reached the peer only where the plan put it (header and health query).
    expect(deploy?.body.includes(DEPLOY_TOKEN)).toBe(false);

    // Outputs are kept (masked): the command's JSON line, the echoed header, the health check.
    const view = await h.bot.reads.view(id);
    expect(JSON.stringify(view)).toContain('token=•••');
    expectNoSecretIn(await everythingShown(r, id), ALL_SECRETS);
  }, 60_000);

  it('plan secrets never show: check details, step output, card, thread, API, logs, Redis (F2, F3)', async () => {
    const r = await start();
    const { h } = r;
    await deployed(h, 'v1.9.0', 3_600_000);
    await deployed(h, 'v2.0.0', 60_000);
    const command = await h.driver.slashCommand({
      user: PEOPLE.declarer,
      channel: CHANNEL,
      text: 'leaky --env production --reason "5xx spike"',
      expectResponses: 1,
    });
    const id = /rb-[0-9a-f]+/.exec(JSON.stringify(command.responses))?.[0] ?? '';
    await approveAndResolve(h, id);
    const view = await h.bot.reads.view(id);
    // The passing check's detail names its URL, the token masked; outputs are kept, masked.
    expect(view?.checks[0]?.detail).toContain('token=•••');
    const stored = JSON.stringify((await h.store.getRollback(id))?.snapshot);
    expect(stored).toContain('token=•••');
    expect(stored).toContain('"authorization":"Bearer •••"');
    expectNoSecretIn(await everythingShown(r, id), ALL_SECRETS);
  }, 60_000);

  it('a reason typed in the modal cannot expand a secret (F1)', async () => {
    const r = await start();
    const { h, peer } = r;
    await deployed(h, 'v1.9.0', 3_600_000);
    await deployed(h, 'v2.0.0', 60_000);
    await h.driver.slashCommand({ user: PEOPLE.declarer, channel: CHANNEL, text: '' });
    const modal = await eventually(() => h.sim.views()[0], Boolean);
    const submitted = await h.driver.submitView({
      user: PEOPLE.declarer,
      viewId: modal!.id,
      values: {
        service: selectOption('leaky'),
        environment: selectOption('production'),
        reason: textInput(HOSTILE_REASON),
      },
    });
    expect(submitted.status).toBe(200);
    const [rollback] = await eventually(
      () => h.bot.reads.list({ service: 'leaky' }),
      (list) => list.length === 1,
    );
    await approveAndResolve(h, rollback!.id);
    const deploy = peer.requests.find((q) => q.path.startsWith('/deploy/'));
    expect(JSON.parse(deploy?.body ?? '{}')).toMatchObject({ reason: HOSTILE_REASON, to: 'v1.9.0' });
    expectPeerNeverGot(peer, BOT_SECRETS);
    expectNoSecretIn(await everythingShown(r, rollback!.id), ALL_SECRETS);
  }, 60_000);

  it("an alert's text cannot expand a secret, even through an automatic rollback no human saw (F1)", async () => {
    const r = await start();
    const { h, peer } = r;
    await deployed(h, 'v1.9.0', 3_600_000);
    await deployed(h, 'v2.0.0', 60_000);
    const summary = 'errors ${env:SLACK_BOT_TOKEN} ${env:SLACK_SIGNING_SECRET}';
    const answer = await postAlerts(
      h.port,
      '/alerts/alertmanager',
      alertmanagerPayload([
        {
          name: 'Errors',
          service: 'leaky',
          startsAt: h.clock.now - 30_000,
          labels: { rollback_trigger: 'errors' },
          summary,
        },
      ]),
    );
    expect(answer.status).toBe(200);
    const [rollback] = await eventually(
      () => h.bot.reads.list({ service: 'leaky' }),
      (list) => list.length === 1 && list[0]!.state === 'pending',
    );
    h.clock.now += 61_000;
    h.bot.runtime.timers.nudge();
    await eventually(
      async () => (await h.bot.reads.view(rollback!.id))?.state,
      (state) => state === 'resolved',
      20_000,
    );
    const deploy = peer.requests.find((q) => q.path.startsWith('/deploy/'));
    expect(JSON.parse(deploy?.body ?? '{}')).toMatchObject({ reason: `errors: ${summary}` });
    expectPeerNeverGot(peer, BOT_SECRETS);
    expectNoSecretIn(await everythingShown(r, rollback!.id), ALL_SECRETS);
  }, 60_000);

  it('a version from CI cannot carry a secret reference or syntax into a step (F1, F4)', async () => {
    const r = await start();
    const { h } = r;
    for (const version of ['${env:SLACK_SIGNING_SECRET}', '{{ rollback.id }}', '--log-file=/tmp/x']) {
      const answer = await api(h, '/api/deployments', {
        method: 'POST',
        body: JSON.stringify({ service: 'leaky', environment: 'production', version }),
      });
      expect(answer.status, version).toBe(400);
    }
    expect(await h.store.listDeployments('leaky', 'production', 10)).toEqual([]);
  }, 60_000);
});
