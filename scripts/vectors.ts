/**
 * Writes docs/vectors/kluis-v1.json from tests/vectors/generate.ts and
 * renders the vectors appendix of docs/PROTOCOL.md between its markers.
 * Run with `npm run vectors` after a deliberate protocol change only.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { generateVectors } from '../tests/vectors/generate.js';
import { renderVectorAppendix, replaceAppendix } from '../tests/vectors/render.js';

const vectors = await generateVectors();
writeFileSync('docs/vectors/kluis-v1.json', `${JSON.stringify(vectors, null, 2)}\n`);
const protocol = readFileSync('docs/PROTOCOL.md', 'utf8');
writeFileSync('docs/PROTOCOL.md', replaceAppendix(protocol, renderVectorAppendix(vectors)));
console.log('wrote docs/vectors/kluis-v1.json and the appendix of docs/PROTOCOL.md');
