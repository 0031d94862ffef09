/**
 * Deletes the keys a test run wrote, and nothing else: SCAN for `<prefix>:*` on every master, DEL what
 * it finds. Never FLUSHDB/FLUSHALL: the machine's Redis is shared with other test runs.
 */
import { Cluster, type Redis } from 'ioredis';

const globEscape = (text: string): string => text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

async function deleteOnNode(node: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
    cursor = next;
    // One DEL per key: on Cluster, keys of one node may still sit in different slots.
    for (const key of keys) deleted += await node.del(key);
  } while (cursor !== '0');
  return deleted;
}

export async function deleteKeysWithPrefix(client: Redis | Cluster, prefix: string): Promise<number> {
  const pattern = `${globEscape(prefix)}:*`;
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  let deleted = 0;
  for (const node of nodes) deleted += await deleteOnNode(node, pattern);
  return deleted;
}

/** The number of keys under the prefix (to check a cleanup). */
export async function countKeysWithPrefix(client: Redis | Cluster, prefix: string): Promise<number> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  let count = 0;
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${globEscape(prefix)}:*`, 'COUNT', 1_000);
      cursor = next;
      count += keys.length;
    } while (cursor !== '0');
  }
  return count;
}

/** Everything stored under the prefix, as one text (to search a whole run's keys for a value). */
export async function dumpKeysWithPrefix(client: Redis, prefix: string): Promise<string> {
  const parts: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${globEscape(prefix)}:*`, 'COUNT', 1_000);
    cursor = next;
    for (const key of keys) {
      const type = await client.type(key);
      const value =
        type === 'string'
          ? await client.get(key)
          : type === 'hash'
            ? await client.hgetall(key)
            : type === 'list'
              ? await client.lrange(key, 0, -1)
              : type === 'set'
                ? await client.smembers(key)
                : type === 'zset'
                  ? await client.zrange(key, '0', '-1', 'WITHSCORES')
                  : type === 'stream'
                    ? await client.xrange(key, '-', '+')
                    : null;
      parts.push(`${key} ${JSON.stringify(value)}`);
    }
  } while (cursor !== '0');
  return parts.join('\n');
}
