/**
 * A local peer for an AWS service of the query protocol as the AWS SDK v3 sends it (ELBv2, Auto
 * Scaling, and EC2's own dialect of it): `POST /` with a form-encoded body (`Action=...&Version=
 * 2011-01-01&Targets.member.1.Id=...`, EC2 lists as `Versions.1=...`), a SigV4 signature checked
 * against the keys the test handed out (a key STS issued must come with its session token), XML
 * answers. The query protocol wraps a result as `<ActionResponse><ActionResult>...` and answers
 * errors as `<ErrorResponse><Error><Code>`; EC2 puts the result's fields straight under
 * `<ActionResponse>` next to `<requestId>` and answers errors as `<Response><Errors><Error>`. The
 * service's model is the test's handler, which returns the result's inner XML or throws an
 * AwsFault. Every request is recorded; actions can be refused or left unanswered (a stalled AWS).
 * Binds 127.0.0.1:0; reach it with `AWS_ENDPOINT_URL_<SERVICE>` in the executor's env.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sigV4Problem } from './aws-sigv4.js';
import { AwsFault, KeyRing } from './fake-aws-json.js';

export { AwsFault } from './fake-aws-json.js';

/** Text escaped for an XML element or attribute. */
export const xml = (text: string | number | boolean): string =>
  String(text).replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** `<member>...</member>` (query) or `<item>...</item>` (EC2) for each element of a list. */
export const members = <T>(items: readonly T[], inner: (item: T) => string, tag = 'member'): string =>
  items.map((item) => `<${tag}>${inner(item)}</${tag}>`).join('');

/** `<Name>value</Name>`, or nothing when the value is undefined. */
export const field = (name: string, value: string | number | boolean | undefined): string =>
  value === undefined ? '' : `<${name}>${xml(value)}</${name}>`;

export interface AwsQueryRequest {
  action: string;
  /** The form fields as sent (`Targets.member.1.Id`), Action and Version included. */
  params: Record<string, string>;
  headers: IncomingHttpHeaders;
  accessKeyId: string;
  /** The role the signing key acts as, when STS issued it. */
  role: string | undefined;
}

export interface AwsQueryPeerOptions {
  /** The SigV4 signing name: elasticloadbalancing, autoscaling, ec2. */
  signingName: string;
  /** The API version every request must carry: 2015-12-01. */
  version: string;
  /** The namespace of the answers: http://autoscaling.amazonaws.com/doc/2011-01-01/. */
  xmlns: string;
  /** EC2's dialect: no `<ActionResult>` wrapper, `<Response><Errors>` errors. */
  ec2?: boolean;
  region?: string;
  keys?: KeyRing;
  /** The inner XML of the action's result (undefined: an action that answers nothing), or an AwsFault. */
  handle(request: AwsQueryRequest): string | undefined;
}

export interface AwsQueryPeer {
  url: string;
  requests: AwsQueryRequest[];
  /** The form fields of the requests for `action`, in order. */
  calls(action: string): Record<string, string>[];
  /** The next `times` requests for `action` (default: all) are answered with `fault`. */
  refuse(action: string, fault: AwsFault, times?: number): void;
  /** Requests for `action` are never answered from now on. */
  stall(action: string): void;
  close(): Promise<void>;
}

export async function startAwsQueryPeer(options: AwsQueryPeerOptions): Promise<AwsQueryPeer> {
  const region = options.region ?? 'eu-west-1';
  const keys = options.keys ?? new KeyRing();
  const requests: AwsQueryRequest[] = [];
  const stalled = new Set<string>();
  const refusals = new Map<string, { fault: AwsFault; times: number }>();

  const reply = (res: ServerResponse, status: number, body: string): true => {
    res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() });
    res.end(body);
    return true;
  };
  const fail = (res: ServerResponse, fault: AwsFault): true => {
    const id = randomUUID();
    const type = fault.status < 500 ? 'Sender' : 'Receiver';
    return reply(
      res,
      fault.status,
      options.ec2
        ? `<Response><Errors><Error><Code>${xml(fault.type)}</Code><Message>${xml(fault.message)}</Message></Error></Errors><RequestID>${id}</RequestID></Response>`
        : `<ErrorResponse xmlns="${options.xmlns}"><Error><Type>${type}</Type><Code>${xml(fault.type)}</Code><Message>${xml(fault.message)}</Message></Error><RequestId>${id}</RequestId></ErrorResponse>`,
    );
  };
  const answer = (action: string, inner: string | undefined): string => {
    const id = randomUUID();
    if (options.ec2) {
      return `<${action}Response xmlns="${options.xmlns}"><requestId>${id}</requestId>${inner ?? ''}</${action}Response>`;
    }
    const result = inner === undefined ? '' : `<${action}Result>${inner}</${action}Result>`;
    return `<${action}Response xmlns="${options.xmlns}">${result}<ResponseMetadata><RequestId>${id}</RequestId></ResponseMetadata></${action}Response>`;
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const params = Object.fromEntries(new URLSearchParams(raw));
      const action = params['Action'] ?? '';
      const accessKeyId = /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? '';
      const key = keys.keys.get(accessKeyId);
      requests.push({ action, params, headers: req.headers, accessKeyId, role: key?.role });
      const invalidToken = new AwsFault(
        'InvalidClientTokenId',
        'The security token included in the request is invalid.',
        403,
      );
      if (!key) return fail(res, invalidToken);
      const problem = sigV4Problem(
        { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: raw },
        key,
        region,
        options.signingName,
      );
      if (problem) return fail(res, new AwsFault('SignatureDoesNotMatch', problem.message, 403));
      if (key.sessionToken !== undefined && req.headers['x-amz-security-token'] !== key.sessionToken) {
        return fail(res, invalidToken);
      }
      if (
        req.method !== 'POST' ||
        req.url !== '/' ||
        req.headers['content-type'] !== 'application/x-www-form-urlencoded' ||
        params['Version'] !== options.version
      ) {
        return fail(res, new AwsFault('InvalidAction', `expected a form-encoded ${options.version} request`));
      }
      if (stalled.has(action)) return false;
      const refusal = refusals.get(action);
      if (refusal && refusal.times > 0) {
        refusal.times -= 1;
        return fail(res, refusal.fault);
      }
      try {
        return reply(
          res,
          200,
          answer(
            action,
            options.handle({ action, params, headers: req.headers, accessKeyId, role: key.role }),
          ),
        );
      } catch (error) {
        if (!(error instanceof AwsFault)) throw error;
        return fail(res, error);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    calls: (action) => requests.filter((r) => r.action === action).map((r) => r.params),
    refuse: (action, fault, times = Number.POSITIVE_INFINITY) => {
      refusals.set(action, { fault, times });
    },
    stall: (action) => {
      stalled.add(action);
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
