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

const {flush, handle, run} = await import('@oclif/core')
const {escapeForTerminal} = await import('../dist/core/escape.js')
try {
  await run(argv, import.meta.url)
  await flush()
} catch (error) {
  // What fails before a command runs (an unknown command) is printed by oclif and quotes the command line.
  if (error instanceof Error) error.message = escapeForTerminal(error.message)
  await handle(error)
}
