// What the secret leak check searches for, and how. Every secret value used by the leak test
// carries the marker SECRET_MARKER in each of its secret-bearing parts (URL path token, query
// token, header credential, API key), so besides the exact needles below, a case-insensitive
// search for the marker alone catches partial and truncated leaks too.

/** Present, in some letter case, in every secret-bearing part of every secret the leak test sets. */
export const SECRET_MARKER = 'Sekr1t';

/** One string to look for, and why it counts as a leak. */
export interface Needle {
  text: string;
  /** For the failure message: which secret, which part of it. */
  what: string;
}

/** A needle found in an output. */
export interface Leak {
  output: string;
  what: string;
  /** Up to 60 characters either side of the hit. */
  context: string;
}

/**
 * Every form a secret could leak in: the value itself, URL-encoded and JSON-escaped; for a URL its
 * path plus query, each path segment and query value carrying the marker (and `name=value`); for an
 * Authorization-style value (`Bearer x`) the credential after the scheme.
 */
export function needlesFor(name: string, value: string): Needle[] {
  const out: Needle[] = [
    { text: value, what: `${name} (whole value)` },
    { text: encodeURIComponent(value), what: `${name} (URL-encoded)` },
    { text: JSON.stringify(value).slice(1, -1), what: `${name} (JSON-escaped)` },
  ];
  if (/^https?:\/\//.test(value)) {
    const url = new URL(value);
    out.push({ text: `${url.pathname}${url.search}`, what: `${name} (path and query)` });
    for (const segment of url.pathname.split('/')) if (hasMarker(segment)) out.push({ text: segment, what: `${name} (path segment)` });
    for (const [key, v] of url.searchParams) {
      if (!hasMarker(v)) continue;
      out.push({ text: v, what: `${name} (query value ${key})` }, { text: `${key}=${v}`, what: `${name} (query ${key}=…)` });
    }
  }
  const credential = /^\S+\s+(\S+)$/.exec(value)?.[1];
  if (credential) out.push({ text: credential, what: `${name} (credential after the scheme)` });
  return out.filter((n, i, all) => n.text.length > 0 && all.findIndex((m) => m.text === n.text) === i);
}

/** True when `text` holds the marker in any letter case. */
export function hasMarker(text: string): boolean {
  return text.toLowerCase().includes(SECRET_MARKER.toLowerCase());
}

/** Every needle (and every marker occurrence) found in `text`, labelled with `output`. */
export function findLeaks(output: string, text: string, needles: readonly Needle[]): Leak[] {
  const leaks: Leak[] = [];
  const around = (at: number, length: number) => text.slice(Math.max(0, at - 60), at + length + 60).replace(/\s+/g, ' ');
  for (const needle of needles) {
    const at = text.indexOf(needle.text);
    if (at >= 0) leaks.push({ output, what: needle.what, context: around(at, needle.text.length) });
  }
  const lower = text.toLowerCase();
  const marker = SECRET_MARKER.toLowerCase();
  for (let at = lower.indexOf(marker); at >= 0; at = lower.indexOf(marker, at + marker.length)) {
    leaks.push({ output, what: `the marker ${SECRET_MARKER}`, context: around(at, marker.length) });
  }
  return leaks;
}
