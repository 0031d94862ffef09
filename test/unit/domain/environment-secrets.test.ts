import { describe, expect, it } from 'vitest';
import { looksLikeSecretName, secretsOfVariable } from '../../../src/domain/environment-secrets.js';

describe('which environment values are secrets', () => {
  it.each([
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_ACCESS_KEY_ID',
    'GITHUB_TOKEN',
    'PGPASSWORD',
    'DB_PASSWD',
    'VAULT_TOKEN',
    'NPM_AUTH',
    'SSH_PRIVATE_KEY',
    'DATADOG_API_KEY',
    'APIKEY',
    'GPG_PASSPHRASE',
    'GOOGLE_APPLICATION_CREDENTIALS_JSON',
    'session_cookie',
  ])('%s is masked whole', (name) => {
    expect(looksLikeSecretName(name)).toBe(true);
    expect(secretsOfVariable(name, 'value-1234')).toEqual(['value-1234']);
  });

  // Masking these would hide `eu-west-3`, `json` or a path in every line the bot writes.
  it.each(['AWS_REGION', 'AWS_DEFAULT_OUTPUT', 'AWS_PROFILE', 'KUBECONFIG', 'HOME', 'KEYSPACE', 'AUTHOR'])(
    '%s is not',
    (name) => {
      expect(looksLikeSecretName(name)).toBe(false);
      expect(secretsOfVariable(name, 'eu-west-3')).toEqual([]);
    },
  );

  it('masks the password of a URL whatever the name, and nothing of an empty value', () => {
    expect(secretsOfVariable('AWS_ENDPOINT_URL_SSM', 'https://user:p%40ss@ssm.local')).toEqual(['p@ss']);
    expect(secretsOfVariable('ORDERS_DB', 'postgres://app@db/orders')).toEqual([]);
    expect(secretsOfVariable('API_TOKEN', '')).toEqual([]);
    expect(secretsOfVariable('API_TOKEN', undefined)).toEqual([]);
  });
});
