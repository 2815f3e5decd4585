import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {EXAMPLE_POOLS} from '../../../test/helpers/cli.js'
import {jsonExcerpt} from './json-excerpt.js'
import {findJsonSyntaxProblem} from './json-syntax.js'
import {lineAndColumn, parseJson} from './parse.js'

describe('findJsonSyntaxProblem', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['{"a": sk-abcdefghijklmnop, "b": 1}', 6, /a value was expected/],
    ['{"a": "x" "b": 1}', 10, /',' or '}' was expected/],
    ['{"a": 1,, }', 8, /property name in double quotes was expected after the comma/],
    ['{"a": 1', 7, /ends before the JSON is complete/],
    ['', 0, /ends before/],
    ['{"a": "line\nbreak"}', 11, /raw control character/],
    ['[1,]', 3, /a value was expected/],
    ['{"a": tru}', 6, /a value was expected/],
    ['{"a": 01}', 7, /',' or '}' was expected/],
    ['{"a":"\\q"}', 6, /invalid escape/],
    ['{"a":"\\u12"}', 6, /four hexadecimal digits/],
    ['{"a": "never closed}', 6, /never closed/],
    ['{"a" 1}', 5, /':' was expected/],
    ['{} {}', 3, /more text follows/],
    ['{a: 1}', 1, /property name in double quotes or '}'/],
    ['[1 2]', 3, /',' or '\]' was expected/],
    ['-', 0, /number is malformed/],
  ]
  for (const [text, offset, reason] of cases) {
    it(`${JSON.stringify(text)} → offset ${offset}`, () => {
      const problem = findJsonSyntaxProblem(text)
      expect(problem).toMatchObject({offset})
      expect(problem!.reason).toMatch(reason)
    })
  }

  it('agrees with JSON.parse on what is valid, over mutations of a real pool file', () => {
    const base = readFileSync(EXAMPLE_POOLS, 'utf8')
    const alphabet = ['"', ',', ':', '{', '}', '[', ']', '\\', ' ', '\n', 'a', '1', '-', '.', 'e', '\u0001', 't']
    let seed = 7
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed % n
    }
    for (let run = 0; run < 3000; run++) {
      const at = random(base.length)
      const op = random(3)
      const char = alphabet[random(alphabet.length)]!
      const text =
        op === 0
          ? base.slice(0, at) + base.slice(at + 1)
          : op === 1
            ? base.slice(0, at) + char + base.slice(at)
            : base.slice(0, at) + char + base.slice(at + 1)
      let valid = true
      try {
        JSON.parse(text)
      } catch {
        valid = false
      }
      expect(findJsonSyntaxProblem(text) === null, JSON.stringify(text.slice(Math.max(0, at - 20), at + 20))).toBe(
        valid,
      )
    }
  })

  it('handles deep nesting without recursion', () => {
    expect(findJsonSyntaxProblem('['.repeat(200_000))).toMatchObject({offset: 200_000})
    expect(findJsonSyntaxProblem(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)).toBeNull()
  })
})

describe('parseJson positions', () => {
  it('counts lines and columns from the offset, in characters, after a BOM', () => {
    const parsed = parseJson('\ufeff{\n  "name": "工作账号",\n  "x": oops\n}')
    expect(parsed.ok).toBe(false)
    if (!parsed.ok) expect(parsed.error).toMatchObject({line: 3, column: 8})
    expect(lineAndColumn('ab\ncd', 4)).toEqual({line: 2, column: 2})
    expect(lineAndColumn('😀x', 2)).toEqual({line: 1, column: 2})
  })
})

describe('jsonExcerpt', () => {
  const excerpt = (text: string) => {
    const problem = findJsonSyntaxProblem(text)!
    return jsonExcerpt(text, problem.offset, lineAndColumn(text, problem.offset).line)
  }

  it('masks values of secret fields and token-like values, keeps what is plainly not secret', () => {
    const shown = excerpt(
      '{"OPENAI_API_KEY": "sk-abcdefghijklmnopqrstuvwxyz0123", "OPENAI_BASE_URL": "https://u:pw@api.example/v1", "n": 3 "x": 1}',
    )
    expect(shown).toContain('"OPENAI_API_KEY": "sk-…0123"')
    expect(shown).toContain('"https://u:****@api.example/v1"')
    expect(shown).not.toContain('abcdefghijklmnop')
    expect(shown).not.toContain(':pw@')
    const other = excerpt('{"customName": "work", "note": "ghp_0123456789abcdefABCDEF", "refresh": Zx9-aaaaaaaa}')
    expect(other).toContain('"customName": "work"')
    expect(other).not.toContain('0123456789abcdef')
    expect(other).not.toContain('Zx9-aaaa')
  })

  it('masks property names that are not field names, escapes control characters, and cuts long lines around the caret', () => {
    expect(excerpt('{"sk-0123456789abcdef0123": 1,, }')).toContain('"****": 1,,')
    const escaped = excerpt('{"customName": "\u001b]0;t", "a": nope}')
    expect(escaped).toContain('"\\u001b]0;t"')
    expect(escaped).not.toContain('\u001b')
    const long = `{${'"a": 1, '.repeat(500)}"b": 2,, "c": 3}`
    const [line, caret] = excerpt(long).split('\n')
    expect(line!.length).toBeLessThan(120)
    expect(line![caret!.indexOf('^')]).toBe(',')
    expect(line![caret!.indexOf('^') - 1]).toBe(',')
  })

  it('puts the caret under the error', () => {
    const [line, caret] = excerpt('{\n  "a": [1, 2,, 3]\n}').split('\n')
    expect(line).toBe('2 |   "a": [1, 2,, 3]')
    expect(line![caret!.indexOf('^')]).toBe(',')
    expect(caret!.indexOf('^')).toBe(line!.indexOf(',,') + 1)
  })
})
