import {describe, expect, it} from 'vitest'
import {escapeControls, escapeForTerminal, escapeJsonText} from './escape.js'

const OSC52 = '\u001b]52;c;cm0gLXJmIH4=\u0007'

describe('escapeControls', () => {
  it('keeps ordinary text, CJK, emoji with joiners, right-to-left text and its marks, backslashes', () => {
    for (const text of [
      'work account 3',
      '工作账号',
      '🧑‍💻 dev 🚀',
      'שלום\u200fעולם',
      'café — “quoted” ½',
      'C:\\Users\\me',
      'a\\nb',
      '',
    ]) {
      expect(escapeControls(text)).toBe(text)
    }
  })

  it('makes line breaks, tabs and carriage returns visible, so a value stays on its line', () => {
    expect(escapeControls('x\n200 POST forged')).toBe('x\\n200 POST forged')
    expect(escapeControls('a\r\nb\tc')).toBe('a\\r\\nb\\tc')
  })

  it('escapes ESC, BEL and every other C0 control, so no sequence reaches the terminal', () => {
    expect(escapeControls(OSC52)).toBe('\\x1b]52;c;cm0gLXJmIH4=\\x07')
    expect(escapeControls('\u001b]0;owned\u001b\\')).toBe('\\x1b]0;owned\\x1b\\')
    expect(escapeControls('\u0000\u0008\u000b\u000c\u001f')).toBe('\\x00\\x08\\x0b\\x0c\\x1f')
    for (let code = 0; code < 0x20; code++) expect(escapeControls(String.fromCharCode(code))).toMatch(/^\\/)
  })

  it('escapes DEL and the C1 controls that terminals read as CSI and OSC', () => {
    expect(escapeControls('\u007f')).toBe('\\x7f')
    expect(escapeControls('\u009b2J\u009d0;t\u009c')).toBe('\\x9b2J\\x9d0;t\\x9c')
    for (let code = 0x80; code <= 0x9f; code++) expect(escapeControls(String.fromCharCode(code))).toMatch(/^\\x[89]/)
    // The first printable characters after the C1 block are kept.
    expect(escapeControls('\u00a0\u00e9')).toBe('\u00a0\u00e9')
  })

  it('escapes bidi embeddings, overrides and isolates, and the Unicode line separators', () => {
    expect(escapeControls('invoice\u202egpj.exe')).toBe('invoice\\u202egpj.exe')
    for (const code of [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x2028, 0x2029]) {
      expect(escapeControls(String.fromCharCode(code))).toBe(`\\u${code.toString(16)}`)
    }
  })
})

describe('escapeForTerminal', () => {
  it('keeps our own line breaks and colours, and escapes every other control', () => {
    const colored = '\u001b[1mTYPE\u001b[22m  NAME\n\u001b[32m● healthy\u001b[39m'
    expect(escapeForTerminal(colored)).toBe(colored)
    expect(escapeForTerminal(`Removed ${OSC52}x.\n`)).toBe('Removed \\x1b]52;c;cm0gLXJmIH4=\\x07x.\n')
    expect(escapeForTerminal('a\rb\u009b31m\u202e')).toBe('a\\rb\\x9b31m\\u202e')
    // A sequence that only starts like a colour is not one.
    expect(escapeForTerminal('\u001b[2J\u001b[31;1m')).toBe('\\x1b[2J\u001b[31;1m')
  })
})

describe('escapeJsonText', () => {
  it('leaves JSON that means the same, with no raw C1, DEL or bidi control left', () => {
    const value = {name: `x\u009b2J\u007f\u202e\u2028${OSC52}工作账号`}
    const text = escapeJsonText(JSON.stringify(value, null, 2))
    expect(JSON.parse(text)).toEqual(value)
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/)
    expect(text).toContain('工作账号')
  })
})
