/**
 * A local STS speaking the query protocol the SDK sends for AssumeRole (test/support/
 * fake-aws-query.ts): `POST /` with a form-encoded body (`Action=AssumeRole&Version=2011-06-15&
 * RoleArn=...&RoleSessionName=...`), signed with SigV4 for `sts`; answers XML, errors as
 * `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>...`. A role the test allows
 * gets fresh keys with a session token, added to the key ring every local AWS peer of the test
 * checks, so a call made with them is known to act as that role. Reach it with
 * AWS_ENDPOINT_URL_STS.
 */
import { randomBytes } from 'node:crypto';
import type { KeyRing } from './fake-aws-json.js';
import { AwsFault, field, startAwsQueryPeer, type AwsQueryPeer } from './fake-aws-query.js';

export type FakeSts = AwsQueryPeer;

export async function startFakeSts(options: {
  keys: KeyRing;
  /** Role ARNs the bot's key may assume. */
  roles: readonly string[];
  region?: string;
}): Promise<FakeSts> {
  return startAwsQueryPeer({
    signingName: 'sts',
    version: '2011-06-15',
    xmlns: 'https://sts.amazonaws.com/doc/2011-06-15/',
    keys: options.keys,
    ...(options.region === undefined ? {} : { region: options.region }),
    handle: ({ action, params }) => {
      if (action !== 'AssumeRole') throw new AwsFault('InvalidAction', `Could not find operation ${action}`);
      const role = params['RoleArn'] ?? '';
      const session = params['RoleSessionName'] ?? '';
      if (!/^[\w+=,.@-]{2,64}$/.test(session)) {
        throw new AwsFault('ValidationError', `RoleSessionName ${session} does not satisfy the constraint`);
      }
      if (!options.roles.includes(role)) {
        throw new AwsFault(
          'AccessDenied',
          `User: arn:aws:iam::123456789012:user/rollback-bot is not authorized to perform: sts:AssumeRole on resource: ${role}`,
          403,
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
      return `<Credentials>${field('AccessKeyId', issued.accessKeyId)}${field('SecretAccessKey', issued.secretAccessKey)}${field('SessionToken', issued.sessionToken)}${field('Expiration', expiration)}</Credentials><AssumedRoleUser><AssumedRoleId>AROA0000000000000000:${session}</AssumedRoleId>${field('Arn', `arn:aws:sts::${account}:assumed-role/${name}/${session}`)}</AssumedRoleUser>`;
    },
  });
}
