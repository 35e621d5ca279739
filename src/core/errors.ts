/**
 * The few error classes of codedeploy-notify. Each has a stable kebab-case `code` and keeps the
 * underlying `cause`. User mistakes in registration files are not errors but `Issue` values
 * (see config/issue.ts); these classes are for failures of the program's environment.
 */
export class NotifyError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A command-line or configuration mistake: the CLI prints the message on one line and exits 2. */
export class UsageError extends NotifyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('usage', message, options);
  }
}

/** A secret reference whose environment variable is unset or empty at send time. Permanent. */
export class MissingSecretError extends NotifyError {
  readonly variable: string;
  constructor(variable: string) {
    super('missing-secret', `environment variable ${variable} is not set (referenced as { fromEnv: ${variable} })`);
    this.variable = variable;
  }
}

/** A conditional write lost against a concurrent writer; callers re-read and retry. */
export class ConflictError extends NotifyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('conflict', message, options);
  }
}

/** The store (DynamoDB) could not be reached or answered with an error. */
export class StoreError extends NotifyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('store-unavailable', message, options);
  }
}

/** Returns the message of anything thrown, without a stack trace. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
