import { readFileSync } from 'node:fs';

/** Path of the JSON Schema shipped with the package (schema/ sits beside dist/ and src/). */
export const SCHEMA_URL = new URL('../../schema/registration.schema.json', import.meta.url);

let cached: string | undefined;

/** The schema file's text, read once. */
export function schemaText(): string {
  cached ??= readFileSync(SCHEMA_URL, 'utf8');
  return cached;
}

/** The parsed schema. */
export function registrationSchema(): Record<string, unknown> {
  return JSON.parse(schemaText()) as Record<string, unknown>;
}
