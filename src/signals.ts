export type TerminationSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP'

const SIGNALS: readonly TerminationSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP']

/** 128 + the signal's number: what a shell reports for a command the signal ended. */
export const SIGNAL_EXIT: Readonly<Record<TerminationSignal, number>> = {SIGHUP: 129, SIGINT: 130, SIGTERM: 143}

let received: TerminationSignal | undefined

/** The signal that is ending this command, if one is. */
export function terminatedBy(): TerminationSignal | undefined {
  return received
}

/**
 * Runs `onEnd` once, on the first SIGINT (Ctrl-C), SIGTERM or SIGHUP (a closed terminal, a dropped SSH session),
 * so that a long-running command can finish its work or give it up cleanly. A failed write to one of `streams`
 * (EIO from a terminal that is gone, EPIPE from a closed pipe) means the same as SIGHUP. Afterwards a second
 * SIGINT, a person pressing Ctrl-C again, exits at once; SIGTERM and SIGHUP, which a lost session may send more
 * than once, are ignored. Returns a function that stops watching (the stream listeners stay: a stream that failed
 * is destroyed, later writes to it are dropped silently, and they must not turn into uncaught errors).
 */
export function onTermination(
  onEnd: (signal: TerminationSignal) => void,
  streams: NodeJS.EventEmitter[] = [process.stdout, process.stderr],
): () => void {
  let ended = false
  const listeners = new Map(SIGNALS.map((signal) => [signal, () => end(signal)]))
  const stop = () => {
    for (const [signal, listener] of listeners) process.off(signal, listener)
  }
  const end = (signal: TerminationSignal) => {
    if (ended) return
    ended = true
    received = signal
    stop()
    process.on('SIGTERM', ignore)
    process.on('SIGHUP', ignore)
    process.once('SIGINT', () => process.exit(SIGNAL_EXIT.SIGINT))
    if (signal === 'SIGHUP') process.once('exit', raiseHangup)
    onEnd(signal)
  }
  for (const [signal, listener] of listeners) process.on(signal, listener)
  for (const stream of streams) {
    // Replaces oclif's stdout listener, which rethrows every error but EPIPE: the EIO of a closed terminal would
    // otherwise crash the process before its work is saved.
    stream.removeAllListeners('error')
    stream.on('error', () => end('SIGHUP'))
  }
  return stop
}

function ignore(): void {}

/**
 * A command ended by SIGHUP finishes its work, then ends by that signal's default action: its status is the
 * hangup's (129 in a shell), and Node's exit-time terminal reset is skipped, which aborts the process (SIGABRT)
 * when the terminal is gone (nodejs/node#51519, fixed after Node 20). Raised from the 'exit' event, which runs
 * whatever way the command ends, after its last output and before that reset.
 */
function raiseHangup(): void {
  process.removeAllListeners('SIGHUP')
  process.kill(process.pid, 'SIGHUP')
}
