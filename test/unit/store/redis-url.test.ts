import { describe, expect, it } from 'vitest';
import { parseRedisUrl, redact } from '../../../src/store/redis/redis-url.js';
import { KeySpace, shardOf } from '../../../src/store/redis/keys.js';

describe('parseRedisUrl', () => {
  it('reads one node, with or without TLS', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379/2').target).toEqual({
      mode: 'single',
      url: 'redis://127.0.0.1:6379/2',
    });
    expect(parseRedisUrl(' rediss://:pw@redis.internal:6380 ').target).toEqual({
      mode: 'single',
      url: 'rediss://:pw@redis.internal:6380',
    });
  });

  it('reads a Sentinel group', () => {
    expect(
      parseRedisUrl('redis+sentinel://bot:s%40cret@s1:26379,s2,[::1]:26380/mymaster/3?sentinelPassword=x')
        .target,
    ).toEqual({
      mode: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      masterName: 'mymaster',
      db: 3,
      username: 'bot',
      password: 's@cret',
      sentinelPassword: 'x',
    });
  });

  it('reads a comma list of nodes as a Cluster', () => {
    expect(parseRedisUrl('rediss://:pw@n1:7000,rediss://n2:7001, rediss://n3').target).toEqual({
      mode: 'cluster',
      nodes: [
        { host: 'n1', port: 7000 },
        { host: 'n2', port: 7001 },
        { host: 'n3', port: 6379 },
      ],
      password: 'pw',
      tls: true,
    });
  });

  it('refuses other forms, without printing the password', () => {
    expect(parseRedisUrl('http://user:hunter2@host').problem).toMatch(/redis:\/\/, rediss:\/\//);
    expect(parseRedisUrl('http://user:hunter2@host').problem).not.toMatch(/hunter2/);
    expect(parseRedisUrl('redis+sentinel://host:26379').problem).toMatch(/master name/);
    expect(redact('redis://user:hunter2@host:6379')).not.toContain('hunter2');
  });
});

describe('key layout', () => {
  it('maps a rollback to a stable shard and keeps its commit keys in one hash tag', () => {
    expect(shardOf('rb-2024-0001', 16)).toBe(shardOf('rb-2024-0001', 16));
    const keys = new KeySpace('bot', 16);
    const shard = keys.shardOf('rb-1');
    const tag = `{s${shard}}`;
    for (const key of [keys.rollback('rb-1'), keys.audit('rb-1'), keys.outbox(shard), keys.timers(shard)]) {
      expect(/\{[^}]*\}/.exec(key)?.[0]).toBe(tag);
    }
    expect(keys.lease('rb-1')).toBe('bot:{lease:rb-1}');
    expect(keys.lock('a:b', 'c')).not.toBe(keys.lock('a', 'b:c'));
  });

  it('spreads ids over the shards', () => {
    const used = new Set(Array.from({ length: 200 }, (_, n) => shardOf(`rb-${n}`, 16)));
    expect(used.size).toBe(16);
  });

  it('refuses a prefix with braces', () => {
    expect(() => new KeySpace('{bot}', 16)).toThrow(/braces/);
  });
});
