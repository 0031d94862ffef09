/**
 * The last fence before Slack: every Web API call the bot makes (its own client and the ones Bolt
 * hands to listeners) goes through this fetch, which masks known secret values in the request's
 * body. Renderers mask what they draw too; this catches whatever a renderer missed.
 */
import type { FetchFunction } from '@slack/web-api';
import type { SecretMask } from '../domain/secret-mask.js';

/**
 * The text a body's secrets would show in: JSON as it is (a string holding a secret holds it raw or
 * JSON-escaped, both forms the mask knows), a form decoded. Null when it cannot be told cheaply.
 */
function plainText(body: string, contentType: string): string | null {
  if (contentType.includes('application/json')) return body;
  if (!contentType.includes('application/x-www-form-urlencoded')) return body;
  try {
    return decodeURIComponent(body.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

function maskBody(body: string, contentType: string, mask: SecretMask): string {
  // Nearly every body holds no secret: found so in one pass, it is sent as it is, not parsed and
  // rebuilt (that was a tenth of the cost of a Slack call under load).
  const plain = plainText(body, contentType);
  if (plain !== null && !mask.appearsIn(plain)) return body;
  if (contentType.includes('application/json')) {
    try {
      return JSON.stringify(mask.value(JSON.parse(body) as unknown));
    } catch {
      return mask.text(body);
    }
  }
  if (contentType.includes('application/x-www-form-urlencoded')) {
    const form = new URLSearchParams(body);
    const masked = new URLSearchParams();
    for (const [key, value] of form) masked.append(key, mask.text(value));
    return masked.toString();
  }
  return mask.text(body);
}

export function maskedFetch(mask: SecretMask, inner: FetchFunction = globalThis.fetch): FetchFunction {
  return (url, init) => {
    if (init === undefined || typeof init.body !== 'string' || mask.size === 0) return inner(url, init);
    const headers = init.headers ?? {};
    const type = Object.entries(headers).find(([name]) => name.toLowerCase() === 'content-type')?.[1] ?? '';
    return inner(url, { ...init, body: maskBody(init.body, type.toLowerCase(), mask) });
  };
}
