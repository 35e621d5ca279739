import type { SecretRef } from '../config/registration.generated.js';
import { MissingSecretError } from '../core/errors.js';
import type { SecretResolver } from './channel.js';

/**
 * Resolves `{ fromEnv: NAME }` from an environment (default: `process.env`) at send time, so a
 * rotated secret is picked up without a restart. An unset, empty or whitespace-only variable
 * throws `MissingSecretError`, whose message names the variable and never a value.
 */
export class EnvSecretResolver implements SecretResolver {
  readonly #env: NodeJS.ProcessEnv;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.#env = env;
  }

  resolve(ref: SecretRef): string {
    const value = this.#env[ref.fromEnv];
    if (value === undefined || value.trim() === '') throw new MissingSecretError(ref.fromEnv);
    // Values pasted into a secret store often carry a trailing newline; no secret we use has one.
    return value.trim();
  }
}

/** True when a value is a secret reference rather than a plain string. */
export function isSecretRef(value: unknown): value is SecretRef {
  return typeof value === 'object' && value !== null && typeof (value as { fromEnv?: unknown }).fromEnv === 'string';
}
