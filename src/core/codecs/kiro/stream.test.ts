import {describe, expect, it} from 'vitest'
import {streamProblems} from '../../../../test/fixtures/codecs/validate-stream.js'
import {codecs} from '../index.js'
import type {IRStreamEvent} from '../ir.js'
import {encodeFrame} from '../../../../test/fakes/kiro-frames.js'
import type {KiroFrame} from './eventstream.js'
import {createKiroStreamDecoder, type KiroStreamOptions} from './stream.js'

const event = (eventType: string, payload: unknown): KiroFrame => ({messageType: 'event', eventType, payload})
const content = (text: string): KiroFrame => event('assistantResponseEvent', {content: text})
const toolUse = (payload: Record<string, unknown>): KiroFrame => event('toolUseEvent', payload)
const exception = (exceptionType: string, message: string): KiroFrame => ({
  messageType: 'exception',
  exceptionType,
  payload: {message},
})
const bytesOf = (frames: KiroFrame[]): Uint8Array => Buffer.concat(frames.map(encodeFrame))

// Message and generated tool-call ids are random; number them in order of appearance.
function normalise(events: IRStreamEvent[]): IRStreamEvent[] {
  const ids = new Map<string, string>()
  const stable = (id: string): string => {
    if (!/^(msg|toolu)_/.test(id)) return id
    if (!ids.has(id)) ids.set(id, `${id.slice(0, id.indexOf('_'))}_${ids.size}`)
    return ids.get(id) ?? id
  }
  return events.map((e) =>
    (e.type === 'message_start' || e.type === 'block_start') && e.id ? {...e, id: stable(e.id)} : e,
  )
}

function decode(reads: Uint8Array[], opts: KiroStreamOptions = {}): IRStreamEvent[] {
  const decoder = createKiroStreamDecoder({model: 'claude-sonnet-4-6', ...opts})
  return normalise([...reads.flatMap((read) => decoder.push(read)), ...decoder.end()])
}

const decodeFrames = (frames: KiroFrame[], opts: KiroStreamOptions = {}): IRStreamEvent[] =>
  decode([bytesOf(frames)], opts)

function textOf(events: IRStreamEvent[], type: 'text_delta' | 'thinking_delta' = 'text_delta'): string {
  return events.map((e) => (e.type === type ? e.text : '')).join('')
}

function blocksOf(events: IRStreamEvent[]): string[] {
  return events.flatMap((e) =>
    e.type === 'block_start' ? [e.kind === 'tool_call' ? `tool_call:${e.name}` : e.kind] : [],
  )
}

const rich: KiroFrame[] = [
  content('<thinking>\nThe user wants 東京'),
  content(' weather.</thinking>\n\nLet me check 🌍 '),
  content('Tokyo. [Called get_time with args: {"zone": "Asia/Tokyo", "fmt": "[hh]"}]'),
  event('meteringEvent', {unit: 'credit', unitPlural: 'credits', usage: 0.02}),
  toolUse({toolUseId: 'tooluse_1', name: 'get_weather', input: '{"city": "東'}),
  toolUse({toolUseId: 'tooluse_1', input: '京"}'}),
  toolUse({toolUseId: 'tooluse_1', name: 'get_weather', stop: true}),
  event('contextUsageEvent', {contextUsagePercentage: 2.5}),
]

describe('createKiroStreamDecoder', () => {
  it('turns a rich answer into the IR grammar', () => {
    const events = decodeFrames(rich)
    expect(events[0]).toEqual({type: 'message_start', id: 'msg_0', model: 'claude-sonnet-4-6'})
    expect(blocksOf(events)).toEqual(['thinking', 'text', 'tool_call:get_time', 'tool_call:get_weather'])
    expect(textOf(events, 'thinking_delta')).toBe('The user wants 東京 weather.')
    expect(textOf(events)).toBe('Let me check 🌍 Tokyo. ')
    expect(events.filter((e) => e.type === 'tool_input_delta')).toEqual([
      {type: 'tool_input_delta', index: 2, json: '{"zone":"Asia/Tokyo","fmt":"[hh]"}'},
      {type: 'tool_input_delta', index: 3, json: '{"city":"東京"}'},
    ])
    expect(events.find((e) => e.type === 'block_start' && e.name === 'get_weather')).toMatchObject({id: 'tooluse_1'})
    // Output: 115 characters / 4; input: 2.5 % of 200k minus that.
    const usage = {inputTokens: 4971, outputTokens: 29, estimated: true}
    expect(events.at(-1)).toEqual({type: 'message_end', stopReason: 'tool_use', usage})
    const encoder = codecs.anthropic.createStreamEncoder({model: 'claude-sonnet-4-6'})
    expect(streamProblems('anthropic', encoder.encode(events) + encoder.finish())).toEqual([])
  })

  it('gives the same events for every cut of the bytes, and byte by byte', () => {
    const data = bytesOf(rich)
    const whole = decode([data])
    for (let cut = 0; cut <= data.length; cut++) {
      expect(decode([data.subarray(0, cut), data.subarray(cut)])).toEqual(whole)
    }
    expect(decode(Array.from(data, (byte) => Uint8Array.of(byte)))).toEqual(whole)
  })

  it('returns events as soon as the read that completes them arrives', () => {
    const decoder = createKiroStreamDecoder()
    const first = encodeFrame(content('Hel'))
    expect(decoder.push(first.subarray(0, 20))).toEqual([])
    expect(decoder.push(first.subarray(20))).toMatchObject([
      {type: 'message_start'},
      {type: 'block_start'},
      {type: 'text_delta', text: 'Hel'},
    ])
    expect(decoder.push(encodeFrame(content('lo')))).toEqual([{type: 'text_delta', index: 0, text: 'lo'}])
  })

  it('stays linear: 10000 fragments in odd-sized reads', () => {
    const frames = Array.from({length: 10_000}, (_, i) => content(`${i % 10}é`))
    const data = bytesOf(frames)
    const reads: Uint8Array[] = []
    for (let offset = 0; offset < data.length; offset += 97) reads.push(data.subarray(offset, offset + 97))
    const started = performance.now()
    const events = decode(reads)
    expect(textOf(events)).toHaveLength(20_000)
    expect(performance.now() - started).toBeLessThan(3_000)
  })
})

describe('createKiroStreamDecoder: tool calls', () => {
  it('joins fragments per toolUseId, interleaved or not, and maps shortened names back', () => {
    const events = decodeFrames(
      [
        content('Reading.'),
        toolUse({toolUseId: 'a', name: 'short_x', input: '{"p":'}),
        toolUse({toolUseId: 'b', name: 'other', input: {already: 'an object'}}),
        toolUse({toolUseId: 'a', input: '1}'}),
        toolUse({toolUseId: 'b', stop: true}),
        toolUse({input: ''}),
        toolUse({toolUseId: 'a', stop: true}),
      ],
      {toolNameMap: {short_x: 'a_very_long_original_name'}},
    )
    expect(events).toEqual([
      {type: 'message_start', id: 'msg_0', model: 'claude-sonnet-4-6'},
      {type: 'block_start', index: 0, kind: 'text'},
      {type: 'text_delta', index: 0, text: 'Reading.'},
      {type: 'block_stop', index: 0},
      {type: 'block_start', index: 1, kind: 'tool_call', id: 'b', name: 'other'},
      {type: 'tool_input_delta', index: 1, json: '{"already":"an object"}'},
      {type: 'block_stop', index: 1},
      {type: 'block_start', index: 2, kind: 'tool_call', id: 'a', name: 'a_very_long_original_name'},
      {type: 'tool_input_delta', index: 2, json: '{"p":1}'},
      {type: 'block_stop', index: 2},
      {type: 'message_end', stopReason: 'tool_use', usage: {inputTokens: 0, outputTokens: 13, estimated: true}},
    ])
  })

  it('reads empty arguments as {} and opens a new text block after a call', () => {
    const events = decodeFrames([toolUse({toolUseId: 't', name: 'now', stop: true}), content('Done.')])
    expect(blocksOf(events)).toEqual(['tool_call:now', 'text'])
    expect(events).toContainEqual({type: 'tool_input_delta', index: 0, json: '{}'})
  })

  it('fails the stream when the arguments are not a JSON object', () => {
    const events = decodeFrames([toolUse({toolUseId: 't', name: 'f', input: '[1, 2]', stop: true}), content('after')])
    expect(events).toEqual([
      {type: 'message_start', id: 'msg_0', model: 'claude-sonnet-4-6'},
      {
        type: 'error',
        status: 502,
        kind: 'server',
        message: 'Kiro tool call t has arguments that are not a JSON object',
      },
    ])
  })

  it('finishes a call whose stop never came if its arguments are complete, else reports the cut', () => {
    expect(blocksOf(decodeFrames([toolUse({toolUseId: 't', name: 'f', input: '{"a":1}'})]))).toEqual(['tool_call:f'])
    expect(decodeFrames([toolUse({toolUseId: 't', name: 'f', input: '{"a":'})]).at(-1)).toEqual({
      type: 'error',
      status: 502,
      kind: 'server',
      message: 'Kiro tool call t was cut off before its end',
    })
  })

  it('parses [Called …] text into calls across fragments and keeps look-alikes as text', () => {
    const events = decodeFrames([
      content('Sure. [Cal'),
      content('led read_file with args: {"path": "a]b.txt", "opts": {"n": [1, 2]}}'),
      content('] and [Called it a day] then [Called x'),
    ])
    expect(blocksOf(events)).toEqual(['text', 'tool_call:read_file', 'text'])
    expect(events).toContainEqual({type: 'tool_input_delta', index: 1, json: '{"path":"a]b.txt","opts":{"n":[1,2]}}'})
    expect(textOf(events)).toBe('Sure.  and [Called it a day] then [Called x')
    expect(events.at(-1)).toMatchObject({stopReason: 'tool_use'})
  })

  it('releases [Called text that never becomes a call header', () => {
    const decoder = createKiroStreamDecoder()
    const out = decoder.push(bytesOf([content(`[Called ${'the plumber '.repeat(12)}`)]))
    expect(textOf(out)).toMatch(/^\[Called the plumber/)
  })
})

describe('createKiroStreamDecoder: text and thinking', () => {
  it('drops a content event equal to the one before, and says so', () => {
    const dropped: string[] = []
    const frames = [
      content('Hi'),
      content('Hi'),
      content(' there'),
      toolUse({toolUseId: 't', name: 'f', stop: true}),
      content(' there'),
    ]
    const events = decodeFrames(frames, {onDropped: (field) => dropped.push(field)})
    expect(textOf(events)).toBe('Hi there there')
    expect(dropped).toEqual(['duplicate content event'])
  })

  it('accepts the wrapped form, with or without :event-type', () => {
    const wrapped: KiroFrame = {messageType: 'event', payload: {assistantResponseEvent: {content: 'A'}}}
    const events = decodeFrames([wrapped, event('assistantResponseEvent', {assistantResponseEvent: {content: 'B'}})])
    expect(textOf(events)).toBe('AB')
  })

  it('turns reasoningContentEvent into a signed thinking block, and redacted content into its own block', () => {
    const events = decodeFrames([
      event('reasoningContentEvent', {text: 'Hmm'}),
      event('reasoningContentEvent', {text: ', yes.'}),
      event('reasoningContentEvent', {signature: 'sig-1'}),
      event('reasoningContentEvent', {redactedContent: 'b64data'}),
      content('Answer.'),
    ])
    expect(events.slice(1, -1)).toEqual([
      {type: 'block_start', index: 0, kind: 'thinking'},
      {type: 'thinking_delta', index: 0, text: 'Hmm'},
      {type: 'thinking_delta', index: 0, text: ', yes.'},
      {type: 'signature_delta', index: 0, signature: 'sig-1'},
      {type: 'block_stop', index: 0},
      {type: 'block_start', index: 1, kind: 'redacted_thinking', data: 'b64data'},
      {type: 'block_stop', index: 1},
      {type: 'block_start', index: 2, kind: 'text'},
      {type: 'text_delta', index: 2, text: 'Answer.'},
      {type: 'block_stop', index: 2},
    ])
  })

  it('keeps a </thinking> the reasoning merely mentions inside the thinking block', () => {
    const events = decodeFrames([content('<thinking>I must not write </thinking> early.</thinking>\n\nOK')])
    expect(textOf(events, 'thinking_delta')).toBe('I must not write </thinking> early.')
    expect(textOf(events)).toBe('OK')
  })

  it('recognises <thinking> only at the start of the answer', () => {
    const events = decodeFrames([content('Use <thinking>tags</thinking>\n\nlike this')])
    expect(blocksOf(events)).toEqual(['text'])
    expect(textOf(events)).toBe('Use <thinking>tags</thinking>\n\nlike this')
  })

  it('reports max_tokens for an answer that is only reasoning', () => {
    const events = decodeFrames([content('<thinking>long thoughts')])
    expect(blocksOf(events)).toEqual(['thinking'])
    expect(events.at(-1)).toMatchObject({type: 'message_end', stopReason: 'max_tokens'})
  })

  it('skips metadata events and reports unknown ones', () => {
    const dropped: string[] = []
    const events = decodeFrames(
      [
        event('followupPromptEvent', {followupPrompt: {content: 'Ask me more'}}),
        event('brandNewEvent', {x: 1}),
        content('x'),
      ],
      {onDropped: (field) => dropped.push(field)},
    )
    expect(textOf(events)).toBe('x')
    expect(dropped).toEqual(['event.brandNewEvent'])
  })
})

describe('createKiroStreamDecoder: usage and stop reasons', () => {
  it('uses metadataEvent token usage and stop reason when present', () => {
    const tokenUsage = {
      uncachedInputTokens: 40,
      cacheReadInputTokens: 10,
      cacheWriteInputTokens: 2,
      outputTokens: 7,
      totalTokens: 59,
    }
    const events = decodeFrames([content('cut'), event('metadataEvent', {tokenUsage, stopReason: 'MAX_TOKENS'})])
    expect(events.at(-1)).toEqual({
      type: 'message_end',
      stopReason: 'max_tokens',
      usage: {inputTokens: 52, outputTokens: 7, cachedInputTokens: 10, cacheCreationInputTokens: 2},
    })
  })

  it('says tool_use when calls were made, whatever END_TURN says', () => {
    const call = toolUse({toolUseId: 't', name: 'f', stop: true})
    const events = decodeFrames([call, event('metadataEvent', {stopReason: 'END_TURN'})])
    expect(events.at(-1)).toMatchObject({stopReason: 'tool_use'})
  })

  it('estimates input from the context percentage with a 200k window, 1M for Opus', () => {
    const frames = [content('x'.repeat(40)), event('contextUsageEvent', {contextUsagePercentage: 1})]
    expect(decodeFrames(frames).at(-1)).toMatchObject({usage: {inputTokens: 1990, outputTokens: 10}})
    const opus = decodeFrames(frames, {model: 'claude-opus-4-5'})
    expect(opus.at(-1)).toMatchObject({usage: {inputTokens: 9990, outputTokens: 10}})
  })
})

describe('createKiroStreamDecoder: failures', () => {
  it.each([
    ['throttlingException', 429, 'rate_limit'],
    ['ThrottlingException', 429, 'rate_limit'],
    ['validationException', 400, 'invalid_request'],
    ['internalServerException', 502, 'server'],
  ])('ends the stream on a %s frame, with nothing after it', (type, status, kind) => {
    const decoder = createKiroStreamDecoder()
    const out = decoder.push(bytesOf([content('partial'), exception(type, 'went wrong'), content('more')]))
    expect(out.at(-1)).toEqual({type: 'error', status, kind, message: `Kiro ${type}: went wrong`})
    expect(out.filter((e) => e.type === 'text_delta')).toHaveLength(1)
    expect(decoder.push(bytesOf([content('later')]))).toEqual([])
    expect(decoder.end()).toEqual([])
  })

  it('fails on an error message and on invalidStateEvent', () => {
    const error: KiroFrame = {messageType: 'error', errorCode: 'InternalFailure', errorMessage: 'boom', payload: null}
    expect(decodeFrames([error])).toEqual([
      {type: 'error', status: 502, kind: 'server', message: 'Kiro error InternalFailure: boom'},
    ])
    const invalid = event('invalidStateEvent', {reason: 'INVALID_TASK_ASSIST_PLAN', message: 'bad plan'})
    expect(decodeFrames([invalid]).at(-1)).toEqual({
      type: 'error',
      status: 400,
      kind: 'invalid_request',
      message: 'Kiro reported an invalid state (INVALID_TASK_ASSIST_PLAN): bad plan',
    })
  })

  it('delivers what came before a frame with a bad CRC, then fails', () => {
    const good = encodeFrame(content('fine'))
    const bad = Uint8Array.from(encodeFrame(content('damaged')))
    bad[bad.length - 6] = (bad[bad.length - 6] ?? 0) ^ 0x01
    const events = decode([Buffer.concat([good, bad, encodeFrame(content('never'))])])
    expect(textOf(events)).toBe('fine')
    expect(events.at(-1)).toMatchObject({type: 'error', status: 502, kind: 'server'})
    expect((events.at(-1) as {message: string}).message).toMatch(/^Kiro event stream is damaged: The message checksum/)
  })

  it('reports a stream cut inside a frame, and an empty stream', () => {
    const data = bytesOf([content('Hello'), content(' world')])
    const cut = decode([data.subarray(0, data.length - 3)])
    expect(textOf(cut)).toBe('Hello')
    expect(cut.at(-1)).toEqual({
      type: 'error',
      status: 502,
      kind: 'server',
      message: 'Kiro event stream is damaged: stream ended inside a frame (125 bytes left)',
    })
    expect(decode([])).toEqual([{type: 'error', status: 502, kind: 'server', message: 'upstream stream was empty'}])
  })
})
