/**
 * Checks an AWS Signature Version 4 the way an AWS endpoint does, for local peers of AWS services:
 * rebuilds the canonical request from what arrived (method, path, query, the signed headers, the
 * body's SHA-256), derives the signing key from the secret the test gave the SDK, and compares. A
 * peer that only checked the header's shape would accept a request the SDK had signed wrongly.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface SigningSecret {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SignedRequest {
  method: string;
  /** Path and query as they arrived (`/`, `/path?a=1`). */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const sha256 = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

/** Canonical query string: each name and value URI-encoded, sorted by name then value. */
function canonicalQuery(query: string): string {
  if (query === '') return '';
  const encode = (s: string) =>
    encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return query
    .split('&')
    .map((pair) => {
      const [name = '', value = ''] = pair
        .split('=')
        .map((part) => decodeURIComponent(part.replace(/\+/g, ' ')));
      return [encode(name), encode(value)] as const;
    })
    .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

/** What AWS answers (403) to a request whose signature it does not accept. */
export interface SignatureProblem {
  type: 'MissingAuthenticationTokenException' | 'UnrecognizedClientException' | 'InvalidSignatureException';
  message: string;
}

const invalid = (message: string): SignatureProblem => ({ type: 'InvalidSignatureException', message });

/** Why the signature is not what `secret` produces for `service` in `region`; undefined when it is. */
export function sigV4Problem(
  request: SignedRequest,
  secret: SigningSecret,
  region: string,
  service: string,
): SignatureProblem | undefined {
  const match = AUTHORIZATION.exec(request.headers.authorization ?? '');
  if (!match) return { type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
  const [, accessKeyId, date, scopeRegion, scopeService, signedHeaders, signature] =
    match as unknown as string[];
  if (accessKeyId !== secret.accessKeyId) {
    return {
      type: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    };
  }
  if (scopeRegion !== region || scopeService !== service) {
    return invalid(`Credential should be scoped to a valid region and service: ${region}/${service}`);
  }
  const amzDate = request.headers['x-amz-date'];
  if (typeof amzDate !== 'string' || !amzDate.startsWith(date!)) {
    return invalid('X-Amz-Date does not match the date of the credential scope');
  }
  const names = signedHeaders!.split(';');
  if (!names.includes('host')) return invalid("'Host' must be a 'SignedHeader' in the AWS Authorization.");
  const canonicalHeaders = names
    .map((name) => {
      const value = request.headers[name];
      const text = Array.isArray(value) ? value.join(',') : (value ?? '');
      return `${name}:${text.trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
  const [path = '/', query = ''] = request.url.split('?', 2);
  const canonicalRequest = [
    request.method,
    path,
    canonicalQuery(query),
    canonicalHeaders,
    signedHeaders,
    sha256(request.body),
  ].join('\n');
  const scope = `${date!}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  let key = hmac(`AWS4${secret.secretAccessKey}`, date!);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  const expected = Buffer.from(hmac(key, stringToSign).toString('hex'));
  const given = Buffer.from(signature!);
  return expected.length === given.length && timingSafeEqual(expected, given)
    ? undefined
    : invalid('The request signature we calculated does not match the signature you provided.');
}
