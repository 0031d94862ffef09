import { notImplementedExecutor } from '../executor.js';
import { postgresBackupParams } from './params.js';

export const postgresBackupExecutor = notImplementedExecutor(
  'postgres-backup',
  'Dumps a PostgreSQL database with pg_dump before a database rollback, then verifies the dump.',
  postgresBackupParams,
);
