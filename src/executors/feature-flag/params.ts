import { z } from 'zod';
import { nonEmptyText, secretReference, strictObject, templatedUrl } from '../../schema/zod-kit.js';
import { timeout } from '../shared-params.js';

/** Tokens are written as `${env:NAME}`; the step performer puts the secret in after this check. */
function build(secret: (description: string) => z.ZodString) {
  const common = {
    flag: nonEmptyText('Flag key.').meta({ examples: ['new-checkout'] }),
    enabled: z.boolean().default(false).describe('State to set the flag to (default false: turn it off).'),
    timeout: timeout('30s'),
  };

  const unleash = strictObject({
    provider: z.literal('unleash').describe('Where the flag lives: Unleash (its admin API).'),
    url: templatedUrl(
      'Unleash base URL, e.g. https://unleash.example.com (with or without the trailing /api).',
    ),
    token: secret('Unleash admin API token, as ${env:NAME}.'),
    project: nonEmptyText('Unleash project (default "default").').default('default'),
    environment: nonEmptyText('Unleash environment.'),
    ...common,
  });

  const launchdarkly = strictObject({
    provider: z.literal('launchdarkly').describe('Where the flag lives: LaunchDarkly (its REST API).'),
    url: templatedUrl('LaunchDarkly API base (default https://app.launchdarkly.com).').default(
      'https://app.launchdarkly.com',
    ),
    token: secret('LaunchDarkly API access token, as ${env:NAME}.').meta({
      examples: ['${env:LD_API_TOKEN}'],
    }),
    projectKey: nonEmptyText('LaunchDarkly project key.').meta({ examples: ['web'] }),
    environment: nonEmptyText('LaunchDarkly environment key.').meta({ examples: ['{{ environment }}'] }),
    ...common,
  });

  const generic = strictObject({
    provider: z.literal('http').describe('Where the flag lives: any HTTP endpoint of your own.'),
    method: z.enum(['POST', 'PUT', 'PATCH']).default('POST').describe('HTTP method (default POST).'),
    url: templatedUrl(
      'Endpoint that sets the flag; it receives {"flag", "enabled", "environment"} as JSON and must answer 2xx.',
    ).meta({ examples: ['https://flags.example.com/api/flags'] }),
    token: secret('Bearer token sent to the endpoint, as ${env:NAME}.')
      .meta({ examples: ['${env:FLAGS_TOKEN}'] })
      .optional(),
    environment: nonEmptyText('Environment passed to the endpoint.')
      .meta({ examples: ['{{ environment }}'] })
      .optional(),
    ...common,
  });

  return z
    .discriminatedUnion('provider', [unleash, launchdarkly, generic])
    .describe('Turns a feature flag off (or on) through Unleash, LaunchDarkly or a generic HTTP endpoint.');
}

export const featureFlagParams = build(secretReference);

export type FeatureFlagParams = z.output<typeof featureFlagParams>;
