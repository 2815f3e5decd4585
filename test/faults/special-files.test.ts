import {execFileSync, spawn} from 'node:child_process'
import {closeSync, openSync} from 'node:fs'
import {mkdir, stat, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {readCredentialJson} from '../../src/core/oauth/credential-file.js'
import {saveLogin} from '../../src/core/oauth/login.js'
import {PoolStore} from '../../src/core/pools/store.js'
import {startFakeQwenOAuth} from '../fakes/oauth/index.js'
import {BIN, tempDir, type CliResult} from '../helpers/cli.js'

let dir: string
let cleanup: () => Promise<void>
let fifo: string

beforeEach(async () => {
  ;({dir, cleanup} = await tempDir())
  fifo = join(dir, 'creds.fifo')
  execFileSync('mkfifo', [fifo])
})
afterEach(async () => cleanup())

/** Runs the CLI and fails if it has not exited on its own within `ms` (a read of a FIFO would wait for ever). */
function cliWithin(
  ms: number,
  args: string[],
  env: Record<string, string> = {},
  stdinFile?: string,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const stdin = stdinFile === undefined ? 'ignore' : openSync(stdinFile, 'r')
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: dir,
      env: {PATH: process.env.PATH, HOME: dir, AICLIENT_CONFIG_DIR: join(dir, '.config-aiclient'), ...env},
      stdio: [stdin, 'pipe', 'pipe'],
    })
    if (typeof stdin === 'number') closeSync(stdin)
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`aiclient ${args.join(' ')} still running after ${ms} ms`))
    }, ms)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code, stdout, stderr})
    })
  })
}

/** Rejects if `promise` has not settled within `ms`. */
function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms).unref()),
  ])
}

describe('paths that are not regular files', () => {
  it('pool add --creds-file on a FIFO fails at once with a clear error', async () => {
    const result = await cliWithin(4000, ['pool', 'add', 'openai-qwen-oauth', '--creds-file', fifo])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(
      /Credential file .*creds\.fifo cannot be read: it is a FIFO \(named pipe\), not a regular file\./,
    )
    expect(result.stderr).not.toMatch(/undefined|\n\s+at /)
  }, 8000)

  it('pool add --creds-file on /dev/zero, a directory or a huge file: clear errors, no "undefined"', async () => {
    const huge = join(dir, 'huge.json')
    await writeFile(huge, Buffer.alloc(1024 * 1024 + 1, 0x20))
    await mkdir(join(dir, 'adir'))
    const expected: Array<[string, RegExp]> = [
      ['/dev/zero', /cannot be read: it is a character device, not a regular file\./],
      [join(dir, 'adir'), /cannot be read: it is a directory, not a regular file\./],
      [huge, /cannot be read: it is larger than 1 MB/],
    ]
    for (const [path, message] of expected) {
      const result = await cliWithin(4000, ['pool', 'add', 'claude-kiro-oauth', '--creds-file', path])
      expect(result.code, path).toBe(1)
      expect(result.stderr, path).toMatch(message)
      expect(result.stderr, path).not.toContain('undefined')
    }
  }, 20_000)

  it('a FIFO as the pool file or as config.json fails at once', async () => {
    const pools = await cliWithin(4000, ['pool', 'list', '--pools-file', fifo])
    expect(pools.code).toBe(1)
    expect(pools.stderr).toMatch(/Cannot read .*creds\.fifo: it is a FIFO \(named pipe\), not a regular file\./)
    const config = await cliWithin(4000, ['pool', 'list', '--config', fifo])
    expect(config.code).toBe(1)
    expect(config.stderr).toMatch(/Cannot read the config file .*creds\.fifo: it is a FIFO/)
  }, 12_000)

  it('serve, the token manager and auth login do not block on a FIFO either', async () => {
    await expect(within(2000, new PoolStore(fifo).read())).rejects.toThrow(/it is a FIFO/)
    await expect(within(2000, readCredentialJson(fifo))).rejects.toThrow(/it is a FIFO/)
    const login = {
      provider: 'qwen' as const,
      credentials: {access_token: 'a', refresh_token: 'r'},
      expiresAt: new Date(),
      account: null,
    }
    await expect(within(2000, saveLogin(fifo, login))).rejects.toThrow(
      /Cannot write .*creds\.fifo: it is a FIFO \(named pipe\), not a regular file/,
    )
    expect((await stat(fifo)).isFIFO()).toBe(true)
  })

  it('auth login --output naming a FIFO is refused before the login starts', async () => {
    const fake = await startFakeQwenOAuth()
    try {
      const result = await cliWithin(4000, ['auth', 'login', 'qwen', '--output', fifo, '--force', '--no-browser'], {
        CI: 'true',
        ...fake.env,
      })
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/Cannot write .*creds\.fifo: it is a FIFO \(named pipe\), not a regular file\./)
      expect(fake.requests).toHaveLength(0)
    } finally {
      await fake.close()
    }
  }, 8000)

  it('pool add --key - with /dev/zero as stdin stops at a limit instead of filling memory', async () => {
    const result = await cliWithin(4000, ['pool', 'add', 'openai-custom', '--key', '-'], {}, '/dev/zero')
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/stdin gave more than 65536 bytes; an API key is far shorter\./)
  }, 8000)

  it('a regular file still reads (positive control)', async () => {
    const file = join(dir, 'ok.json')
    await writeFile(file, '{"accessToken": "a"}')
    expect(await within(2000, readCredentialJson(file))).toEqual({accessToken: 'a'})
  })
})
