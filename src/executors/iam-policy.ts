/**
 * The IAM policy document of the bot (`rollback-bot iam-policy`, committed as
 * deploy/aws/iam-policy.json): one statement per registered executor that declares `iamActions`,
 * holding exactly those, so an executor added to the registry is in the next generated file without
 * anyone listing it here; then one for the SNS stakeholder messages, which the bot sends itself.
 *
 * Resources are "*": the ARNs are the operator's (docs/operations/aws.md says how to narrow each
 * statement). `sts:AssumeRole` is not in it: a step's `roleArn` needs it on that role only, and
 * the role then needs the step's statement instead of the bot.
 */
import { SNS_IAM_ACTIONS } from '../notifiers/targets/sns/publisher.js';
import type { ExecutorRegistry } from './registry.js';

export interface IamStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: '*';
}

export interface IamPolicyDocument {
  Version: '2012-10-17';
  Statement: IamStatement[];
}

/** IAM takes only letters and digits in a Sid: `aws-ssm-parameter` becomes `AwsSsmParameter`. */
export const statementId = (name: string): string =>
  name
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part !== '')
    .map((part) => `${part[0]!.toUpperCase()}${part.slice(1)}`)
    .join('');

/** The Sid of the statement that lets the bot publish stakeholder messages to SNS. */
export const SNS_STATEMENT_ID = 'SnsStakeholderMessages';

export function iamPolicy(registry: ExecutorRegistry): IamPolicyDocument {
  const executors = registry.kinds().flatMap((kind): IamStatement[] => {
    const actions = registry.get(kind)?.iamActions ?? [];
    return actions.length === 0
      ? []
      : [{ Sid: statementId(kind), Effect: 'Allow', Action: [...actions], Resource: '*' }];
  });
  return {
    Version: '2012-10-17',
    Statement: [
      ...executors,
      { Sid: SNS_STATEMENT_ID, Effect: 'Allow', Action: [...SNS_IAM_ACTIONS], Resource: '*' },
    ],
  };
}
