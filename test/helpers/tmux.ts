import {execFile, execFileSync} from 'node:child_process'
import {rm} from 'node:fs/promises'
import {promisify} from 'node:util'
import {poll} from './poll.js'

const run = promisify(execFile)

export const hasTmux = (() => {
  try {
    execFileSync('tmux', ['-V'], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
})()

/** A command in its own tmux server (own socket), so tests never touch a user's sessions; CI=false so Ink draws. */
export async function startTmux(command: string, env: Record<string, string>, size = {width: 100, height: 24}) {
  const socket = `aiclient-oauth-${process.pid}-${Date.now()}`
  // The server takes its environment from the first client: keep vitest's (NODE_ENV=test, …) out of the CLI.
  const tmux = (...args: string[]) => run('tmux', ['-L', socket, ...args], {env: {PATH: process.env.PATH}})
  const envArgs = Object.entries({CI: 'false', ...env}).flatMap(([key, value]) => ['-e', `${key}=${value}`])
  await tmux(
    'new-session',
    '-d',
    '-s',
    'main',
    '-x',
    String(size.width),
    '-y',
    String(size.height),
    ...envArgs,
    command,
  )
  await tmux('set-option', '-t', 'main', 'remain-on-exit', 'on')
  const socketPath = (await tmux('display-message', '-p', '#{socket_path}')).stdout.trim()
  const capture = async () => (await tmux('capture-pane', '-p', '-J', '-t', 'main')).stdout
  return {
    capture,
    async waitFor(test: (screen: string) => boolean, timeoutMs = 10_000): Promise<string> {
      let screen = ''
      const matched = async () => {
        screen = await capture()
        return test(screen) && screen
      }
      return poll(matched, {timeoutMs, intervalMs: 100, failure: () => `tmux screen never matched:\n${screen}`})
    },
    sendKeys: (...keys: string[]) => tmux('send-keys', '-t', 'main', ...keys),
    async kill() {
      await tmux('kill-server').catch(() => {})
      // tmux leaves the socket file behind.
      await rm(socketPath, {force: true})
    },
  }
}
