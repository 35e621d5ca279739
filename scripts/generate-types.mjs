#!/usr/bin/env node
// Generates src/config/registration.generated.ts from schema/registration.schema.json.
// `npm run generate` writes the file; `--check` exits 1 when the committed file is stale;
// `--out <path>` checks or writes another file (used by the staleness test).
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { compile } from 'json-schema-to-typescript';

const root = fileURLToPath(new URL('..', import.meta.url));
const schemaPath = `${root}schema/registration.schema.json`;
const outIndex = process.argv.indexOf('--out');
const outPath = outIndex > 0 ? process.argv[outIndex + 1] : `${root}src/config/registration.generated.ts`;

/** Renders the TypeScript source for the schema; deterministic for a given schema. */
export async function render() {
  const schema = JSON.parse(await readFile(schemaPath, 'utf8'));
  const body = await compile(schema, 'Registration', {
    bannerComment: '',
    additionalProperties: false,
    strictIndexSignatures: true,
    unreachableDefinitions: true,
    ignoreMinAndMaxItems: true,
    style: { singleQuote: true, printWidth: 100 },
    cwd: `${root}schema`,
  });
  return [
    '// Generated from schema/registration.schema.json by `npm run generate`. Do not edit by hand.',
    '',
    mergeSecretRefs(body).trim(),
    '',
    '/** Every channel type of the schema, derived from the Channel union. */',
    "export type ChannelType = Channel['type'];",
    '',
  ].join('\n');
}

/**
 * A `$ref` with a sibling `description` makes json-schema-to-typescript emit one copy of the
 * referenced interface per use (SecretRef1, SecretRef2, ...). The descriptions are worth keeping
 * for editors, so fold the copies back into the single `SecretRef` defined by `$defs/secretRef`.
 */
function mergeSecretRefs(source) {
  const blocks = [...source.matchAll(/\/\*\*(?:(?!\*\/)[\s\S])*\*\/\nexport interface (SecretRef\d*) \{[\s\S]*?\n\}\n/g)];
  const definition = blocks.find((b) => b[0].includes('via the `definition` "secretRef"'));
  if (!definition) throw new Error('generate: $defs/secretRef interface not found');
  let out = source;
  for (const block of blocks) {
    out = out.replace(block[0], block === definition ? block[0].replace(/export interface SecretRef\d*/, 'export interface SecretRef') : '');
  }
  return out.replace(/\bSecretRef\d+\b/g, 'SecretRef');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const source = await render();
  if (process.argv.includes('--check')) {
    const current = await readFile(outPath, 'utf8').catch(() => '');
    if (current !== source) {
      console.error(`${outPath} is stale: run npm run generate`);
      process.exit(1);
    }
  } else {
    await writeFile(outPath, source);
    console.log(`wrote ${outPath}`);
  }
}
