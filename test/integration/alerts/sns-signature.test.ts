/**
 * The SNS verifier against real certificates and a real HTTP server: a throwaway CA (and a second,
 * untrusted one, and an intermediate) made by the openssl CLI in a temp dir, certificates served on
 * 127.0.0.1, messages signed the way SNS signs them. The clock is injected, so "expired" needs no
 * backdated certificate.
 */
import { execFileSync } from 'node:child_process';
import { createSign, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCaFile } from '../../../src/alerts/sns-certificates.js';
import { SnsVerifier, type SnsVerifierOptions } from '../../../src/alerts/sns-signature.js';
import { ConfigError } from '../../../src/lib/errors.js';
import { type HttpPeer, reply, startPeer } from '../../support/http-peer.js';

const TOPIC = 'arn:aws:sns:eu-west-3:123456789012:rollback-bot-alerts';
const fixture = (name: string) =>
  JSON.parse(readFileSync(join(import.meta.dirname, '../../fixtures/alerts', name), 'utf8')) as Record<
    string,
    string
  >;

let dir: string;
let peer: HttpPeer;
const served = new Map<string, { status: number; body: string | Buffer }>();
const pem = (name: string) => readFileSync(join(dir, name), 'utf8');
const openssl = (...args: string[]) => execFileSync('/usr/bin/openssl', args, { cwd: dir, stdio: 'pipe' });

/** A CA: self-signed, or signed by `parent` (an intermediate). */
function makeCa(name: string, subject: string, parent?: string): void {
  const ext = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n';
  if (parent === undefined) {
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-days',
      '30',
      '-subj',
      subject,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
    return;
  }
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(
    'req',
    '-new',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    subject,
  );
  openssl(
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${parent}.pem`,
    '-CAkey',
    `${parent}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    '20',
    '-extfile',
    `${name}.ext`,
  );
}

/** An SNS-like signing certificate issued by `ca`, optionally naming its issuer's URL (AIA). */
function makeLeaf(name: string, ca: string, caIssuers?: string): void {
  const aia = caIssuers === undefined ? '' : `authorityInfoAccess=caIssuers;URI:${caIssuers}\n`;
  writeFileSync(
    join(dir, `${name}.ext`),
    `basicConstraints=CA:FALSE\nsubjectAltName=DNS:sns.amazonaws.com\n${aia}`,
  );
  openssl(
    'req',
    '-new',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    '/CN=sns.amazonaws.com',
  );
  openssl(
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.pem`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    '10',
    '-extfile',
    `${name}.ext`,
  );
}

/** The string SNS signs, written here independently of src/ so a shared mistake cannot hide. */
function canonical(message: Record<string, string>): string {
  const names =
    message.Type === 'Notification'
      ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  return names
    .filter((name) => message[name] !== undefined)
    .map((name) => `${name}\n${message[name]}\n`)
    .join('');
}

function signed(
  base: Record<string, string>,
  changes: { version?: '1' | '2'; key?: string; cert?: string } & Record<string, string> = {},
): Record<string, string> {
  const { version = '1', key = 'leaf', cert = 'leaf.pem', ...fields } = changes;
  const message: Record<string, string> = {
    ...base,
    SignatureVersion: version,
    SigningCertURL: `${peer.url}/certs/${cert}`,
    ...fields,
  };
  message.Signature = createSign(version === '1' ? 'RSA-SHA1' : 'RSA-SHA256')
    .update(canonical(message))
    .sign(pem(`${key}.key`), 'base64');
  return message;
}

const notification = fixture('sns-cloudwatch-alarm.json');
const confirmation = () => ({
  ...fixture('sns-subscription-confirmation.json'),
  SubscribeURL: `${peer.url}/confirm?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=2336412f`,
});

let leafValidFrom: number;
let leafValidTo: number;
let now: number;

function verifier(options: Partial<SnsVerifierOptions> = {}): SnsVerifier {
  return new SnsVerifier({
    fetch: globalThis.fetch,
    now: () => now,
    topicArns: [TOPIC],
    certUrlPrefixes: [`${peer.url}/`],
    extraCaPem: pem('ca.pem'),
    ...options,
  });
}

/** The URL of a server that was just closed: connections to it are refused. */
async function peerThatIsGone(): Promise<string> {
  const gone = await startPeer((_request, res) => {
    reply(res, 200);
  });
  await gone.close();
  return gone.url;
}

const requestsFor = (path: string) => peer.requests.filter((r) => r.path.split('?')[0] === path).length;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sns-signature-'));
  peer = await startPeer((request, res) => {
    const answer = served.get(request.path.split('?')[0]!);
    if (answer === undefined) reply(res, 404, 'not found');
    else {
      res.writeHead(answer.status, { 'content-type': 'application/octet-stream' });
      res.end(answer.body);
    }
  });
  makeCa('ca', '/CN=Test SNS Root CA');
  makeCa('other-ca', '/CN=Untrusted CA');
  makeCa('intermediate', '/CN=Test SNS Intermediate CA', 'ca');
  makeLeaf('leaf', 'ca');
  makeLeaf('other-leaf', 'other-ca');
  makeLeaf('aia-leaf', 'intermediate', `${peer.url}/ca/intermediate.der`);
  for (const name of ['leaf', 'other-leaf', 'aia-leaf']) {
    served.set(`/certs/${name}.pem`, { status: 200, body: pem(`${name}.pem`) });
  }
  served.set('/certs/bundle.pem', { status: 200, body: pem('aia-leaf.pem') + pem('intermediate.pem') });
  served.set('/ca/intermediate.der', { status: 200, body: new X509Certificate(pem('intermediate.pem')).raw });
  served.set('/certs/garbage.pem', { status: 200, body: 'hello, I am not a certificate' });
  served.set('/certs/broken.pem', { status: 500, body: 'internal error' });
  served.set('/certs/huge.pem', { status: 200, body: Buffer.alloc(200_000, 65) });
  served.set('/confirm', {
    status: 200,
    body: `<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><ConfirmSubscriptionResult><SubscriptionArn>${TOPIC}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>`,
  });
  const leaf = new X509Certificate(pem('leaf.pem'));
  leafValidFrom = leaf.validFromDate.getTime();
  leafValidTo = leaf.validToDate.getTime();
  now = leafValidFrom + 60 * 60 * 1000;
}, 60_000);

afterAll(async () => {
  await peer.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SnsVerifier.verify', () => {
  it('accepts a CloudWatch notification signed with SignatureVersion 1 and 2', async () => {
    const sns = verifier();
    for (const version of ['1', '2'] as const) {
      const result = await sns.verify(signed(notification, { version }));
      expect(result).toMatchObject({
        ok: true,
        message: { Type: 'Notification', SignatureVersion: version },
      });
    }
    const bare = { ...notification };
    delete (bare as Partial<typeof bare>).Subject;
    expect(await sns.verify(signed(bare))).toMatchObject({ ok: true });
  });

  it('refuses a tampered Message, Subject or Timestamp', async () => {
    const sns = verifier();
    const message = signed(notification, { version: '2' });
    for (const change of [
      { Message: message.Message!.replace('ALARM', 'OK') },
      { Subject: 'OK: "checkout-5xx-rate"' },
      { Timestamp: '2026-11-23T05:12:04.456Z' },
    ]) {
      expect(await sns.verify({ ...message, ...change })).toEqual({
        ok: false,
        status: 403,
        reason: `signature (version 2) does not match the message and the certificate at ${peer.url}/certs/leaf.pem`,
      });
    }
  });

  it('refuses a signature made with another key, or with the other hash', async () => {
    const sns = verifier();
    expect(await sns.verify(signed(notification, { key: 'other-leaf' }))).toMatchObject({
      ok: false,
      status: 403,
    });
    const v2 = signed(notification, { version: '2' });
    expect(await sns.verify({ ...v2, SignatureVersion: '1' })).toMatchObject({
      ok: false,
      status: 403,
      reason: expect.stringMatching(/^signature \(version 1\) does not match/) as unknown,
    });
    expect(await sns.verify({ ...v2, Signature: 'not base64 at all!' })).toEqual({
      ok: false,
      status: 400,
      reason: 'Signature: not base64',
    });
  });

  it('refuses a certificate from a CA that is not trusted', async () => {
    const result = await verifier().verify(
      signed(notification, { key: 'other-leaf', cert: 'other-leaf.pem' }),
    );
    expect(result).toEqual({
      ok: false,
      status: 403,
      reason: `the certificate at ${peer.url}/certs/other-leaf.pem does not chain to a trusted CA (issuer CN=Untrusted CA); add the CA to SNS_CA_FILE if it should be trusted`,
    });
    // Without the test CA in the extra PEMs, even the good certificate is refused.
    expect(await verifier({ extraCaPem: '' }).verify(signed(notification))).toMatchObject({
      ok: false,
      status: 403,
      reason: expect.stringContaining(
        'does not chain to a trusted CA (issuer CN=Test SNS Root CA)',
      ) as unknown,
    });
  });

  it('refuses an expired or not yet valid certificate (by the injected clock)', async () => {
    const sns = verifier();
    const message = signed(notification);
    expect(await sns.verify(message)).toMatchObject({ ok: true });
    now = leafValidTo + 1_000;
    expect(await sns.verify(message)).toEqual({
      ok: false,
      status: 403,
      reason: `the signing certificate expired at ${new Date(leafValidTo).toISOString()}`,
    });
    now = leafValidFrom - 1_000;
    expect(await sns.verify(message)).toMatchObject({
      ok: false,
      status: 403,
      reason: expect.stringMatching(/^the signing certificate is not valid before /) as unknown,
    });
    now = leafValidFrom + 60 * 60 * 1000;
  });

  it.each([
    [
      'a foreign host',
      'https://evil.example.com/SimpleNotificationService-1.pem',
      /^SigningCertURL host evil\.example\.com is not an SNS host/,
    ],
    ['a look-alike host', 'https://sns.us-east-1.amazonaws.com.evil.example/c.pem', /is not an SNS host/],
    [
      'credentials before the host',
      'https://sns.us-east-1.amazonaws.com@evil.example/c.pem',
      /^SigningCertURL must not carry credentials$/,
    ],
    [
      'an SNS host over http',
      'http://sns.us-east-1.amazonaws.com/c.pem',
      /^SigningCertURL must be https \(got http\)/,
    ],
    ['an SNS host on another port', 'https://sns.us-east-1.amazonaws.com:8443/c.pem', /is not an SNS host/],
    ['http on a local port that is not allowed', 'http://127.0.0.1:1/c.pem', /^SigningCertURL must be https/],
    ['not a URL', 'sns.us-east-1.amazonaws.com/c.pem', /^SigningCertURL is not a URL$/],
  ])('refuses a SigningCertURL on %s without fetching it', async (_name, url, reason) => {
    const before = peer.requests.length;
    const result = await verifier().verify(signed(notification, { SigningCertURL: url }));
    expect(result).toMatchObject({ ok: false, status: 403 });
    expect(!result.ok && result.reason).toMatch(reason);
    expect(peer.requests.length).toBe(before);
  });

  it('refuses a topic that is not allowed before fetching anything', async () => {
    const before = peer.requests.length;
    const other = 'arn:aws:sns:eu-west-3:123456789012:someone-else';
    expect(await verifier().verify(signed(notification, { TopicArn: other }))).toEqual({
      ok: false,
      status: 403,
      reason: `topic ${other} is not in SNS_TOPIC_ARNS; add it there to accept its messages`,
    });
    expect(await verifier({ topicArns: [] }).verify(signed(notification))).toMatchObject({
      ok: false,
      status: 403,
      reason: expect.stringContaining('SNS_TOPIC_ARNS is not set') as unknown,
    });
    expect(peer.requests.length).toBe(before);
  });

  it('answers 400 for a malformed message', async () => {
    expect(await verifier().verify({ ...signed(notification), Type: 'Alarm' })).toMatchObject({
      ok: false,
      status: 400,
    });
    expect(await verifier().verify('{"Type":"Notification"}')).toMatchObject({ ok: false, status: 400 });
  });

  it('fetches a certificate once for many messages, concurrent or not, until its TTL', async () => {
    const sns = verifier({ cacheTtlMs: 60_000 });
    const before = requestsFor('/certs/leaf.pem');
    const messages = Array.from({ length: 40 }, (_v, i) =>
      signed(notification, { version: i % 2 === 0 ? '1' : '2', MessageId: `id-${i}` }),
    );
    const results = await Promise.all(messages.map((m) => sns.verify(m)));
    expect(results.every((r) => r.ok)).toBe(true);
    for (const m of messages.slice(0, 10)) expect((await sns.verify(m)).ok).toBe(true);
    expect(requestsFor('/certs/leaf.pem') - before).toBe(1);
    expect(sns.certificateFetches).toBe(1);

    now += 61_000;
    expect((await sns.verify(messages[0]!)).ok).toBe(true);
    expect(requestsFor('/certs/leaf.pem') - before).toBe(2);
    now = leafValidFrom + 60 * 60 * 1000;
  });

  it('keeps at most cacheMaxEntries certificates, evicting the least recently used', async () => {
    const sns = verifier({ cacheMaxEntries: 2 });
    served.set('/certs/leaf-copy-1.pem', { status: 200, body: pem('leaf.pem') });
    served.set('/certs/leaf-copy-2.pem', { status: 200, body: pem('leaf.pem') });
    for (const cert of ['leaf.pem', 'leaf-copy-1.pem', 'leaf.pem', 'leaf-copy-2.pem', 'leaf.pem']) {
      expect((await sns.verify(signed(notification, { cert }))).ok).toBe(true);
    }
    expect(sns.cachedCertificates).toBe(2);
    expect(sns.certificateFetches).toBe(3);
    expect((await sns.verify(signed(notification, { cert: 'leaf-copy-1.pem' }))).ok).toBe(true);
    expect(sns.certificateFetches).toBe(4);
  });

  it('answers 503 when the certificate cannot be fetched, and does not cache the failure', async () => {
    const sns = verifier();
    const closed = await peerThatIsGone();
    const down = await verifier({ certUrlPrefixes: [`${closed}/`] }).verify(
      signed(notification, { SigningCertURL: `${closed}/c.pem` }),
    );
    expect(down).toEqual({
      ok: false,
      status: 503,
      reason: `could not fetch the signing certificate: ${closed}/c.pem: ECONNREFUSED`,
    });
    expect(await sns.verify(signed(notification, { cert: 'broken.pem' }))).toEqual({
      ok: false,
      status: 503,
      reason: `could not fetch the signing certificate: ${peer.url}/certs/broken.pem answered HTTP 500`,
    });
    served.set('/certs/broken.pem', { status: 200, body: pem('leaf.pem') });
    expect(await sns.verify(signed(notification, { cert: 'broken.pem' }))).toMatchObject({ ok: true });
    served.set('/certs/broken.pem', { status: 500, body: 'internal error' });

    expect(await sns.verify(signed(notification, { cert: 'huge.pem' }))).toMatchObject({
      ok: false,
      status: 503,
      reason: expect.stringContaining('sent more than 65536 bytes') as unknown,
    });
    expect(await sns.verify(signed(notification, { cert: 'garbage.pem' }))).toEqual({
      ok: false,
      status: 403,
      reason: `${peer.url}/certs/garbage.pem does not hold a PEM certificate`,
    });
  });

  it('follows an intermediate served with the certificate, or named by its CA Issuers link', async () => {
    const sns = verifier();
    expect(await sns.verify(signed(notification, { key: 'aia-leaf', cert: 'bundle.pem' }))).toMatchObject({
      ok: true,
    });
    const before = requestsFor('/ca/intermediate.der');
    for (let i = 0; i < 3; i++) {
      const result = await sns.verify(
        signed(notification, { key: 'aia-leaf', cert: 'aia-leaf.pem', MessageId: `m${i}` }),
      );
      expect(result).toMatchObject({ ok: true });
    }
    expect(requestsFor('/ca/intermediate.der') - before).toBe(1);
    // A CA Issuers link outside the allowed hosts is not followed.
    expect(
      await verifier({ certUrlPrefixes: [`${peer.url}/certs/`] }).verify(
        signed(notification, { key: 'aia-leaf', cert: 'aia-leaf.pem' }),
      ),
    ).toMatchObject({
      ok: false,
      status: 403,
      reason: expect.stringContaining('issuer CN=Test SNS Intermediate CA') as unknown,
    });
  });
});

describe('SnsVerifier.confirmSubscription', () => {
  it('confirms a verified SubscriptionConfirmation by visiting its SubscribeURL once', async () => {
    const sns = verifier();
    const before = requestsFor('/confirm');
    const verified = await sns.verify(signed(confirmation(), { version: '2' }));
    if (!verified.ok || verified.message.Type !== 'SubscriptionConfirmation')
      throw new Error('expected a confirmation');
    expect(await sns.confirmSubscription(verified.message)).toEqual({
      ok: true,
      subscriptionArn: `${TOPIC}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55`,
    });
    expect(requestsFor('/confirm') - before).toBe(1);
    const request = peer.requests.filter((r) => r.path.startsWith('/confirm')).at(-1)!;
    expect(request.method).toBe('GET');
    expect(request.path).toContain('Token=2336412f');
  });

  it('verifies UnsubscribeConfirmation messages too', async () => {
    const result = await verifier().verify(signed({ ...confirmation(), Type: 'UnsubscribeConfirmation' }));
    expect(result).toMatchObject({ ok: true, message: { Type: 'UnsubscribeConfirmation' } });
  });

  it('refuses a SubscribeURL off the SNS hosts or a topic not allowed, and reports SNS refusing or failing', async () => {
    const sns = verifier();
    const verified = await sns.verify(signed(confirmation()));
    if (!verified.ok || verified.message.Type !== 'SubscriptionConfirmation')
      throw new Error('expected a confirmation');
    const message = verified.message;
    const before = peer.requests.length;
    expect(
      await sns.confirmSubscription({ ...message, SubscribeURL: 'https://evil.example/confirm' }),
    ).toMatchObject({
      ok: false,
      status: 403,
      reason: expect.stringMatching(/^SubscribeURL host evil\.example is not an SNS host/) as unknown,
    });
    expect(
      await verifier({ topicArns: ['arn:aws:sns:eu-west-3:123456789012:other'] }).confirmSubscription(
        message,
      ),
    ).toMatchObject({
      ok: false,
      status: 403,
      reason: expect.stringContaining('not in SNS_TOPIC_ARNS') as unknown,
    });
    expect(peer.requests.length).toBe(before);

    served.set('/confirm-expired', { status: 403, body: '<ErrorResponse/>' });
    expect(
      await sns.confirmSubscription({ ...message, SubscribeURL: `${peer.url}/confirm-expired` }),
    ).toMatchObject({
      ok: false,
      status: 403,
      reason: expect.stringContaining('the token may have expired') as unknown,
    });
    served.set('/confirm-down', { status: 503, body: '' });
    expect(
      await sns.confirmSubscription({ ...message, SubscribeURL: `${peer.url}/confirm-down` }),
    ).toMatchObject({
      ok: false,
      status: 503,
    });
  });
});

describe('readCaFile (SNS_CA_FILE)', () => {
  it('returns the PEM text of a CA file, and stops start-up on a missing or wrong file', () => {
    expect(readCaFile(join(dir, 'ca.pem'))).toBe(pem('ca.pem'));
    const problem = (path: string) => {
      try {
        readCaFile(path);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).problems[0];
      }
      return 'no error';
    };
    expect(problem(join(dir, 'missing.pem'))).toMatch(
      /^SNS_CA_FILE .*missing\.pem cannot be read \(ENOENT\): set it to a PEM file/,
    );
    expect(problem(join(dir, 'leaf.key'))).toMatch(/^SNS_CA_FILE .* must hold only PEM CA certificates/);
    expect(problem(join(dir, 'leaf.pem'))).toMatch(/must hold only PEM CA certificates/);
  });
});
