import {maskSecret, maskUrlCredentials} from '../secrets.js'
import {SECRET_FIELD_PATTERN} from './fields.js'
import {PROVIDER_TYPES} from './types.js'

const WIDTH = 100
const SCAN = 4096
const TOKEN = /"(?:[^"\\]|\\.)*"?|[^\s"{}[\],:]+|\s+|[\s\S]/g

/**
 * The line of `text` holding `offset`, numbered, with a caret under the offset: what a person needs to find a
 * syntax error, and no secret. Values are shown only when they plainly are not secrets (numbers, literals, URLs
 * without passwords, dates, paths, plain words); property names only when they look like field names. Control
 * characters are escaped, and a long line is cut to a window around the caret.
 */
export function jsonExcerpt(text: string, offset: number, lineNumber: number): string {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1
  const newline = text.indexOf('\n', lineStart)
  const lineEnd = newline === -1 ? text.length : newline
  // Only the neighbourhood of the error is read, so a huge one-line file costs no more than a short one. A cut
  // through a string makes the rest look like bare words, which are masked: the cut errs towards hiding.
  const start = Math.max(lineStart, offset - SCAN)
  const line = text.slice(start, Math.min(lineEnd, offset + SCAN)).replace(/\r$/, '')
  const at = offset - start
  const tokens = [...line.matchAll(TOKEN)].map((m) => ({text: m[0], index: m.index}))
  const significant = (n: number) => tokens.slice(n, n + 2).find((t) => !/^\s+$/.test(t.text))?.text
  let shown = start > lineStart ? '…' : ''
  let caret: number | undefined
  let key: string | undefined
  tokens.forEach((token, n) => {
    const {display, verbatim} = render(token.text, token.text.startsWith('"') && significant(n + 1) === ':', key)
    if (token.text.startsWith('"') && significant(n + 1) === ':') key = unquote(token.text)
    else if (!/^[\s:]+$/.test(token.text)) key = undefined
    if (caret === undefined && at < token.index + token.text.length) {
      caret = shown.length + (verbatim ? escapeControl(token.text.slice(0, at - token.index)).length : 0)
    }
    shown += escapeControl(display)
  })
  caret ??= shown.length
  const gutter = String(lineNumber)
  const [windowed, column] = cut(shown, caret)
  return `${gutter} | ${windowed}\n${' '.repeat(gutter.length)} | ${' '.repeat(column)}^`
}

/** How one token of the line is shown; `key` is the property name the token is the value of, if any. */
function render(token: string, isKey: boolean, key: string | undefined): {display: string; verbatim: boolean} {
  if (/^\s+$/.test(token) || (token.length === 1 && '{}[],:'.includes(token))) return {display: token, verbatim: true}
  const quoted = token.startsWith('"')
  const closed = quoted && token.length > 1 && token.endsWith('"')
  const value = quoted ? unquote(token) : token
  if (isKey) return looksLikeFieldName(value) ? {display: token, verbatim: true} : {display: '"****"', verbatim: false}
  const plain =
    !(key !== undefined && SECRET_FIELD_PATTERN.test(key)) && (quoted ? isPlainString(value) : isPlainBareWord(value))
  const masked = plain ? maskUrlCredentials(value) : maskSecret(value)
  const display = quoted ? `"${masked}${closed ? '"' : ''}` : masked
  return {display, verbatim: display === token}
}

function unquote(token: string): string {
  return token.slice(1, token.length > 1 && token.endsWith('"') ? -1 : undefined)
}

const TYPES: readonly string[] = PROVIDER_TYPES

function looksLikeFieldName(name: string): boolean {
  return TYPES.includes(name) || /^[A-Za-z_]+$/.test(name)
}

function isPlainBareWord(word: string): boolean {
  return /^(true|false|null)$/.test(word) || /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(word)
}

function isPlainString(value: string): boolean {
  if (value.length < 8) return true
  if (/^https?:\/\/\S+$/i.test(value)) return true
  if (/^\d{4}-\d{2}-\d{2}T[\d:.]+Z?$/.test(value)) return true
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) return true
  if (/^[~.]?\/[\w./~-]*$/.test(value)) return true
  // Prose (a reason, a name): letters and punctuation only, no word long enough to be a token.
  return /^[A-Za-z ,.:;!?()'-]*$/.test(value) && value.split(/\s+/).every((word) => word.length < 16)
}

function escapeControl(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** At most WIDTH characters around the caret, with … where the line was cut; returns the text and the caret column. */
function cut(line: string, caret: number): [string, number] {
  if (line.length <= WIDTH) return [line, caret]
  const from = Math.max(0, Math.min(caret - WIDTH / 2, line.length - WIDTH))
  const to = from + WIDTH
  const head = from > 0 ? '…' : ''
  return [`${head}${line.slice(from, to)}${to < line.length ? '…' : ''}`, caret - from + head.length]
}
