// Kiro's text fragments carry two things that are not answer text (upstreams.md §7.2, §7.4): the reasoning,
// as `<thinking>…</thinking>` at the very start of the answer when the request asked for thinking, and now
// and then a tool call written out as `[Called <name> with args: {…}]`. The splitter turns fragments into
// text, thinking and tool-call pieces, holding back only what could still become a tag or a call, so each
// character is looked at a bounded number of times.
import {parseJsonObject, type JsonObject} from '../values.js'

export type TextPiece = {type: 'text' | 'thinking'; text: string} | {type: 'call'; name: string; input: JsonObject}

export interface TextSplitter {
  push(fragment: string): TextPiece[]
  // Releases what is held back: before a tool-use or reasoning event, and at the end of the stream. A
  // `<thinking>` tag is recognised only before the first flush.
  flush(): TextPiece[]
}

const OPEN_TAG = '<thinking>'
const CLOSE_TAG = '</thinking>'
// The model closes its reasoning with a blank line; a `</thinking>` followed by anything else is the
// reasoning talking about the tag (AIClient-2-API's rule). At a flush, trailing whitespace also closes it.
const AFTER_CLOSE = '\n\n'
const CALL_START = '[Called'
const CALL_HEADER = /^\[Called\s+[\w.-]+\s+with\s+args:/
const CALL = /^\[Called\s+([\w.-]+)\s+with\s+args:([\s\S]*)\]$/
// Text that has not become a call header within this many characters is released as text.
const MAX_HEADER_LENGTH = 128

interface CallScan {
  scanned: number
  depth: number
  inString: boolean
  escaped: boolean
  header: boolean
}

interface SplitState {
  phase: 'start' | 'thinking' | 'text'
  // What could still become a tag or a call.
  held: string
  stripNewline: boolean
  call: CallScan | undefined
  pieces: TextPiece[]
}

export function createTextSplitter(): TextSplitter {
  const state: SplitState = {phase: 'start', held: '', stripNewline: false, call: undefined, pieces: []}

  function run(final: boolean): TextPiece[] {
    if (state.phase === 'start') splitStart(state, final)
    if (state.phase === 'thinking') splitThinking(state, final)
    if (state.phase === 'text') splitText(state, final)
    const out = state.pieces
    state.pieces = []
    return out
  }

  return {
    push(fragment) {
      state.held += fragment
      return run(false)
    },
    flush() {
      const out = run(true)
      state.phase = 'text'
      return out
    },
  }
}

function add(state: SplitState, type: 'text' | 'thinking', text: string): void {
  if (text === '') return
  const last = state.pieces.at(-1)
  if (last?.type === type) last.text += text
  else state.pieces.push({type, text})
}

// Releases the held text as `type`, but for an end that could still become `token` (nothing at a flush).
function release(state: SplitState, type: 'text' | 'thinking', token: string, final: boolean): void {
  const keep = final ? 0 : partialSuffix(state.held, token)
  add(state, type, state.held.slice(0, state.held.length - keep))
  state.held = state.held.slice(state.held.length - keep)
}

function splitStart(state: SplitState, final: boolean): void {
  const lead = state.held.trimStart()
  const undecided = lead === '' || (lead.length < OPEN_TAG.length && OPEN_TAG.startsWith(lead))
  if (undecided && !final) return
  if (lead.startsWith(OPEN_TAG)) {
    state.held = lead.slice(OPEN_TAG.length)
    state.phase = 'thinking'
    state.stripNewline = true
  } else state.phase = 'text'
}

function splitThinking(state: SplitState, final: boolean): void {
  if (state.stripNewline && state.held !== '') {
    if (state.held.startsWith('\n')) state.held = state.held.slice(1)
    state.stripNewline = false
  }
  for (;;) {
    const at = state.held.indexOf(CLOSE_TAG)
    if (at === -1) {
      return release(state, 'thinking', CLOSE_TAG, final)
    }
    const after = state.held.slice(at + CLOSE_TAG.length)
    if (after.startsWith(AFTER_CLOSE) || (final && after.trim() === '')) {
      add(state, 'thinking', state.held.slice(0, at))
      state.held = after.startsWith(AFTER_CLOSE) ? after.slice(AFTER_CLOSE.length) : ''
      state.phase = 'text'
      return
    }
    if (!final && AFTER_CLOSE.startsWith(after)) {
      add(state, 'thinking', state.held.slice(0, at))
      state.held = state.held.slice(at)
      return
    }
    add(state, 'thinking', state.held.slice(0, at + CLOSE_TAG.length))
    state.held = after
  }
}

function splitText(state: SplitState, final: boolean): void {
  for (;;) {
    if (!state.call) {
      const at = state.held.indexOf(CALL_START)
      if (at === -1) {
        return release(state, 'text', CALL_START, final)
      }
      add(state, 'text', state.held.slice(0, at))
      state.held = state.held.slice(at)
      state.call = {scanned: 0, depth: 0, inString: false, escaped: false, header: false}
    }
    state.call.header ||= CALL_HEADER.test(state.held)
    const end = closingBracket(state.held, state.call)
    if (end === -1) {
      if (!final && (state.call.header || state.held.length < MAX_HEADER_LENGTH)) return
      // Not a call after all, or one that never closed: it is text, and another call may follow.
      add(state, 'text', CALL_START)
      state.held = state.held.slice(CALL_START.length)
      state.call = undefined
      continue
    }
    const candidate = state.held.slice(0, end + 1)
    const parsed = parseCall(candidate)
    if (parsed) state.pieces.push({type: 'call', ...parsed})
    else add(state, 'text', candidate)
    state.held = state.held.slice(end + 1)
    state.call = undefined
  }
}

// Brackets inside JSON strings do not count, as in AIClient-2-API's matcher. Resumes where it stopped.
function closingBracket(text: string, scan: CallScan): number {
  for (let i = scan.scanned; i < text.length; i++) {
    const char = text[i]
    if (scan.inString) {
      if (scan.escaped) scan.escaped = false
      else if (char === '\\') scan.escaped = true
      else if (char === '"') scan.inString = false
    } else if (char === '"') scan.inString = true
    else if (char === '[') scan.depth++
    else if (char === ']' && --scan.depth === 0) {
      scan.scanned = i + 1
      return i
    }
  }
  scan.scanned = text.length
  return -1
}

function parseCall(text: string): {name: string; input: JsonObject} | undefined {
  const match = CALL.exec(text)
  const name = match?.[1]
  const input = match?.[2] === undefined ? undefined : parseJsonObject(match[2])
  return name !== undefined && input !== undefined ? {name, input} : undefined
}

// How many characters at the end of `text` could be the beginning of `token`.
function partialSuffix(text: string, token: string): number {
  for (let length = Math.min(token.length - 1, text.length); length > 0; length--) {
    if (text.endsWith(token.slice(0, length))) return length
  }
  return 0
}
