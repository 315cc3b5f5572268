/**
 * An immutable map from strings to values whose `set` and `delete` return a new map sharing all but
 * O(log n) of its structure with the old one: a hash trie, 32 ways per level. Snapshots use it so that a
 * change to one project, certificate or scope costs the same in an organization of one project or of
 * thousands, while every earlier snapshot stays exactly as it was.
 *
 * Iteration order is the hashes' order, not insertion order: callers that need an order sort.
 */
export class PersistentMap<V> {
  private static readonly EMPTY = new PersistentMap<never>(undefined, 0);

  private constructor(
    private readonly root: Trie<V> | undefined,
    readonly size: number,
  ) {}

  static empty<V>(): PersistentMap<V> {
    return PersistentMap.EMPTY as PersistentMap<V>;
  }

  static of<V>(entries: Iterable<readonly [string, V]>): PersistentMap<V> {
    let map = PersistentMap.empty<V>();
    for (const [key, value] of entries) map = map.set(key, value);
    return map;
  }

  get(key: string): V | undefined {
    return this.find(key)?.[1];
  }

  has(key: string): boolean {
    return this.find(key) !== undefined;
  }

  private find(key: string): readonly [string, V] | undefined {
    const hash = hashOf(key);
    let node = this.root;
    for (let shift = 0; node; shift += BITS) {
      if (node.kind === 'leaf') return node.hash === hash ? node.entries.find(([k]) => k === key) : undefined;
      node = node.slots[(hash >>> shift) & MASK];
    }
    return undefined;
  }

  set(key: string, value: V): PersistentMap<V> {
    const added = { count: 0 };
    const root = put(this.root, hashOf(key), 0, key, value, added);
    return root === this.root ? this : new PersistentMap(root, this.size + added.count);
  }

  delete(key: string): PersistentMap<V> {
    if (!this.has(key)) return this;
    return new PersistentMap(remove(this.root!, hashOf(key), 0, key), this.size - 1);
  }

  *entries(): IterableIterator<[string, V]> {
    if (this.root) yield* walk(this.root);
  }

  *values(): IterableIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }
}

const BITS = 5;
const MASK = (1 << BITS) - 1;

type Trie<V> = { readonly kind: 'branch'; readonly slots: readonly (Trie<V> | undefined)[] } | { readonly kind: 'leaf'; readonly hash: number; readonly entries: readonly (readonly [string, V])[] };

/** FNV-1a over UTF-16 code units: ids are random, so a fast hash spreads them well enough. */
function hashOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function put<V>(node: Trie<V> | undefined, hash: number, shift: number, key: string, value: V, added: { count: number }): Trie<V> {
  if (!node) {
    added.count = 1;
    return { kind: 'leaf', hash, entries: [[key, value]] };
  }
  if (node.kind === 'leaf') {
    if (node.hash === hash) {
      const at = node.entries.findIndex(([k]) => k === key);
      if (at >= 0 && node.entries[at]![1] === value) return node;
      const entries = [...node.entries];
      if (at >= 0) entries[at] = [key, value];
      else {
        entries.push([key, value]);
        added.count = 1;
      }
      return { kind: 'leaf', hash, entries };
    }
    // two hashes meet here: a branch tells them apart at this level or below (a 32-bit hash runs out after 7 levels,
    // and two different hashes differ within them)
    const slots: (Trie<V> | undefined)[] = new Array(1 << BITS);
    slots[(node.hash >>> shift) & MASK] = node;
    return put({ kind: 'branch', slots }, hash, shift, key, value, added);
  }
  const at = (hash >>> shift) & MASK;
  const child = put(node.slots[at], hash, shift + BITS, key, value, added);
  if (child === node.slots[at]) return node;
  const slots = [...node.slots];
  slots[at] = child;
  return { kind: 'branch', slots };
}

/** The trie without `key`, which it holds; undefined when nothing is left. */
function remove<V>(node: Trie<V>, hash: number, shift: number, key: string): Trie<V> | undefined {
  if (node.kind === 'leaf') {
    const entries = node.entries.filter(([k]) => k !== key);
    return entries.length ? { kind: 'leaf', hash, entries } : undefined;
  }
  const at = (hash >>> shift) & MASK;
  const child = remove(node.slots[at]!, hash, shift + BITS, key);
  const slots = [...node.slots];
  slots[at] = child;
  const left = slots.filter((s) => s !== undefined);
  if (left.length === 0) return undefined;
  // a branch over a single leaf is that leaf (a leaf finds its place by its whole hash, at any depth)
  if (left.length === 1 && left[0]!.kind === 'leaf') return left[0];
  return { kind: 'branch', slots };
}

function* walk<V>(node: Trie<V>): IterableIterator<[string, V]> {
  if (node.kind === 'leaf') {
    for (const [k, v] of node.entries) yield [k, v];
    return;
  }
  for (const child of node.slots) if (child) yield* walk(child);
}
