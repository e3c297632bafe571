/**
 * Key ordering helpers shared by the backends: keys sort in UTF-8 byte order, like etcd and
 * SQLite's BINARY collation, and a prefix is the half-open range [prefix, prefixEnd(prefix)).
 */

/** Compares two keys in UTF-8 byte order (which is code point order, not UTF-16 unit order). */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (0xD800–0xDFFF) encode code points above 0xFFFF, so they sort after 0xE000–0xFFFF.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/**
 * The smallest key greater than every key starting with `prefix`, or undefined when there is
 * none (empty prefix: the whole keyspace).
 */
export function prefixEnd(prefix: string): string | undefined {
  const points = Array.from(prefix);
  while (points.length > 0) {
    const last = points.pop() as string;
    const cp = last.codePointAt(0) as number;
    if (cp < 0x10ffff) {
      // Skip the surrogate block, which is not a valid code point on its own.
      const next = cp + 1 === 0xd800 ? 0xe000 : cp + 1;
      return points.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}
