#!/usr/bin/env node
/** The tilecast command: a thin shell over the library, one command per file. */
import { convertCommand } from './convert.js';
import { infoCommand } from './info.js';
import { mergeCommand } from './merge.js';
import { predictCommand } from './predict.js';
import { runCli } from './run.js';

const commands = [predictCommand, mergeCommand, convertCommand, infoCommand];

process.exitCode = await runCli(commands, process.argv.slice(2));
