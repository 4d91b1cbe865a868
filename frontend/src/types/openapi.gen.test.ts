// @vitest-environment node
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { API_TYPES_FILE, renderApiTypes } from '../../scripts/api-types.mjs';

describe('openapi.gen.ts', () => {
  it('is what openapi.json generates (run `npm run gen:api` when this fails)', async () => {
    const committed = await readFile(API_TYPES_FILE, 'utf8');
    const generated = await renderApiTypes();
    // Compared as strings, so the failure leads with the fix rather than a diff of the whole file.
    if (committed !== generated) {
      expect.fail(
        'src/types/openapi.gen.ts is out of date with openapi.json: run `npm run gen:api` and commit the result.\n' +
          firstDifference(committed, generated),
      );
    }
  }, 60_000);
});

function firstDifference(committed: string, generated: string): string {
  const a = committed.split('\n');
  const b = generated.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `First difference, line ${i + 1}:\n  committed: ${a[i] ?? '(end of file)'}\n  generated: ${b[i] ?? '(end of file)'}`;
  }
  return '';
}
