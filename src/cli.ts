#!/usr/bin/env node
// The `codedeploy-notify` executable (package.json bin): runs the CLI against the real process.
import { main } from './cli-main.js';

process.exitCode = await main(process.argv.slice(2), {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  env: process.env,
});
