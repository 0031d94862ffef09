/**
 * Each file of test/fixtures/broken-plans/ holds one mistake and must fail with exactly that one
 * error, at the right path and line, with a message that tells the author what to do.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateManifestTexts } from '../../../src/config/manifests.js';
import { defaultRegistry } from '../../../src/executors/default-registry.js';

const folder = join(import.meta.dirname, '../../fixtures/broken-plans');
const read = (file: string) => ({ file, text: readFileSync(join(folder, file), 'utf8') });
const policy = read('00-authority-policy.yaml');

interface Expected {
  path: string;
  line: number;
  message: RegExp;
}

const cases: Record<string, Expected> = {
  '01-unknown-uses.yaml': {
    path: 'spec.strategies.redeploy.steps[0].uses',
    line: 18,
    message:
      /^unknown executor "comand" \(did you mean "command"\?\); known: aws-appconfig, aws-autoscaling, aws-elb, aws-ssm-parameter, cloudwatch, command, ecs,/,
  },
  '02-bad-executor-params.yaml': {
    path: 'spec.strategies.redeploy.steps[0].with.argv',
    line: 19,
    message: /^must be a list of arguments .*shell strings are not run, not the text/,
  },
  '03-unknown-template-variable.yaml': {
    path: 'spec.strategies.redeploy.steps[0].with.argv[1]',
    line: 19,
    message: /^unknown template variable "toVersoin" \(did you mean "toVersion"\?\)/,
  },
  '04-unknown-authority-policy.yaml': {
    path: 'spec.authority',
    line: 12,
    message: /^no AuthorityPolicy is named "defualt" \(did you mean "default"\?\)$/,
  },
  '05-duplicate-service.yaml': {
    path: 'spec.service',
    line: 26,
    message:
      /^service "duplicate-service-a" already has a plan \(05-duplicate-service.yaml:5\); one plan per service$/,
  },
  '06-default-strategy-missing.yaml': {
    path: 'spec.defaultStrategy',
    line: 13,
    message: /^no strategy is named "redeplyo" \(did you mean "redeploy"\?\); strategies: redeploy$/,
  },
  '07-bad-duration.yaml': {
    path: 'spec.rto',
    line: 11,
    message: /^"15 minutes" is not a duration: write a number followed by ms, s, m, h or d/,
  },
  '08-yaml-syntax-error.yaml': {
    path: '',
    line: 10,
    message: /^Flow sequence in block collection must be sufficiently indented and end with a \]$/,
  },
  '09-unknown-key.yaml': {
    path: 'spec.strategies.redeploy.steps[0].retires',
    line: 21,
    message: /^unknown key "retires" \(did you mean "retries"\?\)$/,
  },
  '10-trigger-strategy-missing.yaml': {
    path: 'spec.triggers[0].strategy',
    line: 24,
    message: /^no strategy is named "feature-flag"; strategies: redeploy$/,
  },
  '11-tier-role-unknown.yaml': {
    path: 'spec.tiers[1].approver',
    line: 12,
    message:
      /^no role is named "team-leed" \(did you mean "team-lead"\?\); roles: on-call-engineer, team-lead$/,
  },
  '12-literal-secret.yaml': {
    path: 'spec.strategies.redeploy.steps[0].with.headers.Authorization',
    line: 22,
    message: /^"Authorization" looks like a secret written in the file: .*\$\{env:NAME\}$/,
  },
  '13-later-step-output.yaml': {
    path: 'spec.strategies.redeploy.steps[0].with.argv[1]',
    line: 19,
    message: /uses the output of step "find-version", which runs after this one/,
  },
  '14-wrong-api-version.yaml': {
    path: 'apiVersion',
    line: 2,
    message: /^is "rollback-bot\/v2", which this version does not read: write apiVersion: rollback-bot\/v1$/,
  },
  '15-auto-trigger-without-delay.yaml': {
    path: 'spec.triggers[0].action',
    line: 23,
    message: /^an auto trigger needs a delay so humans can cancel it/,
  },
  '16-env-as-template-variable.yaml': {
    path: 'spec.strategies.redeploy.steps[0].with.argv[1]',
    line: 19,
    message: /env is not a template variable; .*as \$\{env:DEPLOY_TOKEN\}$/,
  },
  '17-tiers-not-from-zero.yaml': {
    path: 'spec.tiers[0].after',
    line: 11,
    message: /^the first tier must start at 0m/,
  },
  '18-unknown-kind.yaml': {
    path: 'kind',
    line: 3,
    message: /^"RollbackPlna" is not a kind \(did you mean "RollbackPlan"\?\)/,
  },
  '19-unknown-criticality.yaml': {
    path: 'spec.criticality',
    line: 10,
    message: /^must be one of "low", "medium", "high", "critical", not the text "urgent"$/,
  },
  '20-manual-in-steps.yaml': {
    path: 'spec.strategies.redeploy.steps[1].uses',
    line: 21,
    message:
      /^manual items belong under validate: they are checked off by a person; steps must run by themselves$/,
  },
  '21-communications-unknown-variable.yaml': {
    path: 'spec.templates.resolved.sns',
    line: 13,
    message:
      /^template line 2: unknown template variable "toVersoin" \(did you mean "toVersion"\?\); known: service,/,
  },
  '22-plan-template-unknown-variable.yaml': {
    path: 'spec.communications.templates.failed',
    line: 17,
    message: /^unknown template variable "outcome.reson" \(did you mean "outcome.reason"\?\)/,
  },
  '23-service-name-with-slash.yaml': {
    path: 'spec.service',
    line: 7,
    message:
      /^service names must not be "\*" or contain "\/": the deployment freeze uses "\*" for every service/,
  },
  '24-environment-named-star.yaml': {
    path: 'spec.environments[1]',
    line: 9,
    message: /^environment names must not be "\*" or contain "\/"/,
  },
};

describe('broken plans: one mistake, one precise error', () => {
  it('has a case for every fixture, and at least 14 of them', () => {
    const fixtures = readdirSync(folder).filter((file) => file !== policy.file);
    expect(fixtures.sort()).toEqual(Object.keys(cases).sort());
    expect(fixtures.length).toBeGreaterThanOrEqual(14);
  });

  it('accepts the shared policy on its own', () => {
    const errors = validateManifestTexts([policy], defaultRegistry()).problems.filter(
      (p) => p.severity === 'error',
    );
    expect(errors).toEqual([]);
  });

  it.each(Object.entries(cases))('%s', (file, expected) => {
    const { problems } = validateManifestTexts([policy, read(file)], defaultRegistry());
    const errors = problems.filter((p) => p.severity === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ file, path: expected.path, line: expected.line, severity: 'error' });
    expect(errors[0]!.message).toMatch(expected.message);
    expect(errors[0]!.column).toBeGreaterThan(0);
  });
});
