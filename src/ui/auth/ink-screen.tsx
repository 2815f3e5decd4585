import {render, type Instance} from 'ink'
import {finishLoginView, initialLoginView, reduceLoginEvent, type LoginViewState} from './login-view.js'
import {LoginScreen} from './LoginScreen.js'
import type {LoginScreenHandle, LoginScreenOptions} from './screen.js'

export function inkScreen(options: LoginScreenOptions): LoginScreenHandle {
  let state: LoginViewState = initialLoginView
  let paste: ((line: string) => void) | undefined
  const view = () => <LoginScreen state={state} onCancel={options.onCancel} onPaste={paste} />
  const ink: Instance = render(view(), {
    stdout: process.stderr,
    stdin: process.stdin,
    exitOnCtrlC: false,
    patchConsole: false,
  })
  const update = (next: LoginViewState) => {
    state = next
    ink.rerender(view())
  }
  return {
    event: (event) => update(reduceLoginEvent(state, event)),
    acceptPaste(submit) {
      // On a terminal the screen's input line stays until the login ends; stdin cannot "end" there.
      paste = submit
      ink.rerender(view())
    },
    async close(done) {
      paste = undefined
      update(finishLoginView(state, done))
      ink.unmount()
      await ink.waitUntilExit()
    },
  }
}
