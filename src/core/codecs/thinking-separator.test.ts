// Several thinking blocks (Anthropic thinking blocks, Gemini thought parts, Responses reasoning items or summary
// parts) joined into a protocol's single reasoning text keep a blank line between them, in every direction.
import {describe, expect, it} from 'vitest'
import {codecs} from './index.js'
import type {IRRequest, IRResponse, IRStreamEvent} from './ir.js'
import {encodeKiroRequest} from './kiro/request.js'
import {createSseParser} from './sse.js'
import type {Protocol} from './types.js'

type Json = Record<string, any>

const JOINED = 'First.\n\nSecond.'
const MODEL = 'm'

// ---- requests: a history holding two pieces of thinking ----

const user = (text: string) => ({role: 'user', content: text})
const HISTORIES: [string, Protocol, Json][] = [
  [
    'Anthropic thinking blocks',
    'anthropic',
    {
      model: MODEL,
      max_tokens: 100,
      messages: [
        user('Hi.'),
        {
          role: 'assistant',
          content: [
            {type: 'thinking', thinking: 'First.', signature: 's1'},
            {type: 'thinking', thinking: 'Second.', signature: 's2'},
            {type: 'text', text: 'Done.'},
          ],
        },
        user('Thanks.'),
      ],
    },
  ],
  [
    'Gemini thought parts',
    'gemini',
    {
      contents: [
        {role: 'user', parts: [{text: 'Hi.'}]},
        {role: 'model', parts: [{text: 'First.', thought: true}, {text: 'Second.', thought: true}, {text: 'Done.'}]},
        {role: 'user', parts: [{text: 'Thanks.'}]},
      ],
    },
  ],
  [
    'Responses reasoning items',
    'responses',
    {
      model: MODEL,
      input: [
        user('Hi.'),
        {type: 'reasoning', id: 'rs_1', summary: [{type: 'summary_text', text: 'First.'}]},
        {type: 'reasoning', id: 'rs_2', summary: [{type: 'summary_text', text: 'Second.'}]},
        {type: 'message', role: 'assistant', content: [{type: 'output_text', text: 'Done.'}]},
        user('Thanks.'),
      ],
    },
  ],
  [
    'Responses summary parts',
    'responses',
    {
      model: MODEL,
      input: [
        user('Hi.'),
        {
          type: 'reasoning',
          id: 'rs_1',
          summary: [
            {type: 'summary_text', text: 'First.'},
            {type: 'summary_text', text: 'Second.'},
          ],
        },
        {type: 'message', role: 'assistant', content: [{type: 'output_text', text: 'Done.'}]},
        user('Thanks.'),
      ],
    },
  ],
]

// Targets with one reasoning text per assistant turn, and where it is read.
const REQUEST_TARGETS: [string, (ir: IRRequest) => string][] = [
  [
    'OpenAI chat reasoning_content',
    (ir) => {
      const out = codecs.openai.encodeRequest(ir) as Json
      return out.messages.find((m: Json) => m.role === 'assistant').reasoning_content
    },
  ],
  [
    "Kiro's <thinking> text",
    (ir) => {
      const out = encodeKiroRequest(ir, {conversationId: 'c', modelId: 'm'}).body as Json
      const history: Json[] = out.conversationState.history
      const content: string = history.find((h) => h.assistantResponseMessage)!.assistantResponseMessage.content
      return /<thinking>([\s\S]*)<\/thinking>/.exec(content)?.[1] ?? ''
    },
  ],
]

describe('thinking in a history, joined for a single reasoning field', () => {
  for (const [source, protocol, wire] of HISTORIES) {
    it.each(REQUEST_TARGETS)(`${source} → %s`, (_target, read) => {
      const ir = codecs[protocol].decodeRequest(wire, {model: MODEL})
      expect(read(ir)).toBe(JOINED)
    })
  }
})

// ---- plain answers ----

const ANSWERS: [string, Protocol, Json][] = [
  [
    'Anthropic thinking blocks',
    'anthropic',
    {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: MODEL,
      content: [
        {type: 'thinking', thinking: 'First.', signature: 's1'},
        {type: 'thinking', thinking: 'Second.', signature: 's2'},
        {type: 'text', text: 'Done.'},
      ],
      stop_reason: 'end_turn',
      usage: {input_tokens: 1, output_tokens: 1},
    },
  ],
  [
    'Gemini thought parts',
    'gemini',
    {
      candidates: [
        {
          content: {
            role: 'model',
            parts: [{text: 'First.', thought: true}, {text: 'Second.', thought: true}, {text: 'Done.'}],
          },
          finishReason: 'STOP',
        },
      ],
    },
  ],
  [
    'Responses reasoning items',
    'responses',
    {
      id: 'resp_1',
      status: 'completed',
      model: MODEL,
      output: [
        {type: 'reasoning', id: 'rs_1', summary: [{type: 'summary_text', text: 'First.'}]},
        {type: 'reasoning', id: 'rs_2', summary: [{type: 'summary_text', text: 'Second.'}]},
        {type: 'message', role: 'assistant', content: [{type: 'output_text', text: 'Done.'}]},
      ],
    },
  ],
  [
    'Responses summary parts',
    'responses',
    {
      id: 'resp_1',
      status: 'completed',
      model: MODEL,
      output: [
        {
          type: 'reasoning',
          id: 'rs_1',
          summary: [
            {type: 'summary_text', text: 'First.'},
            {type: 'summary_text', text: 'Second.'},
          ],
        },
        {type: 'message', role: 'assistant', content: [{type: 'output_text', text: 'Done.'}]},
      ],
    },
  ],
]

describe('thinking in an answer, joined for an OpenAI chat client', () => {
  it.each(ANSWERS)('%s → reasoning_content', (_source, protocol, wire) => {
    const out = codecs.openai.encodeResponse(codecs[protocol].decodeResponse(wire)) as Json
    expect(out.choices[0].message).toMatchObject({reasoning_content: JOINED, content: 'Done.'})
  })
})

// ---- streams ----

const start = (index: number, kind: 'text' | 'thinking'): IRStreamEvent => ({type: 'block_start', index, kind})
const think = (index: number, text: string): IRStreamEvent => ({type: 'thinking_delta', index, text})
const stop = (index: number): IRStreamEvent => ({type: 'block_stop', index})
const END: IRStreamEvent = {type: 'message_end', stopReason: 'end_turn'}

// Each with the reasoning an OpenAI chat client reads, and the thought texts a Gemini client reads.
const STREAMS: [string, IRStreamEvent[], {openai: string; gemini: string[]}][] = [
  [
    'two thinking blocks',
    [start(0, 'thinking'), think(0, 'First.'), stop(0), start(1, 'thinking'), think(1, 'Second.'), stop(1), END],
    {openai: JOINED, gemini: [JOINED]},
  ],
  [
    'thinking blocks around text',
    [
      start(0, 'thinking'),
      think(0, 'First.'),
      stop(0),
      start(1, 'text'),
      {type: 'text_delta', index: 1, text: 'Done.'},
      stop(1),
      start(2, 'thinking'),
      think(2, 'Second.'),
      stop(2),
      END,
    ],
    // Gemini shows the text part between them: they need no separator.
    {openai: JOINED, gemini: ['First.', 'Second.']},
  ],
  // A block holding only a signature adds no second separator.
  [
    'an empty signed block between',
    [
      start(0, 'thinking'),
      think(0, 'First.'),
      stop(0),
      start(1, 'thinking'),
      {type: 'signature_delta', index: 1, signature: 'sig'},
      stop(1),
      start(2, 'thinking'),
      think(2, 'Sec'),
      think(2, 'ond.'),
      stop(2),
      END,
    ],
    {openai: JOINED, gemini: [JOINED]},
  ],
  // Nor does one whose only delta is empty.
  [
    'an empty delta first',
    [
      start(0, 'thinking'),
      think(0, ''),
      stop(0),
      start(1, 'thinking'),
      think(1, 'First.'),
      stop(1),
      start(2, 'thinking'),
      think(2, 'Second.'),
      stop(2),
      END,
    ],
    {openai: JOINED, gemini: [JOINED]},
  ],
  [
    'one block in pieces (control)',
    [start(0, 'thinking'), think(0, 'First. '), think(0, 'Then second.'), stop(0), END],
    {openai: 'First. Then second.', gemini: ['First. Then second.']},
  ],
]

function sseData(text: string): Json[] {
  const parser = createSseParser()
  return [...parser.push(new TextEncoder().encode(text)), ...parser.end()]
    .filter((e) => e.data !== '[DONE]')
    .map((e) => JSON.parse(e.data))
}

/** The reasoning an OpenAI chat client reads: every reasoning_content delta, in order */
const openaiReasoning = (text: string): string =>
  sseData(text)
    .map((c) => c.choices[0]?.delta?.reasoning_content ?? '')
    .join('')

/** The thoughts a Gemini client reads: thought parts that follow each other make one text, other parts end it */
function geminiThoughts(text: string): string[] {
  const runs: string[] = []
  let open = false
  for (const part of sseData(text).flatMap((c) => c.candidates[0].content.parts)) {
    if (part.thought && open) runs[runs.length - 1] += part.text
    else if (part.thought) runs.push(part.text)
    open = part.thought === true
  }
  return runs
}

function encodeStream(target: Protocol, events: IRStreamEvent[], oneCall = false): string {
  const encoder = codecs[target].createStreamEncoder({model: MODEL})
  const out = oneCall ? encoder.encode(events) : events.map((e) => encoder.encode([e])).join('')
  return out + encoder.finish()
}

describe('streamed thinking, on a single reasoning channel', () => {
  for (const [name, events, expected] of STREAMS) {
    // Event by event, and all in one upstream read (Gemini puts them in one chunk).
    it.each([false, true])(`${name} → OpenAI chat (one read: %s)`, (oneCall) => {
      const stream = [{type: 'message_start'} as IRStreamEvent, ...events]
      expect(openaiReasoning(encodeStream('openai', stream, oneCall))).toBe(expected.openai)
    })
    it.each([false, true])(`${name} → Gemini (one read: %s)`, (oneCall) => {
      const stream = [{type: 'message_start'} as IRStreamEvent, ...events]
      expect(geminiThoughts(encodeStream('gemini', stream, oneCall))).toEqual(expected.gemini)
    })
  }

  // Upstream streams with two pieces of thinking, read by the real decoders.
  const twoThoughts: IRResponse = {
    model: MODEL,
    content: [
      {type: 'thinking', text: 'First.', signature: 's1'},
      {type: 'thinking', text: 'Second.', signature: 's2'},
      {type: 'text', text: 'Done.'},
    ],
    stopReason: 'end_turn',
    usage: {inputTokens: 1, outputTokens: 1},
  }
  const upstreamStream = (from: Protocol): string => {
    const encoder = codecs[from].createStreamEncoder({model: MODEL})
    const events: IRStreamEvent[] = [{type: 'message_start'}]
    twoThoughts.content.forEach((block, index) => {
      const kind = block.type === 'thinking' ? 'thinking' : 'text'
      events.push(start(index, kind))
      if (block.type === 'thinking') events.push(think(index, block.text))
      else if (block.type === 'text') events.push({type: 'text_delta', index, text: block.text})
      events.push(stop(index))
    })
    return encoder.encode([...events, END]) + encoder.finish()
  }
  const RESPONSES_SUMMARY_PARTS = [
    {type: 'response.created', response: {id: 'resp_1', model: MODEL}},
    {type: 'response.output_item.added', output_index: 0, item: {type: 'reasoning', id: 'rs_1', summary: []}},
    {type: 'response.reasoning_summary_part.added', output_index: 0, summary_index: 0},
    {type: 'response.reasoning_summary_text.delta', output_index: 0, summary_index: 0, delta: 'First.'},
    {type: 'response.reasoning_summary_part.added', output_index: 0, summary_index: 1},
    {type: 'response.reasoning_summary_text.delta', output_index: 0, summary_index: 1, delta: 'Second.'},
    {
      type: 'response.output_item.done',
      output_index: 0,
      item: {
        type: 'reasoning',
        id: 'rs_1',
        summary: [
          {type: 'summary_text', text: 'First.'},
          {type: 'summary_text', text: 'Second.'},
        ],
      },
    },
    {type: 'response.completed', response: {id: 'resp_1', model: MODEL, status: 'completed', output: []}},
  ]
    .map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`)
    .join('')
  const SOURCES: [string, Protocol, string][] = [
    ['Anthropic thinking blocks', 'anthropic', upstreamStream('anthropic')],
    ['Responses reasoning items', 'responses', upstreamStream('responses')],
    ['Responses summary parts', 'responses', RESPONSES_SUMMARY_PARTS],
  ]
  for (const [source, from, sse] of SOURCES) {
    it(`${source} (upstream stream) → OpenAI chat and Gemini`, () => {
      const decoder = codecs[from].createStreamDecoder()
      const events = [...decoder.push(new TextEncoder().encode(sse)), ...decoder.end()]
      expect(events.filter((e) => e.type === 'error')).toEqual([])
      expect(openaiReasoning(encodeStream('openai', events))).toBe(JOINED)
      expect(geminiThoughts(encodeStream('gemini', events))).toEqual([JOINED])
    })
  }
})
