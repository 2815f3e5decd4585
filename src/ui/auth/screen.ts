import {createInterface, type Interface} from 'node:readline'
import type {LoginEvent} from '../../core/oauth/flow.js'
import {initialLoginView, plainLines, reduceLoginEvent, type LoginViewState} from './login-view.js'

/** Where a login's progress goes: an Ink screen on a terminal, plain lines on stderr otherwise. */
export interface LoginScreenHandle {
  event(event: LoginEvent): void
  /**
   * Takes redirect URLs typed or pasted by the user, one per line, while the login accepts them. `onEnd` runs
   * when the input ends first (stdin closed), for logins that cannot complete without a paste.
   */
  acceptPaste(submit: (line: string) => void, onEnd?: () => void): void
  /** Gives the terminal back; a live screen shows `done` (or nothing, on failure) as its last frame. */
  close(done: string | null): Promise<void>
}

export interface LoginScreenOptions {
  /** Redraw in place (Ink) rather than print lines. */
  live: boolean
  onCancel: () => void
}

export async function openLoginScreen(options: LoginScreenOptions): Promise<LoginScreenHandle> {
  if (!options.live) return plainScreen()
  // Ink takes most of a second to load (its layout engine is WebAssembly); scripts and CI never need it.
  const {inkScreen} = await import('./ink-screen.js')
  return inkScreen(options)
}

function plainScreen(): LoginScreenHandle {
  const {stderr, stdin} = process
  let state: LoginViewState = initialLoginView
  let lines: Interface | undefined
  const update = (next: LoginViewState) => {
    for (const line of plainLines(state, next, Date.now())) stderr.write(`${line}\n`)
    state = next
  }
  return {
    event: (event) => update(reduceLoginEvent(state, event)),
    acceptPaste(submit, onEnd) {
      lines = createInterface({input: stdin, terminal: false})
      lines.on('line', (line) => {
        if (line.trim() !== '') submit(line)
      })
      lines.on('close', () => onEnd?.())
    },
    // The command's summary on stdout is the result; repeating it on stderr would only add noise.
    async close() {
      lines?.removeAllListeners('close')
      lines?.close()
      // A pipe nobody closes must not keep the process alive once the login is over.
      stdin.pause()
    },
  }
}
