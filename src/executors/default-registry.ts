import type { AwsExecutorOptions } from './aws-kit.js';
import { createAppconfigExecutor } from './aws-appconfig/index.js';
import { createAutoscalingExecutor } from './aws-autoscaling/index.js';
import { createElbExecutor } from './aws-elb/index.js';
import { createSsmParameterExecutor } from './aws-ssm-parameter/index.js';
import { createCloudwatchExecutor } from './cloudwatch/index.js';
import { commandExecutor } from './command/index.js';
import { createEcsExecutor, type EcsExecutorOptions } from './ecs/index.js';
import { featureFlagExecutor } from './feature-flag/index.js';
import { healthcheckExecutor } from './healthcheck/index.js';
import { httpExecutor } from './http/index.js';
import { kubernetesExecutor } from './kubernetes/index.js';
import { manualExecutor } from './manual/index.js';
import { postgresBackupExecutor } from './postgres-backup/index.js';
import { prometheusExecutor } from './prometheus/index.js';
import { ExecutorRegistry } from './registry.js';

/**
 * Every executor kind the bot knows; `ecs` tunes the ECS executor (its polling pace), `aws` gives
 * the other AWS executors their environment.
 */
export function defaultRegistry(
  options: { ecs?: EcsExecutorOptions; aws?: AwsExecutorOptions } = {},
): ExecutorRegistry {
  return new ExecutorRegistry()
    .register(httpExecutor)
    .register(commandExecutor)
    .register(healthcheckExecutor)
    .register(prometheusExecutor)
    .register(kubernetesExecutor)
    .register(createEcsExecutor(options.ecs))
    .register(createSsmParameterExecutor(options.aws))
    .register(createCloudwatchExecutor(options.aws))
    .register(createElbExecutor(options.aws))
    .register(createAppconfigExecutor(options.aws))
    .register(createAutoscalingExecutor(options.aws))
    .register(featureFlagExecutor)
    .register(postgresBackupExecutor)
    .register(manualExecutor);
}
