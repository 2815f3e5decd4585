import {execFile} from 'node:child_process'
import {promisify} from 'node:util'

const run = promisify(execFile)

/** A real terminal for the built CLI: tmux runs it, the test reads the screen and types keys. */
export class TmuxSession {
  private constructor(readonly name: string) {}

  static async start(command: string, options: {cwd: string; env?: Record<string, string>; width?: number; height?: number}): Promise<TmuxSession> {
    const name = `aiclient-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
    const env = Object.entries({CI: 'false', TERM: 'xterm-256color', ...options.env}).flatMap(([k, v]) => ['-e', `${k}=${v}`])
    await run('tmux', ['new-session', '-d', '-s', name, '-x', String(options.width ?? 100), '-y', String(options.height ?? 30), '-c', options.cwd, ...env, `${command}; echo EXIT:$?; sleep 60`])
    return new TmuxSession(name)
  }

  async screen(): Promise<string> {
    const {stdout} = await run('tmux', ['capture-pane', '-p', '-t', this.name])
    return stdout
  }

  async waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs
    let last = ''
    while (Date.now() < deadline) {
      last = await this.screen()
      if (pattern.test(last)) return last
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error(`Timed out waiting for ${pattern} on the screen:\n${last}`)
  }

  async keys(...keys: string[]): Promise<void> {
    await run('tmux', ['send-keys', '-t', this.name, ...keys])
  }

  async kill(): Promise<void> {
    await run('tmux', ['kill-session', '-t', this.name]).catch(() => {})
  }
}
