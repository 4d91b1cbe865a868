// Writes src/types/openapi.gen.ts from openapi.json (`npm run gen:api`).
import { writeFile } from 'node:fs/promises';
import { API_TYPES_FILE, renderApiTypes } from './api-types.mjs';

await writeFile(API_TYPES_FILE, await renderApiTypes());
console.log(`wrote ${API_TYPES_FILE}`);
