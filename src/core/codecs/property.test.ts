import {describe, expect, it} from 'vitest'
import {
  arbitraryRequest,
  arbitraryResponse,
  Gen,
  seeded,
  streamEvents,
} from '../../../test/fixtures/codecs/arbitrary.js'
import {streamProblems} from '../../../test/fixtures/codecs/validate-stream.js'
import {codecs} from './index.js'
import type {IRResponse, IRResponseBlock, IRStreamEvent} from './ir.js'
import type {Protocol} from './types.js'

// decode(encode(x)) = x for generated IR values, within what each protocol carries (the restrictions are
// listed in fixtures/arbitrary.ts). Seeds are fixed so a failure names a reproducible case.
const protocols: Protocol[] = ['openai', 'anthropic', 'gemini', 'responses']
const requestProtocols = protocols
const RUNS = 250

function forSeeds(run: (gen: Gen, seed: number) => void): void {
  for (let seed = 1; seed <= RUNS; seed++) run(new Gen(seeded(seed)), seed)
}

// Folds a decoded event stream back into the response it describes.
function assemble(events: IRStreamEvent[]): IRResponse {
  const res: IRResponse = {model: '', content: [], stopReason: 'other', usage: {inputTokens: 0, outputTokens: 0}}
  const json = new Map<number, string>()
  const blocks = new Map<number, IRResponseBlock>()
  for (const event of events) {
    switch (event.type) {
      case 'message_start':
        if (event.id !== undefined) res.id = event.id
        res.model = event.model ?? ''
        break
      case 'block_start': {
        const signature = event.signature !== undefined && {signature: event.signature}
        const block: IRResponseBlock =
          event.kind === 'tool_call'
            ? {type: 'tool_call', id: event.id ?? '', name: event.name ?? '', input: {}, ...signature}
            : event.kind === 'redacted_thinking'
              ? {type: 'redacted_thinking', data: event.data ?? ''}
              : {type: event.kind, text: ''}
        blocks.set(event.index, block)
        res.content.push(block)
        json.set(event.index, '')
        break
      }
      case 'text_delta':
      case 'thinking_delta': {
        const block = blocks.get(event.index)
        if (block?.type === 'text' || block?.type === 'thinking') block.text += event.text
        break
      }
      case 'signature_delta': {
        const block = blocks.get(event.index)
        if (block?.type === 'text' || block?.type === 'thinking') block.signature = event.signature
        break
      }
      case 'tool_input_delta':
        json.set(event.index, (json.get(event.index) ?? '') + event.json)
        break
      case 'block_stop': {
        const block = blocks.get(event.index)
        if (block?.type === 'tool_call') block.input = JSON.parse(json.get(event.index) || '{}') as typeof block.input
        break
      }
      case 'message_end':
        res.stopReason = event.stopReason
        if (event.stopSequence !== undefined) res.stopSequence = event.stopSequence
        if (event.usage) res.usage = event.usage
        break
      case 'error':
        throw new Error(`unexpected error event: ${event.message}`)
    }
  }
  return res
}

describe.each(requestProtocols)('%s request round trips', (protocol) => {
  const codec = codecs[protocol]

  it('requests', () => {
    forSeeds((gen, seed) => {
      const req = arbitraryRequest(gen, protocol)
      const body = JSON.parse(JSON.stringify(codec.encodeRequest(req))) as unknown
      expect(codec.decodeRequest(body, {model: req.model, stream: req.stream}), `seed ${seed}`).toEqual(req)
    })
  })
})

describe.each(protocols)('%s round trips', (protocol) => {
  const codec = codecs[protocol]

  it('responses', () => {
    forSeeds((gen, seed) => {
      const res = arbitraryResponse(gen, protocol)
      const body = JSON.parse(JSON.stringify(codec.encodeResponse(res))) as unknown
      expect(codec.decodeResponse(body), `seed ${seed}`).toEqual(res)
    })
  })

  it('streams, encoded event by event and decoded from randomly cut bytes', () => {
    forSeeds((gen, seed) => {
      const res = arbitraryResponse(gen, protocol)
      const encoder = codec.createStreamEncoder({model: res.model, includeUsage: true})
      let text = ''
      for (const event of streamEvents(gen, res)) text += encoder.encode([event])
      text += encoder.finish()
      expect(streamProblems(protocol, text), `seed ${seed}`).toEqual([])
      const bytes = new TextEncoder().encode(text)
      const cuts = [...new Set(gen.list(0, 6, () => gen.int(0, bytes.length)))].sort((a, b) => a - b)
      const decoder = codec.createStreamDecoder()
      const events: IRStreamEvent[] = []
      let start = 0
      for (const cut of [...cuts, bytes.length]) {
        events.push(...decoder.push(bytes.subarray(start, cut)))
        start = cut
      }
      events.push(...decoder.end())
      expect(assemble(events), `seed ${seed}`).toEqual(res)
    })
  })
})
