/**
 * The consumer side of the Redis store: effects from the per-shard outbox streams (consumer group
 * `workers`) and timers from the per-shard sorted sets. A consumer walks the shards one command at a
 * time (Cluster cannot read several slots in one command), starting one shard further on each call so
 * a busy shard cannot starve the others; each rollback's effects live in one shard, so they still
 * come out in commit order.
 *
 * Waiting (`blockMs`) is a poll: when every shard is empty the reader sleeps `pollIntervalMs` (default
 * 100 ms) and walks them again, and a commit made through the same store wakes it at once. Why not
 * XREADGROUP BLOCK: it blocks on the streams of one slot only (one shard of sixteen on Cluster), and
 * over several streams of one node its COUNT applies per stream, so a wake-up could claim up to
 * shards x count effects for a worker that asked for `count`. Polling keeps one connection, behaves the
 * same on one node and on Cluster, and costs an idle worker `shards` cheap commands per interval.
 */
import type { EffectDelivery, TimerRecord } from '../store.js';
import { asArray, asInteger, asString, decodeEffect, decodeTimer, fieldValue } from './codec.js';
import type { RedisClient } from './connect.js';
import { Sleeper } from '../../lib/sleeper.js';
import { OUTBOX_GROUP, type KeySpace } from './keys.js';

const isNoGroup = (error: unknown): boolean => error instanceof Error && error.message.includes('NOGROUP');

export class OutboxReader {
  private nextShard = 0;
  /** Shards a local commit added effects to since the last read: read first. */
  private readonly hot = new Set<number>();
  /** Woken by local commits; a commit landing between a read and the sleep after it is not missed. */
  private readonly sleeper = new Sleeper();
  private closed = false;

  constructor(
    private readonly client: RedisClient,
    private readonly keys: KeySpace,
    private readonly pollIntervalMs: number,
  ) {}

  /** Wakes readers waiting in `read` (called after a local commit that added effects to `shard`). */
  wake(shard?: number): void {
    if (shard !== undefined) this.hot.add(shard);
    this.sleeper.wake();
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  async read(consumer: string, count: number, blockMs: number): Promise<EffectDelivery[]> {
    if (count <= 0) return [];
    const deadline = Date.now() + blockMs;
    for (;;) {
      const seen = this.sleeper.mark();
      const deliveries = await this.readOnce(consumer, count);
      const left = deadline - Date.now();
      if (deliveries.length > 0 || left <= 0 || this.closed) return deliveries;
      await this.sleeper.sleep(Math.min(left, this.pollIntervalMs), seen);
    }
  }

  async reclaim(consumer: string, minIdleMs: number, count: number): Promise<EffectDelivery[]> {
    if (count <= 0) return [];
    const out: EffectDelivery[] = [];
    for (const shard of this.rotation()) {
      if (out.length >= count) break;
      const outbox = this.keys.outbox(shard);
      const reply = await this.withGroup(shard, () =>
        this.client.rbReclaim(outbox, OUTBOX_GROUP, consumer, minIdleMs, count - out.length),
      );
      for (const item of asArray(reply, 'XAUTOCLAIM')) {
        const [id, fields, deliveries] = asArray(item, 'XAUTOCLAIM entry');
        out.push(this.delivery(shard, id, fields, asInteger(deliveries, 'delivery count')));
      }
    }
    return out;
  }

  async ack(receipt: string): Promise<void> {
    const { shard, id } = parseReceipt(receipt);
    await this.client.rbAck(this.keys.outbox(shard), OUTBOX_GROUP, id);
  }

  /** XCLAIM with no minimum idle time and JUSTID: idle time reset, delivery count left alone. */
  async keep(consumer: string, receipt: string): Promise<void> {
    const { shard, id } = parseReceipt(receipt);
    await this.client.call('XCLAIM', this.keys.outbox(shard), OUTBOX_GROUP, consumer, '0', id, 'JUSTID');
  }

  async claimTimers(now: number, limit: number, visibilityMs: number): Promise<TimerRecord[]> {
    const out: TimerRecord[] = [];
    for (const shard of this.rotation()) {
      if (out.length >= limit) break;
      const reply = await this.client.rbClaimTimers(
        this.keys.timers(shard),
        now,
        limit - out.length,
        now + visibilityMs,
      );
      for (const member of asArray(reply, 'claimed timers')) out.push(decodeTimer(asString(member, 'timer')));
    }
    return out.sort((a, b) => a.dueAt - b.dueAt);
  }

  async nextTimerDueAt(): Promise<number | null> {
    const firsts = await Promise.all(
      this.keys
        .allShards()
        .map((shard) => this.client.zrange(this.keys.timers(shard), '0', '0', 'WITHSCORES')),
    );
    const scores = firsts.flatMap((reply) => {
      const pair = asArray(reply, 'first timer');
      return pair.length === 2 ? [Number(asString(pair[1], 'timer score'))] : [];
    });
    return scores.length > 0 ? Math.min(...scores) : null;
  }

  /**
   * The shards this process just committed effects to are read first, and when they have effects
   * the other shards wait for the next read: walking all 16 shards one after another, each a round
   * trip, put ~5 ms between a step's report and its next step being read, a tenth of a 50 ms step
   * (bench/orchestration-overhead.ts). The worker reads again at once after a read that found
   * effects, so this delays no other shard by more than a read; the rotation keeps the walk fair.
   */
  private async readOnce(consumer: string, count: number): Promise<EffectDelivery[]> {
    const hot = [...this.hot];
    this.hot.clear();
    const first = await this.readShards(consumer, hot, count);
    if (first.length > 0) return first;
    return this.readShards(
      consumer,
      this.rotation().filter((shard) => !hot.includes(shard)),
      count,
    );
  }

  /** From `shards` in turn, until `count` effects are read. */
  private async readShards(consumer: string, shards: number[], count: number): Promise<EffectDelivery[]> {
    const out: EffectDelivery[] = [];
    for (const shard of shards) {
      if (out.length >= count) break;
      const outbox = this.keys.outbox(shard);
      const reply: unknown = await this.withGroup(shard, () =>
        this.client.xreadgroup(
          'GROUP',
          OUTBOX_GROUP,
          consumer,
          'COUNT',
          count - out.length,
          'STREAMS',
          outbox,
          '>',
        ),
      );
      if (reply === null) continue;
      for (const stream of asArray(reply, 'XREADGROUP')) {
        const [, entries] = asArray(stream, 'XREADGROUP stream');
        for (const entry of asArray(entries, 'XREADGROUP entries')) {
          const [id, fields] = asArray(entry, 'XREADGROUP entry');
          out.push(this.delivery(shard, id, fields, 1));
        }
      }
    }
    return out;
  }

  private delivery(shard: number, id: unknown, fields: unknown, deliveries: number): EffectDelivery {
    const streamId = asString(id, 'stream id');
    const effect = decodeEffect(fieldValue(fields, 'e', 'outbox entry'));
    return { receipt: `${shard}/${streamId}`, effect, deliveries };
  }

  /** Every shard once, starting one further than the previous call. */
  private rotation(): number[] {
    const shards = this.keys.allShards();
    const start = this.nextShard;
    this.nextShard = (start + 1) % shards.length;
    return [...shards.slice(start), ...shards.slice(0, start)];
  }

  /** Runs `command`, creating the consumer group first if Redis says it is missing (lazily, once). */
  private async withGroup<T>(shard: number, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      if (!isNoGroup(error)) throw error;
      try {
        // From id 0: effects committed before the group existed are still delivered.
        await this.client.xgroup('CREATE', this.keys.outbox(shard), OUTBOX_GROUP, '0', 'MKSTREAM');
      } catch (createError) {
        if (!(createError instanceof Error && createError.message.includes('BUSYGROUP'))) throw createError;
      }
      return command();
    }
  }
}

function parseReceipt(receipt: string): { shard: number; id: string } {
  const match = /^(\d+)\/(\d+-\d+)$/.exec(receipt);
  if (!match) throw new Error(`not an effect receipt: ${receipt}`);
  return { shard: Number(match[1]), id: match[2]! };
}
