/**
 * A local STS speaking the query protocol the SDK sends for AssumeRole: `POST /` with a
 * form-encoded body (`Action=AssumeRole&Version=2011-06-15&RoleArn=...&RoleSessionName=...`),
 * signed with SigV4 for `sts`; answers XML, errors as `<ErrorResponse><Error><Type>Sender</Type>
 * <Code>AccessDenied</Code>...`. A role the test allows gets fresh keys with a session token,
 * added to the key ring every local AWS peer of the test checks, so a call made with them is
 * known to act as that role. Reach it with AWS_ENDPOINT_URL_STS.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sigV4Problem } from './aws-sigv4.js';
import type { KeyRing } from './fake-aws-json.js';

export interface StsRequest {
  params: Record<string, string>;
  headers: IncomingHttpHeaders;
}

export interface FakeSts {
  url: string;
  requests: StsRequest[];
  close(): Promise<void>;
}

const xml = (text: string) => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

export async function startFakeSts(options: {
  keys: KeyRing;
  /** Role ARNs the bot's key may assume. */
  roles: readonly string[];
  region?: string;
}): Promise<FakeSts> {
  const region = options.region ?? 'eu-west-1';
  const requests: StsRequest[] = [];
  const reply = (res: ServerResponse, status: number, body: string): true => {
    res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() });
    res.end(body);
    return true;
  };
  const error = (res: ServerResponse, status: number, code: string, message: string): true =>
    reply(
      res,
      status,
      `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
    );

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const params = Object.fromEntries(new URLSearchParams(raw));
      requests.push({ params, headers: req.headers });
      const accessKeyId = /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? '';
      const key = options.keys.keys.get(accessKeyId);
      if (!key)
        return error(
          res,
          403,
          'InvalidClientTokenId',
          'The security token included in the request is invalid.',
        );
      const problem = sigV4Problem(
        { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: raw },
        key,
        region,
        'sts',
      );
      if (problem) return error(res, 403, 'SignatureDoesNotMatch', problem.message);
      if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') {
        return error(res, 400, 'InvalidAction', 'expected a form-encoded body');
      }
      if (params['Action'] !== 'AssumeRole' || params['Version'] !== '2011-06-15') {
        return error(res, 400, 'InvalidAction', `Could not find operation ${params['Action'] ?? ''}`);
      }
      const role = params['RoleArn'] ?? '';
      const session = params['RoleSessionName'] ?? '';
      if (!/^[\w+=,.@-]{2,64}$/.test(session)) {
        return error(
          res,
          400,
          'ValidationError',
          `RoleSessionName ${session} does not satisfy the constraint`,
        );
      }
      if (!options.roles.includes(role)) {
        return error(
          res,
          403,
          'AccessDenied',
          `User: arn:aws:iam::123456789012:user/rollback-bot is not authorized to perform: sts:AssumeRole on resource: ${role}`,
        );
      }
      const issued = {
        accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
        secretAccessKey: randomBytes(20).toString('base64'),
        sessionToken: randomBytes(32).toString('base64'),
        role,
      };
      options.keys.add(issued);
      const expiration = new Date(
        Date.now() + Number(params['DurationSeconds'] ?? 3600) * 1000,
      ).toISOString();
      const account = /::(\d{12}):/.exec(role)?.[1] ?? '000000000000';
      const name = role.slice(role.lastIndexOf('/') + 1);
      return reply(
        res,
        200,
        `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>${issued.accessKeyId}</AccessKeyId><SecretAccessKey>${xml(issued.secretAccessKey)}</SecretAccessKey><SessionToken>${xml(issued.sessionToken)}</SessionToken><Expiration>${expiration}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROA0000000000000000:${session}</AssumedRoleId><Arn>arn:aws:sts::${account}:assumed-role/${name}/${session}</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
