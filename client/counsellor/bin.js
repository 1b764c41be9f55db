#!/usr/bin/env node
// The `kluis-counsellor` bin: runs cli.ts through tsx (no build step for the counsellor's own machine).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./cli.ts');
process.exitCode = await main(process.argv);
