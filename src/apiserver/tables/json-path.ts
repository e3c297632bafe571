/**
 * The JSONPath subset Kubernetes accepts in CRD `additionalPrinterColumns` (client-go's
 * jsonpath, with missing keys allowed): `.a.b`, `['a.b']`, escaped dots `a\.b`, `[0]`, `[-1]`,
 * `[1:3]`, `[*]`, `.*`, recursive `..name` and filters such as
 * `[?(@.type=="Ready")]`, `[?(@.count > 2)]`, `[?(@.ready)]`.
 */

type Operand = { kind: 'path'; steps: Step[] } | { kind: 'literal'; value: string | number | boolean };

type Step =
  | { kind: 'field'; name: string }
  | { kind: 'wildcard' }
  | { kind: 'recursive'; name: string | undefined }
  | { kind: 'index'; index: number }
  | { kind: 'slice'; start: number | undefined; end: number | undefined }
  | { kind: 'filter'; left: Operand; op: string | undefined; right: Operand | undefined };

/** A parsed path; evaluate it with `findResults`. */
export interface JSONPath {
  readonly source: string;
  readonly steps: readonly Step[];
}

export class JSONPathError extends Error {}

class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  private peek(offset = 0): string {
    return this.text[this.pos + offset] ?? '';
  }

  private fail(msg: string): never {
    throw new JSONPathError(`${msg} at position ${this.pos} in ${JSON.stringify(this.text)}`);
  }

  private skipSpaces(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }

  /** Steps until the end of input or, inside a filter, a character that ends the operand. */
  steps(inFilter: boolean): Step[] {
    const out: Step[] = [];
    while (!this.done) {
      const c = this.peek();
      if (c === '.') {
        if (this.peek(1) === '.') {
          this.pos += 2;
          if (this.peek() === '*') {
            this.pos++;
            out.push({ kind: 'recursive', name: undefined });
          } else {
            out.push({ kind: 'recursive', name: this.name(inFilter) });
          }
          continue;
        }
        this.pos++;
        if (this.peek() === '*') {
          this.pos++;
          out.push({ kind: 'wildcard' });
          continue;
        }
        // A bare trailing dot (as in `{.}`) means the current object.
        if (this.done || this.peek() === '[') continue;
        out.push({ kind: 'field', name: this.name(inFilter) });
      } else if (c === '[') {
        out.push(this.bracket());
      } else if (inFilter) {
        break;
      } else {
        this.fail(`unexpected ${JSON.stringify(c)}`);
      }
    }
    return out;
  }

  private name(inFilter: boolean): string {
    let name = '';
    while (!this.done) {
      const c = this.peek();
      if (c === '\\' && this.pos + 1 < this.text.length) {
        name += this.peek(1);
        this.pos += 2;
        continue;
      }
      if (c === '.' || c === '[' || c === ' ' || c === '\t') break;
      if (inFilter && (c === ')' || c === '=' || c === '!' || c === '<' || c === '>')) break;
      name += c;
      this.pos++;
    }
    if (name === '') this.fail('empty field name');
    return name;
  }

  private quoted(): string {
    const quote = this.peek();
    this.pos++;
    let s = '';
    while (!this.done && this.peek() !== quote) {
      if (this.peek() === '\\' && this.pos + 1 < this.text.length) {
        s += this.peek(1);
        this.pos += 2;
        continue;
      }
      s += this.peek();
      this.pos++;
    }
    if (this.done) this.fail('unterminated string');
    this.pos++;
    return s;
  }

  private integer(): number | undefined {
    this.skipSpaces();
    const m = /^-?\d+/.exec(this.text.slice(this.pos));
    if (!m) return undefined;
    this.pos += m[0].length;
    this.skipSpaces();
    return Number(m[0]);
  }

  private expect(ch: string): void {
    if (this.peek() !== ch) this.fail(`expected ${JSON.stringify(ch)}`);
    this.pos++;
  }

  private bracket(): Step {
    this.expect('[');
    this.skipSpaces();
    let step: Step;
    const c = this.peek();
    if (c === '*') {
      this.pos++;
      step = { kind: 'wildcard' };
    } else if (c === "'" || c === '"') {
      step = { kind: 'field', name: this.quoted() };
    } else if (c === '?') {
      this.pos++;
      this.expect('(');
      step = this.filter();
      this.expect(')');
    } else {
      const start = this.integer();
      if (this.peek() === ':') {
        this.pos++;
        const end = this.integer();
        // A step (`[a:b:c]`) is not used by printer columns.
        step = { kind: 'slice', start, end };
      } else {
        if (start === undefined) this.fail('invalid array index');
        step = { kind: 'index', index: start };
      }
    }
    this.skipSpaces();
    this.expect(']');
    return step;
  }

  private operand(): Operand {
    this.skipSpaces();
    const c = this.peek();
    if (c === '@') {
      this.pos++;
      return { kind: 'path', steps: this.steps(true) };
    }
    if (c === "'" || c === '"') return { kind: 'literal', value: this.quoted() };
    const m = /^(-?\d+(\.\d+)?([eE][-+]?\d+)?|true|false)/.exec(this.text.slice(this.pos));
    if (!m) this.fail('invalid filter operand');
    this.pos += m[0].length;
    const v = m[0];
    return { kind: 'literal', value: v === 'true' ? true : v === 'false' ? false : Number(v) };
  }

  private filter(): Step {
    const left = this.operand();
    this.skipSpaces();
    const m = /^(==|!=|<=|>=|<|>)/.exec(this.text.slice(this.pos));
    if (!m) {
      this.skipSpaces();
      return { kind: 'filter', left, op: undefined, right: undefined };
    }
    this.pos += m[0].length;
    const right = this.operand();
    this.skipSpaces();
    return { kind: 'filter', left, op: m[0], right };
  }
}

/** Parses a JSONPath, with or without the `{…}` template braces; throws JSONPathError. */
export function parseJSONPath(source: string): JSONPath {
  let text = source.trim();
  if (text.startsWith('{') && text.endsWith('}')) text = text.slice(1, -1).trim();
  if (text.startsWith('$')) text = text.slice(1);
  if (text === '') throw new JSONPathError(`empty JSONPath ${JSON.stringify(source)}`);
  if (!text.startsWith('.') && !text.startsWith('[')) throw new JSONPathError(`JSONPath must start with "." or "[": ${JSON.stringify(source)}`);
  const parser = new Parser(text);
  const steps = parser.steps(false);
  return { source, steps };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function children(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (isObject(v)) return Object.keys(v).sort().map((k) => v[k]);
  return [];
}

function recursive(v: unknown, name: string | undefined, out: unknown[]): void {
  if (isObject(v)) {
    for (const k of Object.keys(v).sort()) {
      if (name === undefined || k === name) out.push(v[k]);
    }
  }
  for (const c of children(v)) recursive(c, name, out);
}

function operandValues(op: Operand, item: unknown): unknown[] {
  return op.kind === 'literal' ? [op.value] : evaluate(op.steps, [item]);
}

function compare(a: unknown, op: string, b: unknown): boolean {
  if (op === '==') return a === b;
  if (op === '!=') return a !== b;
  if (typeof a === 'number' && typeof b === 'number') {
    switch (op) {
      case '<':
        return a < b;
      case '>':
        return a > b;
      case '<=':
        return a <= b;
      case '>=':
        return a >= b;
    }
  }
  return false;
}

function filterMatches(step: Extract<Step, { kind: 'filter' }>, item: unknown): boolean {
  const left = operandValues(step.left, item);
  if (step.op === undefined || step.right === undefined) {
    // Existence test: the path resolves to something.
    return left.length > 0 && left[0] !== undefined;
  }
  const right = operandValues(step.right, item);
  if (left.length === 0 || right.length === 0) return false;
  return compare(left[0], step.op, right[0]);
}

function evaluate(steps: readonly Step[], input: unknown[]): unknown[] {
  let current = input;
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of current) {
      switch (step.kind) {
        case 'field':
          if (isObject(v) && Object.prototype.hasOwnProperty.call(v, step.name)) next.push(v[step.name]);
          break;
        case 'wildcard':
          next.push(...children(v));
          break;
        case 'recursive':
          recursive(v, step.name, next);
          break;
        case 'index':
          if (Array.isArray(v)) {
            const i = step.index < 0 ? step.index + v.length : step.index;
            if (i >= 0 && i < v.length) next.push(v[i]);
          }
          break;
        case 'slice':
          if (Array.isArray(v)) {
            const clamp = (n: number) => Math.min(Math.max(n < 0 ? n + v.length : n, 0), v.length);
            const s = clamp(step.start ?? 0);
            const e = clamp(step.end ?? v.length);
            next.push(...v.slice(s, e));
          }
          break;
        case 'filter':
          // Only arrays can be filtered (client-go reports an error for anything else).
          if (Array.isArray(v)) for (const item of v) if (filterMatches(step, item)) next.push(item);
          break;
      }
    }
    current = next;
  }
  return current;
}

/** Every value the path selects in `data`, in document order; empty when nothing matches. */
export function findResults(path: JSONPath, data: unknown): unknown[] {
  return evaluate(path.steps, [data]);
}
