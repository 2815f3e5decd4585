import {spawn, type ChildProcess} from 'node:child_process'
import {constants} from 'node:os'
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {BIN} from './cli.js'

export interface ServeProcess {
  url: string
  output(): string
  /** Resident memory of the serve process, in MB. */
  rssMb(): Promise<number>
  /** Sends `signal` (SIGINT by default), then the exit status as a shell reports it: 128 + n for signal n. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
  /** The reader of the output goes away, as a closed terminal or a dead pipe reader does. */
  closeOutput(): void
  /** The exit status, once the process has ended by itself. */
  exited: Promise<number | null>
}

/** `aiclient serve` as its own process, so its memory can be measured apart from the test's. */
export async function startServeProcess(
  dir: string,
  pools: unknown,
  config: Record<string, unknown> = {},
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<ServeProcess> {
  const poolsFile = join(dir, 'provider_pools.json')
  await writeFile(poolsFile, JSON.stringify(pools))
  await writeFile(join(dir, 'config.json'), JSON.stringify(config))
  const child: ChildProcess = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--pools-file', poolsFile, ...args], {
    cwd: dir,
    env: {PATH: process.env.PATH, HOME: dir, AICLIENT_CONFIG_DIR: join(dir, 'cfg'), ...env},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  // Request log lines are many in a soak: keep only the start of the output.
  const keep = (d: Buffer) => {
    if (output.length < 20_000) output += d.toString()
  }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  const exited = new Promise<number | null>((resolve) => child.on('close', (code, signal) => resolve(signal ? 128 + constants.signals[signal] : code)))
  const deadline = Date.now() + 15_000
  while (!/http:\/\/127\.0\.0\.1:\d+/.test(output)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`serve did not start: ${output}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    url: /http:\/\/127\.0\.0\.1:\d+/.exec(output)![0],
    output: () => output,
    rssMb: async () => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024,
    stop: async (signal = 'SIGINT') => {
      child.kill(signal)
      return exited
    },
    exited,
    closeOutput: () => {
      child.stdout!.destroy()
      child.stderr!.destroy()
    },
  }
}
