/**
 * Writes docs/strategies.md and the README's strategy table from the plans (`npm run docs`), formatted as
 * `npm run lint` wants them; test/unit/api/strategy-docs.test.ts fails when the committed files are stale.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { format, resolveConfig } from 'prettier';
import { repoRoot } from './repo-root.js';
import { readmeWithStrategyTable, strategiesDoc } from './api/strategy-docs.js';

/** The file's text as the plans render it now, in the repository's Prettier style. */
export async function renderedStrategyDocs(): Promise<{ file: string; text: string }[]> {
  const readmePath = path.join(repoRoot(), 'README.md');
  const files = [
    { file: path.join(repoRoot(), 'docs', 'strategies.md'), text: strategiesDoc() },
    { file: readmePath, text: readmeWithStrategyTable(await readFile(readmePath, 'utf8')) },
  ];
  return Promise.all(
    files.map(async ({ file, text }) => ({
      file,
      text: await format(text, { ...(await resolveConfig(file)), filepath: file }),
    })),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const { file, text } of await renderedStrategyDocs()) {
    await writeFile(file, text);
    console.log(`wrote ${path.relative(repoRoot(), file)}`);
  }
}
