import {createInterface} from 'node:readline'
import {CancelledError} from './core/errors.js'
import {escapeForTerminal} from './core/escape.js'

/** A y/N question on the terminal; Ctrl-C cancels the command (exit 130). */
export function confirm(question: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({input: process.stdin, output: process.stderr})
    let answered = false
    rl.on('SIGINT', () => {
      rl.close()
      reject(new CancelledError())
    })
    rl.on('close', () => {
      if (!answered) reject(new CancelledError())
    })
    rl.question(`${escapeForTerminal(question)} [y/N] `, (answer) => {
      answered = true
      rl.close()
      resolve(/^y(es)?$/i.test(answer.trim()))
    })
  })
}
