import { postgresBackupParams } from '../../../src/executors/postgres-backup/params.js';
import { describe, expect, it } from 'vitest';
import { templateVarsFor } from '../../../src/domain/template-vars.js';
import { SecretMask } from '../../../src/domain/secret-mask.js';
import { prepareParams, previewParams, renderParams } from '../../../src/executors/render-params.js';
import { rollbackInput } from '../../support/domain-fixtures.js';

const input = rollbackInput();
const vars = templateVarsFor({
  ...input,
  strategy: {
    ...input.strategy,
    steps: [{ id: 'find-version', name: 'Find version' }, { name: 'Switch traffic' }],
  },
  steps: [{ output: { previous: 'v1.4.0' } }, {}],
});

describe('renderParams', () => {
  it('fills template variables everywhere in the parameters, earlier step outputs included', () => {
    const rendered = renderParams(
      {
        url: 'http://x/{{ service }}',
        json: { to: '{{toVersion}}', prev: ['{{ steps.find-version.output.previous }}'] },
      },
      vars,
      {},
    );
    expect(rendered).toEqual({
      ok: true,
      value: { url: 'http://x/checkout', json: { to: 'v1.4.1', prev: ['v1.4.0'] } },
      secrets: [],
    });
  });

  it('takes secrets from the environment and reports them for masking', () => {
    const rendered = renderParams({ headers: { Authorization: 'Bearer ${env:FLAG_TOKEN}' } }, vars, {
      FLAG_TOKEN: 's3cr3t',
    });
    expect(rendered).toEqual({
      ok: true,
      value: { headers: { Authorization: 'Bearer s3cr3t' } },
      secrets: ['s3cr3t'],
    });
    expect(new SecretMask(['s3cr3t']).text('401 for Bearer s3cr3t')).toBe('401 for Bearer •••');
  });

  it('fails with a plain reason on a missing variable or secret, and leaves no partial value', () => {
    expect(renderParams({ a: '{{ steps.switch-traffic.output.x }}', b: '${env:NOPE}' }, vars, {})).toEqual({
      ok: false,
      error:
        'template variable "steps.switch-traffic.output.x" has no value; environment variable NOPE is not set',
    });
  });

  it('keeps numbers, booleans and text without templates as they are', () => {
    expect(renderParams({ n: 3, b: true, s: 'plain {not a template}' }, vars, {})).toMatchObject({
      ok: true,
      value: { n: 3, b: true, s: 'plain {not a template}' },
    });
  });
});

describe('previewParams', () => {
  it('fills what is known, keeps later outputs as templates and never reads a secret', () => {
    expect(
      previewParams(
        { to: '{{ toVersion }}', prev: '{{ steps.later.output.x }}', auth: 'Bearer ${env:HOME}' },
        vars,
      ),
    ).toEqual({ to: 'v1.4.1', prev: '{{ steps.later.output.x }}', auth: 'Bearer •••' });
  });
});

describe('prepareParams', () => {
  it('checks the references, then puts the secrets in: a secret-only field works at run time', () => {
    const prepared = prepareParams(
      postgresBackupParams,
      { database: '${env:DB_URL}', outputDir: '/backups/{{ service }}' },
      vars,
      { DB_URL: 'postgres://app:pw@db/app' },
    );
    expect(prepared).toMatchObject({
      ok: true,
      params: { database: 'postgres://app:pw@db/app', outputDir: '/backups/checkout', format: 'custom' },
      secrets: ['postgres://app:pw@db/app'],
    });
  });

  it('refuses a literal secret before any secret is read, and a missing variable plainly', () => {
    expect(
      prepareParams(postgresBackupParams, { database: 'postgres://app:pw@db/app' }, vars, {}),
    ).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^parameters are invalid/) as unknown,
    });
    expect(prepareParams(postgresBackupParams, { database: '${env:NOPE}' }, vars, {})).toEqual({
      ok: false,
      error: 'environment variable NOPE is not set',
    });
  });
});

describe('values from outside stay data (untrusted text)', () => {
  const hostile = templateVarsFor({
    ...input,
    toVersion: '../../../admin/purge?all=true#',
    reason: 'deploy broke ${env:SLACK_SIGNING_SECRET} {{ rollback.id }} ${file:/etc/passwd}',
    strategy: { ...input.strategy, steps: [{ id: 'probe', name: 'Probe' }] },
    steps: [{ output: { note: '${env:API_TOKEN}', flag: '--log-file=/tmp/owned' } }],
  });
  const env = {
    SLACK_SIGNING_SECRET: 'signing-secret-value',
    API_TOKEN: 'api-token-value',
    DEPLOY: 'deploy-token',
  };

  it('never expands a secret reference or a template that a value holds', () => {
    const rendered = renderParams(
      {
        json: { reason: '{{ rollback.reason }}', note: '{{ steps.probe.output.note }}' },
        auth: '${env:DEPLOY}',
      },
      hostile,
      env,
    );
    expect(rendered).toEqual({
      ok: true,
      value: {
        json: {
          reason: 'deploy broke ${env:SLACK_SIGNING_SECRET} {{ rollback.id }} ${file:/etc/passwd}',
          note: '${env:API_TOKEN}',
        },
        auth: 'deploy-token',
      },
      secrets: ['deploy-token'],
    });
  });

  it('checks the schema without secrets, then fills only the references the plan wrote', () => {
    const prepared = prepareParams(
      postgresBackupParams,
      { database: '${env:DEPLOY}', outputDir: '/backups/{{ rollback.reason }}' },
      hostile,
      env,
    );
    expect(prepared.ok).toBe(true);
    if (!prepared.ok) return;
    expect(prepared.params.database).toBe('deploy-token');
    expect(prepared.params.outputDir).toBe(
      '/backups/deploy broke ${env:SLACK_SIGNING_SECRET} {{ rollback.id }} ${file:/etc/passwd}',
    );
    expect(prepared.secrets).toEqual(['deploy-token']);
  });

  it('a value shaped like a reference is not a secret reference for a secret-only field', () => {
    const prepared = prepareParams(
      postgresBackupParams,
      { database: '{{ steps.probe.output.note }}' },
      hostile,
      env,
    );
    expect(prepared).toMatchObject({ ok: true, params: { database: '${env:API_TOKEN}' }, secrets: [] });
  });

  it('encodes a value as one path segment or query value inside a URL', () => {
    const rendered = renderParams(
      { url: 'https://deploy.example.com/releases/{{ toVersion }}?by={{ rollback.reason }}' },
      hostile,
      env,
      { url: 'url' },
    );
    expect(rendered.ok && (rendered.value as { url: string }).url).toBe(
      `https://deploy.example.com/releases/${encodeURIComponent('../../../admin/purge?all=true#')}?by=${encodeURIComponent(hostile.rollback.reason)}`,
    );
    const url = new URL((rendered.ok && (rendered.value as { url: string }).url) || 'http://x');
    expect(url.pathname.startsWith('/releases/')).toBe(true);
    expect(url.searchParams.get('all')).toBeNull();
  });

  it('keeps a value that opens a URL as its base (the plan chose it)', () => {
    const vars = templateVarsFor({
      ...input,
      strategy: { ...input.strategy, steps: [{ id: 'find', name: 'Find' }] },
      steps: [{ output: { base: 'http://10.0.0.1:8080' } }],
    });
    expect(
      renderParams({ url: '{{ steps.find.output.base }}/health' }, vars, {}, { url: 'url' }),
    ).toMatchObject({
      ok: true,
      value: { url: 'http://10.0.0.1:8080/health' },
    });
  });

  it('refuses a value that would start an argument as an option, unless the plan allows it', () => {
    const argv = ['./deploy.sh', '{{ steps.probe.output.flag }}'];
    expect(renderParams({ argv }, hostile, {}, { argv: 'argv' })).toEqual({
      ok: false,
      error:
        '{{ steps.probe.output.flag }} is "--log-file=/tmp/owned", which would start argument 1 as an option; set allowOptionValues: true in the step if it may',
    });
    expect(renderParams({ argv, allowOptionValues: true }, hostile, {}, { argv: 'argv' })).toMatchObject({
      ok: true,
    });
    // Inside an argument (after the plan's own text) it cannot be an option.
    expect(
      renderParams(
        { argv: ['./deploy.sh', '--to={{ steps.probe.output.flag }}'] },
        hostile,
        {},
        { argv: 'argv' },
      ),
    ).toMatchObject({
      ok: true,
    });
  });

  it('refuses a program taken from a value', () => {
    expect(
      renderParams({ argv: ['{{ steps.probe.output.note }}'] }, hostile, {}, { argv: 'argv' }),
    ).toMatchObject({
      ok: false,
      error: 'the program to run must be written in the plan, not taken from {{ steps.probe.output.note }}',
    });
  });

  it('escapes a value inside a PromQL string', () => {
    const vars = templateVarsFor({ ...input, reason: 'x"} or vector(1) #', steps: [] });
    expect(
      renderParams({ query: 'up{reason="{{ rollback.reason }}"}' }, vars, {}, { query: 'promql' }),
    ).toMatchObject({
      ok: true,
      value: { query: 'up{reason="x\\"} or vector(1) #"}' },
    });
  });

  it('reads a ${file:/path} secret the plan wrote, without its trailing newline', () => {
    const files: Record<string, string> = { '/run/secrets/token': 'file-token\n' };
    const source = {
      env: {},
      readFile: (path: string) => {
        const text = files[path];
        if (text === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
        return text;
      },
    };
    expect(renderParams({ auth: 'Bearer ${file:/run/secrets/token}' }, vars, source)).toEqual({
      ok: true,
      value: { auth: 'Bearer file-token' },
      secrets: ['file-token'],
    });
    expect(renderParams({ auth: '${file:/run/secrets/nope}' }, vars, source)).toEqual({
      ok: false,
      error: 'secret file /run/secrets/nope cannot be read (ENOENT)',
    });
  });
});

describe('SecretMask', () => {
  it('hides raw, URL-encoded, form-encoded and JSON-escaped forms, and walks JSON values', () => {
    const mask = new SecretMask(['s3cr3t/+ "x"', 'abc', undefined]);
    expect(mask.size).toBe(1);
    const secret = 's3cr3t/+ "x"';
    expect(mask.text(`a ${secret} b`)).toBe('a ••• b');
    expect(mask.text(`?t=${encodeURIComponent(secret)}`)).toBe('?t=•••');
    expect(mask.text(`t=${encodeURIComponent(secret).replace(/%20/g, '+')}`)).toBe('t=•••');
    expect(mask.text(JSON.stringify({ t: secret }))).toBe('{"t":"•••"}');
    expect(mask.value({ list: [secret, 1, true, null], [secret]: 'k' })).toEqual({
      list: ['•••', 1, true, null],
      '•••': 'k',
    });
    expect(mask.text('abc stays: too short to be a secret')).toBe('abc stays: too short to be a secret');
  });
});
