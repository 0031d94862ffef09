import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifests, validateManifestTexts, type ManifestText } from '../../../src/config/manifests.js';
import { defaultRegistry } from '../../../src/executors/default-registry.js';

const root = join(import.meta.dirname, '../../..');
const example = join(root, 'manifests/examples/example-config.yaml');
/**
 * The public contract's example configuration, by its SHA-256: the project keeps an exact copy and
 * tests written outside the project feed the bot that file, so the copy must never drift. Pinned
 * here rather than read from beside the clone, which a user's clone does not have.
 */
const CONTRACT_SHA256 = '3d98d5d07a196eb6870536b71fbcd5c89c9dea925197cece2533f5275972a54a';
const policy = readFileSync(join(root, 'test/fixtures/broken-plans/00-authority-policy.yaml'), 'utf8');

const validate = (files: ManifestText[], options = {}) =>
  validateManifestTexts(files, defaultRegistry(), options);
const errorsOf = (files: ManifestText[], options = {}) =>
  validate(files, options).problems.filter((p) => p.severity === 'error');

function plan(steps: string, extraSpec = ''): ManifestText {
  return {
    file: 'plan.yaml',
    text: `apiVersion: rollback-bot/v1
kind: RollbackPlan
metadata: { name: svc }
spec:
  service: svc
  channel: C0INCIDENTS
  environments: [production]
  criticality: low
  rto: 10m
  defaultStrategy: main
  strategies:
    main:
      steps:
${steps}
${extraSpec}`,
  };
}
const withPolicy = (file: ManifestText) => [{ file: 'policy.yaml', text: policy }, file];

describe('the example configuration', () => {
  it('is an exact copy of the public contract', () => {
    expect(createHash('sha256').update(readFileSync(example)).digest('hex')).toBe(CONTRACT_SHA256);
  });

  it('validates with zero errors', async () => {
    const set = await loadManifests(example);
    expect(set.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect([...set.plans.keys()]).toEqual(['checkout']);
    expect([...set.policies.keys()]).toEqual(['default']);
  });

  it('has no warning: every executor it uses is implemented', async () => {
    const { problems } = await loadManifests(example);
    expect(problems.filter((p) => p.severity === 'warning')).toEqual([]);
  });

  it('becomes domain types with durations in ms and defaults filled', async () => {
    const set = await loadManifests(example);
    const checkout = set.plans.get('checkout')!;
    expect(checkout).toMatchObject({
      rtoMs: 900_000,
      rpoMs: 300_000,
      authority: 'default',
      criticality: 'high',
    });
    expect(checkout.strategies['blue-green']!.steps[1]).toMatchObject({
      onFailure: { kind: 'ask' },
      database: false,
    });
    expect(checkout.strategies['blue-green']!.stabilizeMs).toBe(0);
    expect(checkout.triggers).toEqual([
      {
        name: 'error-rate',
        match: { alertname: 'CheckoutHighErrorRate' },
        action: 'propose',
        strategy: 'feature-flag',
        delayMs: 0,
      },
      {
        name: 'health-checks-failing',
        match: { alertname: 'CheckoutHealthChecksFailing' },
        action: 'auto',
        delayMs: 30_000,
      },
    ]);
    const policy = set.policies.get('default')!;
    expect(policy.tiers.map((t) => t.afterMs)).toEqual([0, 900_000, 1_800_000, 3_600_000]);
    expect(policy).toMatchObject({
      approvalsRequired: { default: 1, byEnvironment: {} },
      expireAfterMs: 7_200_000,
    });
  });

  it('reads the whole examples folder, Communications included', async () => {
    const set = await loadManifests(join(root, 'manifests'));
    expect(set.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(set.communications.get('stakeholders')).toMatchObject({
      updateEveryMs: 300_000,
      templates: { resolved: { slack: expect.stringContaining('ROLLBACK COMPLETE') as unknown } },
    });
  });
});

describe('format extensions', () => {
  it('normalises onFailure, retries, database and per-environment approvals', () => {
    const set = validate([
      {
        file: 'policy.yaml',
        text: policy.replace('  tiers:', '  approvalsRequired: { default: 1, production: 2 }\n  tiers:'),
      },
      plan(`        - { name: Back up, uses: command, with: { argv: [./backup.sh] }, onFailure: retry }
        - { name: Migrate down, uses: command, with: { argv: [./down.sh] }, onFailure: retry, retries: 5, database: true }
        - { name: Stop, uses: command, with: { argv: [./stop.sh] }, onFailure: abort }`),
    ]);
    expect(set.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(set.plans.get('svc')!.strategies.main!.steps.map((s) => [s.onFailure, s.database])).toEqual([
      [{ kind: 'retry', times: 2 }, false],
      [{ kind: 'retry', times: 5 }, true],
      [{ kind: 'abort' }, false],
    ]);
    expect(set.policies.get('default')!.approvalsRequired).toEqual({
      default: 1,
      byEnvironment: { production: 2 },
    });
  });

  it('reads steps after resolution: delays in ms (default 0s), outputs of the steps usable', () => {
    const set = validate(
      withPolicy(
        plan(`        - { name: Find the live colour, id: slots, uses: command, with: { argv: [./slots.sh] } }
      after:
        - name: Scale down the old colour
          uses: command
          with: { argv: [./down.sh, '{{ steps.slots.output.active }}'] }
          delay: 5m
        - { name: Tell the team, id: told, uses: command, with: { argv: [./tell.sh, '{{ steps.scale-down-the-old-colour.output.tail }}'] }, delay: 5m }`),
      ),
    );
    expect(set.problems).toEqual([]);
    expect(set.plans.get('svc')!.strategies.main!.after).toEqual([
      {
        name: 'Scale down the old colour',
        uses: 'command',
        with: expect.any(Object) as unknown,
        delayMs: 300_000,
      },
      {
        id: 'told',
        name: 'Tell the team',
        uses: 'command',
        with: expect.any(Object) as unknown,
        delayMs: 300_000,
      },
    ]);
  });

  it('leaves `after` out of a strategy that has none, as rollbacks stored before it', () => {
    const set = validate(
      withPolicy(plan(`        - { name: Stop, uses: command, with: { argv: [./stop.sh] } }`)),
    );
    expect(set.plans.get('svc')!.strategies.main).not.toHaveProperty('after');
  });

  it('refuses steps after resolution that use a later one, a manual item, or a step id again', () => {
    const problems = validate(
      withPolicy(
        plan(`        - { name: Switch, uses: command, with: { argv: [./switch.sh] } }
      after:
        - { name: First, uses: command, with: { argv: [./a.sh, '{{ steps.second.output.tail }}'] }, delay: 10m }
        - { name: Second, uses: command, with: { argv: [./b.sh] }, delay: 5m }
        - { name: Check by hand, uses: manual }
        - { name: Again, id: switch, uses: command, with: { argv: [./c.sh] }, delay: 10m }`),
      ),
    ).problems.map((p) => `${p.severity} ${p.path} ${p.message}`);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^error spec\.strategies\.main\.after\[0\]\.with\.argv\[1\] .*second/),
        expect.stringMatching(/^warning spec\.strategies\.main\.after\[1\]\.delay runs after "First"/),
        expect.stringMatching(
          /^error spec\.strategies\.main\.after\[2\]\.uses manual items belong under validate/,
        ),
        expect.stringMatching(
          /^error spec\.strategies\.main\.after\[3\]\.id step id "switch" is also the id of a step/,
        ),
      ]),
    );
    const badDelay = errorsOf(
      withPolicy(
        plan(`        - { name: Switch, uses: command, with: { argv: [./switch.sh] } }
      after:
        - { name: Later, uses: command, with: { argv: [./d.sh] }, delay: soon }`),
      ),
    );
    expect(badDelay.map((p) => p.path)).toEqual(['spec.strategies.main.after[0].delay']);
  });

  it('lets a step use the output of an earlier step, by id or by name', () => {
    const errors = errorsOf(
      withPolicy(
        plan(`        - { name: Find version, uses: command, with: { argv: [./find.sh] } }
        - { name: Dump, id: dump, uses: command, with: { argv: [./dump.sh] } }
        - name: Deploy
          uses: command
          with: { argv: [./deploy.sh, '{{ steps.find-version.output.version }}', '{{ steps.dump.output.file }}'] }`),
      ),
    );
    expect(errors).toEqual([]);
  });

  it('warns when retries is given without onFailure: retry, and when a propose trigger has a delay', () => {
    const { problems } = validate(
      withPolicy(
        plan(
          '        - { name: Stop, uses: command, with: { argv: [./stop.sh] }, retries: 3 }',
          '  triggers:\n    - { name: t, match: { alertname: A }, action: propose, delay: 1m }',
        ),
      ),
    );
    expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(problems.map((p) => [p.path, p.message])).toEqual(
      expect.arrayContaining([
        ['spec.strategies.main.steps[0].retries', 'retries is ignored unless onFailure is retry (it is ask)'],
        ['spec.triggers[0].delay', 'delay is ignored when action is propose: a human starts the rollback'],
      ]),
    );
  });
});

describe('conditional steps (when)', () => {
  const steps = (when: string, at = 1) => {
    const list = [
      `        - { name: Check the migration, id: migrate-check, uses: command, with: { argv: [./check.sh] } }`,
      `        - { name: Undo, uses: command, with: { argv: [./down.sh] } }`,
      `        - { name: Restart, uses: command, with: { argv: [./restart.sh] } }`,
    ];
    list[at] = list[at]!.replace(/ }$/, `, when: '${when}' }`);
    return list.join('\n');
  };
  const whenErrors = (when: string, at = 1) =>
    errorsOf(withPolicy(plan(steps(when, at)))).map((p) => [p.path, p.message]);

  it('accepts an earlier step output, a template variable and a negation, and keeps them in the plan', () => {
    const set = validate(withPolicy(plan(steps('{{ steps.migrate-check.output.applied }}'))));
    expect(set.problems.filter((p) => p.severity === 'error')).toEqual([]);
    const planSteps = set.plans.get('svc')!.strategies.main!.steps;
    expect(planSteps[1]!.when).toEqual({
      ref: 'steps.migrate-check.output.applied',
      negate: false,
      text: '{{ steps.migrate-check.output.applied }}',
    });
    expect(planSteps[0]!.when).toBeUndefined();
    expect('when' in planSteps[0]!).toBe(false);
    expect(whenErrors('{{ !steps.undo.output.applied }}', 2)).toEqual([]);
    expect(whenErrors('{{ fromVersion }}', 0)).toEqual([]);
    expect(whenErrors('{{ !rollback.reason }}', 0)).toEqual([]);
  });

  it('refuses an unknown step, with a suggestion', () => {
    expect(whenErrors('{{ steps.migrate-chek.output.applied }}')).toEqual([
      [
        'spec.strategies.main.steps[1].when',
        '"{{ steps.migrate-chek.output.applied }}" names no earlier step "migrate-chek" (did you mean "migrate-check"?); earlier steps: migrate-check',
      ],
    ]);
  });

  it('refuses a step that does not run before it: a later one, or itself', () => {
    expect(whenErrors('{{ steps.restart.output.ok }}')).toEqual([
      [
        'spec.strategies.main.steps[1].when',
        '"{{ steps.restart.output.ok }}" uses the output of step "restart", which runs after this one: only earlier steps\' outputs exist',
      ],
    ]);
    expect(whenErrors('{{ !steps.undo.output.ok }}')).toEqual([
      [
        'spec.strategies.main.steps[1].when',
        '"{{ steps.undo.output.ok }}" uses the output of this very step, which does not exist before it runs: only earlier steps\' outputs do',
      ],
    ]);
    expect(whenErrors('{{ steps.nothing.output.applied }}', 0)[0]![1]).toMatch(
      /no step runs before this one/,
    );
  });

  it('refuses an unknown template variable, with a suggestion', () => {
    expect(whenErrors('{{ toVersoin }}')).toEqual([
      [
        'spec.strategies.main.steps[1].when',
        expect.stringMatching(
          /^unknown template variable "toVersoin" \(did you mean "toVersion"\?\); known: /,
        ),
      ],
    ]);
    expect(whenErrors('{{ env.RUN_MIGRATION }}')[0]![1]).toMatch(/env is not a template variable/);
  });

  it('refuses anything but exactly one reference, saying how to write it', () => {
    expect(whenErrors('steps.migrate-check.output.applied')).toEqual([
      [
        'spec.strategies.main.steps[1].when',
        '"steps.migrate-check.output.applied" needs braces: "{{ steps.migrate-check.output.applied }}"',
      ],
    ]);
    expect(whenErrors('{{ steps.migrate-check.output.count > 0 }}')[0]![1]).toMatch(
      /comparisons and expressions are not supported; let an earlier step print true or false/,
    );
    const notText = errorsOf(
      withPolicy(plan('        - { name: Undo, uses: command, with: { argv: [./down.sh] }, when: true }')),
    );
    expect(notText.map((p) => [p.path, p.message])).toEqual([
      ['spec.strategies.main.steps[0].when', expect.stringMatching(/^must be a text such as "\{\{ steps/)],
    ]);
  });
});

describe('SNS topic ARNs', () => {
  const step = '        - { name: Stop, uses: command, with: { argv: [./stop.sh] } }';
  const withTopic = (arn: string) =>
    errorsOf(withPolicy(plan(step, `  communications:\n    sns: { topicArn: '${arn}' }`)));

  it('accept standard and FIFO topics', () => {
    expect(withTopic('arn:aws:sns:eu-west-3:123456789012:stakeholders')).toEqual([]);
    expect(withTopic('arn:aws:sns:eu-west-3:123456789012:stakeholders.fifo')).toEqual([]);
  });

  it('refuse anything else with an example', () => {
    for (const arn of ['arn:aws:sns:eu-west-3:123456789012:stake.holders', 'stakeholders.fifo']) {
      expect(withTopic(arn).map((p) => [p.path, p.message])).toEqual([
        [
          'spec.communications.sns.topicArn',
          'must be an SNS topic ARN, e.g. arn:aws:sns:us-east-1:123456789012:stakeholders',
        ],
      ]);
    }
  });
});

describe('RTO, ownership and the status page impact (issue 15)', () => {
  const step = '        - { name: Stop, uses: command, with: { argv: [./stop.sh] } }';
  const load = (extra: string) => validate(withPolicy(plan(step, extra)));

  it('reads contacts, links and componentStatus into the plan', () => {
    const loaded = load(`  owner: team-svc
  contacts:
    - { name: 'Incident commander: Ana', slack: U0LEAD1, phone: '+33 6 12 34 56 78' }
    - { name: On-call, slack: S0ONCALL }
  links: { runbook: 'https://wiki/rb', logs: 'CloudWatch log group /aws/svc' }
  communications:
    statuspage: { pageId: page1, componentIds: [cmp1], componentStatus: major_outage }`);
    expect(loaded.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(loaded.plans.get('svc')).toMatchObject({
      rtoMs: 600_000,
      owner: 'team-svc',
      contacts: [
        { name: 'Incident commander: Ana', slack: 'U0LEAD1', phone: '+33 6 12 34 56 78' },
        { name: 'On-call', slack: 'S0ONCALL' },
      ],
      links: { runbook: 'https://wiki/rb', logs: 'CloudWatch log group /aws/svc' },
      communications: { statuspage: { componentStatus: 'major_outage' } },
    });
  });

  it('takes a plan without rto: no ETA, nothing else changes', () => {
    const text = plan(step).text.replace('  rto: 10m\n', '');
    const loaded = validate(withPolicy({ file: 'plan.yaml', text }));
    expect(loaded.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(loaded.plans.get('svc')).not.toHaveProperty('rtoMs');
    expect(loaded.plans.get('svc')).not.toHaveProperty('contacts');
  });

  it('refuses a contact Slack handle that cannot be mentioned, an unknown link and a bad status', () => {
    const problems = (extra: string) =>
      errorsOf(withPolicy(plan(step, extra))).map((p) => [p.path, p.message]);
    expect(problems(`  contacts: [{ name: Ana, slack: '@ana' }]`)).toEqual([
      [
        'spec.contacts[0].slack',
        'must be a Slack user id (U...) or user group id (S...): the card mentions it',
      ],
    ]);
    expect(problems(`  links: { runbok: 'https://wiki/rb' }`)[0]![1]).toMatch(
      /unknown key "runbok" \(did you mean "runbook"\?\)/,
    );
    expect(
      problems(
        `  communications:\n    statuspage: { pageId: p, componentIds: [], componentStatus: down }`,
      )[0]![0],
    ).toBe('spec.communications.statuspage.componentStatus');
  });
});

describe('cross-document checks', () => {
  it('refuses two manifests of one kind with the same name, pointing at the first', () => {
    const errors = errorsOf([
      { file: 'a.yaml', text: policy },
      { file: 'b.yaml', text: policy },
    ]);
    expect(errors).toEqual([
      expect.objectContaining({
        file: 'b.yaml',
        line: 5,
        path: 'metadata.name',
        message:
          'another AuthorityPolicy is already named "default" (a.yaml:5); names must be unique per kind',
      }),
    ]);
  });

  it('refuses tiers out of order and duplicate roles, and warns about roles without members', () => {
    const text = policy.replace(
      '- { name: team-lead, members: { users: [U0LEAD1] } }',
      '- { name: team-lead, members: {} }\n    - { name: team-lead, members: { users: [U0LEAD2] } }',
    );
    expect(validate([{ file: 'p.yaml', text }]).problems.map((p) => [p.severity, p.path, p.message])).toEqual(
      [
        [
          'warning',
          'spec.roles[1].members',
          'role "team-lead" has no members: nobody can approve or be told as team-lead',
        ],
        ['error', 'spec.roles[2].name', 'role "team-lead" is listed twice'],
      ],
    );
    const reordered = validate([
      { file: 'p.yaml', text: policy.replace('after: 15m', 'after: 0m') },
    ]).problems;
    expect(reordered).toEqual([
      expect.objectContaining({
        path: 'spec.tiers[1].after',
        message: 'tiers must be in ascending order of after: this one does not come after tier 1',
      }),
    ]);
  });
});

describe('secrets and environment references', () => {
  const flag = (token: string) =>
    withPolicy(
      plan(`        - name: Flag off
          uses: feature-flag
          with: { provider: unleash, url: 'https://unleash.example.com/api', token: '${token}', flag: f, environment: production }`),
    );

  it('reports a literal token once, at the token', () => {
    const errors = errorsOf(flag('abc123'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ path: 'spec.strategies.main.steps[0].with.token', line: 16 });
  });

  it('accepts ${env:NAME}, and with an env map requires the variable to be set', () => {
    expect(errorsOf(flag('${env:UNLEASH_TOKEN}'))).toEqual([]);
    expect(errorsOf(flag('${env:UNLEASH_TOKEN}'), { env: { UNLEASH_TOKEN: 'x' } })).toEqual([]);
    expect(errorsOf(flag('${env:UNLEASH_TOKEN}'), { env: {} })).toEqual([
      expect.objectContaining({ message: 'needs the environment variable UNLEASH_TOKEN, which is not set' }),
    ]);
  });

  it('refuses a malformed environment reference', () => {
    const errors = errorsOf(
      withPolicy(
        plan(
          "        - { name: Call, uses: http, with: { url: 'https://x.example.com/${env:lower-case}' } }",
        ),
      ),
    );
    expect(errors).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/^has a malformed secret reference/) as unknown,
      }),
    ]);
  });
});

describe('step limit (STEP_TIMEOUT_MAX)', () => {
  const steps = `        - name: Dump
          uses: postgres-backup
          with: { database: '\${env:DB_URL}', timeout: 45m }
      validate:
        - name: Answers
          uses: http
          with: { url: 'https://svc.example.com/health', timeout: 2h }
      watch:
        - name: Still answers
          uses: healthcheck
          with: { url: 'https://svc.example.com/health' }
      after:
        - name: Dump again
          uses: postgres-backup
          with: { database: '\${env:DB_URL}' }`;

  it('refuses a step, check or watch whose timeout is longer, naming both values', () => {
    const problems = validate(withPolicy(plan(steps)), { stepTimeoutMaxMs: 20 * 60_000 }).problems;
    expect(problems.map((p) => [p.severity, p.path, p.message])).toEqual([
      [
        'error',
        'spec.strategies.main.steps[0].with.timeout',
        'timeout 45m is longer than STEP_TIMEOUT_MAX (20m), the longest the bot lets any step run: lower it, or raise STEP_TIMEOUT_MAX where the bot runs',
      ],
      [
        'error',
        'spec.strategies.main.validate[0].with.timeout',
        'timeout 2h is longer than STEP_TIMEOUT_MAX (20m), the longest the bot lets any step run: lower it, or raise STEP_TIMEOUT_MAX where the bot runs',
      ],
      // Nothing written: the executor's default (30m) would be cut, which the plan did not ask for.
      [
        'warning',
        'spec.strategies.main.after[0].uses',
        "the postgres-backup executor's default timeout (30m) is longer than STEP_TIMEOUT_MAX (20m), the longest the bot lets any step run: the step would be stopped at 20m; set timeout",
      ],
    ]);
  });

  it('defaults to 60m, and accepts a timeout equal to the limit', () => {
    expect(validate(withPolicy(plan(steps))).problems.map((p) => p.path)).toEqual([
      'spec.strategies.main.validate[0].with.timeout',
    ]);
    expect(errorsOf(withPolicy(plan(steps)), { stepTimeoutMaxMs: 2 * 3_600_000 })).toEqual([]);
  });
});

describe('hostile and odd inputs', () => {
  it('warns about an empty file', () => {
    expect(validate([{ file: 'empty.yaml', text: '' }]).problems).toEqual([
      {
        file: 'empty.yaml',
        line: 1,
        column: 1,
        path: '',
        message: 'file is empty: no manifests in it',
        severity: 'warning',
      },
    ]);
  });

  it('refuses a 2 MB file without parsing it', () => {
    const text = `# ${'x'.repeat(2 * 1024 * 1024)}\n`;
    const started = performance.now();
    const { problems } = validate([{ file: 'huge.yaml', text }]);
    expect(performance.now() - started).toBeLessThan(500);
    expect(problems).toEqual([
      expect.objectContaining({
        severity: 'error',
        message: 'file is 2.0 MB; manifest files over 1 MB are refused: split it',
      }),
    ]);
  });

  it('stops an alias bomb', () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (const [name, prev] of [
      ['b', 'a'],
      ['c', 'b'],
      ['d', 'c'],
      ['e', 'd'],
      ['f', 'e'],
      ['g', 'f'],
      ['h', 'g'],
      ['i', 'h'],
    ]) {
      lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const started = performance.now();
    const { problems } = validate([{ file: 'bomb.yaml', text: lines.join('\n') }]);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(problems).toEqual([
      expect.objectContaining({
        severity: 'error',
        message: expect.stringMatching(/^YAML aliases expand too much/) as unknown,
      }),
    ]);
  });

  it.each([
    ['a list', '- apiVersion: rollback-bot/v1\n', /not a list$/],
    ['a scalar', 'just some text\n', /not a single value \("just some text"\)$/],
  ])('refuses a document that is %s', (_, text, message) => {
    const { problems } = validate([{ file: 'odd.yaml', text }]);
    expect(problems).toEqual([
      expect.objectContaining({
        severity: 'error',
        line: 1,
        path: '',
        message: expect.stringMatching(message) as unknown,
      }),
    ]);
  });

  it('ignores blank documents such as a trailing ---', () => {
    const text = `${policy}---\n# nothing more\n---\n`;
    expect(validate([{ file: 'policy.yaml', text }]).problems).toEqual([]);
  });

  it('suggests the event a misspelt Communications template meant', () => {
    const text =
      'apiVersion: rollback-bot/v1\nkind: Communications\nmetadata: { name: c }\nspec:\n  templates: { resolvd: x }\n';
    expect(validate([{ file: 'c.yaml', text }]).problems).toEqual([
      expect.objectContaining({
        line: 5,
        path: 'spec.templates.resolvd',
        message: 'unknown key "resolvd" (did you mean "resolved"?)',
      }),
    ]);
  });

  it('warns when a folder holds no manifest file', async () => {
    const set = await loadManifests(join(root, 'src/cli'), defaultRegistry(), { cwd: root });
    expect(set.problems).toEqual([
      { file: 'src/cli', path: '', message: 'no *.yaml or *.yml file in this folder', severity: 'warning' },
    ]);
  });

  it('reports duplicate keys with their line', () => {
    const { problems } = validate([
      { file: 'dup.yaml', text: 'apiVersion: rollback-bot/v1\nkind: X\nkind: Y\n' },
    ]);
    expect(problems).toEqual([expect.objectContaining({ line: 3, message: 'Map keys must be unique' })]);
  });

  it('skips foreign files only when a folder was given', () => {
    const k8s = {
      file: 'deployment.yaml',
      text: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: x }\n',
    };
    expect(validate([k8s], { skipForeignFiles: true }).problems).toEqual([
      expect.objectContaining({
        severity: 'warning',
        message: expect.stringMatching(/^not a rollback-bot manifest/) as unknown,
      }),
    ]);
    expect(errorsOf([k8s]).map((p) => p.path)).toEqual(['apiVersion', 'kind']);
  });
});
