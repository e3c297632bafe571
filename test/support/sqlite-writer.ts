/**
 * Child process for the sqlite durability test: creates keys in a loop and prints
 * `<revision> <key>` for each create once it has returned (been acknowledged), until killed.
 * Usage: node sqlite-writer.js DB_FILE
 */
import { SqliteBackend } from '../../src/store/sqlite.js';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: sqlite-writer.js DB_FILE\n');
  process.exit(2);
}
const backend = new SqliteBackend(file);
await backend.start();
process.stdout.write('ready\n');
for (let i = 0; ; i++) {
  const kv = await backend.create(`/registry/durable/k${i}`, JSON.stringify({ i, pad: 'x'.repeat(200) }));
  // Stdout to a pipe is synchronous on Linux: once this returns, the parent can see the line.
  process.stdout.write(`${kv.modRevision} ${kv.key}\n`);
}
