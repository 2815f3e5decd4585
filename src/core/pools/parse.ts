import {AppError} from '../errors.js'

/** Parses JSON text, turning V8's offset-based message into the line and column a person can jump to. */
export function parseJsonFile(text: string, file: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  try {
    return JSON.parse(body)
  } catch (error) {
    const message = (error as Error).message
    const offset = errorOffset(message, body)
    const {line, column} = lineAndColumn(body, offset)
    const reason = message.replace(/\s*in JSON at position \d+.*$/s, '').replace(/,\s*".*" is not valid JSON$/s, '')
    throw new AppError(`${file}:${line}:${column}: invalid JSON (${reason}). The file was not changed.`, {
      code: 'invalid_json',
      suggestions: ['Fix the file by hand (or restore a backup); aiclient never overwrites a file it cannot parse.'],
    })
  }
}

function errorOffset(message: string, text: string): number {
  const position = /at position (\d+)/.exec(message)
  if (position) return Number(position[1])
  const lineColumn = /\(line (\d+) column (\d+)\)/.exec(message)
  if (lineColumn) {
    const lines = text.split('\n')
    const line = Number(lineColumn[1])
    return lines.slice(0, line - 1).reduce((sum, l) => sum + l.length + 1, 0) + Number(lineColumn[2]) - 1
  }
  // "Unexpected end of JSON input" and friends point past the last character.
  return text.length
}

export function lineAndColumn(text: string, offset: number): {line: number; column: number} {
  let line = 1
  let lineStart = 0
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++
      lineStart = i + 1
    }
  }
  return {line, column: offset - lineStart + 1}
}
