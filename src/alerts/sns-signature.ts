/**
 * Checks that an SNS delivery really comes from SNS, and confirms subscriptions.
 *
 * Trust rests on three checks, cheapest first, so a forged message costs no network call: the topic
 * is in `SNS_TOPIC_ARNS`; the SigningCertURL is https on `sns.<region>.amazonaws.com[.cn]` (or
 * under a prefix the operator allowed); the certificate there is within its dates, chains to a
 * trusted CA, and its key verifies the signature over the string SNS signs (RSA-SHA1 for
 * SignatureVersion 1, RSA-SHA256 for 2). Certificates are cached by URL (SNS puts a digest of the
 * certificate in the URL, so a URL never changes meaning); concurrent loads of one URL share a fetch.
 *
 * Results are typed, never thrown: 400 for a malformed message, 403 for a refused topic, URL,
 * certificate or signature, 503 when the certificate cannot be fetched (SNS retries on 5xx only).
 */
import { X509Certificate, createVerify } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import {
  type SnsMessage,
  type SnsSubscriptionConfirmation,
  checkTopic,
  parseSnsMessage,
  stringToSign,
} from './sns.js';

/** The subset of `fetch` used here; inject `globalThis.fetch` in production. */
export type SnsFetch = (
  url: string,
  init: { method: 'GET'; redirect: 'error'; signal: AbortSignal },
) => Promise<Response>;

export interface SnsVerifierOptions {
  fetch: SnsFetch;
  now: () => number;
  /** `SNS_TOPIC_ARNS`; empty refuses every topic. */
  topicArns: readonly string[];
  /** `SNS_CERT_URL_PREFIXES`: extra URL prefixes allowed for certificates and SubscribeURLs. */
  certUrlPrefixes?: readonly string[];
  /** PEM text of CAs trusted on top of the roots (`SNS_CA_FILE`'s content). */
  extraCaPem?: string;
  /** The trusted roots; Node's bundled Mozilla store by default. */
  rootCertificates?: readonly string[];
  cacheTtlMs?: number;
  cacheMaxEntries?: number;
  fetchTimeoutMs?: number;
}

export type SnsRefusal = { ok: false; status: 400 | 403 | 503; reason: string };
export type SnsVerification = { ok: true; message: SnsMessage } | SnsRefusal;
export type SnsConfirmation = { ok: true; subscriptionArn: string | null } | SnsRefusal;

/** The hosts SNS serves certificates and confirmation links from (all partitions). */
export const SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;
/** Amazon Trust Services publishes its intermediates here (a certificate's "CA Issuers" link). */
const AMAZON_TRUST_HOST = /^[a-z0-9-]+(\.[a-z0-9-]+)*\.amazontrust\.com$/;

const MAX_CERT_BYTES = 64 * 1024;
const MAX_CONFIRM_BYTES = 64 * 1024;
const MAX_CHAIN = 5;

type Chain = { leaf: X509Certificate; issuers: X509Certificate[] };
type ChainLoad = ({ ok: true } & Chain) | SnsRefusal;

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
  private readonly options: Required<Omit<SnsVerifierOptions, 'extraCaPem' | 'rootCertificates'>>;
  private readonly extraCaPem: string;
  private readonly rootPems: readonly string[];
  private anchors: Map<string, X509Certificate[]> | undefined;
  private readonly certificates = new Map<string, { load: Promise<ChainLoad>; expiresAt: number }>();
  private readonly intermediates = new Map<string, Promise<X509Certificate | undefined>>();
  private fetches = 0;

  constructor(options: SnsVerifierOptions) {
    this.options = {
      fetch: options.fetch,
      now: options.now,
      topicArns: options.topicArns,
      certUrlPrefixes: options.certUrlPrefixes ?? [],
      cacheTtlMs: options.cacheTtlMs ?? 24 * 60 * 60 * 1000,
      cacheMaxEntries: options.cacheMaxEntries ?? 32,
      fetchTimeoutMs: options.fetchTimeoutMs ?? 10_000,
    };
    this.extraCaPem = options.extraCaPem ?? '';
    this.rootPems = options.rootCertificates ?? rootCertificates;
  }

  /** Parses and authenticates one delivery (the parsed JSON body). */
  async verify(body: unknown): Promise<SnsVerification> {
    const parsed = parseSnsMessage(body);
    if (!parsed.ok) return parsed;
    const message = parsed.message;
    const topic = checkTopic(message.TopicArn, this.options.topicArns);
    if (!topic.ok) return topic;
    const urlProblem = snsUrlProblem(message.SigningCertURL, this.options.certUrlPrefixes);
    if (urlProblem !== undefined) return { ok: false, status: 403, reason: urlProblem };
    const signature = Buffer.from(message.Signature, 'base64');
    if (signature.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(message.Signature)) {
      return { ok: false, status: 400, reason: 'Signature: not base64' };
    }

    const chain = await this.certificate(message.SigningCertURL);
    if (!chain.ok) return chain;
    const expired = this.datesProblem(chain);
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
      this.options.certUrlPrefixes,
      SNS_HOST,
      'SubscribeURL',
    );
    if (problem !== undefined) return { ok: false, status: 403, reason: problem };
    const answer = await this.get(message.SubscribeURL, MAX_CONFIRM_BYTES);
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
    return this.fetches;
  }

  /** Number of certificate URLs currently cached. */
  get cachedCertificates(): number {
    return this.certificates.size;
  }

  private certificate(url: string): Promise<ChainLoad> {
    const now = this.options.now();
    const cached = this.certificates.get(url);
    if (cached !== undefined && cached.expiresAt > now) {
      // Re-inserted so the Map's order is least recently used first.
      this.certificates.delete(url);
      this.certificates.set(url, cached);
      return cached.load;
    }
    const load = this.loadChain(url).then((result) => {
      // Failures are not kept: the next delivery (SNS retries) tries again.
      if (!result.ok && this.certificates.get(url)?.load === load) this.certificates.delete(url);
      return result;
    });
    this.certificates.delete(url);
    this.certificates.set(url, { load, expiresAt: now + this.options.cacheTtlMs });
    while (this.certificates.size > this.options.cacheMaxEntries) {
      const oldest = this.certificates.keys().next().value;
      if (oldest === undefined) break;
      this.certificates.delete(oldest);
    }
    return load;
  }

  private async loadChain(url: string): Promise<ChainLoad> {
    this.fetches += 1;
    const answer = await this.get(url, MAX_CERT_BYTES);
    if (!answer.ok)
      return { ok: false, status: 503, reason: `could not fetch the signing certificate: ${answer.reason}` };
    if (answer.status !== 200) {
      return {
        ok: false,
        status: 503,
        reason: `could not fetch the signing certificate: ${url} answered HTTP ${answer.status}`,
      };
    }
    const certificates = parseCertificates(answer.body);
    const leaf = certificates[0];
    if (leaf === undefined) {
      return { ok: false, status: 403, reason: `${url} does not hold a PEM certificate` };
    }
    return this.buildChain(leaf, certificates.slice(1), url);
  }

  /** Leaf -> issuers up to a trusted CA, from the served bundle, the anchors, or a CA Issuers link. */
  private async buildChain(
    leaf: X509Certificate,
    bundle: X509Certificate[],
    url: string,
  ): Promise<ChainLoad> {
    const anchors = this.trustAnchors();
    const issuers: X509Certificate[] = [];
    let current = leaf;
    for (let depth = 0; depth < MAX_CHAIN; depth++) {
      const anchor = (anchors.get(current.issuer) ?? []).find((ca) => issued(ca, current));
      if (anchor !== undefined) {
        issuers.push(anchor);
        return { ok: true, leaf, issuers };
      }
      const next = bundle.find((ca) => issued(ca, current)) ?? (await this.caIssuer(current));
      if (next === undefined) break;
      issuers.push(next);
      current = next;
    }
    return {
      ok: false,
      status: 403,
      reason: `the certificate at ${url} does not chain to a trusted CA (issuer ${oneLine(current.issuer)}); add the CA to SNS_CA_FILE if it should be trusted`,
    };
  }

  /** The intermediate named by a certificate's "CA Issuers" link, when it is on an allowed host. */
  private async caIssuer(certificate: X509Certificate): Promise<X509Certificate | undefined> {
    const link = /CA Issuers - URI:(\S+)/.exec(certificate.infoAccess ?? '')?.[1];
    if (link === undefined) return undefined;
    if (!this.caIssuerAllowed(link)) return undefined;
    let pending = this.intermediates.get(link);
    if (pending === undefined) {
      pending = (async () => {
        this.fetches += 1;
        const answer = await this.get(link, MAX_CERT_BYTES);
        const found = answer.ok && answer.status === 200 ? parseCertificates(answer.body)[0] : undefined;
        if (found === undefined) this.intermediates.delete(link);
        return found;
      })();
      this.intermediates.set(link, pending);
    }
    const candidate = await pending;
    return candidate !== undefined && issued(candidate, certificate) ? candidate : undefined;
  }

  /**
   * Amazon serves intermediates over plain http, as CAs usually do: safe, since an intermediate is
   * only used when its signature chains to a trusted root.
   */
  private caIssuerAllowed(link: string): boolean {
    let url: URL;
    try {
      url = new URL(link);
    } catch {
      return false;
    }
    if (this.options.certUrlPrefixes.some((prefix) => url.href.startsWith(prefix))) return true;
    return (
      (url.protocol === 'http:' || url.protocol === 'https:') &&
      url.port === '' &&
      url.username === '' &&
      AMAZON_TRUST_HOST.test(url.hostname)
    );
  }

  private trustAnchors(): Map<string, X509Certificate[]> {
    if (this.anchors === undefined) {
      const anchors = new Map<string, X509Certificate[]>();
      const pems = [...this.rootPems, ...splitPem(this.extraCaPem)];
      for (const pem of pems) {
        const ca = toCertificate(pem);
        if (ca === undefined || !ca.ca) continue;
        anchors.set(ca.subject, [...(anchors.get(ca.subject) ?? []), ca]);
      }
      this.anchors = anchors;
    }
    return this.anchors;
  }

  private datesProblem(chain: Chain): string | undefined {
    const now = this.options.now();
    for (const certificate of [chain.leaf, ...chain.issuers]) {
      const from = certificate.validFromDate.getTime();
      const to = certificate.validToDate.getTime();
      const who =
        certificate === chain.leaf ? 'the signing certificate' : `CA ${oneLine(certificate.subject)}`;
      if (now < from) return `${who} is not valid before ${new Date(from).toISOString()}`;
      if (now > to) return `${who} expired at ${new Date(to).toISOString()}`;
    }
    return undefined;
  }

  private async get(
    url: string,
    maxBytes: number,
  ): Promise<{ ok: true; status: number; body: Buffer } | { ok: false; reason: string }> {
    try {
      const response = await this.options.fetch(url, {
        method: 'GET',
        redirect: 'error',
        signal: AbortSignal.timeout(this.options.fetchTimeoutMs),
      });
      const body = await readLimited(response, maxBytes);
      if (body === undefined) return { ok: false, reason: `${url} sent more than ${maxBytes} bytes` };
      return { ok: true, status: response.status, body };
    } catch (error) {
      return { ok: false, reason: `${url}: ${describeFetchError(error)}` };
    }
  }
}

function issued(ca: X509Certificate, child: X509Certificate): boolean {
  try {
    return ca.ca && child.checkIssued(ca) && child.verify(ca.publicKey);
  } catch {
    return false;
  }
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----/g;

function splitPem(text: string): string[] {
  return text.match(PEM_BLOCK) ?? [];
}

/** PEM blocks in order (leaf first, as SNS serves them), or one DER certificate. */
function parseCertificates(body: Buffer): X509Certificate[] {
  const blocks = splitPem(body.toString('latin1'));
  if (blocks.length === 0) {
    const der = toCertificate(body);
    return der === undefined ? [] : [der];
  }
  return blocks.map(toCertificate).filter((c): c is X509Certificate => c !== undefined);
}

function toCertificate(data: string | Buffer): X509Certificate | undefined {
  try {
    return new X509Certificate(data);
  } catch {
    return undefined;
  }
}

async function readLimited(response: Response, maxBytes: number): Promise<Buffer | undefined> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > maxBytes) {
    await response.body?.cancel();
    return undefined;
  }
  if (response.body === null) return Buffer.alloc(0);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** fetch says "fetch failed"; the useful part (ECONNREFUSED, a timeout) is in its cause. */
function describeFetchError(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return 'timed out';
    const cause = error.cause;
    if (cause instanceof Error) return (cause as Error & { code?: string }).code ?? cause.message;
    return error.message;
  }
  return String(error);
}

function oneLine(name: string): string {
  return name.split('\n').join(', ');
}
