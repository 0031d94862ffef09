import { z } from 'zod';
import { strictObject, templatedUrl } from '../../schema/zod-kit.js';
import { expectStatus, timeout } from '../shared-params.js';

export const httpParams = strictObject({
  method: z
    .enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'])
    .default('GET')
    .describe('HTTP method (default GET).'),
  url: templatedUrl('URL to call; may use {{ templates }}.'),
  headers: z
    .record(z.string(), z.string())
    .optional()
    .describe('Request headers; secrets as ${env:NAME}, e.g. Authorization: "Bearer ${env:DEPLOY_TOKEN}".'),
  json: z.unknown().optional().describe('Body sent as JSON; string values may use {{ templates }}.'),
  form: z
    .record(z.string(), z.string())
    .optional()
    .describe('Body sent as application/x-www-form-urlencoded.'),
  expectStatus: expectStatus.optional(),
  timeout: timeout('30s'),
  retries: z
    .int()
    .min(0)
    .max(10)
    .default(0)
    .describe(
      'Extra attempts on a network error, a 5xx or a 429, with exponential backoff (Retry-After is honoured); only for GET, HEAD, PUT, DELETE and OPTIONS, never for POST or PATCH, which may have taken effect (default 0).',
    ),
}).superRefine((params, ctx) => {
  if (params.json !== undefined && params.form !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['form'],
      message: 'give either json or form as the body, not both',
    });
    return;
  }
  const body = params.json !== undefined ? 'json' : params.form !== undefined ? 'form' : undefined;
  if (body !== undefined && (params.method === 'GET' || params.method === 'HEAD')) {
    ctx.addIssue({
      code: 'custom',
      path: [body],
      message: `a ${params.method} request cannot carry a body: set method (POST, PUT, PATCH...) or drop ${body}`,
    });
  }
});

export type HttpParams = z.output<typeof httpParams>;
