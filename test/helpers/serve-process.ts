import {constants} from 'node:os'
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {spawnCli} from './cli.js'

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
  // Request log lines are many in a soak: keep only the start of the output.
  const run = spawnCli(['serve', '--port', '0', '--pools-file', poolsFile, ...args], {
    home: dir,
    configDir: join(dir, 'cfg'),
    env,
    stdin: '',
    keepChars: 20_000,
  })
  const child = run.child
  const exited = run.exit.then((code) => (child.signalCode ? 128 + constants.signals[child.signalCode] : code))
  const [url] = await run.waitForOutput(/http:\/\/127\.0\.0\.1:\d+/, 15_000)
  return {
    url,
    output: run.output,
    rssMb: async () => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024,
    stop: async (signal = 'SIGINT') => {
      child.kill(signal)
      return exited
    },
    exited,
    closeOutput: () => {
      child.stdout.destroy()
      child.stderr.destroy()
    },
  }
}
