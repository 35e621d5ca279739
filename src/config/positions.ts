import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair } from 'yaml';

/** A 1-based line and column. */
export interface Position {
  line: number;
  column: number;
}

/** Splits a JSON pointer ('' or '/a/0/b~1c') into unescaped segments. */
export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Builds a JSON pointer from segments. */
export function toPointer(segments: readonly (string | number)[]): string {
  return segments.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** The value node and, for map entries, the key node found at a JSON pointer. */
export interface Located {
  node: Node | null;
  key: Node | null;
  /** The deepest node that exists on the way (the whole path may not exist). */
  deepest: Node | null;
}

/**
 * Walks a parsed YAML document along JSON pointer segments, through maps, sequences and aliases
 * (an alias resolves to its anchored node). Never throws: a missing step returns what was found.
 * Mappings are indexed on first use: do not change the document's keys after locating in it.
 */
export function locate(doc: Document, segments: readonly string[]): Located {
  let node: Node | null = (doc.contents as Node | null) ?? null;
  let key: Node | null = null;
  let deepest: Node | null = node;
  for (const segment of segments) {
    const resolved: Node | null = node && isAlias(node) ? ((node.resolve(doc) as Node | undefined) ?? null) : node;
    if (resolved && isMap(resolved)) {
      // an index pays off only for large mappings (a registration's are small; a hostile file's may not be)
      const pair = resolved.items.length > 16 ? keyIndex(resolved).get(segment) : (resolved.items.find((p) => keyText(p) === segment) as Pair<Node, Node | null> | undefined);
      if (!pair) return { node: null, key: null, deepest };
      key = pair.key;
      node = pair.value ?? null;
    } else if (resolved && isSeq(resolved) && /^\d+$/.test(segment)) {
      const item = resolved.items[Number(segment)] as Node | undefined;
      if (!item) return { node: null, key: null, deepest };
      key = null;
      node = item;
    } else {
      return { node: null, key: null, deepest };
    }
    deepest = node ?? key ?? deepest;
  }
  return { node, key, deepest };
}

/** Each mapping's pairs by key text (the first of equal keys), built on the first lookup so that many lookups in a large mapping stay linear. */
const keyIndexes = new WeakMap<object, Map<string, Pair<Node, Node | null>>>();

function keyIndex(map: { items: unknown[] }): Map<string, Pair<Node, Node | null>> {
  let index = keyIndexes.get(map);
  if (!index) {
    index = new Map();
    for (const pair of map.items) {
      const text = keyText(pair);
      if (text !== undefined && !index.has(text)) index.set(text, pair as Pair<Node, Node | null>);
    }
    keyIndexes.set(map, index);
  }
  return index;
}

function keyText(pair: unknown): string | undefined {
  if (!isPair(pair)) return undefined;
  const k = pair.key;
  if (isScalar(k)) return String(k.value);
  return typeof k === 'string' ? k : undefined;
}

/** The 1-based position of a node's first character (1:1 when unknown). */
export function nodePosition(node: Node | null | undefined, lineCounter: LineCounter): Position {
  const offset = node?.range?.[0];
  if (offset === undefined) return { line: 1, column: 1 };
  return offsetPosition(offset, lineCounter);
}

/** The 1-based position of a character offset. */
export function offsetPosition(offset: number, lineCounter: LineCounter): Position {
  const pos = lineCounter.linePos(offset);
  return { line: pos.line, column: pos.col };
}

/** Where the document itself starts: its contents, or its first character. */
export function documentPosition(doc: Document, lineCounter: LineCounter): Position {
  const contents = doc.contents as Node | null;
  if (contents?.range) return nodePosition(contents, lineCounter);
  return offsetPosition(doc.range?.[0] ?? 0, lineCounter);
}
