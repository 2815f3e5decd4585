import {UsageError} from './core/errors.js'

/** All of stdin as UTF-8, refusing more than `maxBytes` (stdin may be /dev/zero or an endless pipe). */
export async function readStdin(maxBytes: number, what: string): Promise<string> {
  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of process.stdin) {
    total += (chunk as Buffer).length
    if (total > maxBytes) {
      process.stdin.destroy()
      throw new UsageError(`stdin gave more than ${maxBytes} bytes; ${what} is far shorter.`, {code: 'stdin_too_large'})
    }
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}
