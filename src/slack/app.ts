/**
 * The Bolt app: HTTP mode on POST /slack/events (Socket Mode when an app token is given, for one
 * replica only), the bot's own routes beside it, and the listeners. `auth.test` runs once, at init.
 * In HTTP mode the receiver is built here so that a guard sees each request before Bolt reads it.
 */
import { App, HTTPReceiver, type CustomRoute } from '@slack/bolt';
import { WebClient, type FetchFunction } from '@slack/web-api';
import { RollbackError } from '../lib/errors.js';
import type { Logger } from 'pino';
import { boltLogger } from './bolt-logger.js';
import { slackCallPolicy } from './web-client.js';
import { ackOnce, deliverOnce } from './deliver-once.js';
import { registerAppHome } from './listeners/app-home.js';
import { registerDeclareView } from './listeners/declare-view.js';
import { registerIncidentActions } from './listeners/incident-actions.js';
import { registerRollbackActions } from './listeners/rollback-actions.js';
import { registerRollbackCommand } from './listeners/rollback-command.js';
import { guardSlackRequests, SLACK_BODY_LIMIT } from './request-guard.js';
import type { SlackDependencies } from './slack-dependencies.js';

export interface SlackAppOptions {
  botToken: string;
  signingSecret: string;
  appToken?: string | undefined;
  apiUrl: string;
  routes: CustomRoute[];
  log: Logger;
  /** The Web API's fetch (the bot's masks secrets in what it sends). */
  fetch?: FetchFunction;
  /** Retries of the Web API client; tests set 0 so a simulated outage shows at once. */
  retries?: number;
}

export async function createSlackApp(options: SlackAppOptions, deps: SlackDependencies): Promise<App> {
  const socketMode = options.appToken !== undefined;
  if (socketMode) {
    options.log.warn(
      'Socket Mode: Slack hands each payload to one random connection, so run a single replica',
    );
  }
  const identity = await whoAmI(options);
  const app = new App({
    token: options.botToken,
    // auth.test ran once above; with the ids given, Bolt neither repeats it per request nor at init.
    botId: identity.botId,
    botUserId: identity.botUserId,
    tokenVerificationEnabled: false,
    ...(socketMode
      ? {
          socketMode: true,
          appToken: options.appToken,
          signingSecret: options.signingSecret,
          customRoutes: options.routes,
        }
      : { receiver: guardedReceiver(options) }),
    logger: boltLogger(options.log),
    // No listener keeps conversation state; Bolt's default store costs a thrown-away Error per request.
    convoStore: false,
    deferInitialization: true,
    clientOptions: {
      slackApiUrl: options.apiUrl,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      ...slackCallPolicy(options.retries),
    },
  });
  app.error(async (error) => {
    options.log.error({ err: error }, 'unhandled Slack listener error');
    await Promise.resolve();
  });
  // Every receiver hands its deliveries to processEvent: there the ack becomes one deliverOnce may
  // send early and the listener's own ack() then leaves alone.
  const processEvent = app.processEvent.bind(app);
  app.processEvent = (event) => processEvent(ackOnce(event));
  // First, so that no listener sees a delivery twice.
  app.use(deliverOnce({ store: deps.store, log: options.log }));
  registerRollbackCommand(app, deps);
  registerRollbackActions(app, deps);
  registerDeclareView(app, deps);
  registerIncidentActions(app, deps);
  registerAppHome(app, deps);
  await app.init();
  return app;
}

const SLACK_ENDPOINT = '/slack/events';

/** Bolt's HTTP receiver, its request listener wrapped by the guard (which reads no body). */
function guardedReceiver(options: SlackAppOptions): HTTPReceiver {
  const receiver = new HTTPReceiver({
    signingSecret: options.signingSecret,
    endpoints: SLACK_ENDPOINT,
    customRoutes: options.routes,
    logger: boltLogger(options.log),
    bodyLimit: SLACK_BODY_LIMIT,
  });
  receiver.requestListener = guardSlackRequests(receiver.requestListener, {
    endpoints: [SLACK_ENDPOINT],
    now: Date.now,
    signingSecret: options.signingSecret,
    log: options.log,
  });
  return receiver;
}

/**
 * `auth.test` once at start-up, with few retries: a wrong token or an unreachable Slack stops the
 * bot at once with a sentence saying what to check, instead of minutes of retries.
 */
async function whoAmI(options: SlackAppOptions): Promise<{ botId: string; botUserId: string }> {
  const client = new WebClient(options.botToken, {
    slackApiUrl: options.apiUrl,
    logger: boltLogger(options.log),
    retryConfig: { retries: 2, factor: 1, minTimeout: 200, maxTimeout: 500 },
  });
  try {
    const auth = await client.auth.test();
    if (!auth.bot_id || !auth.user_id)
      throw new Error('auth.test did not name the bot: is SLACK_BOT_TOKEN a bot token (xoxb-)?');
    options.log.info({ team: auth.team, bot: auth.user }, 'Slack accepted the bot token');
    return { botId: auth.bot_id, botUserId: auth.user_id };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new RollbackError({
      code: 'slack_auth_failed',
      userMessage: `Slack's auth.test failed at ${options.apiUrl} (${detail}): check SLACK_BOT_TOKEN and SLACK_API_URL`,
      retryable: true,
      cause: error,
    });
  }
}

/** Starts the app's HTTP server; resolves with the port it listens on (the one the OS chose for 0). */
export async function listen(app: App, port: number, host: string): Promise<number> {
  const server = (await app.start({ port, host })) as { address(): { port: number } | string | null };
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : port;
}
