import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defaultRegistry } from '../../../src/executors/default-registry.js';
import type { Executor } from '../../../src/executors/executor.js';
import { ExecutorRegistry } from '../../../src/executors/registry.js';

const registry = defaultRegistry();
const problems = (kind: string, params: unknown) =>
  registry.validateParams(kind, params).map((p) => `${p.path.join('.')}: ${p.message}`);

describe('ExecutorRegistry', () => {
  it('knows every kind of DESIGN section 6', () => {
    expect(registry.kinds()).toEqual([
      'aws-appconfig',
      'aws-autoscaling',
      'aws-elb',
      'aws-ssm-parameter',
      'cloudwatch',
      'command',
      'ecs',
      'feature-flag',
      'healthcheck',
      'http',
      'kubernetes',
      'manual',
      'postgres-backup',
      'prometheus',
    ]);
  });

  it('lists the IAM actions of every AWS executor in one place, each as service:Action', () => {
    const aws = ['aws-appconfig', 'aws-autoscaling', 'aws-elb', 'aws-ssm-parameter', 'cloudwatch', 'ecs'];
    for (const kind of registry.kinds()) {
      const actions = registry.get(kind)?.iamActions;
      if (!aws.includes(kind)) {
        expect(actions, kind).toBeUndefined();
        continue;
      }
      expect(actions?.length, kind).toBeGreaterThan(0);
      for (const action of actions ?? []) expect(action).toMatch(/^[a-z0-9-]+:[A-Z][A-Za-z]+$/);
    }
    expect(registry.get('aws-ssm-parameter')?.iamActions).toEqual([
      'ssm:GetParameterHistory',
      'ssm:PutParameter',
    ]);
  });

  it('refuses to register a kind twice', () => {
    const executor: Executor<object> = {
      kind: 'x',
      description: 'x',
      params: z.object({}),
      run: () => Promise.resolve({ outcome: 'inconclusive', detail: 'never run' }),
    };
    expect(() => new ExecutorRegistry().register(executor).register(executor)).toThrow('registered twice');
  });

  it('suggests the closest kind for an unknown one', () => {
    expect(problems('kubernets', {})).toEqual([
      expect.stringMatching(/^: unknown executor "kubernets" \(did you mean "kubernetes"\?\)/),
    ]);
  });

  it.each([
    ['http', { url: 'https://x.example.com/{{ service }}', expectStatus: [200, 204], timeout: '5s' }],
    ['command', { argv: ['./a.sh', '{{ toVersion }}'], env: { MODE: 'fast' }, cwd: '/srv', timeout: '1m' }],
    [
      'healthcheck',
      { url: 'http://127.0.0.1/health', successes: 2, attempts: 5, interval: '1s', bodyMatch: 'ok|up' },
    ],
    [
      'prometheus',
      { url: 'http://prom:9090', query: 'sum(rate(x[5m]))', threshold: { op: '<', value: 0.05 } },
    ],
    ['prometheus', { url: 'http://prom:9090', query: 'q', baseline: { maxIncrease: 0.5 } }],
    ['kubernetes', { kind: 'Rollout', namespace: 'shop', name: 'checkout', toRevision: 3 }],
    ['ecs', { cluster: 'prod', service: 'checkout', taskDefinition: 'checkout:41', region: 'eu-west-1' }],
    ['cloudwatch', { alarm: 'checkout-5xx', region: 'eu-west-1' }],
    [
      'aws-appconfig',
      { application: 'abc1234', environment: 'prod567', configurationProfile: 'p', timeout: '20m' },
    ],
    ['aws-elb', { listenerArn: '{{ steps.find.output.listener }}', targetGroupArn: 'arn:tg', weight: 90 }],
    [
      'aws-autoscaling',
      { autoScalingGroup: 'checkout-{{ environment }}', launchTemplateVersion: 41, instanceWarmup: '90s' },
    ],
    [
      'cloudwatch',
      {
        metric: { namespace: 'AWS/ApplicationELB', name: 'HTTPCode_Target_5XX_Count', statistic: 'p99' },
        threshold: { op: '<', value: 10 },
        roleArn: 'arn:aws:iam::123456789012:role/read',
      },
    ],
    [
      'aws-ssm-parameter',
      { name: '/app/{{ environment }}/config', region: '{{ steps.where.output.region }}', version: 3 },
    ],
    [
      'feature-flag',
      {
        provider: 'launchdarkly',
        token: '${env:LD_TOKEN}',
        projectKey: 'p',
        environment: 'production',
        flag: 'f',
      },
    ],
    ['feature-flag', { provider: 'http', url: 'https://flags.example.com/set', flag: 'f' }],
    ['postgres-backup', { database: '${env:CHECKOUT_DATABASE_URL}', outputDir: '/backups' }],
    ['manual', { instructions: 'Place a test order' }],
    ['manual', undefined],
  ])('accepts good %s parameters', (kind, params) => {
    expect(problems(kind, params)).toEqual([]);
  });

  it.each([
    ['http', { url: 'not a url' }, 'url: must be an http:// or https:// URL'],
    [
      'http',
      { url: 'https://x.example.com', json: {}, form: {} },
      'form: give either json or form as the body, not both',
    ],
    [
      'http',
      { url: 'https://x.example.com', expectStatus: '200' },
      'expectStatus: must be a number or a list, not the text "200"',
    ],
    [
      'http',
      { url: 'https://x.example.com', timeout: '30 seconds' },
      'timeout: "30 seconds" is not a duration: write a number followed by ms, s, m, h or d, e.g. 30s, 15m, 1h30m',
    ],
    ['command', { argv: [] }, 'argv: must name the program to run as its first item'],
    [
      'healthcheck',
      { url: 'http://h/health', successes: 6, attempts: 5 },
      'successes: 6 consecutive successes can never happen in 5 attempts',
    ],
    [
      'healthcheck',
      { url: 'http://h/health', bodyMatch: '(' },
      'bodyMatch: is not a valid regular expression',
    ],
    ['prometheus', { url: 'http://p', query: 'q' }, ': give exactly one of threshold or baseline'],
    [
      'prometheus',
      { url: 'http://p', query: 'q', threshold: { op: '==', value: 1 } },
      'threshold.op: must be one of "<", "<=", ">", ">=", not the text "=="',
    ],
    [
      'kubernetes',
      { kind: 'Deploy', namespace: 'n', name: 'x' },
      'kind: must be one of "Deployment", "StatefulSet", "DaemonSet", "Rollout", not the text "Deploy"',
    ],
    [
      'ecs',
      { cluster: 'c', service: 's', region: 'Ireland' },
      'region: is not an AWS region such as us-east-1',
    ],
    [
      'feature-flag',
      { provider: 'flagsmith', flag: 'f' },
      'provider: must be one of "unleash", "launchdarkly", "http", not the text "flagsmith"',
    ],
    [
      'feature-flag',
      { provider: 'unleash', url: 'https://u.example.com', token: '${env:T}', flag: 'f' },
      'environment: is required',
    ],
    [
      'postgres-backup',
      { database: 'postgres://u:p@db/shop' },
      'database: must be a reference to an environment variable such as ${env:UNLEASH_TOKEN} (or a file such as ${file:/run/secrets/token}), never the secret itself',
    ],
    [
      'aws-autoscaling',
      { autoScalingGroup: 'web', skipMatching: 'yes' },
      'skipMatching: must be true or false, not the text "yes"',
    ],
    ['manual', { instructions: 'x', timeout: '1m' }, 'timeout: unknown key "timeout"'],
  ])('refuses bad %s parameters: %j', (kind, params, expected) => {
    expect(problems(kind, params)).toEqual([expected]);
  });
});
