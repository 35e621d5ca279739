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
 * scheme, or just its `sig=` parameter) leaks nothing either.
 */
export function scrubSecrets(text: string, secrets: Iterable<string>): string {
  const needles = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_LENGTH) continue;
    needles.add(secret);
    needles.add(encodeURIComponent(secret));
    needles.add(JSON.stringify(secret).slice(1, -1));
    for (const part of urlParts(secret)) {
      needles.add(part);
      needles.add(encodeURIComponent(part));
    }
  }
  // Longest first, so a secret that contains another is replaced whole.
  let out = text;
  for (const needle of [...needles].sort((a, b) => b.length - a.length)) {
    if (needle.length >= MIN_SECRET_LENGTH) out = out.split(needle).join(REDACTED);
  }
  return out;
}

/**
 * The token-carrying parts of a URL-shaped secret: path plus query, and every path segment and
 * query value (with its `name=`) that looks like a token. A receiver may echo any one of them.
 */
function urlParts(secret: string): string[] {
  if (!/^https?:\/\//i.test(secret)) return [];
  let parsed: URL;
  try {
    parsed = new URL(secret);
  } catch {
    return [];
  }
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
