/**
 * deploy/aws/iam-policy.json is generated from the executors (`npm run iam-policy`): the committed
 * copy must be what the code generates now, every executor that calls AWS (it takes the shared
 * `region`/`roleArn` parameters) must declare its actions, and each appears as one statement with
 * exactly those actions, so a new AWS executor in the registry is in the policy after regenerating.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { iamPolicyText, runIamPolicy } from '../../../src/cli/iam-policy.js';
import { ASSUME_ROLE_ACTION } from '../../../src/executors/aws-kit.js';
import { defaultRegistry } from '../../../src/executors/default-registry.js';
import {
  iamPolicy,
  SNS_STATEMENT_ID,
  statementId,
  type IamPolicyDocument,
} from '../../../src/executors/iam-policy.js';
import { ExecutorRegistry } from '../../../src/executors/registry.js';
import { SNS_IAM_ACTIONS } from '../../../src/notifiers/targets/sns/publisher.js';

const root = join(import.meta.dirname, '../../..');
const committed = readFileSync(join(root, 'deploy/aws/iam-policy.json'), 'utf8');
const registry = defaultRegistry();

/** The executors whose parameters include the AWS steps' `roleArn`: they call AWS. */
const awsKinds = registry.kinds().filter((kind) => {
  const schema = z.toJSONSchema(registry.get(kind)!.params, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, unknown>;
  };
  return schema.properties !== undefined && 'roleArn' in schema.properties;
});

describe('deploy/aws/iam-policy.json', () => {
  it('is what the executors generate now (run npm run iam-policy and commit it)', () => {
    expect(
      committed === iamPolicyText(),
      'deploy/aws/iam-policy.json is stale: run `npm run iam-policy`',
    ).toBe(true);
  });

  it('has one statement per AWS executor with exactly its iamActions, and one for SNS', () => {
    expect(awsKinds.length).toBeGreaterThanOrEqual(5);
    const policy = JSON.parse(committed) as IamPolicyDocument;
    expect(policy.Version).toBe('2012-10-17');
    const bySid = new Map(policy.Statement.map((statement) => [statement.Sid, statement]));
    expect(bySid.size, 'Sids are unique').toBe(policy.Statement.length);
    const withActions = withIam();
    expect(withActions, 'every executor that calls AWS declares iamActions').toEqual(
      expect.arrayContaining(awsKinds),
    );
    for (const kind of withActions) {
      const statement = bySid.get(statementId(kind));
      expect(statement, kind).toBeDefined();
      expect(statement).toEqual({
        Sid: statementId(kind),
        Effect: 'Allow',
        Action: [...registry.get(kind)!.iamActions!],
        Resource: '*',
      });
      expect(statement!.Sid).toMatch(/^[A-Za-z0-9]+$/);
    }
    expect(bySid.get(SNS_STATEMENT_ID)?.Action).toEqual([...SNS_IAM_ACTIONS]);
    expect([...bySid.keys()].sort()).toEqual([...withActions.map(statementId), SNS_STATEMENT_ID].sort());
    // roleArn's AssumeRole belongs to the bot's identity only when a step assumes a role: docs.
    expect(committed).not.toContain(ASSUME_ROLE_ACTION);
  });

  it('picks up any executor registered with iamActions, without a list of its own', () => {
    const extra = new ExecutorRegistry().register({
      kind: 'aws-autoscaling',
      description: 'x',
      params: z.object({}),
      iamActions: ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:StartInstanceRefresh'],
      run: () => Promise.resolve({ outcome: 'inconclusive', detail: 'never run' }),
    });
    expect(iamPolicy(extra).Statement[0]).toEqual({
      Sid: 'AwsAutoscaling',
      Effect: 'Allow',
      Action: ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:StartInstanceRefresh'],
      Resource: '*',
    });
  });

  it('is what `rollback-bot iam-policy` prints', async () => {
    let out = '';
    const code = await runIamPolicy([], {
      argv: [],
      env: {},
      cwd: root,
      out: (text) => (out += text),
      err: () => undefined,
    });
    expect(code).toBe(0);
    expect(out).toBe(committed);
  });

  it('docs/operations/aws.md says how to narrow it and what roleArn needs', () => {
    const doc = readFileSync(join(root, 'docs/operations/aws.md'), 'utf8');
    expect(doc).toContain('deploy/aws/iam-policy.json');
    expect(doc).toContain(ASSUME_ROLE_ACTION);
    for (const kind of withIam()) expect(doc, kind).toContain(`\`${statementId(kind)}\``);
  });
});

function withIam(): string[] {
  return registry.kinds().filter((kind) => (registry.get(kind)?.iamActions ?? []).length > 0);
}
