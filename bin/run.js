#!/usr/bin/env node
// Colour is decided once, before chalk, ink or oclif are imported: they read FORCE_COLOR at load time.
const argv = process.argv.slice(2)
const noColor =
  argv.includes('--json') ||
  argv.includes('--no-color') ||
  (process.env.NO_COLOR ?? '') !== '' ||
  process.env.TERM === 'dumb' ||
  (!process.stdout.isTTY && process.env.FORCE_COLOR === undefined)
if (noColor) process.env.FORCE_COLOR = '0'

const {execute} = await import('@oclif/core')
await execute({dir: import.meta.url})
