import type { SchemaDefinitions } from '../openapi-schema.js';
import {
  comparePathElements,
  isPlainObject,
  parsePathElement,
  pathElementToString,
  serializePathElement,
  type Path,
  type PathElement,
} from './path-element.js';
import { ApplySchemaError, fieldSchema, itemSchema, listItemElement, shapeOf, type TypeRef } from './schema-shape.js';

interface Node {
  /** Whether the path leading to this node is itself in the set. */
  member: boolean;
  children: Map<string, Child>;
}

interface Child {
  pe: PathElement;
  node: Node;
}

function newNode(): Node {
  return { member: false, children: new Map() };
}

function nodeEmpty(n: Node): boolean {
  return !n.member && n.children.size === 0;
}

function sortedChildren(n: Node): Child[] {
  return [...n.children.values()].sort((a, b) => comparePathElements(a.pe, b.pe));
}

function copyNode(n: Node): Node {
  const out = newNode();
  out.member = n.member;
  for (const [k, c] of n.children) out.children.set(k, { pe: c.pe, node: copyNode(c.node) });
  return out;
}

function unionNodes(a: Node, b: Node): Node {
  const out = copyNode(a);
  out.member ||= b.member;
  for (const [k, c] of b.children) {
    const mine = out.children.get(k);
    out.children.set(k, { pe: c.pe, node: mine ? unionNodes(mine.node, c.node) : copyNode(c.node) });
  }
  return out;
}

function intersectNodes(a: Node, b: Node): Node {
  const out = newNode();
  out.member = a.member && b.member;
  for (const [k, c] of a.children) {
    const other = b.children.get(k);
    if (!other) continue;
    const sub = intersectNodes(c.node, other.node);
    if (!nodeEmpty(sub)) out.children.set(k, { pe: c.pe, node: sub });
  }
  return out;
}

function differenceNodes(a: Node, b: Node): Node {
  const out = newNode();
  out.member = a.member && !b.member;
  for (const [k, c] of a.children) {
    const other = b.children.get(k);
    const sub = other ? differenceNodes(c.node, other.node) : copyNode(c.node);
    if (!nodeEmpty(sub)) out.children.set(k, { pe: c.pe, node: sub });
  }
  return out;
}

/** Drops from `a` every path that has a prefix (or is itself) a member of `b`. */
function recursiveDifferenceNodes(a: Node, b: Node): Node {
  const out = newNode();
  out.member = a.member;
  for (const [k, c] of a.children) {
    const other = b.children.get(k);
    if (other?.node.member) continue;
    const sub = other ? recursiveDifferenceNodes(c.node, other.node) : copyNode(c.node);
    if (!nodeEmpty(sub)) out.children.set(k, { pe: c.pe, node: sub });
  }
  return out;
}

function nodesEqual(a: Node, b: Node): boolean {
  if (a.member !== b.member || a.children.size !== b.children.size) return false;
  for (const [k, c] of a.children) {
    const other = b.children.get(k);
    if (!other || !nodesEqual(c.node, other.node)) return false;
  }
  return true;
}

/** A FieldsV1 document: `{"f:spec":{"f:replicas":{}}}`. */
export type FieldsV1 = { [key: string]: FieldsV1 };

/**
 * A set of field paths, as structured-merge-diff's `fieldpath.Set`: what one manager owns, what an
 * applied configuration sets, or what changed between two objects. Set operations return new sets.
 */
export class FieldSet {
  private constructor(private readonly root: Node) {}

  static empty(): FieldSet {
    return new FieldSet(newNode());
  }

  static fromPaths(paths: Iterable<Path>): FieldSet {
    const s = FieldSet.empty();
    for (const p of paths) s.insert(p);
    return s;
  }

  /** Adds a path (mutates this set; meant for building). */
  insert(path: Path): this {
    let n = this.root;
    for (const pe of path) {
      const k = serializePathElement(pe);
      let c = n.children.get(k);
      if (!c) {
        c = { pe, node: newNode() };
        n.children.set(k, c);
      }
      n = c.node;
    }
    n.member = true;
    return this;
  }

  has(path: Path): boolean {
    const n = this.nodeAt(path);
    return n !== undefined && n.member;
  }

  /** Whether the set holds `path` or any path below it. */
  hasPrefix(path: Path): boolean {
    const n = this.nodeAt(path);
    return n !== undefined && !nodeEmpty(n);
  }

  private nodeAt(path: Path): Node | undefined {
    let n: Node | undefined = this.root;
    for (const pe of path) {
      n = n.children.get(serializePathElement(pe))?.node;
      if (!n) return undefined;
    }
    return n;
  }

  isEmpty(): boolean {
    return nodeEmpty(this.root);
  }

  /** The paths below `pe`, with `pe` taken off (structured-merge-diff's `WithPrefix`). */
  withPrefix(pe: PathElement): FieldSet {
    const c = this.root.children.get(serializePathElement(pe));
    if (!c) return FieldSet.empty();
    const sub = copyNode(c.node);
    sub.member = false;
    return new FieldSet(sub);
  }

  union(other: FieldSet): FieldSet {
    return new FieldSet(unionNodes(this.root, other.root));
  }

  intersection(other: FieldSet): FieldSet {
    return new FieldSet(intersectNodes(this.root, other.root));
  }

  /** Paths in this set and not in `other` (a path's children are unaffected by the path itself). */
  difference(other: FieldSet): FieldSet {
    return new FieldSet(differenceNodes(this.root, other.root));
  }

  /** Paths in this set that neither are in `other` nor lie below a path of `other`. */
  recursiveDifference(other: FieldSet): FieldSet {
    if (other.root.member) return FieldSet.empty();
    return new FieldSet(recursiveDifferenceNodes(this.root, other.root));
  }

  equals(other: FieldSet): boolean {
    return nodesEqual(this.root, other.root);
  }

  /** Every path, in structured-merge-diff's order: a level's members (sorted), then each child's paths. */
  paths(): Path[] {
    const out: Path[] = [];
    if (this.root.member) out.push([]);
    const visit = (n: Node, prefix: PathElement[]): void => {
      const kids = sortedChildren(n);
      for (const c of kids) if (c.node.member) out.push([...prefix, c.pe]);
      for (const c of kids) if (c.node.children.size > 0) visit(c.node, [...prefix, c.pe]);
    };
    visit(this.root, []);
    return out;
  }

  get size(): number {
    return this.paths().length;
  }

  /** The direct children of the root: element, whether it is a member, and the set below it. */
  entries(): Array<{ pe: PathElement; member: boolean; below: FieldSet }> {
    return sortedChildren(this.root).map((c) => {
      const below = copyNode(c.node);
      below.member = false;
      return { pe: c.pe, member: c.node.member, below: new FieldSet(below) };
    });
  }

  /** The FieldsV1 form Kubernetes stores: keys sorted as structured-merge-diff sorts them, `.` first. */
  toFieldsV1(): FieldsV1 {
    const encode = (n: Node): FieldsV1 => {
      const out: FieldsV1 = {};
      for (const c of sortedChildren(n)) {
        const key = serializePathElement(c.pe);
        if (c.node.children.size === 0) {
          out[key] = {};
          continue;
        }
        const body: FieldsV1 = {};
        if (c.node.member) body['.'] = {};
        Object.assign(body, encode(c.node));
        out[key] = body;
      }
      return out;
    };
    return encode(this.root);
  }

  /** Reads FieldsV1 (object or JSON text); throws on malformed input, drops unknown element kinds. */
  static fromFieldsV1(fields: unknown): FieldSet {
    const doc: unknown = typeof fields === 'string' ? JSON.parse(fields) : fields;
    if (doc === undefined || doc === null) return FieldSet.empty();
    if (!isPlainObject(doc)) throw new Error('FieldsV1 must be a JSON object');
    const decode = (obj: Record<string, unknown>): Node => {
      const n = newNode();
      for (const [key, value] of Object.entries(obj)) {
        if (key === '.') continue;
        const pe = parsePathElement(key);
        if (!pe) continue;
        if (!isPlainObject(value)) throw new Error(`FieldsV1 value at ${JSON.stringify(key)} must be an object`);
        const sub = decode(value);
        // An entry with no children is a leaf; "." marks a node that is a member as well as a parent.
        sub.member = sub.children.size === 0 || Object.prototype.hasOwnProperty.call(value, '.');
        n.children.set(serializePathElement(pe), { pe, node: sub });
      }
      return n;
    };
    return new FieldSet(decode(doc));
  }

  toString(): string {
    return this.paths().map((p) => p.map(pathElementToString).join('')).join('\n');
  }
}

/** Options of {@link fieldSetFromObject}. */
export interface FieldSetOptions {
  /** Throw on two items of an associative list with the same key (applied configurations); otherwise own them as one item. */
  rejectDuplicates?: boolean;
}

/**
 * The paths an object sets (structured-merge-diff's `ToFieldSet`): every scalar, every item of an
 * associative list (and what it sets), every atomic list or map as a whole, map keys that are not
 * declared struct fields, and empty or null struct fields. Throws {@link ApplySchemaError} when a
 * map-list item lacks its key.
 */
export function fieldSetFromObject(obj: unknown, schema: TypeRef, defs: SchemaDefinitions, options: FieldSetOptions = {}): FieldSet {
  const set = FieldSet.empty();
  const walk = (value: unknown, type: TypeRef, path: PathElement[]): void => {
    const shape = shapeOf(type, defs, value);
    if (shape.kind === 'scalar') {
      set.insert(path);
      return;
    }
    if (shape.kind === 'list') {
      if (shape.listType === 'atomic') {
        set.insert(path);
        return;
      }
      if (!Array.isArray(value)) return;
      const where = pathString(path);
      const pes = value.map((item, i) => listItemElement(shape, item, defs, where, i));
      const counts = new Map<string, number>();
      for (const pe of pes) counts.set(serializePathElement(pe), (counts.get(serializePathElement(pe)) ?? 0) + 1);
      const items = itemSchema(shape);
      value.forEach((item, i) => {
        const pe = pes[i]!;
        const itemPath = [...path, pe];
        if ((counts.get(serializePathElement(pe)) ?? 0) > 1) {
          if (options.rejectDuplicates) throw new ApplySchemaError(where, `duplicate entries for key ${pathElementToString(pe)}`);
          set.insert(itemPath);
          return;
        }
        walk(item, items, itemPath);
        set.insert(itemPath);
      });
      return;
    }
    if (shape.atomic) {
      set.insert(path);
      return;
    }
    if (!isPlainObject(value)) return;
    for (const [key, child] of Object.entries(value)) {
      if (child === undefined) continue;
      const { schema: childType, declared } = fieldSchema(shape, key);
      const childPath = [...path, { field: key }];
      walk(child, childType, childPath);
      if (child === null || (isPlainObject(child) && Object.keys(child).length === 0) || !declared) set.insert(childPath);
    }
  };
  walk(obj, schema, []);
  return set;
}

function pathString(path: Path): string {
  return path.map(pathElementToString).join('');
}
