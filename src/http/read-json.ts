/** Reads a JSON request body with a size limit; the caller parses the value with its zod schema. */
import type { IncomingMessage } from 'node:http';

export type JsonBody = { ok: true; value: unknown } | { ok: false; status: 400 | 413 | 415; error: string };

export async function readJson(req: IncomingMessage, maxBytes = 64 * 1024): Promise<JsonBody> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) {
    return { ok: false, status: 415, error: 'send the body as application/json' };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes)
      return { ok: false, status: 413, error: `the body is larger than ${maxBytes} bytes` };
    chunks.push(chunk);
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown };
  } catch {
    return { ok: false, status: 400, error: 'the body is not valid JSON' };
  }
}
