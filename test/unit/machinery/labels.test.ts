import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../../../src/machinery/status-error.js';
import { formatLabelSelector, formatLabels, parseSelector, selectorFromLabelSelector, selectorFromSet } from '../../../src/machinery/labels.js';

function parseError(s: string): StatusError {
  try {
    parseSelector(s);
  } catch (e) {
    assert.ok(e instanceof StatusError);
    return e;
  }
  assert.fail(`expected ${JSON.stringify(s)} to be rejected`);
}

test('equality-based selectors', () => {
  const s = parseSelector('app=web,tier==frontend,env!=prod');
  assert.equal(s.matches({ app: 'web', tier: 'frontend' }), true);
  assert.equal(s.matches({ app: 'web', tier: 'frontend', env: 'dev' }), true);
  assert.equal(s.matches({ app: 'web', tier: 'frontend', env: 'prod' }), false);
  assert.equal(s.matches({ app: 'web' }), false);
  assert.equal(s.matches(undefined), false);
  // Sorted by key; the spelling of the operator is kept.
  assert.equal(s.toString(), 'app=web,env!=prod,tier==frontend');
});

test('set-based selectors, existence and whitespace', () => {
  const s = parseSelector('  environment in (production, qa) , tier notin (frontend,backend),partition,!canary ');
  assert.equal(s.matches({ environment: 'qa', partition: 'x' }), true);
  assert.equal(s.matches({ environment: 'qa', partition: 'x', tier: 'frontend' }), false);
  assert.equal(s.matches({ environment: 'dev', partition: 'x' }), false);
  assert.equal(s.matches({ environment: 'qa' }), false);
  assert.equal(s.matches({ environment: 'qa', partition: '', canary: 'true' }), false);
  assert.equal(s.toString(), '!canary,environment in (production,qa),partition,tier notin (backend,frontend)');
});

test('empty values and keywords used as values', () => {
  const s = parseSelector('x in (foo,,baz),y,z notin ()');
  assert.equal(s.toString(), 'x in (,baz,foo),y,z notin ()');
  assert.equal(s.matches({ x: '', y: '1' }), true);
  assert.equal(s.matches({ x: 'foo', y: '1', z: '' }), false);
  const t = parseSelector('a=,b in (in,notin)');
  assert.equal(t.matches({ a: '', b: 'notin' }), true);
  assert.equal(t.matches({ a: 'x', b: 'in' }), false);
});

test('gt and lt compare integers', () => {
  const s = parseSelector('replicas>2,weight<10');
  assert.equal(s.matches({ replicas: '3', weight: '9' }), true);
  assert.equal(s.matches({ replicas: '2', weight: '9' }), false);
  assert.equal(s.matches({ replicas: 'x', weight: '9' }), false);
});

test('the empty string selects everything', () => {
  const s = parseSelector('');
  assert.equal(s.empty(), true);
  assert.equal(s.matches({}), true);
  assert.equal(s.toString(), '');
});

test('parse errors are 400 BadRequest with Kubernetes wording', () => {
  const e = parseError('app:monolith');
  assert.equal(e.code, 400);
  assert.equal(e.reason, 'BadRequest');
  assert.equal(
    e.message,
    `unable to parse requirement: <nil>: Invalid value: "app:monolith": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
  );
  assert.equal(
    parseError('a=$$').message,
    `unable to parse requirement: values[0][a]: Invalid value: "$$": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
  );
  assert.equal(parseError('a=b c').message, "found 'c', expected: ',' or 'end of string'");
  assert.equal(parseError('a in').message, "unable to parse requirement: found '' expected: '('");
  assert.equal(parseError('a in (x').message, "unable to parse requirement: found '', expected: ',' or ')'");
  assert.equal(parseError('a b').message, "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt");
  assert.equal(parseError('a,').message, "found '', expected: identifier after ','");
  assert.equal(parseError('=a').message, "found '=', expected: !, identifier, or 'end of string'");
  assert.equal(parseError('!a=b').message, "found '=', expected: ',' or 'end of string'");
  assert.match(parseError('a>x').message, /for 'Gt', 'Lt' operators, the value must be an integer/);
});

test('requiresExactMatch finds pinned values', () => {
  const s = parseSelector('app=web,tier in (fe),env in (a,b)');
  assert.equal(s.requiresExactMatch('app'), 'web');
  assert.equal(s.requiresExactMatch('tier'), 'fe');
  assert.equal(s.requiresExactMatch('env'), undefined);
  assert.equal(s.requiresExactMatch('nope'), undefined);
});

test('LabelSelector conversion: nil matches nothing, empty matches everything', () => {
  assert.equal(selectorFromLabelSelector(undefined).matches({ a: 'b' }), false);
  assert.equal(selectorFromLabelSelector(null).matchesNothing(), true);
  assert.equal(selectorFromLabelSelector({}).matches({ a: 'b' }), true);
  assert.equal(selectorFromLabelSelector({ matchLabels: {}, matchExpressions: [] }).empty(), true);
});

test('LabelSelector with matchLabels and every expression operator', () => {
  const s = selectorFromLabelSelector({
    matchLabels: { app: 'web' },
    matchExpressions: [
      { key: 'tier', operator: 'In', values: ['b', 'a'] },
      { key: 'env', operator: 'NotIn', values: ['prod'] },
      { key: 'team', operator: 'Exists' },
      { key: 'legacy', operator: 'DoesNotExist' },
    ],
  });
  assert.equal(s.matches({ app: 'web', tier: 'a', team: 'x' }), true);
  assert.equal(s.matches({ app: 'web', tier: 'a', team: 'x', env: 'prod' }), false);
  assert.equal(s.matches({ app: 'web', tier: 'a', team: 'x', legacy: '1' }), false);
  assert.equal(s.matches({ app: 'web', tier: 'c', team: 'x' }), false);
  assert.equal(s.toString(), 'app=web,env notin (prod),!legacy,team,tier in (a,b)');
});

test('invalid LabelSelectors are rejected', () => {
  assert.throws(() => selectorFromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Foo', values: [] }] }), {
    message: '"Foo" is not a valid label selector operator',
  });
  assert.throws(() => selectorFromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }), {
    message: "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty",
  });
  assert.throws(() => selectorFromLabelSelector({ matchLabels: { 'bad key': 'v' } }), (e: unknown) => e instanceof StatusError && e.code === 400 && e.message.startsWith('key: Invalid value: "bad key"'));
});

test('formatLabelSelector prints what kubectl shows in the SELECTOR column', () => {
  assert.equal(formatLabelSelector({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }] }), 'app=web,tier in (a,b)');
  assert.equal(formatLabelSelector({ matchLabels: { 'pod-template-hash': '5d4b', app: 'nginx' } }), 'app=nginx,pod-template-hash=5d4b');
  assert.equal(formatLabelSelector({}), '<none>');
  assert.equal(formatLabelSelector(undefined), '<none>');
  assert.equal(formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Bogus' }] }), '<error>');
});

test('selectorFromSet and formatLabels', () => {
  const s = selectorFromSet({ b: '2', a: '1' });
  assert.equal(s.toString(), 'a=1,b=2');
  assert.equal(s.matches({ a: '1', b: '2', c: '3' }), true);
  assert.equal(s.matches({ a: '1' }), false);
  assert.equal(selectorFromSet(undefined).empty(), true);
  assert.equal(formatLabels({ tier: 'fe', app: 'web' }), 'app=web,tier=fe');
});
