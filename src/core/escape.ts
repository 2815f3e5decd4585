/**
 * Text from outside — requests, upstream answers, the pool file, credential files, OAuth servers — ends up on
 * terminals and in log lines. Control characters in it could forge log lines (a line break), move the cursor,
 * retitle the window or write the clipboard (ESC ] 52), and bidi overrides could make the rest of a line read in
 * another order than it is stored. Such characters are shown as visible escapes instead: `\n`, `\x1b`, `\u202e`.
 *
 * Escaped: C0 controls (U+0000–U+001F, with TAB, CR and LF), DEL, C1 controls (U+0080–U+009F, which terminals may
 * take as CSI or OSC), the line and paragraph separators U+2028/U+2029, and the bidi embeddings, overrides and
 * isolates (U+202A–U+202E, U+2066–U+2069). Kept: every printable character, including CJK, emoji (and the
 * zero-width joiner inside them) and the left-to-right/right-to-left marks that right-to-left names need.
 * Backslashes are kept as they are: a path like C:\Users stays readable, and a literal "\n" cannot act.
 */
const BEYOND_C0 = '\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069'
const UNSAFE = new RegExp(`[\\u0000-\\u001f${BEYOND_C0}]`, 'g')

const NAMED: Record<string, string> = {'\n': '\\n', '\r': '\\r', '\t': '\\t'}

function visible(char: string): string {
  const named = NAMED[char]
  if (named) return named
  const code = char.charCodeAt(0)
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
}

/** One line of display-safe text: every control character, line breaks included, becomes a visible escape. */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, visible)
}

/** Colour (SGR) sequences as chalk writes them, and line breaks: the only controls our own output is made of. */
const LAYOUT_OR_UNSAFE = new RegExp(`(\\u001b\\[[0-9;]*m|\\n)|${UNSAFE.source}`, 'g')

/**
 * For whole texts this program composed (tables, messages, help): keeps their line breaks and colours and
 * escapes every other control character. A backstop for values that were not escaped where they were inserted;
 * a line break inside such a value cannot be told from ours, so values are escaped with `escapeControls`.
 */
export function escapeForTerminal(text: string): string {
  return text.replace(LAYOUT_OR_UNSAFE, (match, layout: string | undefined) => layout ?? visible(match))
}

const JSON_RAW = new RegExp(`[${BEYOND_C0}]`, 'g')

/**
 * JSON text that stays the same JSON: `JSON.stringify` escapes C0 controls but writes DEL, C1 controls, bidi
 * controls and U+2028/U+2029 raw. Outside strings JSON text is ASCII without controls, so each such character
 * sits in a string, where `\uXXXX` means the same.
 */
export function escapeJsonText(json: string): string {
  return json.replace(JSON_RAW, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
