import { postgresBackupParams } from '../../../src/executors/postgres-backup/params.js';
import { describe, expect, it } from 'vitest';
import { templateVarsFor } from '../../../src/domain/template-vars.js';
import {
  maskSecrets,
  prepareParams,
  previewParams,
  renderParams,
} from '../../../src/executors/render-params.js';
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
    expect(maskSecrets('401 for Bearer s3cr3t', ['s3cr3t'])).toBe('401 for Bearer •••');
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
