/**
 * SNS signing certificates: fetched from their URL, parsed, chained to a trusted CA, and cached.
 * SNS puts a digest of the certificate in its URL, so a URL never changes meaning: the cache is by
 * URL (bounded, with a TTL), concurrent loads of one URL share a fetch, and failures are not kept.
 * Intermediates come from the served file, else from the certificate's "CA Issuers" link when it is
 * on Amazon Trust Services' hosts (or under an allowed prefix).
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { ConfigError } from '../lib/errors.js';

/** The subset of `fetch` used here; inject `globalThis.fetch` in production. */
export type SnsFetch = (
  url: string,
  init: { method: 'GET'; redirect: 'error'; signal: AbortSignal },
) => Promise<Response>;

export type SnsRefusal = { ok: false; status: 400 | 403 | 503; reason: string };

export interface SnsCertificatesOptions {
  fetch: SnsFetch;
  now: () => number;
  /** Extra URL prefixes whose CA Issuers links may be followed (tests, local stacks). */
  certUrlPrefixes?: readonly string[];
  /** PEM text of CAs trusted on top of the roots. */
  extraCaPem?: string;
  /** The trusted roots; Node's bundled Mozilla store by default. */
  rootCertificates?: readonly string[];
  cacheTtlMs?: number;
  cacheMaxEntries?: number;
  fetchTimeoutMs?: number;
}

export type Chain = { leaf: X509Certificate; issuers: X509Certificate[] };
export type ChainLoad = ({ ok: true } & Chain) | SnsRefusal;

/** Amazon Trust Services publishes its intermediates here (a certificate's "CA Issuers" link). */
const AMAZON_TRUST_HOST = /^[a-z0-9-]+(\.[a-z0-9-]+)*\.amazontrust\.com$/;
const MAX_CERT_BYTES = 64 * 1024;
const MAX_CHAIN = 5;

/**
 * The PEM text of `SNS_CA_FILE`, read once at start-up; a missing or empty file stops start-up
 * with a line saying how to fix it, instead of refusing every SNS message later.
 */
export function readCaFile(
  path: string,
  read: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): string {
  let text: string;
  try {
    text = read(path);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new ConfigError([
      `SNS_CA_FILE ${path} cannot be read (${typeof code === 'string' ? code : 'unreadable'}): set it to a PEM file of CA certificates, or unset it`,
    ]);
  }
  const cas = splitPem(text).map(toCertificate);
  if (cas.length === 0 || cas.some((ca) => ca === undefined || !ca.ca)) {
    throw new ConfigError([
      `SNS_CA_FILE ${path} must hold only PEM CA certificates (-----BEGIN CERTIFICATE----- blocks with CA:TRUE): fix the file, or unset it`,
    ]);
  }
  return text;
}

export class SnsCertificates {
  private readonly options: Required<Omit<SnsCertificatesOptions, 'extraCaPem' | 'rootCertificates'>>;
  private readonly extraCaPem: string;
  private readonly rootPems: readonly string[];
  private anchors: Map<string, X509Certificate[]> | undefined;
  private readonly certificates = new Map<string, { load: Promise<ChainLoad>; expiresAt: number }>();
  private readonly intermediates = new Map<string, Promise<X509Certificate | undefined>>();
  private fetches = 0;

  constructor(options: SnsCertificatesOptions) {
    this.options = {
      fetch: options.fetch,
      now: options.now,
      certUrlPrefixes: options.certUrlPrefixes ?? [],
      cacheTtlMs: options.cacheTtlMs ?? 24 * 60 * 60 * 1000,
      cacheMaxEntries: options.cacheMaxEntries ?? 32,
      fetchTimeoutMs: options.fetchTimeoutMs ?? 10_000,
    };
    this.extraCaPem = options.extraCaPem ?? '';
    this.rootPems = options.rootCertificates ?? rootCertificates;
  }

  /** Requests made for certificates (leaves and intermediates). */
  get fetchCount(): number {
    return this.fetches;
  }

  /** Certificate URLs currently cached. */
  get size(): number {
    return this.certificates.size;
  }

  /** The chain for a certificate URL, from the cache or fetched (one fetch for concurrent calls). */
  load(url: string): Promise<ChainLoad> {
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

  /** Checked on every message, since a cached certificate can expire while cached. */
  datesProblem(chain: Chain): string | undefined {
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

  private get(url: string, maxBytes: number): Promise<HttpAnswer> {
    return httpGet(this.options.fetch, url, maxBytes, this.options.fetchTimeoutMs);
  }
}

export type HttpAnswer = { ok: true; status: number; body: Buffer } | { ok: false; reason: string };

/** One GET that never follows redirects, gives up after `timeoutMs`, and reads at most `maxBytes`. */
export async function httpGet(
  fetch: SnsFetch,
  url: string,
  maxBytes: number,
  timeoutMs: number,
): Promise<HttpAnswer> {
  try {
    const response = await fetch(url, {
      method: 'GET',
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = await readLimited(response, maxBytes);
    if (body === undefined) return { ok: false, reason: `${url} sent more than ${maxBytes} bytes` };
    return { ok: true, status: response.status, body };
  } catch (error) {
    return { ok: false, reason: `${url}: ${describeFetchError(error)}` };
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
