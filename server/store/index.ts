export * from './errors.js';
export {
  type DamagedRecord,
  FORMAT_FILE,
  FORMAT_VERSION,
  type FileRecords,
  type FileStore,
  type FileStoreOptions,
  type FileStoreStats,
  type MarkSink,
  type Recovered,
  openFileStore,
  parseFormatVersion,
  READ_CHUNK_BYTES,
} from './file-store.js';
export {
  type MigrateOptions,
  type Migration,
  MIGRATIONS,
  type MigrationReport,
  migrateStore,
  readFormat,
} from './migrate.js';
export * from './types.js';
export { openPgStore, type PgStore, type PgStoreOptions } from './pg-store.js';
