import { z } from 'zod';
import { nonEmptyText, secretReference, strictObject } from '../../schema/zod-kit.js';
import { timeout } from '../shared-params.js';

export const postgresBackupParams = strictObject({
  database: secretReference('Connection string of the database to dump, as ${env:NAME}.'),
  outputDir: nonEmptyText('Folder the dump is written to (default ./backups).').default('./backups'),
  format: z.enum(['custom']).default('custom').describe('pg_dump format; custom is what pg_restore reads.'),
  timeout: timeout('30m'),
});

export type PostgresBackupParams = z.output<typeof postgresBackupParams>;
