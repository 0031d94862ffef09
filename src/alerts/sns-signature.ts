/**
 * Checks that an SNS delivery really comes from SNS, and confirms subscriptions.
 *
 * Trust rests on three checks, cheapest first, so a forged message costs no network call: the topic
 * is in `SNS_TOPIC_ARNS`; the SigningCertURL is https on `sns.<region>.amazonaws.com[.cn]` (or
 * under a prefix the operator allowed); the certificate there is within its dates, chains to a
 * trusted CA, and its key verifies the signature over the string SNS signs (RSA-SHA1 for
 * SignatureVersion 1, RSA-SHA256 for 2). Certificates are fetched and cached by sns-certificates.ts.
 *
 * Results are typed, never thrown: 400 for a malformed message, 403 for a refused topic, URL,
 * certificate or signature, 503 when the certificate cannot be fetched (SNS retries on 5xx only).
 */
import { createVerify } from 'node:crypto';
import {
  type SnsCertificatesOptions,
  type SnsRefusal,
  SnsCertificates,
  httpGet,
} from './sns-certificates.js';
import {
  type SnsMessage,
  type SnsSubscriptionConfirmation,
  checkTopic,
  parseSnsMessage,
  stringToSign,
} from './sns.js';

export type { SnsFetch, SnsRefusal } from './sns-certificates.js';

/** The certificate options, where `certUrlPrefixes` also allow SubscribeURLs, plus the topics. */
export interface SnsVerifierOptions extends SnsCertificatesOptions {
  /** `SNS_TOPIC_ARNS`; empty refuses every topic. */
  topicArns: readonly string[];
}

export type SnsVerification = { ok: true; message: SnsMessage } | SnsRefusal;
export type SnsConfirmation = { ok: true; subscriptionArn: string | null } | SnsRefusal;

/** The hosts SNS serves certificates and confirmation links from (all partitions). */
export const SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

const MAX_CONFIRM_BYTES = 64 * 1024;

/**
 * Why `url` may not be fetched for SNS, or undefined when it may: https on an SNS host, or under
 * one of the operator's prefixes. Compared on the parsed URL, so `https://sns.x.amazonaws.com@evil`
 * and similar tricks are judged by their real host.
 */
export function snsUrlProblem(
  value: string,
  prefixes: readonly string[] = [],
  host: RegExp = SNS_HOST,
  what = 'SigningCertURL',
): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${what} is not a URL`;
  }
  if (url.username !== '' || url.password !== '') return `${what} must not carry credentials`;
  if (prefixes.some((prefix) => url.href.startsWith(prefix))) return undefined;
  if (url.protocol !== 'https:') {
    return `${what} must be https (got ${url.protocol.replace(':', '')}); allow other prefixes with SNS_CERT_URL_PREFIXES`;
  }
  if (url.port !== '' || !host.test(url.hostname)) {
    return `${what} host ${url.host} is not an SNS host (sns.<region>.amazonaws.com); allow other prefixes with SNS_CERT_URL_PREFIXES`;
  }
  return undefined;
}

export class SnsVerifier {
  private readonly options: SnsVerifierOptions;
  private readonly certificates: SnsCertificates;

  constructor(options: SnsVerifierOptions) {
    this.options = options;
    this.certificates = new SnsCertificates(options);
  }

  /** Parses and authenticates one delivery (the parsed JSON body). */
  async verify(body: unknown): Promise<SnsVerification> {
    const parsed = parseSnsMessage(body);
    if (!parsed.ok) return parsed;
    const message = parsed.message;
    const topic = checkTopic(message.TopicArn, this.options.topicArns);
    if (!topic.ok) return topic;
    const urlProblem = snsUrlProblem(message.SigningCertURL, this.options.certUrlPrefixes ?? []);
    if (urlProblem !== undefined) return { ok: false, status: 403, reason: urlProblem };
    const signature = Buffer.from(message.Signature, 'base64');
    if (signature.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(message.Signature)) {
      return { ok: false, status: 400, reason: 'Signature: not base64' };
    }

    const chain = await this.certificates.load(message.SigningCertURL);
    if (!chain.ok) return chain;
    const expired = this.certificates.datesProblem(chain);
    if (expired !== undefined) return { ok: false, status: 403, reason: expired };

    const algorithm = message.SignatureVersion === '1' ? 'RSA-SHA1' : 'RSA-SHA256';
    let valid: boolean;
    try {
      valid = createVerify(algorithm)
        .update(stringToSign(message), 'utf8')
        .verify(chain.leaf.publicKey, signature);
    } catch {
      valid = false;
    }
    if (!valid) {
      return {
        ok: false,
        status: 403,
        reason: `signature (version ${message.SignatureVersion}) does not match the message and the certificate at ${message.SigningCertURL}`,
      };
    }
    return { ok: true, message };
  }

  /**
   * Confirms a subscription by visiting its SubscribeURL (same host rules as certificates). Call it
   * only with a message `verify` accepted: that is what proves the topic is allowed.
   */
  async confirmSubscription(message: SnsSubscriptionConfirmation): Promise<SnsConfirmation> {
    // Checked again so a caller that skipped `verify` still cannot subscribe the bot to any topic.
    const topic = checkTopic(message.TopicArn, this.options.topicArns);
    if (!topic.ok) return topic;
    const problem = snsUrlProblem(
      message.SubscribeURL,
      this.options.certUrlPrefixes ?? [],
      SNS_HOST,
      'SubscribeURL',
    );
    if (problem !== undefined) return { ok: false, status: 403, reason: problem };
    const answer = await httpGet(
      this.options.fetch,
      message.SubscribeURL,
      MAX_CONFIRM_BYTES,
      this.options.fetchTimeoutMs ?? 10_000,
    );
    if (!answer.ok) {
      return {
        ok: false,
        status: 503,
        reason: `could not confirm the subscription to ${message.TopicArn}: ${answer.reason}`,
      };
    }
    if (answer.status >= 500) {
      return {
        ok: false,
        status: 503,
        reason: `SNS answered ${answer.status} to the SubscribeURL; SNS will retry`,
      };
    }
    if (answer.status >= 300) {
      return {
        ok: false,
        status: 403,
        reason: `SNS refused the confirmation of ${message.TopicArn} (HTTP ${answer.status}); the token may have expired (it lasts 3 days): subscribe again`,
      };
    }
    const arn = /<SubscriptionArn>([^<]{1,2048})<\/SubscriptionArn>/.exec(answer.body.toString('utf8'))?.[1];
    return { ok: true, subscriptionArn: arn ?? null };
  }

  /** Requests made for certificates (leaves and intermediates); for metrics and tests. */
  get certificateFetches(): number {
    return this.certificates.fetchCount;
  }

  /** Number of certificate URLs currently cached. */
  get cachedCertificates(): number {
    return this.certificates.size;
  }
}
