import { z } from 'zod';
import { strictObject } from '../../schema/zod-kit.js';

export const manualParams = strictObject({
  instructions: z.string().optional().describe('What the human must do or check before marking it done.'),
});

export type ManualParams = z.output<typeof manualParams>;
