import {redact} from '../secrets.js'

/**
 * Upstream stream events are JSON, one event per `data:` line, and every vendor's error event has `"error"` as a
 * key or a value (`{"error": {…}}`, `"type": "error"`). Quotes inside generated text are escaped, so a line
 * without this mark is an ordinary event and is passed on untouched: only error lines pay for redaction. A key
 * whose value is `null` is no error: every Responses API event that carries the response says `"error":null`.
 */
const ERROR_MARK = '"error"'
/**
 * Searched for first, then checked for the `"e` before it: Buffer#indexOf skips ahead to each `r` (rare enough in
 * JSON text) and is several times faster than a search for a needle starting with `"` (in JSON, every few bytes).
 */
const MARK_TAIL = Buffer.from('rror"')
const QUOTE = 0x22
const LOWER_E = 0x65
const LF = 0x0a
const COLON = 0x3a
const NULL = Buffer.from('null')

/** The longest partial line held back to be checked whole; a longer one is passed on in pieces as it comes. */
export const HELD_LINE_LIMIT = 64 * 1024

export interface LineScrubber {
  push(chunk: Buffer): Buffer | string
  end(): Buffer | string
}

/**
 * Same-protocol stream bytes as they come, except from the first error line on: upstreams echo the key or token
 * they were sent. Whole lines are checked, so a read that ends inside a line keeps that partial line until its
 * end arrives (SSE clients act on whole lines only, so this delays nothing they could use), and neither the mark
 * nor a secret can hide across two reads. Once an error shows, everything after it is redacted too: an event
 * spread over several lines, and whatever the upstream says before it closes.
 */
export function scrubErrorLines(): LineScrubber {
  let held: Buffer | undefined
  let failed = false
  const scrub = (bytes: Buffer): Buffer => {
    failed ||= hasErrorMark(bytes)
    return failed ? Buffer.from(redact(bytes.toString('utf8'))) : bytes
  }
  return {
    push(chunk) {
      const data = held ? Buffer.concat([held, chunk]) : chunk
      held = undefined
      const cut = data[data.length - 1] === LF ? data.length : data.lastIndexOf(LF) + 1
      if (cut === data.length || data.length - cut > HELD_LINE_LIMIT) return scrub(data)
      held = data.subarray(cut)
      return cut === 0 ? '' : scrub(data.subarray(0, cut))
    },
    end() {
      const rest = held
      held = undefined
      return rest ? scrub(rest) : ''
    },
  }
}

function hasErrorMark(bytes: Buffer): boolean {
  for (let at = bytes.indexOf(MARK_TAIL); at !== -1; at = bytes.indexOf(MARK_TAIL, at + MARK_TAIL.length)) {
    if (at >= 2 && bytes[at - 1] === LOWER_E && bytes[at - 2] === QUOTE && !nullValue(bytes, at + MARK_TAIL.length))
      return true
  }
  return false
}

/** Whether the JSON after a key (from `from`, just past its closing quote) is `: null`. */
function nullValue(bytes: Buffer, from: number): boolean {
  let at = skipSpace(bytes, from)
  if (bytes[at] !== COLON) return false
  at = skipSpace(bytes, at + 1)
  return bytes.subarray(at, at + NULL.length).equals(NULL)
}

function skipSpace(bytes: Buffer, from: number): number {
  let at = from
  while (bytes[at] === 0x20 || bytes[at] === 0x09) at++
  return at
}

/** For text that is whole events (a reshaped stream): redacted when it may carry an upstream error. */
export function scrubErrorText(text: string): string {
  return text.includes(ERROR_MARK) ? redact(text) : text
}
