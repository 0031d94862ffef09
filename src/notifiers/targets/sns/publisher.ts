/**
 * Publishes stakeholder messages (already rendered) to an SNS topic. The SDK's standard retry strategy
 * retries throttling and server errors; the endpoint, region and credentials come from the SDK's own
 * configuration (`AWS_REGION`, `AWS_ENDPOINT_URL_SNS`, the default credential chain) unless a client
 * is given. What SNS refuses becomes an `SnsPublishError` whose message can be shown in the thread.
 *
 * SNS is strict about its input, so the publisher makes it valid instead of failing on it: the
 * subject is cut to 100 printable ASCII characters on one line, empty attributes are left out, and a
 * FIFO topic gets the group and deduplication ids it requires.
 */
import { createHash } from 'node:crypto';
import {
  PublishCommand,
  SNSClient,
  SNSServiceException,
  type MessageAttributeValue,
} from '@aws-sdk/client-sns';
import { RollbackError } from '../../../lib/errors.js';
import type { Logger } from '../../../lib/logging.js';

export interface SnsMessage {
  topicArn: string;
  subject: string;
  message: string;
  /** Sent as String message attributes (event, service, environment, rollbackId), for subscription filters. */
  attributes: Readonly<Record<string, string>>;
  /** Stable per notification (the effect id): FIFO topics drop a repeat within 5 minutes. */
  dedupeKey: string;
  /** FIFO ordering group (default one group for all the bot's messages); the rollback id keeps each in order. */
  groupKey?: string;
}

export interface SnsPublisherOptions {
  /** Default: an SNSClient configured from the environment. */
  client?: SNSClient;
  /** Used when no client is given; default: the SDK's own (`AWS_REGION`, profile). */
  region?: string;
  /** Attempts per message, the first included (default 4). */
  maxAttempts?: number;
  log: Logger;
}

export interface SnsPublisher {
  /** Resolves with SNS's message id; rejects with an `SnsPublishError`. */
  publish(message: SnsMessage): Promise<{ messageId: string }>;
}

export class SnsPublishError extends RollbackError {
  readonly topicArn: string;

  constructor(options: { topicArn: string; userMessage: string; retryable: boolean; cause?: unknown }) {
    super({ code: 'sns_publish_failed', ...options });
    this.topicArn = options.topicArn;
  }
}

/** What the bot's own identity needs on each stakeholder topic (deploy/aws/iam-policy.json lists it). */
export const SNS_IAM_ACTIONS = ['sns:Publish'] as const;

export const SUBJECT_MAX = 100;
/** SNS takes 256 KiB for the message and its attributes together; the rest is headroom for attributes. */
export const MESSAGE_MAX_BYTES = 250_000;
const ID_MAX = 128;

/** One line of printable ASCII, at most 100 characters: what SNS accepts as a subject (undefined: none). */
export function snsSubject(text: string): string | undefined {
  const ascii = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201c\u201d]/g, '"')
    .replace(/[\u2013\u2014]/g, '-')
    .replace(/\u2026/g, '...')
    .replace(/\s+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();
  if (ascii === '') return undefined;
  return ascii.length <= SUBJECT_MAX ? ascii : `${ascii.slice(0, SUBJECT_MAX - 3).trimEnd()}...`;
}

/** The message cut (on a character boundary) to what SNS accepts, saying so at its end. */
export function snsMessage(text: string): string {
  if (Buffer.byteLength(text, 'utf8') <= MESSAGE_MAX_BYTES) return text;
  const note = '\n[truncated]';
  const bytes = Buffer.from(text, 'utf8').subarray(0, MESSAGE_MAX_BYTES - note.length);
  // A cut through a multi-byte character decodes as U+FFFD: drop it.
  return `${bytes.toString('utf8').replace(/\uFFFD+$/, '')}${note}`;
}

/**
 * Group and deduplication ids: up to 128 of the characters SNS allows (alphanumerics and
 * punctuation); anything else is replaced by its SHA-256, which is stable and fits.
 */
export function snsId(key: string): string {
  return key.length > 0 && key.length <= ID_MAX && /^[\x21-\x7e]+$/.test(key)
    ? key
    : createHash('sha256').update(key).digest('hex');
}

const ATTRIBUTE_NAME = /^(?!aws\.|amazon\.)(?!.*\.\.)[A-Za-z0-9_-](?:[A-Za-z0-9_.-]{0,254}[A-Za-z0-9_-])?$/i;

function messageAttributes(
  topicArn: string,
  attributes: Readonly<Record<string, string>>,
): Record<string, MessageAttributeValue> {
  const result: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(attributes)) {
    if (!ATTRIBUTE_NAME.test(name)) {
      throw new SnsPublishError({
        topicArn,
        retryable: false,
        userMessage: `SNS message attribute name "${name}" is not valid: use letters, digits, _, - and . (not first or last), at most 256 characters, not starting with AWS. or Amazon.`,
      });
    }
    // SNS refuses an empty attribute value; an absent one says the same to a filter policy.
    if (value !== '') result[name] = { DataType: 'String', StringValue: value };
  }
  return result;
}

export function createSnsPublisher(options: SnsPublisherOptions): SnsPublisher {
  const client =
    options.client ??
    new SNSClient({
      ...(options.region === undefined ? {} : { region: options.region }),
      maxAttempts: options.maxAttempts ?? 4,
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 15_000 },
    });
  const log = options.log;

  return {
    async publish(input) {
      const fifo = input.topicArn.endsWith('.fifo');
      const subject = snsSubject(input.subject);
      const command = new PublishCommand({
        TopicArn: input.topicArn,
        Message: snsMessage(input.message),
        ...(subject === undefined ? {} : { Subject: subject }),
        MessageAttributes: messageAttributes(input.topicArn, input.attributes),
        ...(fifo
          ? {
              MessageGroupId: snsId(input.groupKey ?? 'rollback-bot'),
              MessageDeduplicationId: snsId(input.dedupeKey),
            }
          : {}),
      });
      try {
        const output = await client.send(command);
        const messageId = output.MessageId ?? '';
        log.info(
          {
            topicArn: input.topicArn,
            messageId,
            dedupeKey: input.dedupeKey,
            attempts: output.$metadata.attempts,
          },
          'SNS message published',
        );
        return { messageId };
      } catch (error) {
        const failure = publishError(input.topicArn, error);
        log.warn(
          { topicArn: input.topicArn, dedupeKey: input.dedupeKey, code: errorName(error), err: error },
          'SNS publish failed',
        );
        throw failure;
      }
    },
  };
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}

/** What to tell the humans; the SDK has already retried what it could. */
function publishError(topicArn: string, error: unknown): SnsPublishError {
  const topic = topicArn.split(':').slice(-1)[0] ?? topicArn;
  if (error instanceof SNSServiceException) {
    const attempts = error.$metadata.attempts ?? 1;
    const retryable =
      error.$retryable !== undefined || error.$fault === 'server' || /Throttl/i.test(error.name);
    const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
    return new SnsPublishError({
      topicArn,
      retryable,
      cause: error,
      userMessage: `SNS refused the message for topic ${topic}${tries}: ${error.name}: ${error.message}`,
    });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new SnsPublishError({
    topicArn,
    retryable: true,
    cause: error,
    userMessage: `SNS could not be reached for topic ${topic}: ${detail}`,
  });
}
