// Starts open-worker.ts in a worker thread when running from TypeScript sources:
// registers tsx first (Node 20 does not pass `--import tsx` on to worker threads).
import { register } from 'tsx/esm/api';

register();
await import('./open-worker.ts');
