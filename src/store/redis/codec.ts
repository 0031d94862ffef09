/**
 * What goes into Redis and how what comes back is checked. Redis hands back strings and nested arrays
 * whatever we stored, so every reply is narrowed here before the store trusts it; a reply of the wrong
 * shape is a corrupted key or a bug, and fails loudly with the key's role in the message.
 */
import { z } from 'zod';
import { parseJson, toJson } from '../json.js';
import type { AuditEntry, Deployment, OutboxEffect, StoredRollback, TimerRecord } from '../store.js';

export class RedisReplyError extends Error {
  constructor(what: string, got: unknown) {
    super(`unexpected Redis reply for ${what}: ${toJson(got).slice(0, 200)}`);
    this.name = 'RedisReplyError';
  }
}

export function asArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new RedisReplyError(what, value);
  return value;
}

export function asString(value: unknown, what: string): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  throw new RedisReplyError(what, value);
}

export function asInteger(value: unknown, what: string): number {
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number)) throw new RedisReplyError(what, value);
  return number;
}

function decode<T>(schema: z.ZodType<T>, text: string, what: string): T {
  const parsed = schema.safeParse(parseJson(text));
  if (!parsed.success) throw new RedisReplyError(what, text);
  return parsed.data;
}

/** The value of field `name` in a flat `[field, value, ...]` list (a stream entry's fields). */
export function fieldValue(fields: unknown, name: string, what: string): string {
  const list = asArray(fields, what);
  for (let i = 0; i + 1 < list.length; i += 2) {
    if (asString(list[i], what) === name) return asString(list[i + 1], what);
  }
  throw new RedisReplyError(what, fields);
}

const numberText = z
  .string()
  .regex(/^-?\d+(\.\d+)?$/)
  .transform(Number);

const rollbackHash = z.object({
  id: z.string(),
  service: z.string(),
  environment: z.string(),
  version: numberText.pipe(z.number().int()),
  state: z.string(),
  final: z.enum(['0', '1']).transform((flag) => flag === '1'),
  snapshot: z.string().transform(parseJson),
  createdAt: numberText,
  updatedAt: numberText,
  auditHead: z.string().optional(),
});

/**
 * The record's fields in the commit script's order. The audit head is stored with the version it
 * belongs to: a replica older than the audit chain rewrites the record without touching it, and a
 * head left from an earlier version must then read as none, not as the head of the newest entry.
 */
export function rollbackFields(rollback: StoredRollback): string[] {
  return [
    rollback.id,
    String(rollback.version),
    rollback.state,
    rollback.final ? '1' : '0',
    toJson(rollback.snapshot),
    rollback.service,
    rollback.environment,
    String(rollback.createdAt),
    String(rollback.updatedAt),
    rollback.auditHash === undefined ? '' : `${rollback.version}:${rollback.auditHash}`,
  ];
}

/** HGETALL of a rollback key; an empty hash means no such rollback. */
export function decodeRollback(hash: Record<string, string>, key: string): StoredRollback | null {
  if (Object.keys(hash).length === 0) return null;
  const parsed = rollbackHash.safeParse(hash);
  if (!parsed.success) throw new RedisReplyError(key, hash);
  const { auditHead, ...rollback } = parsed.data;
  const colon = auditHead?.indexOf(':') ?? -1;
  const headOf = auditHead !== undefined && auditHead.slice(0, colon) === String(rollback.version);
  return headOf ? { ...rollback, auditHash: auditHead.slice(colon + 1) } : rollback;
}

const detail = z.record(z.string(), z.unknown());

const auditEntry = z.object({
  version: z.number().int(),
  at: z.number(),
  event: z.string(),
  by: z.string(),
  state: z.string(),
  detail: detail.optional(),
  prev: z.string().optional(),
  hash: z.string().optional(),
});

export const decodeAudit = (text: string): AuditEntry => decode(auditEntry, text, 'an audit entry');

const outboxEffect = z
  .object({
    id: z.string(),
    rollbackId: z.string(),
    // Effects written before `version` was stored carry it in their id (`<rollback>:<version>:<i>`).
    version: z.number().int().optional(),
    kind: z.string(),
    payload: detail,
    createdAt: z.number(),
  })
  .transform(({ version, ...effect }) => ({
    ...effect,
    version: version ?? Number(effect.id.split(':').at(-2) ?? 0),
  }));

export const decodeEffect = (text: string): OutboxEffect => decode(outboxEffect, text, 'an outbox effect');

/** A timer's sorted-set member: its identity and original due time, in a fixed order. */
export function timerMember(timer: TimerRecord): string {
  return JSON.stringify([timer.rollbackId, timer.timer, timer.seq, timer.dueAt]);
}

const timerTuple = z.tuple([z.string(), z.string(), z.number(), z.number()]);

export function decodeTimer(member: string): TimerRecord {
  const [rollbackId, timer, seq, dueAt] = decode(timerTuple, member, 'a timer');
  return { rollbackId, timer, seq, dueAt };
}

/** Deployment JSON with a fixed key order, so a repeated record is the same sorted-set member. */
export function deploymentMember(deployment: Deployment): string {
  const { service, environment, version, commit, by, at } = deployment;
  return JSON.stringify({ service, environment, version, commit, by, at });
}

const deployment = z.object({
  service: z.string(),
  environment: z.string(),
  version: z.string(),
  commit: z.string().optional(),
  by: z.string().optional(),
  at: z.number(),
});

export const decodeDeployment = (text: string): Deployment => decode(deployment, text, 'a deployment');

/** A docs hash value: `<version>:<JSON>`. */
export function decodeDoc(text: string, what: string): { version: number; value: unknown } {
  const colon = text.indexOf(':');
  const version = Number(text.slice(0, colon));
  if (colon < 1 || !Number.isSafeInteger(version)) throw new RedisReplyError(what, text);
  return { version, value: parseJson(text.slice(colon + 1)) };
}
