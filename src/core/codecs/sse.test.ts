import {describe, expect, it} from 'vitest'
import {createCodeAssistStreamDecoder, createUnwrappingSseTransform} from './code-assist/index.js'
import {codecs} from './index.js'
import {EventTooLargeError, createSseParser, formatSse, type SseEvent} from './sse.js'

const bytes = (text: string) => new TextEncoder().encode(text)

function parseAll(chunks: Uint8Array[]): SseEvent[] {
  const parser = createSseParser()
  return [...chunks.flatMap((chunk) => parser.push(chunk)), ...parser.end()]
}

function splitAt(data: Uint8Array, ...offsets: number[]): Uint8Array[] {
  const cuts = [0, ...offsets, data.length]
  return cuts.slice(1).map((end, i) => data.subarray(cuts[i], end))
}

describe('createSseParser', () => {
  it('parses events with and without names, LF and CRLF endings', () => {
    const text = 'event: message_start\ndata: {"a":1}\n\ndata: two\r\n\r\nevent:x\r\ndata:three\r\n\r\n'
    expect(parseAll([bytes(text)])).toEqual([
      {event: 'message_start', data: '{"a":1}'},
      {data: 'two'},
      {event: 'x', data: 'three'},
    ])
  })

  it('accepts a lone CR as a line ending', () => {
    expect(parseAll([bytes('data: a\r\rdata: b\r\r')])).toEqual([{data: 'a'}, {data: 'b'}])
  })

  it('ignores comment lines, unknown fields and blank lines without data', () => {
    const text = ': keep-alive\n\nid: 7\nretry: 10\ndata: x\n\n:ping\n\n\n'
    expect(parseAll([bytes(text)])).toEqual([{data: 'x'}])
  })

  it('joins several data lines with newlines and keeps the value after one optional space', () => {
    expect(parseAll([bytes('data: a\ndata:  b\ndata\n\n')])).toEqual([{data: 'a\n b\n'}])
  })

  it('dispatches a final event that lacks the closing blank line', () => {
    expect(parseAll([bytes('data: 1\n\ndata: 2')])).toEqual([{data: '1'}, {data: '2'}])
  })

  it('does not split a CRLF that straddles two chunks into two line endings', () => {
    const chunks = [bytes('data: a\r'), bytes('\n\r'), bytes('\ndata: b\r\n\r\n')]
    expect(parseAll(chunks)).toEqual([{data: 'a'}, {data: 'b'}])
  })

  it('decodes a multi-byte character split across chunks', () => {
    const data = bytes('data: 東京 🌧️ ok\n\n')
    const emojiStart = data.indexOf(0xf0)
    expect(parseAll(splitAt(data, 8, emojiStart + 1, emojiStart + 3))).toEqual([{data: '東京 🌧️ ok'}])
  })

  it('gives the same events for every single cut of the input', () => {
    const data = bytes('event: a\r\ndata: {"t":"é😀中"}\r\n\r\n: c\n\ndata: x\ndata: y\n\nevent: b\rdata: z\r\r')
    const whole = parseAll([data])
    expect(whole).toHaveLength(3)
    for (let cut = 0; cut <= data.length; cut++) expect(parseAll(splitAt(data, cut))).toEqual(whole)
  })

  it('gives the same events when fed one byte at a time', () => {
    const data = bytes('data: 🌞\r\n\r\ndata: done\n\n')
    expect(parseAll(splitAt(data, ...Array.from({length: data.length - 1}, (_, i) => i + 1)))).toEqual([
      {data: '🌞'},
      {data: 'done'},
    ])
  })

  it('drops a byte order mark at the start of the stream, even one cut across reads, and keeps a later one', () => {
    const data = Uint8Array.from([0xef, 0xbb, 0xbf, ...bytes('data: \uFEFFa\n\n')])
    for (let cut = 0; cut <= 4; cut++) expect(parseAll(splitAt(data, cut))).toEqual([{data: '\uFEFFa'}])
    const later = [bytes('data: a\n\ndata: '), Uint8Array.from([0xef, 0xbb, 0xbf]), bytes('b\n\n')]
    expect(parseAll(later)).toEqual([{data: 'a'}, {data: '\uFEFFb'}])
  })

  it('replaces each invalid byte sequence with one U+FFFD, as the WHATWG decoder does, wherever the reads are cut', () => {
    // A lone continuation byte, an overlong form, a surrogate, a truncated euro sign before "x", and a truncated
    // emoji at the very end of the stream.
    const data = Uint8Array.from([
      ...bytes('data: '),
      0x80,
      0xc0,
      0x80,
      0xed,
      0xa0,
      0x80,
      0xe2,
      0x82,
      0x78,
      0x0a,
      ...bytes('data: '),
      0xf0,
      0x9f,
      0x98,
    ])
    const expected = [{data: '\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFDx\n\uFFFD'}]
    for (let cut = 0; cut <= data.length; cut++) expect(parseAll(splitAt(data, cut))).toEqual(expected)
  })

  it('stays linear on a long line delivered in many small chunks', () => {
    const line = `data: ${'x'.repeat(2_000_000)}\n\n`
    const data = bytes(line)
    const parser = createSseParser()
    const started = performance.now()
    let events: SseEvent[] = []
    for (let i = 0; i < data.length; i += 64) events = events.concat(parser.push(data.subarray(i, i + 64)))
    events = events.concat(parser.end())
    expect(events[0]?.data.length).toBe(2_000_000)
    expect(performance.now() - started).toBeLessThan(2_000)
  })
})

describe('the event limit', () => {
  const feed = (limit: number, chunks: string[]) => {
    const parser = createSseParser(limit)
    return [...chunks.flatMap((chunk) => parser.push(bytes(chunk))), ...parser.end()]
  }

  it('refuses a line that never ends once it passes the limit, without waiting for more', () => {
    const parser = createSseParser(1000)
    parser.push(bytes(`data: ${'x'.repeat(900)}`))
    expect(() => parser.push(bytes('x'.repeat(200)))).toThrow(EventTooLargeError)
  })

  it('counts every data line of one event', () => {
    const lines = Array.from({length: 20}, () => `data: ${'y'.repeat(99)}\n`)
    expect(() => feed(1000, lines)).toThrow(/longer than the limit/)
  })

  it('starts counting afresh with each event, so a long stream of small events passes', () => {
    const events = Array.from({length: 100}, (_, i) => `data: ${String(i).padStart(500, '0')}\n\n`)
    expect(feed(1000, events)).toHaveLength(100)
  })

  it('lets an event within the limit through', () => {
    expect(feed(1000, [`data: ${'z'.repeat(990)}`, '\n\n'])[0]!.data).toHaveLength(990)
  })

  const decoders: Array<[string, (limit: number) => {push(chunk: Uint8Array): unknown}]> = [
    ['OpenAI', (limit) => codecs.openai.createStreamDecoder({maxEventLength: limit})],
    ['Anthropic', (limit) => codecs.anthropic.createStreamDecoder({maxEventLength: limit})],
    ['Gemini', (limit) => codecs.gemini.createStreamDecoder({maxEventLength: limit})],
    ['Responses', (limit) => codecs.responses.createStreamDecoder({maxEventLength: limit})],
    ['Code Assist', (limit) => createCodeAssistStreamDecoder({maxEventLength: limit})],
    ['Code Assist unwrapping', (limit) => createUnwrappingSseTransform({maxEventLength: limit})],
  ]
  for (const [name, create] of decoders) {
    it(`bounds the ${name} stream decoder`, () => {
      const decoder = create(1000)
      expect(() => decoder.push(bytes(`data: {"text":"${'x'.repeat(2000)}`))).toThrow(EventTooLargeError)
    })
  }
})

describe('formatSse', () => {
  it('writes data-only and named events', () => {
    expect(formatSse('{"a":1}')).toBe('data: {"a":1}\n\n')
    expect(formatSse('{}', 'ping')).toBe('event: ping\ndata: {}\n\n')
  })

  it('round-trips multi-line data through the parser', () => {
    expect(parseAll([bytes(formatSse('a\nb', 'e'))])).toEqual([{event: 'e', data: 'a\nb'}])
  })
})
