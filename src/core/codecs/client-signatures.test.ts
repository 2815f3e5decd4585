// Tagged signatures in the history of a client whose body passes through to an upstream of its own protocol.
import {describe, expect, it} from 'vitest'
import {
  mayHoldForeignSignatures,
  mayHoldSignatures,
  screenClientSignatures,
  stripClientSignatures,
} from './client-signatures.js'
import {accountTag, tagSignature} from './signatures.js'
import type {Protocol} from './types.js'

type Json = Record<string, any>

const ACCOUNT = accountTag('instance-a')
const CLAUDE = {type: 'claude-custom', account: ACCOUNT}
const GEMINI = {type: 'gemini-cli-oauth', account: ACCOUNT}
const RESPONSES = {type: 'openaiResponses-custom', account: ACCOUNT}

const anthropic = (signature: string): Json => ({
  model: 'm',
  max_tokens: 100,
  messages: [
    {role: 'user', content: 'Hi.'},
    {
      role: 'assistant',
      content: [
        {type: 'thinking', thinking: 'Hmm.', signature},
        {type: 'text', text: 'Hello.'},
      ],
    },
    {role: 'user', content: 'More.'},
  ],
})
const gemini = (signature: string): Json => ({
  contents: [
    {role: 'user', parts: [{text: 'Hi.'}]},
    {role: 'model', parts: [{functionCall: {name: 'ls', args: {}}, thoughtSignature: signature}]},
    {role: 'user', parts: [{functionResponse: {name: 'ls', response: {output: 'a.txt'}}}]},
  ],
})
const responses = (signature: string): Json => ({
  model: 'm',
  input: [
    {role: 'user', content: 'Hi.'},
    {type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: signature},
    {type: 'message', role: 'assistant', content: [{type: 'output_text', text: 'Hello.'}]},
  ],
})

// Where each protocol keeps the signature, and what is left when it goes.
const SHAPES: {protocol: Protocol; own: typeof CLAUDE; body: (s: string) => Json; read: (b: Json) => unknown}[] = [
  {protocol: 'anthropic', own: CLAUDE, body: anthropic, read: (b) => b.messages[1].content},
  {protocol: 'gemini', own: GEMINI, body: gemini, read: (b) => b.contents[1].parts[0]},
  {protocol: 'responses', own: RESPONSES, body: responses, read: (b) => b.input.slice(1, 3)},
]

describe('a tagged signature in a body that passes through', () => {
  it.each(SHAPES)(
    '$protocol: restored raw for the upstream and account that gave it',
    ({protocol, own, body, read}) => {
      const dropped: string[] = []
      const out = screenClientSignatures(protocol, body(tagSignature(own, 'raw-1')), own, {
        model: 'm',
        onDropped: (f) => dropped.push(f),
      })
      expect(read(out!)).toEqual(read(body('raw-1')))
      expect(dropped).toEqual([])
    },
  )

  it.each(SHAPES)("$protocol: another account's is removed, and reported", ({protocol, own, body, read}) => {
    const dropped: string[] = []
    const foreign = tagSignature({...own, account: accountTag('instance-b')}, 'raw-1')
    const out = screenClientSignatures(protocol, body(foreign), own, {model: 'm', onDropped: (f) => dropped.push(f)})
    expect(JSON.stringify(out)).not.toContain('raw-1')
    expect(dropped).toHaveLength(1)
    expect(dropped[0]).toMatch(/\(another upstream's\)$/)
    expect(read(out!)).toEqual(REMOVED[protocol])
  })

  it.each(SHAPES)("$protocol: another type's is removed", ({protocol, own, body}) => {
    const foreign = tagSignature({type: 'some-other-type', account: ACCOUNT}, 'raw-1')
    expect(JSON.stringify(screenClientSignatures(protocol, body(foreign), own, {model: 'm'}))).not.toContain('raw-1')
  })

  it.each(SHAPES)('$protocol: an untagged one leaves the body as it is', ({protocol, own, body}) => {
    expect(screenClientSignatures(protocol, body('EqQBraw'), own, {model: 'm'})).toBeUndefined()
  })
})

// What is left of the assistant turn: Anthropic and Responses lose the block or item (refused unsigned), Gemini
// only the signature.
const REMOVED: Record<string, unknown> = {
  anthropic: [{type: 'text', text: 'Hello.'}],
  gemini: {functionCall: {name: 'ls', args: {}}},
  responses: [{type: 'message', role: 'assistant', content: [{type: 'output_text', text: 'Hello.'}]}],
}

describe('Anthropic bodies left without a thinking block', () => {
  const loop = (signature: string): Json => ({
    model: 'm',
    max_tokens: 2000,
    thinking: {type: 'enabled', budget_tokens: 1024},
    messages: [
      {role: 'user', content: 'List.'},
      {
        role: 'assistant',
        content: [
          {type: 'thinking', thinking: '', signature},
          {type: 'tool_use', id: 'toolu_1', name: 'ls', input: {}},
        ],
      },
      {role: 'user', content: [{type: 'tool_result', tool_use_id: 'toolu_1', content: 'a.txt'}]},
    ],
  })

  it('in a tool loop: thinking is switched off, as Anthropic wants the calling turn to start with it', () => {
    const dropped: string[] = []
    const onDropped = (f: string) => dropped.push(f)
    const out = screenClientSignatures('anthropic', loop(tagSignature(GEMINI, 'g')), CLAUDE, {
      model: 'm',
      onDropped,
    }) as Json
    expect(out.thinking).toBeUndefined()
    expect(out.messages[1].content).toEqual([{type: 'tool_use', id: 'toolu_1', name: 'ls', input: {}}])
    expect(dropped).toEqual(["thinking block (another upstream's)", 'thinking (tool loop without thinking blocks)'])
  })

  it('in a tool loop with its own signature: thinking stays (control)', () => {
    const out = screenClientSignatures('anthropic', loop(tagSignature(CLAUDE, 'c')), CLAUDE, {model: 'm'}) as Json
    expect(out.thinking).toEqual({type: 'enabled', budget_tokens: 1024})
    expect(out.messages[1].content[0]).toEqual({type: 'thinking', thinking: '', signature: 'c'})
  })

  // What an Anthropic client gets for thinking that another upstream did not sign: Anthropic would refuse it.
  it('a thinking block with an empty signature is removed', () => {
    const dropped: string[] = []
    const out = screenClientSignatures('anthropic', anthropic(''), CLAUDE, {
      model: 'm',
      onDropped: (f) => dropped.push(f),
    }) as Json
    expect(out.messages[1].content).toEqual([{type: 'text', text: 'Hello.'}])
    expect(dropped).toEqual(['thinking block (unsigned)'])
  })

  it('a turn that held only a foreign thinking block is left out', () => {
    const body = anthropic('x')
    body.messages[1].content = [{type: 'redacted_thinking', data: tagSignature(GEMINI, 'g')}]
    const out = screenClientSignatures('anthropic', body, CLAUDE, {model: 'm'}) as Json
    expect(out.messages.map((m: Json) => m.role)).toEqual(['user', 'user'])
  })
})

describe('which bodies are looked at', () => {
  it('only those holding a tag or an empty signature', () => {
    expect(mayHoldForeignSignatures(Buffer.from(JSON.stringify(anthropic(tagSignature(GEMINI, 'g')))))).toBe(true)
    expect(mayHoldForeignSignatures(Buffer.from(JSON.stringify(anthropic(''))))).toBe(true)
    expect(mayHoldForeignSignatures(Buffer.from(JSON.stringify(anthropic('EqQBraw'))))).toBe(false)
  })

  it('OpenAI chat bodies hold no signatures', () => {
    const body = {model: 'm', messages: [{role: 'user', content: tagSignature(GEMINI, 'g')}]}
    expect(screenClientSignatures('openai', body, CLAUDE, {model: 'm'})).toBeUndefined()
  })
})

describe('the retry after a refused signature', () => {
  it.each(SHAPES)('$protocol: every signature goes, tagged or not', ({protocol, own, body, read}) => {
    for (const signature of ['EqQBraw', tagSignature(own, 'raw-1')]) {
      const out = stripClientSignatures(protocol, body(signature), 'm')
      expect(read(out)).toEqual(REMOVED[protocol])
    }
  })

  it.each(SHAPES)('$protocol: offered only for bodies holding a signature', ({protocol, body}) => {
    expect(mayHoldSignatures(protocol, JSON.stringify(body('EqQBraw')))).toBe(true)
    const unsigned = JSON.stringify(body('EqQBraw'))
      .replace(/"(signature|thoughtSignature|encrypted_content)":"EqQBraw",?/, '')
      .replace(/,}/g, '}')
    expect(mayHoldSignatures(protocol, unsigned)).toBe(false)
  })
})

describe('Gemini 3, which refuses a function call without a signature', () => {
  it.each([
    ['screened', (body: Json) => screenClientSignatures('gemini', body, GEMINI, {model: 'gemini-3-pro-preview'})!],
    ['stripped', (body: Json) => stripClientSignatures('gemini', body, 'gemini-3-pro-preview')],
  ])('%s: the call gets the placeholder other clients send', (_name, run) => {
    const out: Json = run(gemini(tagSignature(CLAUDE, 'c')))
    expect(out.contents[1].parts[0]).toEqual({
      functionCall: {name: 'ls', args: {}},
      thoughtSignature: 'skip_thought_signature_validator',
    })
  })

  it('Gemini 2.5: the call goes unsigned (control)', () => {
    const out: Json = stripClientSignatures('gemini', gemini('CiQBraw'), 'gemini-2.5-pro')
    expect(out.contents[1].parts[0]).toEqual({functionCall: {name: 'ls', args: {}}})
  })
})
