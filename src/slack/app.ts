/**
 * The Bolt app: HTTP mode on POST /slack/events (Socket Mode when an app token is given, for one
 * replica only), the bot's own routes beside it, and the listeners. `auth.test` runs once, at init.
 */
import { App, type CustomRoute } from '@slack/bolt';
import type { Logger } from 'pino';
import { boltLogger } from './bolt-logger.js';
import { registerDeclareView } from './listeners/declare-view.js';
import { registerRollbackActions } from './listeners/rollback-actions.js';
import { registerRollbackCommand } from './listeners/rollback-command.js';
import type { SlackDependencies } from './slack-dependencies.js';

export interface SlackAppOptions {
  botToken: string;
  signingSecret: string;
  appToken?: string | undefined;
  apiUrl: string;
  routes: CustomRoute[];
  log: Logger;
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
  const app = new App({
    token: options.botToken,
    signingSecret: options.signingSecret,
    ...(socketMode ? { socketMode: true, appToken: options.appToken } : {}),
    customRoutes: options.routes,
    logger: boltLogger(options.log),
    deferInitialization: true,
    clientOptions: {
      slackApiUrl: options.apiUrl,
      ...(options.retries === undefined ? {} : { retryConfig: { retries: options.retries } }),
    },
  });
  app.error(async (error) => {
    options.log.error({ err: error }, 'unhandled Slack listener error');
    await Promise.resolve();
  });
  registerRollbackCommand(app, deps);
  registerRollbackActions(app, deps);
  registerDeclareView(app, deps);
  await app.init();
  return app;
}
