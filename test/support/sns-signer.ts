/**
 * Signs messages the way Amazon SNS does, with a throwaway CA (openssl) and an SNS-like leaf
 * certificate served on 127.0.0.1, so the bot's SNS receiver checks real signatures against a
 * certificate URL and CA the tests allow by configuration. The same local server answers the
 * SubscribeURL of a confirmation.
 */
import { execFileSync } from 'node:child_process';
import { createSign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SnsReceiverOptions } from '../../src/http/bot-routes.js';
import { reply, startPeer, type HttpPeer } from './http-peer.js';

export interface SnsSigner {
  /** Serves `/certs/leaf.pem` and answers `/confirm?...` like SNS's ConfirmSubscription. */
  peer: HttpPeer;
  /** What the bot must be told to trust this signer, for the allowed topics. */
  receiverOptions(topicArns: string[]): SnsReceiverOptions;
  /** The message with SignatureVersion 2, SigningCertURL and Signature over SNS's string to sign. */
  sign(message: Record<string, string>): Record<string, string>;
  close(): Promise<void>;
}

/** SNS's string to sign: `Name\nvalue\n` for each signed field of the message's type, in its order. */
function stringToSign(message: Record<string, string>): string {
  const names =
    message.Type === 'Notification'
      ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  return names
    .filter((name) => message[name] !== undefined)
    .map((name) => `${name}\n${message[name]}\n`)
    .join('');
}

export async function startSnsSigner(): Promise<SnsSigner> {
  const dir = mkdtempSync(join(tmpdir(), 'rollback-bot-sns-'));
  const openssl = (...args: string[]) => execFileSync('/usr/bin/openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl(
    ...[
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '30',
    ],
    ...['-subj', '/CN=Test SNS Root CA', '-addext', 'basicConstraints=critical,CA:TRUE'],
    ...['-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
  );
  writeFileSync(join(dir, 'leaf.ext'), 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:sns.amazonaws.com\n');
  openssl(
    ...['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr'],
    ...['-subj', '/CN=sns.amazonaws.com'],
  );
  openssl(
    ...['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial'],
    ...['-out', 'leaf.pem', '-days', '10', '-extfile', 'leaf.ext'],
  );
  const leaf = readFileSync(join(dir, 'leaf.pem'), 'utf8');
  const key = readFileSync(join(dir, 'leaf.key'), 'utf8');
  const caPem = readFileSync(join(dir, 'ca.pem'), 'utf8');
  rmSync(dir, { recursive: true, force: true });
  const peer = await startPeer((request, res) => {
    if (request.path === '/certs/leaf.pem') reply(res, 200, leaf);
    else if (request.path.startsWith('/confirm')) {
      const topic = new URL(request.path, peer.url).searchParams.get('TopicArn') ?? '';
      reply(
        res,
        200,
        `<ConfirmSubscriptionResponse><ConfirmSubscriptionResult><SubscriptionArn>${topic}:sub-1</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>`,
        { 'content-type': 'text/xml' },
      );
    } else reply(res, 404, 'not found');
  });
  return {
    peer,
    receiverOptions: (topicArns) => ({ topicArns, certUrlPrefixes: [`${peer.url}/`], extraCaPem: caPem }),
    sign(message) {
      const full = { ...message, SignatureVersion: '2', SigningCertURL: `${peer.url}/certs/leaf.pem` };
      return { ...full, Signature: createSign('RSA-SHA256').update(stringToSign(full)).sign(key, 'base64') };
    },
    close: () => peer.close(),
  };
}
