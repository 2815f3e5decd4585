import type {IRUsage} from '../codecs/ir.js'
import type {Protocol} from '../codecs/types.js'
import {usageOf, type StreamUsage} from './extract.js'

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
const CLOSE_BRACE = 0x7d
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
 * stream), without decoding it: only where `usage` or `usageMetadata` is a key whose value is an object is that
 * object cut out, and only the ones that count are parsed once the stream ends (the last; for Anthropic also
 * message_start's, which message_delta updates). Every chunk of a Gemini stream carries usage, and a Responses
 * stream's carries the whole answer beside it, hence the object alone. With `dropUsageChunk`, OpenAI's usage-only
 * chunk (`choices: []`) is left out of the text: it was asked for by the proxy, not by the client.
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

  /** The text as the client gets it: as it came, or without the usage-only chunk. */
  scan<T extends Text>(text: T): T {
    if (text.length === 0) return text
    let out: Text = text
    for (let at = find(text, USAGE); at !== -1; at = find(text, USAGE, at + 5)) {
      if (at === 0 || code(text, at - 1) !== QUOTE) continue
      const value = valueAfterKey(text, at + 5)
      if (value === -1) continue
      this.named = true
      if (code(text, value) !== OPEN_BRACE) continue
      const end = objectEnd(text, value)
      if (end === -1) continue
      const object = slice(text, value, end)
      if (this.dropUsageChunk && this.protocol === 'openai') {
        const newline = findByte(text, LF, end)
        const line = slice(text, lastByte(text, LF, at) + 1, newline === -1 ? text.length : newline)
        if (isUsageChunk(line)) {
          this.found = parseUsage('openai', object)
          out = without(out, line)
          continue
        }
      }
      if (this.first === undefined) this.first = object
      else this.last = object
    }
    // An upstream that names usage at all (`"usage":null` included) reports it: only others need the text counted.
    if (!this.named) this.chars += textChars(text, this.keys)
    // `without` keeps the kind of text it is given.
    return out as T
  }

  /** What the stream reported, undefined when it reported nothing. */
  usage(): IRUsage | undefined {
    if (this.found) return this.found
    const first = this.first === undefined ? undefined : parseUsage(this.protocol, this.first)
    if (this.last === undefined) return first
    // Anthropic's message_delta counts on from message_start; elsewhere the last report is the whole answer's.
    return parseUsage(this.protocol, this.last, this.protocol === 'anthropic' ? first : undefined) ?? first
  }
}

function parseUsage(protocol: Protocol, object: string, base?: IRUsage): IRUsage | undefined {
  try {
    return usageOf(protocol, JSON.parse(object), base)
  } catch {
    return undefined
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
 * After a key's name (from `from`: `usage`, or `usageMetadata`), where its value starts; -1 where the name is not
 * a key (not followed by a quote and a colon).
 */
function valueAfterKey(text: Text, from: number): number {
  let at = from
  if (code(text, at) === CAPITAL_M && slice(text, at, at + 8) === 'Metadata') at += 8
  if (code(text, at) !== QUOTE) return -1
  at = skipSpace(text, at + 1)
  if (code(text, at) !== COLON) return -1
  return skipSpace(text, at + 1)
}

/** Just past the object that opens at `from`; -1 when it does not close in this text. */
function objectEnd(text: Text, from: number): number {
  let depth = 0
  let quoted = false
  for (let at = from; at < text.length; at++) {
    const c = code(text, at)
    if (quoted) {
      if (c === BACKSLASH) at++
      else if (c === QUOTE) quoted = false
    } else if (c === QUOTE) quoted = true
    else if (c === OPEN_BRACE) depth++
    else if (c === CLOSE_BRACE && --depth === 0) return at + 1
  }
  return -1
}

function skipSpace(text: Text, from: number): number {
  let at = from
  for (let c = code(text, at); c === 0x20 || c === 0x09; c = code(text, ++at));
  return at
}

/** Whether an OpenAI chunk's line is the usage-only one, which has no choices. */
function isUsageChunk(line: string): boolean {
  const start = line.indexOf('{')
  try {
    const chunk: unknown = JSON.parse(line.slice(start, line.lastIndexOf('}') + 1))
    const {choices} = (chunk ?? {}) as {choices?: unknown}
    return Array.isArray(choices) && choices.length === 0
  } catch {
    return false
  }
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
