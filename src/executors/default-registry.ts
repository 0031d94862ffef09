import { commandExecutor } from './command/index.js';
import { ecsExecutor } from './ecs/index.js';
import { featureFlagExecutor } from './feature-flag/index.js';
import { healthcheckExecutor } from './healthcheck/index.js';
import { httpExecutor } from './http/index.js';
import { kubernetesExecutor } from './kubernetes/index.js';
import { manualExecutor } from './manual/index.js';
import { postgresBackupExecutor } from './postgres-backup/index.js';
import { prometheusExecutor } from './prometheus/index.js';
import { ExecutorRegistry } from './registry.js';

/** Every executor kind the bot knows. */
export function defaultRegistry(): ExecutorRegistry {
  return new ExecutorRegistry()
    .register(httpExecutor)
    .register(commandExecutor)
    .register(healthcheckExecutor)
    .register(prometheusExecutor)
    .register(kubernetesExecutor)
    .register(ecsExecutor)
    .register(featureFlagExecutor)
    .register(postgresBackupExecutor)
    .register(manualExecutor);
}
