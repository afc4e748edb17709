/** `phi-scan --version`: the version in package.json (dist/cli/ and src/cli/ both sit two levels below it). */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return z.object({ version: z.string().min(1) }).parse(JSON.parse(text)).version;
}
