/**
 * The README's first command, `npm ci && npx k8ts server`, runs the checkout's own `k8ts` bin: it
 * must be executable after a build (tsc writes files without the x bit; npm only sets it for
 * installed dependencies).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../support/cluster.js';

test('npx k8ts runs the checkout\'s CLI and prints its version', async () => {
  const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  // --no: never download a package of that name; the checkout's bin is the one that must run.
  const { stdout } = await promisify(execFile)('npm', ['exec', '--no', '--', 'k8ts', '--version'], { cwd: repoRoot });
  assert.equal(stdout.trim(), version);
});
