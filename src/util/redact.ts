/**
 * Redaction helpers: keep secrets (tokens, keys, token-bearing webhook URLs) out of delivery
 * reasons, errors and log lines. Pure functions.
 */

/** What a redacted secret is replaced with. */
export const REDACTED = '[redacted]';

/**
 * A URL reduced to scheme, host (and port) plus "/…", so a webhook URL can be named in a message
 * without its token-bearing path or query: `https://hooks.slack.com/services/T0/B0/xyz` →
 * `https://hooks.slack.com/…`. Anything that does not parse as a URL becomes `[redacted url]`.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return '[redacted url]';
    return `${parsed.protocol}//${parsed.host}/…`;
  } catch {
    return '[redacted url]';
  }
}

/** Secrets shorter than this are not scrubbed from text (they would blank out ordinary words). */
const MIN_SECRET_LENGTH = 4;

/**
 * Replaces every occurrence of each secret value in `text` with `[redacted]`, including the
 * URL-encoded and JSON-escaped forms a secret takes when it is echoed back inside a URL or a JSON
 * error body. When a secret is itself a URL, its path and query are scrubbed too, and so is each
 * token-like path segment and query value, so a partial echo of a webhook URL (without the
 * scheme, or just its `sig=` parameter) leaks nothing either. The credential of an
 * Authorization-style value (`Bearer <token>`) is scrubbed on its own as well. Last, any run of
 * token characters sharing at least 12 consecutive characters with a secret (or with a token part
 * of a URL secret) is replaced whole: a receiver that echoes a secret truncated, or without its
 * scheme or key prefix (`NRAK-`), leaks nothing either.
 */
export function scrubSecrets(text: string, secrets: Iterable<string>): string {
  const needles = new Set<string>();
  const fragmentSources: string[] = [];
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_LENGTH) continue;
    needles.add(secret);
    needles.add(encodeURIComponent(secret));
    needles.add(JSON.stringify(secret).slice(1, -1));
    const credential = /^[A-Za-z][\w-]*\s+(\S+)$/.exec(secret)?.[1];
    if (credential) needles.add(credential);
    const parts = urlParts(secret);
    for (const part of parts) {
      needles.add(part);
      needles.add(encodeURIComponent(part));
    }
    fragmentSources.push(...(parseHttpUrl(secret) ? urlTokens(secret) : [secret]));
  }
  // Longest first, so a secret that contains another is replaced whole.
  let out = text;
  for (const needle of [...needles].sort((a, b) => b.length - a.length)) {
    if (needle.length >= MIN_SECRET_LENGTH) out = out.split(needle).join(REDACTED);
  }
  return scrubFragments(out, fragmentSources);
}

/** Consecutive characters a run of text must share with a secret to count as a partial echo of it. */
const FRAGMENT_LENGTH = 12;

/** Replaces every run of token characters that contains FRAGMENT_LENGTH characters of a source. */
function scrubFragments(text: string, sources: readonly string[]): string {
  const windows = new Set<string>();
  for (const source of sources) {
    for (let i = 0; i + FRAGMENT_LENGTH <= source.length; i++) windows.add(source.slice(i, i + FRAGMENT_LENGTH));
  }
  if (windows.size === 0) return text;
  return text.replace(new RegExp(`[A-Za-z0-9._~+=-]{${FRAGMENT_LENGTH},}`, 'g'), (run) => {
    for (let i = 0; i + FRAGMENT_LENGTH <= run.length; i++) if (windows.has(run.slice(i, i + FRAGMENT_LENGTH))) return REDACTED;
    return run;
  });
}

/**
 * The token-carrying parts of a URL-shaped secret: path plus query, and every path segment and
 * query value (with its `name=`) that looks like a token. A receiver may echo any one of them.
 */
function urlParts(secret: string): string[] {
  const parsed = parseHttpUrl(secret);
  if (!parsed) return [];
  const parts: string[] = [];
  const tail = `${parsed.pathname}${parsed.search}`;
  if (tail !== '/' && tail.length >= MIN_SECRET_LENGTH) parts.push(tail);
  for (const segment of parsed.pathname.split('/')) {
    if (looksLikeToken(segment)) parts.push(segment, safeDecode(segment));
  }
  for (const [name, value] of parsed.searchParams) {
    if (!looksLikeToken(value)) continue;
    parts.push(value, `${name}=${value}`, `${name}=${encodeURIComponent(value)}`);
  }
  return parts;
}

/** Just the token-like path segments (decoded) and query values of a URL-shaped secret. */
function urlTokens(secret: string): string[] {
  const parsed = parseHttpUrl(secret);
  if (!parsed) return [];
  const segments = parsed.pathname.split('/').filter(looksLikeToken).map(safeDecode);
  return [...segments, ...[...parsed.searchParams.values()].filter(looksLikeToken)];
}

function parseHttpUrl(secret: string): URL | undefined {
  if (!/^https?:\/\//i.test(secret)) return undefined;
  try {
    return new URL(secret);
  } catch {
    return undefined;
  }
}

/** Long strings, or mixed letters and digits: ids and tokens rather than words like "services". */
function looksLikeToken(s: string): boolean {
  return s.length >= 16 || (s.length >= 8 && /[0-9]/.test(s) && /[A-Za-z]/.test(s));
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Replaces every http(s) URL in `text` with its redacted form (see `redactUrl`). For free text
 * from the outside world (error messages of HTTP libraries) that might quote a request URL.
 */
export function redactUrlsIn(text: string): string {
  return text.replace(/\bhttps?:\/\/[^\s"'<>()[\]{}]+/gi, (match) => {
    // Sentence punctuation right after a URL belongs to the sentence.
    const trailing = /[.,;:!?]+$/.exec(match)?.[0] ?? '';
    return redactUrl(match.slice(0, match.length - trailing.length)) + trailing;
  });
}

/** Both: secrets scrubbed, then any remaining URL reduced to its origin. */
export function redactText(text: string, secrets: Iterable<string> = []): string {
  return redactUrlsIn(scrubSecrets(text, secrets));
}
