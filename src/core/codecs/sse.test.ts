import {describe, expect, it} from 'vitest'
import {createSseParser, formatSse, type SseEvent} from './sse.js'

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

describe('formatSse', () => {
  it('writes data-only and named events', () => {
    expect(formatSse('{"a":1}')).toBe('data: {"a":1}\n\n')
    expect(formatSse('{}', 'ping')).toBe('event: ping\ndata: {}\n\n')
  })

  it('round-trips multi-line data through the parser', () => {
    expect(parseAll([bytes(formatSse('a\nb', 'e'))])).toEqual([{event: 'e', data: 'a\nb'}])
  })
})
