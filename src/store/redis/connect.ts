/**
 * Turns `REDIS_URL` into an ioredis client. Accepted forms:
 *
 *   redis://[user:password@]host:port[/db]          one node
 *   rediss://[user:password@]host:port[/db]         one node over TLS
 *   redis+sentinel://[user:password@]host:port,host:port/mastername[/db][?sentinelPassword=...]
 *                                                    the master of a Sentinel group; the credentials
 *                                                    are the master's, sentinelPassword the sentinels'
 *   redis://host:port,redis://host:port,...         Redis Cluster (seed nodes; rediss:// for TLS);
 *                                                    the credentials of the first node apply to all
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';

export type RedisClient = Redis | Cluster;

export type RedisTarget =
  | { kind: 'single'; url: string }
  | {
      kind: 'sentinel';
      sentinels: Array<{ host: string; port: number }>;
      name: string;
      db: number;
      username?: string;
      password?: string;
      sentinelPassword?: string;
    }
  | {
      kind: 'cluster';
      nodes: Array<{ host: string; port: number }>;
      username?: string;
      password?: string;
      tls: boolean;
    };

const SENTINEL = /^redis\+sentinel:\/\/(?:([^@/]*)@)?([^/?]+)\/([^/?]+)(?:\/(\d+))?\/?(?:\?(.*))?$/;

function hostPort(text: string, defaultPort: number, url: string): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(text.trim());
  if (!match?.[1]) throw new Error(`cannot read host:port "${text}" in Redis URL ${redact(url)}`);
  return { host: match[1], port: match[2] ? Number(match[2]) : defaultPort };
}

function credentials(userinfo: string | undefined): { username?: string; password?: string } {
  if (!userinfo) return {};
  const colon = userinfo.indexOf(':');
  const username = decodeURIComponent(colon < 0 ? userinfo : userinfo.slice(0, colon));
  const password = colon < 0 ? undefined : decodeURIComponent(userinfo.slice(colon + 1));
  return { ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

/** The URL with any password replaced, for error messages. */
export function redact(url: string): string {
  return url.replace(/\/\/([^@/]*:)[^@/]*@/g, '//$1***@');
}

export function parseRedisUrl(url: string): RedisTarget {
  const text = url.trim();
  const sentinel = SENTINEL.exec(text);
  if (sentinel) {
    const [, userinfo, hosts = '', name = '', db, query] = sentinel;
    const sentinelPassword = new URLSearchParams(query ?? '').get('sentinelPassword') ?? undefined;
    return {
      kind: 'sentinel',
      sentinels: hosts.split(',').map((host) => hostPort(host, 26379, text)),
      name: decodeURIComponent(name),
      db: db ? Number(db) : 0,
      ...credentials(userinfo),
      ...(sentinelPassword ? { sentinelPassword } : {}),
    };
  }
  if (text.startsWith('redis+sentinel://')) {
    throw new Error(`Redis URL ${redact(text)} must read redis+sentinel://host:port,host:port/mastername`);
  }
  const parts = text.split(',').map((part) => part.trim());
  for (const part of parts) {
    if (!/^rediss?:\/\/[^/]/.test(part)) {
      throw new Error(
        `Redis URL ${redact(part)} must start with redis:// or rediss:// (or be redis+sentinel://...)`,
      );
    }
  }
  if (parts.length === 1) return { kind: 'single', url: text };
  const urls = parts.map((part) => new URL(part));
  const first = urls[0]!;
  return {
    kind: 'cluster',
    nodes: urls.map((node) => ({
      host: node.hostname.replace(/^\[|\]$/g, ''),
      port: Number(node.port || 6379),
    })),
    ...credentials(first.username || first.password ? `${first.username}:${first.password}` : undefined),
    tls: first.protocol === 'rediss:',
  };
}

/** A client for the target. Commands queue while it connects; the store's first call waits for it. */
export function connectRedis(url: string, options: RedisOptions = {}): RedisClient {
  const target = parseRedisUrl(url);
  switch (target.kind) {
    case 'single':
      return new Redis(target.url, options);
    case 'sentinel':
      return new Redis({
        ...options,
        sentinels: target.sentinels,
        name: target.name,
        db: target.db,
        ...(target.username ? { username: target.username } : {}),
        ...(target.password ? { password: target.password } : {}),
        ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
      });
    case 'cluster':
      return new Cluster(target.nodes, {
        redisOptions: {
          ...(target.username ? { username: target.username } : {}),
          ...(target.password ? { password: target.password } : {}),
          ...(target.tls ? { tls: {} } : {}),
        },
      });
  }
}
