#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { addServerCommand } from './server.js';
import { addAgentCommand } from './agent.js';
import { addImagesCommand } from './images.js';

const program = new Command();
program
  .name('k8ts')
  .description('Kubernetes, written in TypeScript: one CLI for the whole cluster.')
  .version((JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version);
addServerCommand(program);
addAgentCommand(program);
addImagesCommand(program);
program.showHelpAfterError();
try {
  await program.parseAsync(process.argv);
} catch (e) {
  // A start-up failure (a missing runtime, a port in use …): its message says what to do; a stack
  // trace would only bury it.
  process.stderr.write(`k8ts ${program.args[0] ?? ''}: ${(e as Error).message}\n`);
  if (process.env['K8TS_DEBUG']) process.stderr.write(`${(e as Error).stack ?? ''}\n`);
  process.exit(1);
}
