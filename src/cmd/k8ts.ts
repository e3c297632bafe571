#!/usr/bin/env node
import { Command } from 'commander';
import { addServerCommand } from './server.js';
import { addAgentCommand } from './agent.js';
import { addImagesCommand } from './images.js';

const program = new Command();
program
  .name('k8ts')
  .description('Kubernetes, written in TypeScript: one CLI for the whole cluster.')
  .version(process.env['npm_package_version'] ?? '0.1.0');
addServerCommand(program);
addAgentCommand(program);
addImagesCommand(program);
program.showHelpAfterError();
await program.parseAsync(process.argv);
