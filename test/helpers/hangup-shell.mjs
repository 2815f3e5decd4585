// Plays the shell of a terminal session: runs a command in the foreground with the terminal as its stdio and,
// when the terminal hangs up, passes SIGHUP on to it as an interactive shell does to its jobs. How the command
// ended is written to the file named first, since nobody is left to read the terminal.
import {spawn} from 'node:child_process'
import {writeFileSync} from 'node:fs'

const [statusFile, command, ...args] = process.argv.slice(2)
const child = spawn(command, args, {stdio: 'inherit'})
process.on('SIGHUP', () => child.kill('SIGHUP'))
child.on('exit', (code, signal) => {
  writeFileSync(statusFile, JSON.stringify({code, signal}))
  process.exit(0)
})
