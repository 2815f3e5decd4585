export interface JsonSyntaxProblem {
  /** Offset (UTF-16 code units) of the first character that makes the text invalid. */
  offset: number
  /** Why, in words that quote nothing from the text: the text may hold secrets or not be ours to show. */
  reason: string
}

type Expect = 'value' | 'value-or-close' | 'key' | 'key-or-close' | 'colon' | 'comma-or-close' | 'end'

const VALUE = 'a value was expected: a string in double quotes, a number, true, false, null, an object or an array'
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
const LITERALS = ['true', 'false', 'null']

/**
 * Where and why `text` is not JSON (RFC 8259), or null when it is. V8's own messages cannot be used for this: some
 * carry no position at all (so the error seemed to be at the end of the file) and some quote the text around the
 * error, secrets included. An explicit stack instead of recursion: deep nesting cannot overflow the call stack.
 */
export function findJsonSyntaxProblem(text: string): JsonSyntaxProblem | null {
  const stack: Array<'object' | 'array'> = []
  let expect: Expect = 'value'
  let i = 0
  const afterValue = (): Expect => (stack.length === 0 ? 'end' : 'comma-or-close')
  for (;;) {
    i = skipWhitespace(text, i)
    if (i >= text.length)
      return expect === 'end' ? null : {offset: text.length, reason: 'the text ends before the JSON is complete'}
    const c = text[i]!
    switch (expect) {
      case 'value':
      case 'value-or-close': {
        if (c === ']' && expect === 'value-or-close') {
          stack.pop()
          i++
          expect = afterValue()
        } else if (c === '{' || c === '[') {
          stack.push(c === '{' ? 'object' : 'array')
          i++
          expect = c === '{' ? 'key-or-close' : 'value-or-close'
        } else {
          const end = scanScalar(text, i)
          if (typeof end !== 'number') return end
          i = end
          expect = afterValue()
        }
        break
      }
      case 'key':
      case 'key-or-close': {
        if (c === '}' && expect === 'key-or-close') {
          stack.pop()
          i++
          expect = afterValue()
          break
        }
        if (c !== '"')
          return {
            offset: i,
            reason:
              expect === 'key'
                ? 'a property name in double quotes was expected after the comma'
                : "a property name in double quotes or '}' was expected",
          }
        const end = scanString(text, i)
        if (typeof end !== 'number') return end
        i = end
        expect = 'colon'
        break
      }
      case 'colon':
        if (c !== ':') return {offset: i, reason: "':' was expected after the property name"}
        i++
        expect = 'value'
        break
      case 'comma-or-close': {
        const close = stack.at(-1) === 'object' ? '}' : ']'
        if (c === ',') {
          i++
          expect = stack.at(-1) === 'object' ? 'key' : 'value'
        } else if (c === close) {
          stack.pop()
          i++
          expect = afterValue()
        } else {
          return {offset: i, reason: `',' or '${close}' was expected`}
        }
        break
      }
      case 'end':
        return {offset: i, reason: 'more text follows the end of the JSON value'}
    }
  }
}

function skipWhitespace(text: string, from: number): number {
  let i = from
  while (i < text.length) {
    const c = text.charCodeAt(i)
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break
    i++
  }
  return i
}

/** The offset after a string, number or literal starting at `start`, or the problem found there. */
function scanScalar(text: string, start: number): number | JsonSyntaxProblem {
  const c = text[start]!
  if (c === '"') return scanString(text, start)
  if (c === '-' || (c >= '0' && c <= '9')) {
    NUMBER.lastIndex = start
    const match = NUMBER.exec(text)
    if (!match) return {offset: start, reason: 'a number is malformed'}
    return start + match[0].length
  }
  for (const literal of LITERALS) if (text.startsWith(literal, start)) return start + literal.length
  return {offset: start, reason: VALUE}
}

function scanString(text: string, start: number): number | JsonSyntaxProblem {
  let i = start + 1
  while (i < text.length) {
    const c = text.charCodeAt(i)
    if (c === 0x22) return i + 1
    if (c < 0x20)
      return {
        offset: i,
        reason: 'a string holds a raw control character such as a line break (write it as an escape, e.g. \\n)',
      }
    if (c === 0x5c) {
      const next = text[i + 1]
      if (next === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6)))
          return {offset: i, reason: 'a \\u escape needs four hexadecimal digits'}
        i += 6
        continue
      }
      if (next === undefined || !'"\\/bfnrt'.includes(next))
        return {offset: i, reason: 'a string holds an invalid escape sequence'}
      i += 2
      continue
    }
    i++
  }
  return {offset: start, reason: 'a string that starts here is never closed'}
}
