import type {IRUsage} from '../codecs/ir.js'
import type {Protocol} from '../codecs/types.js'
import {reportedUsage, type StreamUsage} from './extract.js'

type Text = string | Buffer

/** A needle in both forms: Buffer#indexOf would otherwise encode a string needle on every call. */
interface Needle {
  text: string
  bytes: Buffer
}

const needle = (text: string): Needle => ({text, bytes: Buffer.from(text)})

function find(text: Text, what: Needle, from = 0): number {
  return typeof text === 'string' ? text.indexOf(what.text, from) : text.indexOf(what.bytes, from)
}

const USAGE = needle('usage')

const LF = 0x0a
const QUOTE = 0x22
const BACKSLASH = 0x5c
const COLON = 0x3a
const OPEN_BRACE = 0x7b
const CAPITAL_M = 0x4d
const UNDERSCORE = 0x5f

/**
 * The keys whose string values are what the model wrote, per protocol, for the output estimate of a stream that
 * reports no usage. Searched without their opening quote (see scrub.ts: a needle starting with `"` is slow), and
 * each search costs, so OpenAI's `content` also finds `reasoning_content` (see textChars).
 */
const TEXT_KEYS: Record<Protocol, string[]> = {
  openai: ['content"', 'arguments"'],
  anthropic: ['text"', 'thinking"', 'partial_json"'],
  responses: ['delta"'],
  gemini: ['text"'],
}

/**
 * Reads the usage of a stream that passes to the client as whole lines (same-protocol bytes, or a reshaped
 * stream), without decoding it: only a line where `usage` or `usageMetadata` opens an object is parsed, and of
 * those only the ones that count (the last; for Anthropic also message_start's, which message_delta updates).
 * Every chunk of a Gemini stream carries usage and OpenAI ones say `"usage":null`, so lines are kept as text and
 * parsed once the stream ends. With `dropUsageChunk`, OpenAI's usage-only chunk (`choices: []`) is left out of
 * the text: it was asked for by the proxy, not by the client.
 */
export class UsageLines implements StreamUsage {
  /**
   * Characters of the text values in the stream, for an estimate when it reports no usage: counted only until
   * the stream first names its usage, since counting costs more than everything else here.
   */
  chars = 0
  private first: string | undefined
  private last: string | undefined
  private found: IRUsage | undefined
  private named = false
  private readonly keys: Needle[]

  constructor(
    private readonly protocol: Protocol,
    private readonly dropUsageChunk = false,
  ) {
    this.keys = TEXT_KEYS[protocol].map(needle)
  }

  scan(text: Text): Text {
    if (text.length === 0) return text
    let out = text
    for (let at = find(text, USAGE); at !== -1; at = find(text, USAGE, at + 5)) {
      if (at === 0 || code(text, at - 1) !== QUOTE) continue
      const value = valueAfterKey(text, at + 5)
      if (value !== undefined) this.named = true
      if (value !== OPEN_BRACE) continue
      const start = lastByte(text, LF, at) + 1
      const newline = findByte(text, LF, at)
      const line = slice(text, start, newline === -1 ? text.length : newline)
      if (this.dropUsageChunk && this.protocol === 'openai') {
        const chunk = parseLine(line)
        if (isUsageChunk(chunk)) {
          this.found = reportedUsage('openai', chunk)
          out = without(out, line)
          continue
        }
      }
      if (this.first === undefined) this.first = line
      else this.last = line
    }
    // An upstream that names usage at all (`"usage":null` included) reports it: only others need the text counted.
    if (!this.named) this.chars += textChars(text, this.keys)
    return out
  }

  /** What the stream reported, undefined when it reported nothing. */
  usage(): IRUsage | undefined {
    if (this.found) return this.found
    const first = this.first === undefined ? undefined : reportedUsage(this.protocol, parseLine(this.first))
    if (this.last === undefined) return first
    // Anthropic's message_delta counts on from message_start; elsewhere the last report is the whole answer's.
    return (
      reportedUsage(this.protocol, parseLine(this.last), this.protocol === 'anthropic' ? first : undefined) ?? first
    )
  }
}

/** A byte's position: searched for as a number in bytes, which is much faster there than a one-character string. */
function findByte(text: Text, byte: number, from: number): number {
  return typeof text === 'string' ? text.indexOf(String.fromCharCode(byte), from) : text.indexOf(byte, from)
}

function lastByte(text: Text, byte: number, from: number): number {
  return typeof text === 'string' ? text.lastIndexOf(String.fromCharCode(byte), from) : text.lastIndexOf(byte, from)
}

function slice(text: Text, start: number, end: number): string {
  return typeof text === 'string' ? text.slice(start, end) : text.toString('utf8', start, end)
}

function code(text: Text, at: number): number | undefined {
  return typeof text === 'string' ? text.charCodeAt(at) : text[at]
}

/**
 * After a key's name (from `from`: `usage`, or `usageMetadata`), the first character of its value; undefined where
 * the name is not a key (not followed by a quote and a colon).
 */
function valueAfterKey(text: Text, from: number): number | undefined {
  let at = from
  if (code(text, at) === CAPITAL_M && slice(text, at, at + 8) === 'Metadata') at += 8
  if (code(text, at) !== QUOTE) return undefined
  at = skipSpace(text, at + 1)
  if (code(text, at) !== COLON) return undefined
  return code(text, skipSpace(text, at + 1))
}

function skipSpace(text: Text, from: number): number {
  let at = from
  for (let c = code(text, at); c === 0x20 || c === 0x09; c = code(text, ++at));
  return at
}

/** The JSON of an SSE `data:` line (or of one element of a streamed array). */
function parseLine(line: string): unknown {
  const start = line.indexOf('{')
  try {
    return JSON.parse(line.slice(start, line.lastIndexOf('}') + 1))
  } catch {
    return undefined
  }
}

function isUsageChunk(chunk: unknown): boolean {
  if (typeof chunk !== 'object' || chunk === null) return false
  const {choices} = chunk as {choices?: unknown}
  return Array.isArray(choices) && choices.length === 0
}

/** The text without one of its lines and the line break after it. */
function without(text: Text, line: string): Text {
  if (typeof text === 'string') {
    const at = text.indexOf(line)
    const end = text[at + line.length] === '\n' ? at + line.length + 1 : at + line.length
    return text.slice(0, at) + text.slice(end)
  }
  const at = text.indexOf(line)
  const length = Buffer.byteLength(line)
  const end = text[at + length] === LF ? at + length + 1 : at + length
  return Buffer.concat([text.subarray(0, at), text.subarray(end)])
}

/** The length of every string value under one of the keys: the bytes between its quotes, escapes included. */
function textChars(text: Text, keys: readonly Needle[]): number {
  let chars = 0
  for (const key of keys) {
    const {length} = key.text
    for (let at = find(text, key); at !== -1; at = find(text, key, at + length)) {
      const before = code(text, at - 1)
      if (before !== QUOTE && before !== UNDERSCORE) continue
      let from = skipSpace(text, at + length)
      if (code(text, from) !== COLON) continue
      from = skipSpace(text, from + 1)
      if (code(text, from) !== QUOTE) continue
      const close = closingQuote(text, from + 1)
      if (close === -1) break
      chars += close - from - 1
      at = close - length + 1
    }
  }
  return chars
}

function closingQuote(text: Text, from: number): number {
  for (let at = findByte(text, QUOTE, from); at !== -1; at = findByte(text, QUOTE, at + 1)) {
    let slashes = 0
    while (code(text, at - 1 - slashes) === BACKSLASH) slashes++
    if (slashes % 2 === 0) return at
  }
  return -1
}
