import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {poll} from './poll.js'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const BIN = join(ROOT, 'bin', 'run.js')
export const EXAMPLE_POOLS = join(ROOT, 'test', 'fixtures', 'provider_pools.example.json')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface CliOptions {
  cwd: string
  env?: Record<string, string | undefined>
  stdin?: string
}

export interface SpawnOptions {
  /** Working directory and HOME */
  home: string
  /** AICLIENT_CONFIG_DIR; default `<home>/.config-aiclient` */
  configDir?: string
  env?: Record<string, string | undefined>
  /** Written to stdin, which is then closed; without it stdin stays open for the test to write */
  stdin?: string
  /** Characters kept of each output, for a process that logs a lot (a soak); default all */
  keepChars?: number
}

export interface CliProcess {
  child: ChildProcessWithoutNullStreams
  stdout(): string
  stderr(): string
  /** stdout and stderr in the order they came */
  output(): string
  /** Resolves with the first match in stderr (where progress goes); fails once the process ended, or after `timeoutMs` */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
  /** The same over stdout and stderr together */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
  /** The exit code; null when a signal ended the process (`child.signalCode` says which) */
  exit: Promise<number | null>
}

/** The built CLI as a user runs it, with HOME and settings isolated in `home`: the suite's one CLI spawner. */
export function spawnCli(args: string[], options: SpawnOptions): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.home,
    env: {
      PATH: process.env.PATH,
      HOME: options.home,
      AICLIENT_CONFIG_DIR: options.configDir ?? join(options.home, '.config-aiclient'),
      ...options.env,
    },
  })
  const keep = options.keepChars ?? Number.POSITIVE_INFINITY
  const text = {stdout: '', stderr: '', output: ''}
  const collect = (stream: 'stdout' | 'stderr') => (d: Buffer) => {
    const s = d.toString()
    if (text[stream].length < keep) text[stream] += s
    if (text.output.length < keep) text.output += s
  }
  child.stdout.on('data', collect('stdout'))
  child.stderr.on('data', collect('stderr'))
  let closed = false
  const exit = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => {
      closed = true
      resolve(code)
    })
  })
  // A failure to start surfaces where the exit is awaited, never as an unhandled rejection.
  exit.catch(() => {})
  if (options.stdin !== undefined) child.stdin.end(options.stdin)
  const waitIn = (stream: 'stderr' | 'output', pattern: RegExp, timeoutMs = 10_000) => {
    const failure = () =>
      `No ${pattern} in ${stream === 'stderr' ? 'stderr' : 'the output'}:\n${text.stderr}\nstdout:\n${text.stdout}`
    return poll(
      () => {
        const match = pattern.exec(text[stream])
        if (match) return match
        if (closed) throw new Error(failure())
        return undefined
      },
      {timeoutMs, intervalMs: 25, failure},
    )
  }
  return {
    child,
    stdout: () => text.stdout,
    stderr: () => text.stderr,
    output: () => text.output,
    waitForStderr: (pattern, timeoutMs) => waitIn('stderr', pattern, timeoutMs),
    waitForOutput: (pattern, timeoutMs) => waitIn('output', pattern, timeoutMs),
    exit,
  }
}

/** Runs the built CLI to its end, settings isolated in the working directory. */
export async function runCli(args: string[], options: CliOptions): Promise<CliResult> {
  const run = spawnCli(args, {home: options.cwd, env: options.env, stdin: options.stdin ?? ''})
  const code = await run.exit
  return {code, stdout: run.stdout(), stderr: run.stderr()}
}

export async function tempDir(prefix = 'aiclient-test-'): Promise<{dir: string; cleanup: () => Promise<void>}> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  return {dir, cleanup: () => rm(dir, {recursive: true, force: true})}
}
