import {createHash} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import {kiroBodyProblem} from '../../../../test/fakes/kiro-fake.js'
import {CodecError} from '../errors.js'
import type {IRContentBlock, IRMessage, IRRequest, IRTool} from '../ir.js'
import {encodeKiroRequest, type KiroRequest} from './request.js'

const MODEL_ID = 'claude-sonnet-4.6'

function request(messages: IRMessage[], extra: Partial<IRRequest> = {}): IRRequest {
  const base = {model: 'claude-sonnet-4-6', system: [], tools: [], stop: [], stream: true, includeUsage: true}
  return {...base, messages, ...extra}
}

const blocks = (content: (string | IRContentBlock)[]): IRContentBlock[] =>
  content.map((item) => (typeof item === 'string' ? {type: 'text', text: item} : item))
type Item = string | IRContentBlock
const user = (...content: Item[]): IRMessage => ({role: 'user', content: blocks(content)})
const assistant = (...content: Item[]): IRMessage => ({role: 'assistant', content: blocks(content)})
const call = (id: string, name: string, input: Record<string, unknown> = {}): IRContentBlock => ({
  type: 'tool_call',
  id,
  name,
  input,
})
const result = (id: string, text: string, isError = false): IRContentBlock => ({
  type: 'tool_result',
  toolCallId: id,
  content: [{type: 'text', text}],
  isError,
})
const tool = (name: string, description?: string, parameters: Record<string, unknown> = {type: 'object'}): IRTool => ({
  name,
  parameters,
  ...(description === undefined ? {} : {description}),
})

// Every body must also pass the fake upstream's §7.2 checks.
function encode(req: IRRequest, dropped: string[] = [], profileArn?: string): KiroRequest {
  const out = encodeKiroRequest(req, {
    conversationId: 'conv-1',
    modelId: MODEL_ID,
    onDropped: (field) => dropped.push(field),
    ...(profileArn === undefined ? {} : {profileArn}),
  })
  expect(kiroBodyProblem(out.body)).toBeUndefined()
  return out
}

const state = (out: KiroRequest): any => out.body.conversationState
const current = (out: KiroRequest): any => state(out).currentMessage.userInputMessage
const roles = (out: KiroRequest): string[] => (state(out).history ?? []).map((entry: object) => Object.keys(entry)[0])

describe('encodeKiroRequest: envelope', () => {
  it('sends a single user message as the current message without history or context', () => {
    const out = encode(request([user('hello')]))
    expect(out.body).toEqual({
      conversationState: {
        agentTaskType: 'vibe',
        chatTriggerType: 'MANUAL',
        conversationId: 'conv-1',
        currentMessage: {userInputMessage: {content: 'hello', modelId: MODEL_ID, origin: 'AI_EDITOR'}},
      },
    })
    expect(out.toolNameMap).toEqual({})
  })

  it('adds profileArn only when given', () => {
    const arn = 'arn:aws:codewhisperer:us-east-1:123456789012:profile/EXAMPLE'
    expect(encode(request([user('hi')]), [], arn).body.profileArn).toBe(arn)
    expect('profileArn' in encode(request([user('hi')])).body).toBe(false)
  })

  it('reports what Kiro cannot take and leaves it out', () => {
    const dropped: string[] = []
    const out = encode(
      request([user('hi')], {
        maxTokens: 100,
        temperature: 0.2,
        topP: 0.9,
        topK: 5,
        stop: ['END'],
        toolChoice: 'required',
        parallelToolCalls: false,
        user: 'u1',
      }),
      dropped,
    )
    expect(dropped.sort()).toEqual([
      'maxTokens',
      'parallelToolCalls',
      'stop',
      'temperature',
      'toolChoice',
      'topK',
      'topP',
      'user',
    ])
    expect(JSON.stringify(out.body)).not.toMatch(/max|temperature|top|stop|choice/i)
  })
})

describe('encodeKiroRequest: history', () => {
  it('alternates user/assistant, ends with the assistant and keeps the last user message current', () => {
    const out = encode(request([user('one'), assistant('two'), user('three'), assistant('four'), user('five')]))
    const pair = ['userInputMessage', 'assistantResponseMessage']
    expect(roles(out)).toEqual([...pair, ...pair])
    expect(state(out).history[1]).toEqual({assistantResponseMessage: {content: 'two'}})
    expect(state(out).history[2].userInputMessage).toEqual({content: 'three', modelId: MODEL_ID, origin: 'AI_EDITOR'})
    expect(current(out).content).toBe('five')
  })

  it('moves a final assistant message into the history and continues with "Continue"', () => {
    const out = encode(request([user('write a poem'), assistant('Roses are')]))
    expect(roles(out)).toEqual(['userInputMessage', 'assistantResponseMessage'])
    expect(state(out).history[1].assistantResponseMessage.content).toBe('Roses are')
    expect(current(out).content).toBe('Continue')
  })

  it('puts a user turn in front of a conversation that opens with the assistant', () => {
    const system = [{type: 'text' as const, text: 'be brief'}]
    const out = encode(request([assistant('Hi, how can I help?'), user('hello')], {system}))
    expect(roles(out)).toEqual(['userInputMessage', 'assistantResponseMessage'])
    expect(state(out).history[0].userInputMessage.content).toBe('be brief')
    expect(current(out).content).toBe('hello')
  })

  it('merges consecutive messages of one role, a blank line apart', () => {
    const out = encode(request([user('a'), user('b'), assistant('c'), assistant('d'), user('e')]))
    expect(state(out).history[0].userInputMessage.content).toBe('a\n\nb')
    expect(state(out).history[1].assistantResponseMessage.content).toBe('c\n\nd')
    expect(current(out).content).toBe('e')
  })

  it('skips messages left empty after dropping what Kiro cannot carry', () => {
    const dropped: string[] = []
    const out = encode(request([user('a'), assistant({type: 'redacted_thinking', data: 'xx'}), user('b')]), dropped)
    expect(dropped).toEqual(['assistant.redacted_thinking'])
    expect(state(out).history).toBeUndefined()
    expect(current(out).content).toBe('a\n\nb')
  })

  it('sends earlier reasoning back as <thinking> text, without its signature', () => {
    const thinking: IRContentBlock = {type: 'thinking', text: 'pondering', signature: 'sig'}
    const dropped: string[] = []
    const out = encode(request([user('q'), assistant(thinking, 'answer'), user('more')]), dropped)
    expect(state(out).history[1].assistantResponseMessage.content).toBe('<thinking>pondering</thinking>\n\nanswer')
    expect(JSON.stringify(out)).not.toContain('sig')
    expect(dropped).toEqual(['thinking.signature'])
  })
})

describe('encodeKiroRequest: content is never empty', () => {
  it('says "Tool results provided." for a message of tool results only', () => {
    const messages = [user('read a'), assistant(call('t1', 'read', {path: 'a'})), user(result('t1', 'hello'))]
    const out = encode(request(messages, {tools: [tool('read', 'Read')]}))
    expect(current(out).content).toBe('Tool results provided.')
  })

  it('says "Continue" for a message of images only', () => {
    const image: IRContentBlock = {type: 'image', source: {kind: 'base64', mediaType: 'image/png', data: 'iVBOR'}}
    expect(current(encode(request([user(image)]))).content).toBe('Continue')
  })
})

describe('encodeKiroRequest: system prompt and thinking', () => {
  const system = [
    {type: 'text' as const, text: 'You are terse.'},
    {type: 'text' as const, text: 'Answer in French.'},
  ]

  it('prepends the system prompt to the current message of a single-turn request', () => {
    expect(current(encode(request([user('hi')], {system}))).content).toBe('You are terse.\n\nAnswer in French.\n\nhi')
  })

  it('prepends it to the first user message of a conversation', () => {
    const out = encode(request([user('hi'), assistant('salut'), user('again')], {system}))
    expect(state(out).history[0].userInputMessage.content).toBe('You are terse.\n\nAnswer in French.\n\nhi')
    expect(current(out).content).toBe('again')
  })

  it.each([
    [{type: 'budget' as const, budgetTokens: 500}, 1024],
    [{type: 'budget' as const, budgetTokens: 10000}, 10000],
    [{type: 'budget' as const, budgetTokens: 100000}, 24576],
    [{type: 'effort' as const, effort: 'high' as const}, 24576],
    [{type: 'auto' as const}, 8192],
  ])('asks for thinking in the prompt with a clamped length (%o → %i)', (thinking, length) => {
    const out = encode(request([user('hi')], {system: [{type: 'text', text: 'sys'}], thinking}))
    expect(current(out).content).toBe(
      `<thinking_mode>enabled</thinking_mode><max_thinking_length>${length}</max_thinking_length>\nsys\n\nhi`,
    )
  })

  it('sends no thinking switch when thinking is off', () => {
    expect(current(encode(request([user('hi')], {thinking: {type: 'off'}}))).content).toBe('hi')
  })
})

describe('encodeKiroRequest: tools', () => {
  it('sends tools as toolSpecification with inputSchema.json, object type filled in', () => {
    const read = tool('read', 'Read a file', {properties: {path: {type: 'string'}}})
    const out = encode(request([user('hi')], {tools: [read]}))
    expect(current(out).userInputMessageContext).toEqual({
      tools: [
        {
          toolSpecification: {
            name: 'read',
            description: 'Read a file',
            inputSchema: {json: {type: 'object', properties: {path: {type: 'string'}}}},
          },
        },
      ],
    })
  })

  it('drops web_search tools, whatever their case', () => {
    const dropped: string[] = []
    const tools = [tool('web_search', 'x'), tool('WebSearch', 'y'), tool('read', 'r')]
    const out = encode(request([user('hi')], {tools}), dropped)
    expect(current(out).userInputMessageContext.tools.map((t: any) => t.toolSpecification.name)).toEqual(['read'])
    expect(dropped).toEqual(['tools.web_search', 'tools.WebSearch'])
  })

  it('truncates descriptions to 9216 characters and names tools that have none', () => {
    const dropped: string[] = []
    const long = 'd'.repeat(9215) + '🌍' + 'tail'
    const out = encode(request([user('hi')], {tools: [tool('long', long), tool('bare'), tool('blank', '  ')]}), dropped)
    const specs = current(out).userInputMessageContext.tools.map((t: any) => t.toolSpecification)
    expect(specs[0].description).toBe('d'.repeat(9215))
    expect(specs[1].description).toBe('bare')
    expect(specs[2].description).toBe('blank')
    expect(dropped).toEqual(['tools.description (truncated)'])
  })

  it('shortens names over 64 characters to <prefix>_<12 hex of sha256>, everywhere, and maps them back', () => {
    const name = `mcp__server__${'very_long_tool_name_'.repeat(4)}`
    const short = `${name.slice(0, 51)}_${createHash('sha256').update(name).digest('hex').slice(0, 12)}`
    const exact = 'x'.repeat(64)
    const messages = [user('go'), assistant(call('t1', name, {a: 1})), user(result('t1', 'ok'))]
    const out = encode(request(messages, {tools: [tool(name, 'd'), tool(exact, 'e')]}))
    expect(short).toHaveLength(64)
    const specs = current(out).userInputMessageContext.tools.map((t: any) => t.toolSpecification.name)
    expect(specs).toEqual([short, exact])
    expect(state(out).history[1].assistantResponseMessage.toolUses[0].name).toBe(short)
    expect(out.toolNameMap).toEqual({[short]: name})
  })

  it('adds the no_tool_available placeholder only when the conversation has tool traffic but no tools', () => {
    const traffic = [user('go'), assistant(call('t1', 'read')), user(result('t1', 'ok'))]
    const placeholder = encode(request(traffic, {tools: [tool('web_search', 'x')]}))
    const names = current(placeholder).userInputMessageContext.tools.map((t: any) => t.toolSpecification.name)
    expect(names).toEqual(['no_tool_available'])
    expect(current(encode(request([user('hi')]))).userInputMessageContext).toBeUndefined()
    const offered = encode(request(traffic, {tools: [tool('read', 'r')]}))
    expect(current(offered).userInputMessageContext.tools).toHaveLength(1)
  })
})

describe('encodeKiroRequest: tool uses and results', () => {
  it('keeps assistant tool uses in the history with empty content when there is no text', () => {
    const messages = [
      user('read a and b'),
      assistant(call('t1', 'read', {path: 'a'}), call('t2', 'read', {path: 'b'})),
      user(result('t1', 'A'), result('t2', 'B', true)),
    ]
    const out = encode(request(messages, {tools: [tool('read', 'Read')]}))
    expect(state(out).history[1]).toEqual({
      assistantResponseMessage: {
        content: '',
        toolUses: [
          {toolUseId: 't1', name: 'read', input: {path: 'a'}},
          {toolUseId: 't2', name: 'read', input: {path: 'b'}},
        ],
      },
    })
    expect(current(out).userInputMessageContext.toolResults).toEqual([
      {toolUseId: 't1', content: [{text: 'A'}], status: 'success'},
      {toolUseId: 't2', content: [{text: 'B'}], status: 'error'},
    ])
  })

  it('sends each toolUseId once, also across merged messages', () => {
    const messages = [
      user('go'),
      assistant(call('t1', 'read')),
      user(result('t1', 'first'), result('t1', 'again')),
      user(result('t1', 'third'), 'and?'),
    ]
    const out = encode(request(messages, {tools: [tool('read', 'Read')]}))
    expect(current(out).userInputMessageContext.toolResults).toEqual([
      {toolUseId: 't1', content: [{text: 'first'}], status: 'success'},
    ])
    expect(current(out).content).toBe('and?')
  })

  it('reports tool-result images, which Kiro cannot take', () => {
    const dropped: string[] = []
    const withImage: IRContentBlock = {
      type: 'tool_result',
      toolCallId: 't1',
      content: [
        {type: 'text', text: 'see'},
        {type: 'image', source: {kind: 'base64', mediaType: 'image/png', data: 'AA'}},
      ],
      isError: false,
    }
    encode(request([user('go'), assistant(call('t1', 'shot')), user(withImage)], {tools: [tool('shot', 's')]}), dropped)
    expect(dropped).toEqual(['tool_result.image'])
  })
})

describe('encodeKiroRequest: images', () => {
  it('sends base64 and data-URL images as {format, source: {bytes}}', () => {
    const out = encode(
      request([
        user(
          'look',
          {type: 'image', source: {kind: 'base64', mediaType: 'image/jpg', data: 'AAA'}},
          {type: 'image', source: {kind: 'url', url: 'data:image/webp;base64,BBB'}},
        ),
      ]),
    )
    expect(current(out).images).toEqual([
      {format: 'jpeg', source: {bytes: 'AAA'}},
      {format: 'webp', source: {bytes: 'BBB'}},
    ])
  })

  it('refuses remote URLs and unsupported types with a 400', () => {
    const remote = request([user({type: 'image', source: {kind: 'url', url: 'https://example.com/a.png'}})])
    const tiff = request([user({type: 'image', source: {kind: 'base64', mediaType: 'image/tiff', data: 'AA'}})])
    for (const req of [remote, tiff]) {
      const attempt = () => encodeKiroRequest(req, {conversationId: 'c', modelId: MODEL_ID})
      expect(attempt).toThrow(CodecError)
      try {
        attempt()
      } catch (error) {
        expect((error as CodecError).status).toBe(400)
      }
    }
  })
})
