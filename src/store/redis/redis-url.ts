/**
 * REDIS_URL in the three shapes ioredis can serve (DESIGN section 2: single, Sentinel or Cluster).
 * Accepted:
 * - `redis://[[user]:password@]host[:port][/db]`, or `rediss://...` for TLS: one server.
 * - `redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/master-name[/db]`: Sentinel
 *   (port 26379 by default); the password is the master's.
 * - `redis://host:port,redis://host:port,...` (two or more URLs, `rediss://` allowed): Cluster
 *   seed nodes; credentials are taken from the first URL that has them.
 * ioredis has no URL form for Sentinel or Cluster, hence this parser.
 */
export type RedisTarget =
  | { mode: 'single'; url: string }
  | {
      mode: 'sentinel';
      sentinels: { host: string; port: number }[];
      masterName: string;
      username?: string;
      password?: string;
      /** The sentinels' own password, from `?sentinelPassword=`. */
      sentinelPassword?: string;
      db: number;
    }
  | {
      mode: 'cluster';
      nodes: { host: string; port: number }[];
      tls: boolean;
      username?: string;
      password?: string;
    };

export function parseRedisUrl(text: string): { target?: RedisTarget; problem?: string } {
  const value = text.trim();
  if (value.startsWith('redis+sentinel://')) return parseSentinel(value);
  if (value.includes(',')) return parseCluster(value);
  const url = tryUrl(value);
  if (!url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') {
    return { problem: `is not a redis://, rediss:// or redis+sentinel:// URL ("${redact(value)}")` };
  }
  if (url.pathname !== '' && url.pathname !== '/' && !/^\/\d+$/.test(url.pathname)) {
    return { problem: `has a database "${url.pathname.slice(1)}" that is not a number` };
  }
  return { target: { mode: 'single', url: value } };
}

function parseSentinel(value: string): { target?: RedisTarget; problem?: string } {
  const [address = '', query = ''] = value.split('?', 2);
  const match = /^redis\+sentinel:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/]+)\/([^/]+)(?:\/(\d+))?\/?$/.exec(
    address,
  );
  if (!match) {
    return { problem: 'is a redis+sentinel:// URL without hosts and a master name (…/master-name[/db])' };
  }
  const [, username, password, hostList = '', masterName = '', db] = match;
  const sentinelPassword = new URLSearchParams(query).get('sentinelPassword') ?? undefined;
  const sentinels = hostList.split(',').map((entry) => hostPort(entry, 26_379));
  if (sentinels.some((s) => s === undefined)) {
    return { problem: `has a sentinel address that is not host[:port] ("${hostList}")` };
  }
  return {
    target: {
      mode: 'sentinel',
      sentinels: sentinels.filter((s) => s !== undefined),
      masterName: decodeURIComponent(masterName),
      ...(username ? { username: decodeURIComponent(username) } : {}),
      ...(password ? { password: decodeURIComponent(password) } : {}),
      ...(sentinelPassword ? { sentinelPassword } : {}),
      db: db === undefined ? 0 : Number(db),
    },
  };
}

function parseCluster(value: string): { target?: RedisTarget; problem?: string } {
  const urls = value.split(',').map((part) => tryUrl(part.trim()));
  if (urls.some((u) => !u || (u.protocol !== 'redis:' && u.protocol !== 'rediss:') || u.hostname === '')) {
    return { problem: 'is a comma-separated list, but not every entry is a redis:// or rediss:// URL' };
  }
  const valid = urls.filter((u) => u !== undefined);
  const withCredentials = valid.find((u) => u.password !== '' || u.username !== '');
  const username = withCredentials?.username;
  const password = withCredentials?.password;
  return {
    target: {
      mode: 'cluster',
      nodes: valid.map((u) => ({
        host: u.hostname.replace(/^\[|\]$/g, ''),
        port: u.port === '' ? 6379 : Number(u.port),
      })),
      tls: valid.every((u) => u.protocol === 'rediss:'),
      ...(username ? { username: decodeURIComponent(username) } : {}),
      ...(password ? { password: decodeURIComponent(password) } : {}),
    },
  };
}

function hostPort(entry: string, defaultPort: number): { host: string; port: number } | undefined {
  const match = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(entry.trim());
  if (!match?.[1]) return undefined;
  const port = match[2] === undefined ? defaultPort : Number(match[2]);
  return port <= 65_535 ? { host: match[1].replace(/^\[|\]$/g, ''), port } : undefined;
}

function tryUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** Error messages must never echo a password back into logs. */
export function redact(value: string): string {
  return value.replace(/\/\/([^@/]*)@/, '//***@');
}
