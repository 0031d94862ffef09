import { z } from 'zod';
import { strictObject, templatedUrl } from '../../schema/zod-kit.js';
import { expectStatus, timeout } from '../shared-params.js';

export const httpParams = strictObject({
  method: z
    .enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'])
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
    .describe('Extra attempts on a network error or a 5xx (default 0).'),
}).superRefine((params, ctx) => {
  if (params.json !== undefined && params.form !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['form'],
      message: 'give either json or form as the body, not both',
    });
  }
});

export type HttpParams = z.output<typeof httpParams>;
