// Several answers and token log probabilities between OpenAI chat completions and Gemini.
import {describe, expect, it} from 'vitest'
import {convertStream, decodeStream, eventReads} from '../../../test/fixtures/codecs/run-stream.js'
import {parseSse} from '../../../test/fixtures/codecs/validate-stream.js'
import {collectStream} from './collect.js'
import {codecs} from './index.js'
import type {IRResponse} from './ir.js'

type Json = Record<string, any>

const bytes = (token: string) => Array.from(Buffer.from(token, 'utf8'))

// Two answers, each with its chosen tokens and the two likeliest at each step.
const gemini = {
  candidates: [
    {
      content: {role: 'model', parts: [{text: 'Hi é'}]},
      finishReason: 'STOP',
      index: 0,
      avgLogprobs: -0.25,
      logprobsResult: {
        topCandidates: [
          {
            candidates: [
              {token: 'Hi', logProbability: -0.1},
              {token: 'Hello', logProbability: -2.5},
            ],
          },
          // proto3 JSON leaves out a log probability of 0.
          {candidates: [{token: ' é'}, {token: ' e', logProbability: -3}]},
        ],
        chosenCandidates: [{token: 'Hi', logProbability: -0.1}, {token: ' é'}],
      },
    },
    {
      content: {role: 'model', parts: [{text: 'Hello'}]},
      finishReason: 'MAX_TOKENS',
      index: 1,
      logprobsResult: {
        topCandidates: [{candidates: [{token: 'Hello', logProbability: -2.5}]}],
        chosenCandidates: [{token: 'Hello', logProbability: -2.5}],
      },
    },
  ],
  usageMetadata: {promptTokenCount: 4, candidatesTokenCount: 3, totalTokenCount: 7},
  modelVersion: 'gemini-2.5-flash',
  responseId: 'resp-1',
}

const openai = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o',
  choices: [
    {
      index: 0,
      message: {role: 'assistant', content: 'Hi é', refusal: null},
      logprobs: {
        content: [
          {
            token: 'Hi',
            logprob: -0.1,
            bytes: bytes('Hi'),
            top_logprobs: [
              {token: 'Hi', logprob: -0.1, bytes: bytes('Hi')},
              {token: 'Hello', logprob: -2.5, bytes: bytes('Hello')},
            ],
          },
          {
            token: ' é',
            logprob: 0,
            bytes: bytes(' é'),
            top_logprobs: [
              {token: ' é', logprob: 0, bytes: bytes(' é')},
              {token: ' e', logprob: -3, bytes: bytes(' e')},
            ],
          },
        ],
        refusal: null,
      },
      finish_reason: 'stop',
    },
    {
      index: 1,
      message: {role: 'assistant', content: 'Hello', refusal: null},
      logprobs: {
        content: [
          {
            token: 'Hello',
            logprob: -2.5,
            bytes: bytes('Hello'),
            top_logprobs: [{token: 'Hello', logprob: -2.5, bytes: bytes('Hello')}],
          },
        ],
        refusal: null,
      },
      finish_reason: 'length',
    },
  ],
  usage: {prompt_tokens: 4, completion_tokens: 3, total_tokens: 7},
}

const ir: IRResponse = {
  id: 'resp-1',
  model: 'gemini-2.5-flash',
  content: [{type: 'text', text: 'Hi é'}],
  stopReason: 'end_turn',
  logprobs: [
    {
      token: 'Hi',
      logprob: -0.1,
      top: [
        {token: 'Hi', logprob: -0.1},
        {token: 'Hello', logprob: -2.5},
      ],
    },
    {
      token: ' é',
      logprob: 0,
      top: [
        {token: ' é', logprob: 0},
        {token: ' e', logprob: -3},
      ],
    },
  ],
  usage: {inputTokens: 4, outputTokens: 3},
  alternatives: [
    {
      content: [{type: 'text', text: 'Hello'}],
      stopReason: 'max_tokens',
      logprobs: [{token: 'Hello', logprob: -2.5, top: [{token: 'Hello', logprob: -2.5}]}],
    },
  ],
}

describe('a Gemini answer with several candidates and logprobsResult', () => {
  it('decodes to the first answer with the others as alternatives, each with its tokens', () => {
    expect(codecs.gemini.decodeResponse(gemini)).toEqual(ir)
  })

  it('reaches an OpenAI client as choices[] with the same index, message, finish_reason and logprobs', () => {
    const out = codecs.openai.encodeResponse(codecs.gemini.decodeResponse(gemini)) as Json
    expect(out.choices).toEqual(openai.choices)
    expect(out.usage).toMatchObject({prompt_tokens: 4, completion_tokens: 3})
  })

  it('is read by candidate index, whatever the order of the list', () => {
    const reversed = {...gemini, candidates: [...gemini.candidates].reverse()}
    expect(codecs.gemini.decodeResponse(reversed)).toEqual(ir)
  })
})

describe('an OpenAI answer with several choices and logprobs', () => {
  it('decodes to the first answer with the others as alternatives, each with its tokens', () => {
    expect(codecs.openai.decodeResponse(openai)).toEqual({...ir, id: 'chatcmpl-1', model: 'gpt-4o'})
  })

  it('reaches a Gemini client as candidates[] with index, finishReason, logprobsResult and avgLogprobs', () => {
    const out = codecs.gemini.encodeResponse(codecs.openai.decodeResponse(openai)) as Json
    const [first, second] = out.candidates
    expect(out.candidates).toHaveLength(2)
    expect(first).toEqual({
      content: {role: 'model', parts: [{text: 'Hi é'}]},
      finishReason: 'STOP',
      index: 0,
      avgLogprobs: -0.05,
      logprobsResult: {
        chosenCandidates: [
          {token: 'Hi', logProbability: -0.1},
          {token: ' é', logProbability: 0},
        ],
        topCandidates: [
          {
            candidates: [
              {token: 'Hi', logProbability: -0.1},
              {token: 'Hello', logProbability: -2.5},
            ],
          },
          {
            candidates: [
              {token: ' é', logProbability: 0},
              {token: ' e', logProbability: -3},
            ],
          },
        ],
        logProbabilitySum: -0.1,
      },
    })
    expect(second).toMatchObject({
      content: {role: 'model', parts: [{text: 'Hello'}]},
      finishReason: 'MAX_TOKENS',
      index: 1,
      avgLogprobs: -2.5,
      logprobsResult: {chosenCandidates: [{token: 'Hello', logProbability: -2.5}]},
    })
  })

  it('without top_logprobs gives no topCandidates, and a refusal’s tokens follow the content’s', () => {
    const choice = {
      index: 0,
      message: {role: 'assistant', content: null, refusal: 'No'},
      logprobs: {content: null, refusal: [{token: 'No', logprob: -1, bytes: [78], top_logprobs: []}]},
      finish_reason: 'stop',
    }
    const out = codecs.gemini.encodeResponse(codecs.openai.decodeResponse({...openai, choices: [choice]})) as Json
    expect(out.candidates).toEqual([
      {
        content: {role: 'model', parts: [{text: 'No'}]},
        finishReason: 'STOP',
        index: 0,
        avgLogprobs: -1,
        logprobsResult: {chosenCandidates: [{token: 'No', logProbability: -1}], logProbabilitySum: -1},
      },
    ])
  })
})

describe('one answer without log probabilities', () => {
  const single = {...openai, choices: [{...openai.choices[0], logprobs: null}]}

  it('decodes as before: no alternatives, no logprobs', () => {
    const decoded = codecs.openai.decodeResponse(single)
    expect(decoded).not.toHaveProperty('alternatives')
    expect(decoded).not.toHaveProperty('logprobs')
    const fromGemini = codecs.gemini.decodeResponse({
      ...gemini,
      candidates: [{...gemini.candidates[0], logprobsResult: undefined}],
    })
    expect(fromGemini).not.toHaveProperty('alternatives')
    expect(fromGemini).not.toHaveProperty('logprobs')
  })

  it('is one choice with logprobs: null, one candidate without logprobsResult', () => {
    const answer = codecs.openai.decodeResponse(single)
    expect((codecs.openai.encodeResponse(answer) as Json).choices).toEqual([
      {index: 0, message: single.choices[0]!.message, logprobs: null, finish_reason: 'stop'},
    ])
    expect((codecs.gemini.encodeResponse(answer) as Json).candidates).toEqual([
      {content: {role: 'model', parts: [{text: 'Hi é'}]}, finishReason: 'STOP', index: 0},
    ])
  })
})

describe('several answers or log probabilities an upstream sent unasked', () => {
  it.each(['anthropic', 'responses'] as const)('are reported dropped for %s clients, which cannot carry them', (to) => {
    const dropped: string[] = []
    const out = codecs[to].encodeResponse(ir, {onDropped: (field) => dropped.push(field)})
    expect(dropped).toEqual(['candidates[1..]', 'logprobs'])
    expect(JSON.stringify(out)).not.toContain('Hello')
  })
})

describe('log probabilities in a request', () => {
  it('OpenAI logprobs without top_logprobs ask Gemini for the chosen tokens only', () => {
    const ir = codecs.openai.decodeRequest({model: 'm', messages: [{role: 'user', content: 'x'}], logprobs: true})
    expect((codecs.gemini.encodeRequest(ir) as Json).generationConfig).toEqual({responseLogprobs: true})
  })

  it('Gemini responseLogprobs without a count asks OpenAI for the chosen tokens only', () => {
    const ir = codecs.gemini.decodeRequest({
      model: 'm',
      contents: [{parts: [{text: 'x'}]}],
      generationConfig: {responseLogprobs: true},
    })
    const out = codecs.openai.encodeRequest(ir) as Json
    expect(out.logprobs).toBe(true)
    expect(out).not.toHaveProperty('top_logprobs')
  })
})

describe('log probabilities in a stream', () => {
  const sse = (chunks: Json[], done = '') => chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join('') + done
  const events = (text: string): Json[] =>
    parseSse(text).flatMap((event) => (event.data === '[DONE]' ? [] : [JSON.parse(event.data) as Json]))
  const [hi, e] = openai.choices[0]!.logprobs.content
  const openAIChunk = (delta: Json, logprobs: Json | null, finish: string | null = null) => ({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    model: 'gpt-4o',
    choices: [{index: 0, delta, logprobs, finish_reason: finish}],
  })
  const openAIStream = sse(
    [
      openAIChunk({role: 'assistant', content: ''}, null),
      openAIChunk({content: 'Hi'}, {content: [hi], refusal: null}),
      openAIChunk({content: ' é'}, {content: [e], refusal: null}),
      openAIChunk({}, null, 'stop'),
    ],
    'data: [DONE]\n\n',
  )
  const geminiChunk = (text: string, step: number, finish?: string) => ({
    candidates: [
      {
        content: {role: 'model', parts: [{text}]},
        ...(finish && {finishReason: finish}),
        index: 0,
        logprobsResult: {
          topCandidates: [gemini.candidates[0]!.logprobsResult.topCandidates[step]],
          chosenCandidates: [gemini.candidates[0]!.logprobsResult.chosenCandidates[step]],
        },
      },
    ],
    modelVersion: 'gemini-2.5-flash',
    responseId: 'resp-1',
  })
  const geminiStream = sse([geminiChunk('Hi', 0), geminiChunk(' é', 1, 'STOP')])

  it('from OpenAI reach a Gemini client on the chunk of their text', () => {
    const chunks = events(convertStream('openai', 'gemini', eventReads(openAIStream)))
    const withText = chunks.filter((chunk) => chunk.candidates[0].content.parts.length > 0)
    expect(withText.map((chunk) => chunk.candidates[0])).toEqual([
      {
        content: {role: 'model', parts: [{text: 'Hi'}]},
        index: 0,
        avgLogprobs: -0.1,
        logprobsResult: {
          chosenCandidates: [{token: 'Hi', logProbability: -0.1}],
          topCandidates: [
            {
              candidates: [
                {token: 'Hi', logProbability: -0.1},
                {token: 'Hello', logProbability: -2.5},
              ],
            },
          ],
          logProbabilitySum: -0.1,
        },
      },
      {
        content: {role: 'model', parts: [{text: ' é'}]},
        index: 0,
        avgLogprobs: 0,
        logprobsResult: {
          chosenCandidates: [{token: ' é', logProbability: 0}],
          topCandidates: [
            {
              candidates: [
                {token: ' é', logProbability: 0},
                {token: ' e', logProbability: -3},
              ],
            },
          ],
          logProbabilitySum: 0,
        },
      },
    ])
  })

  it('from Gemini reach an OpenAI client on the chunk of their text', () => {
    const chunks = events(convertStream('gemini', 'openai', eventReads(geminiStream)))
    const withText = chunks.filter((chunk) => chunk.choices[0]?.delta.content)
    expect(withText.map((chunk) => chunk.choices[0])).toEqual([
      {index: 0, delta: {content: 'Hi'}, logprobs: {content: [hi], refusal: null}, finish_reason: null},
      {index: 0, delta: {content: ' é'}, logprobs: {content: [e], refusal: null}, finish_reason: null},
    ])
    expect(chunks.filter((chunk) => chunk.choices[0]?.logprobs !== undefined)).toHaveLength(2)
  })

  it('are collected into a plain answer', () => {
    const decoded = decodeStream('gemini', eventReads(geminiStream))
    expect(collectStream(decoded, 'm').logprobs).toEqual(ir.logprobs)
  })

  it.each(['anthropic', 'responses'] as const)('are reported dropped for %s clients, which cannot carry them', (to) => {
    const dropped: string[] = []
    const encoder = codecs[to].createStreamEncoder({model: 'm', onDropped: (field) => dropped.push(field)})
    encoder.encode(decodeStream('openai', eventReads(openAIStream)))
    expect(dropped).toEqual(['logprobs', 'logprobs'])
  })
})

describe('top_logprobs without logprobs', () => {
  it('is OpenAI’s own 400, not a request that quietly loses it', () => {
    const body = {model: 'm', messages: [{role: 'user', content: 'x'}], top_logprobs: 2}
    expect(() => codecs.openai.decodeRequest(body)).toThrow(
      expect.objectContaining({
        status: 400,
        message: "The 'top_logprobs' parameter is only allowed when 'logprobs' is enabled.",
      }),
    )
    expect(() => codecs.openai.decodeRequest({...body, logprobs: false})).toThrow(/only allowed when 'logprobs'/)
    expect(codecs.openai.decodeRequest({...body, top_logprobs: null})).not.toHaveProperty('logprobs')
  })
})
