/**
 * A local peer for an AWS service of the JSON protocol (1.0 or 1.1) as the AWS SDK v3 sends it:
 * `POST /`, `Content-Type: application/x-amz-json-1.x`, `X-Amz-Target: <prefix>.<Operation>`, a
 * JSON body, a SigV4 signature checked against the keys the test handed out (a key that STS issued
 * must come with its session token), errors as `{"__type": ..., "message": ...}`. A service that is
 * "query compatible" (CloudWatch) also gets `x-amzn-query-mode: true` and answers errors with the
 * `x-amzn-query-error: Code;Sender` header as AWS does. The service's model is the test's handler.
 * Every request is recorded; operations can be throttled or left unanswered (a stalled AWS). Binds
 * 127.0.0.1:0; reach it with `AWS_ENDPOINT_URL_<SERVICE>` in the executor's env.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sigV4Problem, type SigningSecret } from './aws-sigv4.js';

export const TEST_KEYS: SigningSecret = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret-example' };

/** A key the peers accept: the bot's own, or one STS issued for a role (with its session token). */
export interface IssuedKey extends SigningSecret {
  sessionToken?: string;
  /** The role the key acts as (an STS-issued key). */
  role?: string;
}

/** The keys every local AWS peer of one test accepts. */
export class KeyRing {
  readonly keys = new Map<string, IssuedKey>([[TEST_KEYS.accessKeyId, TEST_KEYS]]);
  add(key: IssuedKey): void {
    this.keys.set(key.accessKeyId, key);
  }
}

/** An error the service answers: `type` is its code (ParameterNotFound), status 400 unless said. */
export class AwsFault extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export interface AwsJsonRequest {
  operation: string;
  body: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  /** The key that signed it, and the role it acts as when STS issued it. */
  accessKeyId: string;
  role: string | undefined;
}

export interface AwsJsonPeerOptions {
  /** The SigV4 signing name: ssm, monitoring. */
  signingName: string;
  /** `AmazonSSM.`, `GraniteServiceVersion20100801.` */
  targetPrefix: string;
  version: '1.0' | '1.1';
  queryCompatible?: boolean;
  region?: string;
  keys?: KeyRing;
  handle(request: AwsJsonRequest): unknown;
}

export interface AwsJsonPeer {
  url: string;
  requests: AwsJsonRequest[];
  /** Parsed bodies of the requests for `operation`, in order. */
  calls(operation: string): Record<string, unknown>[];
  /** The next `times` requests for `operation` are answered ThrottlingException. */
  throttle(operation: string, times: number): void;
  /** The next `times` requests for `operation` (default: all) are answered with `fault`. */
  refuse(operation: string, fault: AwsFault, times?: number): void;
  /** Requests for `operation` are never answered from now on. */
  stall(operation: string): void;
  close(): Promise<void>;
}

export async function startAwsJsonPeer(options: AwsJsonPeerOptions): Promise<AwsJsonPeer> {
  const region = options.region ?? 'eu-west-1';
  const keys = options.keys ?? new KeyRing();
  const contentType = `application/x-amz-json-${options.version}`;
  const requests: AwsJsonRequest[] = [];
  const throttles = new Map<string, number>();
  const stalled = new Set<string>();
  const refusals = new Map<string, { fault: AwsFault; times: number }>();

  const send = (
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): true => {
    res.writeHead(status, { 'content-type': contentType, 'x-amzn-requestid': randomUUID(), ...headers });
    res.end(JSON.stringify(body));
    return true;
  };
  const fail = (res: ServerResponse, fault: AwsFault): true => {
    const sender = fault.status < 500 ? 'Sender' : 'Receiver';
    return send(
      res,
      fault.status,
      { __type: fault.type, message: fault.message },
      options.queryCompatible ? { 'x-amzn-query-error': `${fault.type};${sender}` } : {},
    );
  };

  const answer = (
    method: string,
    url: string,
    headers: IncomingHttpHeaders,
    raw: string,
    res: ServerResponse,
  ) => {
    const target = typeof headers['x-amz-target'] === 'string' ? headers['x-amz-target'] : '';
    const operation = target.startsWith(options.targetPrefix)
      ? target.slice(options.targetPrefix.length)
      : '';
    let body: Record<string, unknown> = {};
    try {
      const parsed: unknown = raw === '' ? {} : JSON.parse(raw);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
        body = parsed as Record<string, unknown>;
    } catch {
      return fail(res, new AwsFault('SerializationException', 'body is not JSON'));
    }
    const accessKeyId = /Credential=([^/]+)\//.exec(headers.authorization ?? '')?.[1] ?? '';
    const key = keys.keys.get(accessKeyId);
    const request: AwsJsonRequest = { operation, body, headers, accessKeyId, role: key?.role };
    requests.push(request);
    if (method !== 'POST' || url !== '/')
      return fail(res, new AwsFault('UnknownOperationException', `${method} ${url}`, 404));
    if (!key)
      return fail(
        res,
        new AwsFault(
          'UnrecognizedClientException',
          'The security token included in the request is invalid.',
          403,
        ),
      );
    const problem = sigV4Problem({ method, url, headers, body: raw }, key, region, options.signingName);
    if (problem) return fail(res, new AwsFault(problem.type, problem.message, 403));
    if (key.sessionToken !== undefined && headers['x-amz-security-token'] !== key.sessionToken) {
      return fail(
        res,
        new AwsFault(
          'UnrecognizedClientException',
          'The security token included in the request is invalid.',
          403,
        ),
      );
    }
    if (headers['content-type'] !== contentType) {
      return fail(
        res,
        new AwsFault('SerializationException', `unexpected content type ${headers['content-type'] ?? ''}`),
      );
    }
    if (options.queryCompatible && headers['x-amzn-query-mode'] !== 'true') {
      return fail(res, new AwsFault('SerializationException', 'x-amzn-query-mode is missing'));
    }
    if (stalled.has(operation)) return false;
    const refusal = refusals.get(operation);
    if (refusal && refusal.times > 0) {
      refusal.times -= 1;
      return fail(res, refusal.fault);
    }
    const throttled = throttles.get(operation) ?? 0;
    if (throttled > 0) {
      throttles.set(operation, throttled - 1);
      return fail(res, new AwsFault('ThrottlingException', 'Rate exceeded'));
    }
    try {
      return send(res, 200, options.handle(request));
    } catch (error) {
      if (!(error instanceof AwsFault)) throw error;
      return fail(res, error);
    }
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      answer(req.method ?? '', req.url ?? '', req.headers, Buffer.concat(chunks).toString('utf8'), res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    calls: (operation) => requests.filter((r) => r.operation === operation).map((r) => r.body),
    throttle: (operation, times) => {
      throttles.set(operation, times);
    },
    refuse: (operation, fault, times = Number.POSITIVE_INFINITY) => {
      refusals.set(operation, { fault, times });
    },
    stall: (operation) => {
      stalled.add(operation);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
