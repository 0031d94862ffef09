/**
 * The EC2 SDK, loaded when first needed: its models of the whole EC2 API are 69 MiB of resident
 * memory, more than any other library of the bot, for the one call aws-autoscaling makes to it.
 * A bot whose plans use aws-autoscaling loads it at start-up (`preload`); others never do.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';

export type Ec2Sdk = typeof import('@aws-sdk/client-ec2');

/** A client and the commands it is sent (from the same module). */
export interface Ec2 {
  client: EC2Client;
  sdk: Pick<Ec2Sdk, 'DescribeLaunchTemplateVersionsCommand'>;
}

let loading: Promise<Ec2Sdk> | undefined;

export const loadEc2 = (): Promise<Ec2Sdk> => (loading ??= import('@aws-sdk/client-ec2'));
