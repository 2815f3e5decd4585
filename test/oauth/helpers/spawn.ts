import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process'
import {join} from 'node:path'
import {BIN} from '../../helpers/cli.js'

export interface SpawnedCli {
  child: ChildProcessWithoutNullStreams
  stdout(): string
  stderr(): string
  /** Resolves with the first match in stderr (where progress goes), or fails after `timeoutMs` */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
  exit: Promise<number | null>
}

/** The built CLI as a user would run it without a terminal, HOME and settings in `home`. */
export function spawnCli(args: string[], home: string, env: Record<string, string> = {}): SpawnedCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: home,
    env: {PATH: process.env.PATH, HOME: home, AICLIENT_CONFIG_DIR: join(home, '.config-aiclient'), CI: 'true', ...env},
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const exit = new Promise<number | null>((resolve) => child.on('close', resolve))
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    async waitForStderr(pattern, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const match = pattern.exec(stderr)
        if (match) return match
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`No ${pattern} in stderr:\n${stderr}\nstdout:\n${stdout}`)
        await new Promise((r) => setTimeout(r, 25))
      }
    },
    exit,
  }
}
