/**
 * Composition root: environment -> logger -> manifests -> store -> bot. A misconfiguration stops
 * start-up with one line per problem saying how to fix it; SIGTERM shuts down within 10 s.
 */
import { existsSync } from 'node:fs';
import { loadConfig } from './config/env.js';
import { knownSecrets } from './config/known-secrets.js';
import { SecretMask } from './domain/secret-mask.js';
import { loadManifests } from './config/manifests.js';
import { ConfigError } from './lib/errors.js';
import { defaultRegistry } from './executors/default-registry.js';
import { readCaFile } from './alerts/sns-certificates.js';
import { createBot } from './wiring/bot.js';
import { createSnsPublisher } from './notifiers/targets/sns/publisher.js';
import { createLogger } from './lib/logging.js';
import { createStore } from './store/index.js';

const SHUTDOWN_BUDGET_MS = 9_500;

async function main(): Promise<void> {
  const env = process.env;
  const config = loadConfig(env);
  // One mask for the process: the logger masks with it; the bot adds its plans' secrets to it.
  const secrets = new SecretMask(knownSecrets(env, []));
  const log = createLogger(config.logLevel, undefined, secrets);
  for (const warning of config.warnings) log.warn(warning);

  // Checked here, not in loadConfig, which only parses: in a container a forgotten mount is the usual cause.
  if (!existsSync(config.rollbackConfig)) {
    throw new ConfigError([
      `ROLLBACK_CONFIG is ${config.rollbackConfig}, which does not exist: mount your plans there (a YAML file or a folder of them), or point ROLLBACK_CONFIG at them`,
    ]);
  }
  const registry = defaultRegistry();
  const manifests = await loadManifests(config.rollbackConfig, registry, {
    env,
    stepTimeoutMaxMs: config.stepTimeoutMaxMs,
  });
  const errors = manifests.problems.filter((problem) => problem.severity === 'error');
  if (errors.length > 0) {
    throw new ConfigError(
      errors.map((p) =>
        `${p.file}${p.line === undefined ? '' : `:${p.line}`} ${p.path} ${p.message}${p.docs === undefined ? '' : ` (see ${p.docs})`}`.trim(),
      ),
    );
  }
  const catalog = {
    plans: manifests.plans,
    policies: manifests.policies,
    communications: manifests.communications,
  };
  // REDIS_URL was checked by loadConfig; the store reads the same text.
  const store = await createStore({ redisUrl: env['REDIS_URL'] });
  const bot = await createBot({
    slack: config.slack,
    apiToken: config.apiToken,
    alertToken: config.alertWebhookToken,
    // The SDK finds its credentials (and AWS_ENDPOINT_URL_SNS) in the environment, when a plan sends.
    sns: createSnsPublisher({ ...(config.awsRegion === undefined ? {} : { region: config.awsRegion }), log }),
    statuspage: config.statuspage,
    snsReceiver: {
      topicArns: config.sns.topicArns,
      certUrlPrefixes: config.sns.certUrlPrefixes,
      ...(config.sns.caFile === undefined ? {} : { extraCaPem: readCaFile(config.sns.caFile) }),
    },
    store,
    catalog: () => catalog,
    registry,
    env,
    stepTimeoutMaxMs: config.stepTimeoutMaxMs,
    secrets,
    log,
  });
  const port = await bot.start(config.port);
  log.info(
    { port, plans: manifests.plans.size, store: config.redis ? config.redis.mode : 'memory' },
    'rollback-bot is listening',
  );

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing or handing back running steps');
    setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_BUDGET_MS).unref();
    void bot
      .stop(SHUTDOWN_BUDGET_MS - 2_000)
      .then(() => store.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          log.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => {
    shutdown('SIGTERM');
  });
  process.on('SIGINT', () => {
    shutdown('SIGINT');
  });
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`rollback-bot cannot start:\n${error.problems.map((p) => `  - ${p}`).join('\n')}\n`);
  } else {
    process.stderr.write(
      `rollback-bot cannot start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
  }
  process.exit(1);
});
