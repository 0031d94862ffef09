/**
 * A libpq connection string (`postgres://user:pass@host:5432/db?sslmode=require` or
 * `host=db port=5432 dbname=shop user=app password=...`) turned into the PG* environment variables
 * pg_dump reads, so that nothing of it (the password least of all) is in a process's argv, which
 * any user of the machine can read. Errors never quote the string: it holds a secret.
 */

/** Connection keywords and the environment variable libpq reads each from. */
const KEYWORD_ENV: Readonly<Record<string, string>> = {
  host: 'PGHOST',
  hostaddr: 'PGHOSTADDR',
  port: 'PGPORT',
  dbname: 'PGDATABASE',
  user: 'PGUSER',
  password: 'PGPASSWORD',
  passfile: 'PGPASSFILE',
  service: 'PGSERVICE',
  options: 'PGOPTIONS',
  application_name: 'PGAPPNAME',
  connect_timeout: 'PGCONNECT_TIMEOUT',
  sslmode: 'PGSSLMODE',
  sslcert: 'PGSSLCERT',
  sslkey: 'PGSSLKEY',
  sslrootcert: 'PGSSLROOTCERT',
  sslcrl: 'PGSSLCRL',
  channel_binding: 'PGCHANNELBINDING',
  gssencmode: 'PGGSSENCMODE',
  krbsrvname: 'PGKRBSRVNAME',
  target_session_attrs: 'PGTARGETSESSIONATTRS',
};

export type Connection =
  { ok: true; env: Record<string, string>; database: string } | { ok: false; error: string };

export function parseConnection(text: string): Connection {
  const pairs = /^postgres(ql)?:\/\//.test(text) ? fromUrl(text) : fromKeywords(text);
  if ('error' in pairs) return { ok: false, error: pairs.error };
  const env: Record<string, string> = {};
  for (const [key, value] of pairs) {
    const name = KEYWORD_ENV[key];
    if (name === undefined) return { ok: false, error: `unsupported connection parameter "${key}"` };
    if (value !== '') env[name] = value;
  }
  const database = env['PGDATABASE'];
  if (database === undefined) return { ok: false, error: 'the connection string names no database' };
  return { ok: true, env, database };
}

function fromUrl(text: string): [string, string][] | { error: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return {
      error: 'the connection string is not a valid postgres:// URL (several hosts are not supported)',
    };
  }
  const pairs: [string, string][] = [
    ['host', decodeURIComponent(url.hostname.replace(/^\[(.*)\]$/, '$1'))],
    ['port', url.port],
    ['user', decodeURIComponent(url.username)],
    ['password', decodeURIComponent(url.password)],
    ['dbname', decodeURIComponent(url.pathname.replace(/^\//, ''))],
  ];
  for (const [key, value] of url.searchParams) pairs.push([key, value]);
  return pairs;
}

function fromKeywords(text: string): [string, string][] | { error: string } {
  const pairs: [string, string][] = [];
  const pattern = /\s*([A-Za-z_]+)\s*=\s*('(?:[^'\\]|\\.)*'|[^\s']*)\s*/y;
  let at = 0;
  while (at < text.length) {
    pattern.lastIndex = at;
    const match = pattern.exec(text);
    if (!match) return { error: 'the connection string is neither a postgres:// URL nor key=value pairs' };
    const raw = match[2]!;
    const value = raw.startsWith("'") ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
    pairs.push([match[1]!, value]);
    at = pattern.lastIndex;
  }
  return pairs;
}
