import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/env.js';
import { ConfigError, RollbackError } from '../../../src/lib/errors.js';

const minimal = { SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_SIGNING_SECRET: '8f14e45fceea167a5a36dedd4bea2543' };

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const configError = error as ConfigError;
    expect(configError.message.split('\n')).toEqual(configError.problems);
    return [...configError.problems];
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('fills every default from a minimal environment', () => {
    const config = loadConfig(minimal);
    expect(config).toEqual({
      slack: {
        botToken: 'xoxb-1-2-abc',
        signingSecret: minimal.SLACK_SIGNING_SECRET,
        apiUrl: 'https://slack.com/api/',
      },
      port: 3000,
      nodeEnv: 'development',
      rollbackConfig: 'manifests/',
      statuspage: { apiUrl: 'https://api.statuspage.io/v1' },
      stepTimeoutMaxMs: 60 * 60_000,
      sns: { topicArns: [], certUrlPrefixes: [] },
      logLevel: 'info',
      warnings: ['REDIS_URL is not set: using the in-memory store; rollbacks are lost on restart'],
    });
  });

  it('reads every variable when all are good', () => {
    const config = loadConfig({
      ...minimal,
      SLACK_APP_TOKEN: 'xapp-1-A-1',
      SLACK_API_URL: 'http://127.0.0.1:4000/api/',
      PORT: '0',
      REDIS_URL: 'rediss://:pw@redis.internal:6380/2',
      NODE_ENV: 'production',
      ROLLBACK_CONFIG: '/etc/rollback-bot/',
      ALERT_WEBHOOK_TOKEN: 'alert-token',
      API_TOKEN: 'api-token',
      STATUSPAGE_API_KEY: 'sp-key',
      STATUSPAGE_API_URL: 'http://127.0.0.1:4001/v1/',
      AWS_REGION: 'eu-west-3',
      STEP_TIMEOUT_MAX: '1h30m',
      SNS_TOPIC_ARNS: 'arn:aws:sns:eu-west-3:123456789012:alerts, arn:aws-cn:sns:cn-north-1:123456789012:cw,',
      SNS_CERT_URL_PREFIXES: 'http://127.0.0.1:4002/certs/',
      SNS_CA_FILE: '/etc/rollback-bot/sns-ca.pem',
      LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      slack: { appToken: 'xapp-1-A-1', apiUrl: 'http://127.0.0.1:4000/api/' },
      port: 0,
      redis: { mode: 'single', url: 'rediss://:pw@redis.internal:6380/2' },
      nodeEnv: 'production',
      rollbackConfig: '/etc/rollback-bot/',
      alertWebhookToken: 'alert-token',
      apiToken: 'api-token',
      statuspage: { apiKey: 'sp-key', apiUrl: 'http://127.0.0.1:4001/v1' },
      awsRegion: 'eu-west-3',
      stepTimeoutMaxMs: 90 * 60_000,
      sns: {
        topicArns: ['arn:aws:sns:eu-west-3:123456789012:alerts', 'arn:aws-cn:sns:cn-north-1:123456789012:cw'],
        certUrlPrefixes: ['http://127.0.0.1:4002/certs/'],
        caFile: '/etc/rollback-bot/sns-ca.pem',
      },
      logLevel: 'debug',
      warnings: [expect.stringMatching(/^SNS_CERT_URL_PREFIXES is set in production: /)],
    });
  });

  it('says how to fix each missing required variable, one line each', () => {
    expect(problemsOf({})).toEqual([
      "SLACK_BOT_TOKEN is missing: set it to the bot token (xoxb-...) from your Slack app's OAuth & Permissions page",
      "SLACK_SIGNING_SECRET is missing: set it to the signing secret from your Slack app's Basic Information page",
    ]);
  });

  it('treats an empty value as unset', () => {
    expect(problemsOf({ ...minimal, SLACK_BOT_TOKEN: '' })).toEqual([
      expect.stringMatching(/^SLACK_BOT_TOKEN is missing: /),
    ]);
    expect(loadConfig({ ...minimal, PORT: '' }).port).toBe(3000);
    expect(loadConfig({ ...minimal, STEP_TIMEOUT_MAX: '' }).stepTimeoutMaxMs).toBe(60 * 60_000);
  });

  it.each([
    [
      'SLACK_BOT_TOKEN',
      'xoxp-user-token',
      /^SLACK_BOT_TOKEN does not start with xoxb-: set it to the bot token/,
    ],
    ['SLACK_SIGNING_SECRET', 'has spaces in it', /^SLACK_SIGNING_SECRET contains whitespace: /],
    ['SLACK_APP_TOKEN', 'xoxb-not-an-app-token', /^SLACK_APP_TOKEN does not start with xapp-: .*Socket Mode/],
    [
      'SLACK_API_URL',
      'https://slack.com/api',
      /^SLACK_API_URL must end with a slash \("https:\/\/slack.com\/api"\): /,
    ],
    ['SLACK_API_URL', 'not a url', /^SLACK_API_URL is not a URL/],
    ['SLACK_API_URL', 'ftp://slack.com/api/', /^SLACK_API_URL must be an http\(s\) URL/],
    ['PORT', '70000', /^PORT is not a port number \("70000"\): set it to a whole number from 0 to 65535/],
    ['PORT', '-1', /^PORT is not a port number/],
    ['PORT', '3000abc', /^PORT is not a port number/],
    [
      'REDIS_URL',
      'http://redis:6379',
      /^REDIS_URL is not a redis:\/\/, rediss:\/\/ or redis\+sentinel:\/\/ URL/,
    ],
    ['REDIS_URL', 'redis://redis:6379/zero', /^REDIS_URL has a database "zero" that is not a number/],
    [
      'REDIS_URL',
      'redis+sentinel://s1:26379',
      /^REDIS_URL is a redis\+sentinel:\/\/ URL without hosts and a master name/,
    ],
    [
      'REDIS_URL',
      'redis://a:6379,http://b:6379',
      /^REDIS_URL is a comma-separated list, but not every entry/,
    ],
    [
      'NODE_ENV',
      'prod',
      /^NODE_ENV is "prod", which is not allowed: set it to one of development, production, test$/,
    ],
    ['ALERT_WEBHOOK_TOKEN', 'two words', /^ALERT_WEBHOOK_TOKEN contains whitespace/],
    ['API_TOKEN', 'two words', /^API_TOKEN contains whitespace/],
    ['STATUSPAGE_API_KEY', 'two words', /^STATUSPAGE_API_KEY contains whitespace/],
    ['STATUSPAGE_API_URL', 'api.statuspage.io/v1', /^STATUSPAGE_API_URL is not a URL/],
    ['AWS_REGION', 'Frankfurt', /^AWS_REGION is not a region \("Frankfurt"\): set it to an AWS region name/],
    [
      'SNS_TOPIC_ARNS',
      'arn:aws:sns:us-east-1:123456789012:ok,arn:aws:sqs:us-east-1:123456789012:queue',
      /^SNS_TOPIC_ARNS has "arn:aws:sqs:us-east-1:123456789012:queue", which is not an SNS topic ARN: set it to a comma-separated list/,
    ],
    [
      'SNS_CERT_URL_PREFIXES',
      'http://127.0.0.1:4002/certs',
      /^SNS_CERT_URL_PREFIXES must end with a slash \("http:\/\/127.0.0.1:4002\/certs"\): /,
    ],
    ['SNS_CERT_URL_PREFIXES', 'file:///etc/', /^SNS_CERT_URL_PREFIXES must be an http\(s\) URL/],
    [
      'STEP_TIMEOUT_MAX',
      '90',
      /^STEP_TIMEOUT_MAX is not a duration \("90"\): set it to a duration from 1s to 24h such as 60m/,
    ],
    ['STEP_TIMEOUT_MAX', '0s', /^STEP_TIMEOUT_MAX is 0s, outside 1s to 24h: /],
    // Past about 24.8 days a Node timer overflows and fires at once: every step would stop as it starts.
    ['STEP_TIMEOUT_MAX', '30d', /^STEP_TIMEOUT_MAX is 30d, outside 1s to 24h: /],
    [
      'LOG_LEVEL',
      'verbose',
      /^LOG_LEVEL is "verbose", which is not allowed: set it to one of fatal, error, warn/,
    ],
  ])('%s=%s is refused with a fix', (name, value, expected) => {
    const problems = problemsOf({ ...minimal, [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(expected);
  });

  it('never echoes a Redis password in a problem', () => {
    const [problem] = problemsOf({ ...minimal, REDIS_URL: 'http://:hunter2@redis:6379' });
    expect(problem).not.toContain('hunter2');
  });

  it('reports every problem at once', () => {
    const problems = problemsOf({ PORT: 'x', LOG_LEVEL: 'loud', SLACK_BOT_TOKEN: 'nope' });
    expect(problems).toHaveLength(4);
    expect(problems.map((p) => p.split(' ')[0]).sort()).toEqual([
      'LOG_LEVEL',
      'PORT',
      'SLACK_BOT_TOKEN',
      'SLACK_SIGNING_SECRET',
    ]);
  });

  it('refuses production without Redis', () => {
    expect(problemsOf({ ...minimal, NODE_ENV: 'production' })).toEqual([
      expect.stringMatching(/^REDIS_URL is missing and NODE_ENV=production: .*set it to redis:\/\//),
    ]);
  });

  it('accepts Sentinel and Cluster forms of REDIS_URL', () => {
    expect(
      loadConfig({ ...minimal, REDIS_URL: 'redis+sentinel://:pw@s1,s2:26380/mymaster/3' }).redis,
    ).toEqual({
      mode: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
      ],
      masterName: 'mymaster',
      password: 'pw',
      db: 3,
    });
    expect(loadConfig({ ...minimal, REDIS_URL: 'redis://:pw@n1:7000, redis://n2:7001' }).redis).toEqual({
      mode: 'cluster',
      nodes: [
        { host: 'n1', port: 7000 },
        { host: 'n2', port: 7001 },
      ],
      tls: false,
      password: 'pw',
    });
  });

  it('is a typed RollbackError with a namespaced code', () => {
    expect.assertions(2);
    try {
      loadConfig({});
    } catch (error) {
      expect(error).toBeInstanceOf(RollbackError);
      expect(error).toMatchObject({ code: 'config_invalid', retryable: false, name: 'ConfigError' });
    }
  });
});
