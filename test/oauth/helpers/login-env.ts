import {connect} from 'node:net'
import {readFile, stat} from 'node:fs/promises'
import {afterEach, beforeEach} from 'vitest'
import type {FakeOAuthServer} from '../../fakes/oauth/index.js'
import {runCli, spawnCli, tempDir} from '../../helpers/cli.js'

/** Per test: a temp HOME for the spawned CLI, and fakes that are closed afterwards. */
export function loginTestEnv() {
  const env = {home: '', track, cli, spawn}
  let cleanup: () => Promise<void>
  const fakes: FakeOAuthServer[] = []
  beforeEach(async () => {
    ;({dir: env.home, cleanup} = await tempDir('aiclient-login-'))
  })
  afterEach(async () => {
    await Promise.all(fakes.splice(0).map((f) => f.close()))
    await cleanup()
  })
  async function track<T extends FakeOAuthServer>(fake: Promise<T>): Promise<T> {
    const started = await fake
    fakes.push(started)
    return started
  }
  function cli(args: string[], vars: Record<string, string>, stdin?: string) {
    return runCli(args, {cwd: env.home, env: {CI: 'true', ...vars}, stdin})
  }
  /** The CLI left running, for a test that answers its prompts or stops it */
  function spawn(args: string[], vars: Record<string, string> = {}) {
    return spawnCli(args, {home: env.home, env: {CI: 'true', ...vars}})
  }
  return env
}

export const readJson = async (file: string) => JSON.parse(await readFile(file, 'utf8'))

export const modeOf = async (path: string) => (await stat(path)).mode & 0o777

/** Is nothing listening on 127.0.0.1:port any more? */
export function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({port, host: '127.0.0.1'})
    socket.once('connect', () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('error', () => resolve(true))
  })
}
