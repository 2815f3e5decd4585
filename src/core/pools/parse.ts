import {AppError} from '../errors.js'
import {jsonExcerpt} from './json-excerpt.js'
import {findJsonSyntaxProblem} from './json-syntax.js'

export interface JsonErrorPosition {
  offset: number
  line: number
  /** 1-based, in characters (code points), as editors count. */
  column: number
  reason: string
}

export type JsonParse = {ok: true; value: unknown} | {ok: false; error: JsonErrorPosition; text: string}

/** Parses JSON text (a leading BOM allowed); on failure, where and why, computed from the text and not V8's message. */
export function parseJson(text: string): JsonParse {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  try {
    return {ok: true, value: JSON.parse(body)}
  } catch {
    // JSON.parse and the scanner follow the same grammar; the fallback only guards against a disagreement.
    const problem = findJsonSyntaxProblem(body) ?? {offset: body.length, reason: 'the text is not valid JSON'}
    return {ok: false, error: {...problem, ...lineAndColumn(body, problem.offset)}, text: body}
  }
}

/**
 * Parses a file of ours (the pool file, config.json). A syntax error names the line and column, and shows that line
 * with a caret under the error and secret-looking values masked.
 */
export function parseJsonFile(text: string, file: string): unknown {
  const parsed = parseJson(text)
  if (parsed.ok) return parsed.value
  const {line, column, reason, offset} = parsed.error
  throw new AppError(`${file}:${line}:${column}: invalid JSON (${reason}). The file was not changed.`, {
    code: 'invalid_json',
    excerpt: jsonExcerpt(parsed.text, offset, line),
    suggestions: ['Fix the file by hand (or restore a backup); aiclient never overwrites a file it cannot parse.'],
  })
}

export function lineAndColumn(text: string, offset: number): {line: number; column: number} {
  let line = 1
  let lineStart = 0
  const end = Math.min(offset, text.length)
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++
      lineStart = i + 1
    }
  }
  return {line, column: codePoints(text.slice(lineStart, end)) + 1}
}

function codePoints(text: string): number {
  let count = 0
  for (const _ of text) count++
  return count
}
