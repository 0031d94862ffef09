/**
 * The SNS publisher against a local server speaking SNS's Query protocol (form-encoded requests, XML
 * answers), reached the way production configures it: `AWS_ENDPOINT_URL_SNS`, `AWS_REGION` and
 * credentials in the environment of the SDK's default client. Every attempt's decoded parameters
 * are checked, retries included.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/lib/logging.js';
import {
  createSnsPublisher,
  SnsPublishError,
  snsSubject,
} from '../../../src/notifiers/targets/sns/publisher.js';
import { startPeer, type HttpPeer, type RecordedRequest } from '../../support/http-peer.js';
import type { ServerResponse } from 'node:http';

const TOPIC = 'arn:aws:sns:eu-west-3:123456789012:rollback-stakeholders';
const FIFO_TOPIC = 'arn:aws:sns:eu-west-3:123456789012:rollback-stakeholders.fifo';
const XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';

function published(res: ServerResponse, messageId: string): void {
  res.writeHead(200, { 'content-type': 'text/xml' });
  res.end(
    `<PublishResponse xmlns="${XMLNS}"><PublishResult><MessageId>${messageId}</MessageId></PublishResult>` +
      `<ResponseMetadata><RequestId>req-${messageId}</RequestId></ResponseMetadata></PublishResponse>`,
  );
}

function snsError(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'text/xml' });
  res.end(
    `<ErrorResponse xmlns="${XMLNS}"><Error><Type>Sender</Type><Code>${code}</Code>` +
      `<Message>${message}</Message></Error><RequestId>err-1</RequestId></ErrorResponse>`,
  );
}

/** The request's form parameters, decoded. */
const params = (request: RecordedRequest) => Object.fromEntries(new URLSearchParams(request.body));

let peer: HttpPeer | undefined;
const lines: Array<Record<string, unknown>> = [];
const log = createLogger('info', {
  write: (line: string) => {
    lines.push(JSON.parse(line) as Record<string, unknown>);
  },
});

async function serve(handler: Parameters<typeof startPeer>[0]): Promise<HttpPeer> {
  peer = await startPeer(handler);
  vi.stubEnv('AWS_ENDPOINT_URL_SNS', peer.url);
  return peer;
}

beforeEach(() => {
  lines.length = 0;
  // The SDK's own variables, as in production: no `endpoint` or `credentials` option is passed.
  vi.stubEnv('AWS_REGION', 'eu-west-3');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret-example');
  vi.stubEnv('AWS_SESSION_TOKEN', '');
  vi.stubEnv('AWS_PROFILE', '');
  vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/aws-config');
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/aws-credentials');
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await peer?.close();
  peer = undefined;
});

const message = {
  topicArn: TOPIC,
  subject: 'Rollback authorised: checkout → v1.4.1 (production)\nby Émilie',
  message: 'Rollback rb-42 of checkout in production was authorised by Émilie.\nSteps: 3.',
  attributes: { event: 'authorized', service: 'checkout', environment: 'production', rollbackId: 'rb-42' },
  dedupeKey: 'rb-42:3:0',
};

const expectedParams = {
  Action: 'Publish',
  Version: '2010-03-31',
  TopicArn: TOPIC,
  Subject: 'Rollback authorised: checkout ? v1.4.1 (production) by Emilie',
  Message: message.message,
  'MessageAttributes.entry.1.Name': 'event',
  'MessageAttributes.entry.1.Value.DataType': 'String',
  'MessageAttributes.entry.1.Value.StringValue': 'authorized',
  'MessageAttributes.entry.2.Name': 'service',
  'MessageAttributes.entry.2.Value.DataType': 'String',
  'MessageAttributes.entry.2.Value.StringValue': 'checkout',
  'MessageAttributes.entry.3.Name': 'environment',
  'MessageAttributes.entry.3.Value.DataType': 'String',
  'MessageAttributes.entry.3.Value.StringValue': 'production',
  'MessageAttributes.entry.4.Name': 'rollbackId',
  'MessageAttributes.entry.4.Value.DataType': 'String',
  'MessageAttributes.entry.4.Value.StringValue': 'rb-42',
};

describe('SNS publisher (local Query-protocol endpoint through AWS_ENDPOINT_URL_SNS)', () => {
  it('retries Throttling twice with the same request, then publishes', async () => {
    const server = await serve((_request, res, n) => {
      if (n < 2) snsError(res, 400, 'Throttling', 'Rate exceeded');
      else published(res, 'msg-1');
    });
    const publisher = createSnsPublisher({ log });

    await expect(publisher.publish(message)).resolves.toEqual({ messageId: 'msg-1' });

    expect(server.requests).toHaveLength(3);
    for (const [index, request] of server.requests.entries()) {
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/');
      expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(params(request)).toEqual(expectedParams);
      expect(request.headers['amz-sdk-request']).toBe(`attempt=${index + 1}; max=4`);
      // Signed for SNS in the region from AWS_REGION with the credentials from the environment.
      expect(request.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-3\/sns\/aws4_request, /,
      );
    }
    // One invocation retried, not three publishes.
    expect(new Set(server.requests.map((r) => r.headers['amz-sdk-invocation-id'])).size).toBe(1);
    expect(lines.find((line) => line.msg === 'SNS message published')).toMatchObject({
      messageId: 'msg-1',
      attempts: 3,
    });
  });

  it('gives FIFO topics their group and deduplication ids, and leaves out empty attributes', async () => {
    const server = await serve((_request, res) => {
      published(res, 'msg-2');
    });
    const publisher = createSnsPublisher({ log });
    await publisher.publish({
      ...message,
      topicArn: FIFO_TOPIC,
      subject: '',
      attributes: { event: 'resolved', service: '' },
      groupKey: 'rb-42',
      dedupeKey: 'rb-42:9:1',
    });
    expect(server.requests.map(params)).toEqual([
      {
        Action: 'Publish',
        Version: '2010-03-31',
        TopicArn: FIFO_TOPIC,
        Message: message.message,
        'MessageAttributes.entry.1.Name': 'event',
        'MessageAttributes.entry.1.Value.DataType': 'String',
        'MessageAttributes.entry.1.Value.StringValue': 'resolved',
        MessageGroupId: 'rb-42',
        MessageDeduplicationId: 'rb-42:9:1',
      },
    ]);
  });

  it('turns a refusal into an SnsPublishError with a message for the thread, without retrying it', async () => {
    const server = await serve((_request, res) => {
      snsError(res, 403, 'AuthorizationError', 'User is not authorized to perform SNS:Publish');
    });
    const publisher = createSnsPublisher({ log });
    const error = await publisher.publish(message).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SnsPublishError);
    expect(error).toMatchObject({
      code: 'sns_publish_failed',
      retryable: false,
      topicArn: TOPIC,
      userMessage:
        'SNS refused the message for topic rollback-stakeholders: AuthorizationErrorException: User is not authorized to perform SNS:Publish',
    });
    expect(server.requests).toHaveLength(1);
  });

  it('gives up on throttling after maxAttempts, saying how many', async () => {
    const server = await serve((_request, res) => {
      snsError(res, 400, 'Throttling', 'Rate exceeded');
    });
    const publisher = createSnsPublisher({ log, maxAttempts: 2 });
    await expect(publisher.publish(message)).rejects.toMatchObject({
      retryable: true,
      userMessage:
        'SNS refused the message for topic rollback-stakeholders after 2 attempts: Throttling: Rate exceeded',
    });
    expect(server.requests.map((r) => r.headers['amz-sdk-request'])).toEqual([
      'attempt=1; max=2',
      'attempt=2; max=2',
    ]);
  });

  it('refuses an attribute name SNS would reject, before sending anything', async () => {
    const server = await serve((_request, res) => {
      published(res, 'never');
    });
    const publisher = createSnsPublisher({ log });
    await expect(publisher.publish({ ...message, attributes: { 'AWS.event': 'x' } })).rejects.toMatchObject({
      code: 'sns_publish_failed',
      userMessage: expect.stringContaining('SNS message attribute name "AWS.event" is not valid') as unknown,
    });
    expect(server.requests).toHaveLength(0);
  });
});

describe('snsSubject', () => {
  it.each([
    ['plain', 'Rollback resolved', 'Rollback resolved'],
    ['newlines and tabs become spaces', 'a\n\tb\r\nc', 'a b c'],
    [
      'accents are dropped, other non-ASCII replaced',
      'Déploiement 🚀 “ok” — done…',
      'Deploiement ?? "ok" - done...',
    ],
    ['blank gives no subject', ' \n ', undefined],
  ])('%s', (_name, input, expected) => {
    expect(snsSubject(input)).toBe(expected);
  });

  it('cuts at 100 characters with an ellipsis', () => {
    const subject = snsSubject('x'.repeat(150))!;
    expect(subject).toHaveLength(100);
    expect(subject.endsWith('...')).toBe(true);
  });
});
