export * from './errors.js';
export {
  FORMAT_VERSION,
  type FileStore,
  type FileStoreOptions,
  type FileStoreStats,
  openFileStore,
  READ_CHUNK_BYTES,
} from './file-store.js';
export * from './types.js';
