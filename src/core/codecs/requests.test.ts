import {describe, expect, it} from 'vitest'
import {CodecError} from './errors.js'
import {codecs} from './index.js'
import type {IRRequest} from './ir.js'
import type {Protocol} from './types.js'

const MODEL = 'claude-sonnet-4-5'

function convert(from: Protocol, to: Protocol, body: unknown, ctx: {model?: string; stream?: boolean} = {}) {
  const dropped: string[] = []
  const ir = codecs[from].decodeRequest(body, {model: MODEL, ...ctx, onDropped: (field) => dropped.push(field)})
  const out = codecs[to].encodeRequest(ir, {onDropped: (field) => dropped.push(field)}) as Record<string, any>
  return {ir, out, dropped}
}

function codecError(run: () => unknown): CodecError {
  try {
    run()
  } catch (error) {
    if (error instanceof CodecError) return error
    throw error
  }
  throw new Error('expected a CodecError')
}

const user = (content: unknown) => ({role: 'user', content})

describe('request validation', () => {
  it.each([
    ['openai', 'not an object', 'request body must be an object'],
    ['openai', {messages: [user('x')]}, 'model is required'],
    ['openai', {model: 'm'}, 'messages must be an array'],
    ['openai', {model: 'm', messages: []}, 'messages must not be empty'],
    [
      'openai',
      {model: 'm', messages: [{role: 'robot', content: 'x'}]},
      "Invalid value: 'robot'. Supported values are:",
    ],
    [
      'openai',
      {model: 'm', messages: [{role: 'assistant', tool_calls: [{function: {name: 'f'}}]}]},
      'messages[0].tool_calls[0].id',
    ],
    ['openai', {model: 'm', messages: [{role: 'tool', content: 'x'}]}, 'messages[0].tool_call_id must be a string'],
    [
      'openai',
      {model: 'm', messages: [user([{type: 'input_audio', input_audio: {}}])]},
      'messages[0].content[0]: content part type "input_audio"',
    ],
    [
      'openai',
      {model: 'm', messages: [user([{type: 'image_url', image_url: {url: 'ftp://x'}}])]},
      'messages[0].content[0].image_url.url',
    ],
    ['openai', {model: 'm', messages: [user('x')], tool_choice: 'sometimes'}, 'tool_choice must be'],
    ['openai', {model: 'm', messages: [user('x')], temperature: 'hot'}, 'temperature must be a number'],
    ['anthropic', {model: 'm', messages: [{role: 'tool', content: 'x'}]}, "messages.0.role: Input should be 'user' or"],
    [
      'anthropic',
      {
        model: 'm',
        messages: [user('x'), {role: 'system', content: [{type: 'tool_use', id: 't', name: 'f', input: {}}]}],
      },
      'messages.1.content: a system message may only contain text blocks',
    ],
    [
      'anthropic',
      {model: 'm', messages: [user([{type: 'image', source: {type: 'file', file_id: 'f'}}])]},
      'messages[0].content[0].source.type',
    ],
    [
      'anthropic',
      {model: 'm', messages: [user([{type: 'document', source: {}}])]},
      'messages[0].content[0]: document blocks',
    ],
    [
      'anthropic',
      {model: 'm', messages: [user('x')], thinking: {type: 'enabled'}},
      'thinking.enabled.budget_tokens: Field required',
    ],
    ['gemini', {contents: [{role: 'assistant', parts: [{text: 'x'}]}]}, 'Please use a valid role: user, model.'],
    [
      'gemini',
      {contents: [{role: 'user', parts: [{functionResponse: {name: 'f', response: {}}}]}]},
      'functionResponse "f" answers no earlier functionCall',
    ],
    [
      'gemini',
      {contents: [{parts: [{inlineData: {mimeType: 'application/pdf', data: 'x'}}]}]},
      'only images are supported',
    ],
  ] as const)('%s: %j → 400 "%s"', (protocol, body, message) => {
    const ctx = {model: protocol === 'gemini' ? 'g' : undefined}
    const error = codecError(() => codecs[protocol].decodeRequest(body, ctx))
    expect(error.status).toBe(400)
    expect(error.message).toContain(message)
  })

  it('requires the model for Gemini from the URL context', () => {
    const error = codecError(() => codecs.gemini.decodeRequest({contents: [{parts: [{text: 'x'}]}]}))
    expect(error.message).toContain('model is required')
  })
})

describe('images', () => {
  const withImage = (url: string) => ({
    model: 'm',
    messages: [user([{type: 'image_url', image_url: {url, detail: 'high'}}])],
  })

  it('carries a remote URL from OpenAI to Anthropic and back', () => {
    const {out, dropped} = convert('openai', 'anthropic', withImage('https://example.com/cat.png'))
    expect(out.messages[0].content).toEqual([
      {type: 'image', source: {type: 'url', url: 'https://example.com/cat.png'}},
    ])
    expect(dropped).toContain('image_url.detail')
    const back = convert('anthropic', 'openai', out).out
    expect(back.messages[0].content).toEqual([{type: 'image_url', image_url: {url: 'https://example.com/cat.png'}}])
  })

  it('refuses a remote URL for Gemini with a 400 that says why', () => {
    const error = codecError(() => convert('openai', 'gemini', withImage('https://example.com/cat.png')))
    expect(error.status).toBe(400)
    expect(error.message).toContain('https://example.com/cat.png cannot be sent to a Gemini upstream')
  })

  it('sends Gemini file URIs as fileData and reads them back', () => {
    const uri = 'https://generativelanguage.googleapis.com/v1beta/files/abc'
    const {out} = convert('anthropic', 'gemini', {
      model: 'm',
      max_tokens: 10,
      messages: [user([{type: 'image', source: {type: 'url', url: `${uri}.webp`}}])],
    })
    expect(out.contents[0].parts).toEqual([{fileData: {mimeType: 'image/webp', fileUri: `${uri}.webp`}}])
    expect(convert('gemini', 'anthropic', out).out.messages[0].content).toEqual([
      {type: 'image', source: {type: 'url', url: `${uri}.webp`}},
    ])
  })

  it('turns base64 data URLs into inline data and back', () => {
    const {out} = convert('openai', 'gemini', withImage('data:image/jpeg;base64,/9j/4AAQ'))
    expect(out.contents[0].parts).toEqual([{inlineData: {mimeType: 'image/jpeg', data: '/9j/4AAQ'}}])
    expect(convert('gemini', 'openai', out, {model: 'm'}).out.messages[0].content).toEqual([
      {type: 'image_url', image_url: {url: 'data:image/jpeg;base64,/9j/4AAQ'}},
    ])
  })
})

describe('max_tokens for Anthropic', () => {
  it.each([
    ['claude-sonnet-4-5', 8192],
    ['claude-opus-4-1', 32000],
    ['claude-3-haiku-20240307', 4096],
  ])('defaults %s to %i when the client sent none', (model, expected) => {
    expect(convert('openai', 'anthropic', {model, messages: [user('x')]}).out.max_tokens).toBe(expected)
  })

  it('keeps the client value', () => {
    const {out} = convert('openai', 'anthropic', {model: MODEL, max_completion_tokens: 123, messages: [user('x')]})
    expect(out.max_tokens).toBe(123)
  })

  it('raises a defaulted max_tokens above the thinking budget', () => {
    const {out} = convert('openai', 'anthropic', {model: MODEL, reasoning_effort: 'high', messages: [user('x')]})
    expect(out.thinking).toEqual({type: 'enabled', budget_tokens: 24576})
    expect(out.max_tokens).toBe(24576 + 8192)
  })

  it('fits the budget under an explicit max_tokens, or drops thinking when it cannot', () => {
    const body = {model: MODEL, messages: [user('x')]}
    const fitted = convert('openai', 'anthropic', {...body, reasoning_effort: 'high', max_tokens: 4000})
    expect(fitted.out).toMatchObject({max_tokens: 4000, thinking: {type: 'enabled', budget_tokens: 3999}})
    const tiny = convert('openai', 'anthropic', {...body, reasoning_effort: 'low', max_tokens: 1000})
    expect(tiny.out.thinking).toBeUndefined()
    expect(tiny.dropped).toContain('thinking (budget 2048 does not fit max_tokens 1000)')
  })
})

// A thinking budget that cannot fit the request's max_tokens is cut or left out, and the debug log says which.
describe('thinking that does not fit max_tokens, converted for Anthropic', () => {
  // The client's budget (OpenAI and Responses efforts: low = 2048) with a given max_tokens, in each protocol.
  const sources: [Protocol, (maxTokens: number) => unknown][] = [
    ['openai', (max) => ({model: MODEL, messages: [user('x')], reasoning_effort: 'low', max_completion_tokens: max})],
    ['responses', (max) => ({model: MODEL, input: 'x', reasoning: {effort: 'low'}, max_output_tokens: max})],
    [
      'gemini',
      (max) => ({
        contents: [{role: 'user', parts: [{text: 'x'}]}],
        generationConfig: {maxOutputTokens: max, thinkingConfig: {thinkingBudget: 2048}},
      }),
    ],
  ]
  const cases: [string, number, unknown, string | undefined][] = [
    ['left out', 1000, undefined, 'thinking (budget 2048 does not fit max_tokens 1000)'],
    ['cut', 1500, {type: 'enabled', budget_tokens: 1499}, 'thinking (budget 2048 cut to 1499 to fit max_tokens 1500)'],
    ['kept whole (control)', 4000, {type: 'enabled', budget_tokens: 2048}, undefined],
  ]
  for (const [from, body] of sources) {
    it.each(cases)(`${from}: %s under max_tokens %i`, (_name, max, thinking, line) => {
      const {out, dropped} = convert(from, 'anthropic', body(max))
      expect(out.max_tokens).toBe(max)
      expect(out.thinking).toEqual(thinking)
      expect(dropped.filter((field) => field.startsWith('thinking'))).toEqual(line === undefined ? [] : [line])
    })
  }
})

describe('sampling parameters for Anthropic', () => {
  it('clamps temperature to 1', () => {
    const {out, dropped} = convert('openai', 'anthropic', {model: MODEL, temperature: 1.6, messages: [user('x')]})
    expect(out.temperature).toBe(1)
    expect(dropped).toContain('temperature>1')
  })

  it('leaves temperature and top_k out when thinking is on', () => {
    const {out, dropped} = convert('gemini', 'anthropic', {
      contents: [{parts: [{text: 'x'}]}],
      generationConfig: {temperature: 0.2, topK: 5, thinkingConfig: {thinkingBudget: 2000}},
    })
    expect(out).toMatchObject({thinking: {type: 'enabled', budget_tokens: 2000}})
    expect(out.temperature).toBeUndefined()
    expect(out.top_k).toBeUndefined()
    expect(dropped).toEqual(expect.arrayContaining(['temperature', 'top_k']))
  })

  it('gives thinking up when the tool choice is forced', () => {
    const {out, dropped} = convert('openai', 'anthropic', {
      model: MODEL,
      reasoning_effort: 'medium',
      messages: [user('x')],
      tools: [{type: 'function', function: {name: 'f'}}],
      tool_choice: 'required',
    })
    expect(out.tool_choice).toEqual({type: 'any'})
    expect(out.thinking).toBeUndefined()
    expect(dropped).toContain('thinking (forced tool_choice)')
  })

  it('gives thinking up in a tool loop whose assistant turn has no thinking block', () => {
    const body = {
      model: MODEL,
      reasoning_effort: 'medium',
      messages: [
        user('x'),
        {
          role: 'assistant',
          content: null,
          tool_calls: [{id: 'call_1', type: 'function', function: {name: 'f', arguments: '{}'}}],
        },
        {role: 'tool', tool_call_id: 'call_1', content: 'ok'},
      ],
    }
    expect(convert('openai', 'anthropic', body).out.thinking).toBeUndefined()
    const finished = {...body, messages: [...body.messages, {role: 'assistant', content: 'done'}, user('again')]}
    expect(convert('openai', 'anthropic', finished).out.thinking).toEqual({type: 'enabled', budget_tokens: 8192})
  })
})

describe('conversation shape', () => {
  it('merges consecutive turns and drops empty ones for Anthropic and Gemini', () => {
    const body = {
      model: MODEL,
      messages: [
        user('a'),
        {role: 'assistant', content: ''},
        user('b'),
        {role: 'assistant', content: 'c'},
        {role: 'assistant', content: 'd'},
      ],
    }
    expect(convert('openai', 'anthropic', body).out.messages).toEqual([
      {
        role: 'user',
        content: [
          {type: 'text', text: 'a'},
          {type: 'text', text: 'b'},
        ],
      },
      {
        role: 'assistant',
        content: [
          {type: 'text', text: 'c'},
          {type: 'text', text: 'd'},
        ],
      },
    ])
    expect(convert('openai', 'gemini', body).out.contents).toEqual([
      {role: 'user', parts: [{text: 'a'}, {text: 'b'}]},
      {role: 'model', parts: [{text: 'c'}, {text: 'd'}]},
    ])
  })

  it('puts OpenAI tool results and the following user text in one Anthropic user turn, results first', () => {
    const body = {
      model: MODEL,
      messages: [
        user('go'),
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {id: 'call_a', type: 'function', function: {name: 'f', arguments: '{"n":1}'}},
            {id: 'call_b', type: 'function', function: {name: 'g', arguments: ''}},
          ],
        },
        {role: 'tool', tool_call_id: 'call_a', content: [{type: 'text', text: 'A'}]},
        {role: 'tool', tool_call_id: 'call_b', content: 'B'},
        user('and now?'),
      ],
    }
    const {out} = convert('openai', 'anthropic', body)
    expect(out.messages).toEqual([
      {role: 'user', content: [{type: 'text', text: 'go'}]},
      {
        role: 'assistant',
        content: [
          {type: 'tool_use', id: 'call_a', name: 'f', input: {n: 1}},
          {type: 'tool_use', id: 'call_b', name: 'g', input: {}},
        ],
      },
      {
        role: 'user',
        content: [
          {type: 'tool_result', tool_use_id: 'call_a', content: 'A'},
          {type: 'tool_result', tool_use_id: 'call_b', content: 'B'},
          {type: 'text', text: 'and now?'},
        ],
      },
    ])
    // And back: the results become tool messages again, in order, then the user text.
    expect(convert('anthropic', 'openai', out).out.messages.slice(2)).toEqual([
      {role: 'tool', tool_call_id: 'call_a', content: 'A'},
      {role: 'tool', tool_call_id: 'call_b', content: 'B'},
      {role: 'user', content: 'and now?'},
    ])
  })

  it('moves tool results ahead of other user content for Anthropic', () => {
    const body = {
      model: MODEL,
      max_tokens: 5,
      messages: [
        {role: 'assistant', content: [{type: 'tool_use', id: 'toolu_1', name: 'f', input: {}}]},
        user([
          {type: 'text', text: 'note'},
          {type: 'tool_result', tool_use_id: 'toolu_1', content: 'r'},
        ]),
      ],
    }
    const {out} = convert('anthropic', 'anthropic', body)
    expect(out.messages[1].content.map((block: {type: string}) => block.type)).toEqual(['tool_result', 'text'])
  })

  it('trims trailing whitespace from a final assistant prefill for Anthropic', () => {
    const body = {model: MODEL, messages: [user('x'), {role: 'assistant', content: 'The answer is '}]}
    const {out} = convert('openai', 'anthropic', body)
    expect(out.messages.at(-1)).toEqual({role: 'assistant', content: [{type: 'text', text: 'The answer is'}]})
  })

  it('collects system and developer messages into the system prompt', () => {
    const body = {
      model: MODEL,
      messages: [
        {role: 'system', content: 'One.'},
        {role: 'developer', content: [{type: 'text', text: 'Two.'}]},
        user('x'),
      ],
    }
    expect(convert('openai', 'anthropic', body).out.system).toEqual([
      {type: 'text', text: 'One.'},
      {type: 'text', text: 'Two.'},
    ])
    expect(convert('openai', 'gemini', body).out.systemInstruction).toEqual({parts: [{text: 'One.'}, {text: 'Two.'}]})
  })

  it('keeps tool ids unless Anthropic would reject their characters, and keeps calls and results paired', () => {
    const body = {
      model: MODEL,
      messages: [
        user('x'),
        {
          role: 'assistant',
          tool_calls: [
            {id: 'functions.get_weather:0', type: 'function', function: {name: 'get_weather', arguments: '{}'}},
            {id: 'call_Ab-9', type: 'function', function: {name: 'get_weather', arguments: '{}'}},
          ],
        },
        {role: 'tool', tool_call_id: 'functions.get_weather:0', content: 'a'},
        {role: 'tool', tool_call_id: 'call_Ab-9', content: 'b'},
      ],
    }
    const {out} = convert('openai', 'anthropic', body)
    expect(out.messages[1].content.map((block: {id: string}) => block.id)).toEqual([
      'functions_get_weather_0',
      'call_Ab-9',
    ])
    expect(out.messages[2].content.map((block: {tool_use_id: string}) => block.tool_use_id)).toEqual([
      'functions_get_weather_0',
      'call_Ab-9',
    ])
  })

  it('keeps a tool call whose arguments are not a JSON object and reports it', () => {
    const {out, dropped} = convert('openai', 'anthropic', {
      model: MODEL,
      messages: [
        user('x'),
        {role: 'assistant', tool_calls: [{id: 'c', type: 'function', function: {name: 'f', arguments: '{oops'}}]},
      ],
    })
    expect(out.messages[1].content).toEqual([{type: 'tool_use', id: 'c', name: 'f', input: {}}])
    expect(dropped).toContain('tool_calls.function.arguments')
  })
})

describe('tool results', () => {
  const anthropicLoop = (result: Record<string, unknown>) => ({
    model: MODEL,
    max_tokens: 100,
    messages: [
      user('go'),
      {role: 'assistant', content: [{type: 'tool_use', id: 'toolu_9', name: 'read_file', input: {path: 'a.png'}}]},
      user([{type: 'tool_result', tool_use_id: 'toolu_9', ...result}]),
    ],
  })

  it('names Gemini function responses after the matching call, never from the id', () => {
    const {out} = convert('anthropic', 'gemini', anthropicLoop({content: 'ok'}))
    expect(out.contents[2].parts).toEqual([
      {functionResponse: {id: 'toolu_9', name: 'read_file', response: {output: 'ok'}}},
    ])
  })

  it('refuses a result for an unknown call on the way to Gemini', () => {
    const body = {
      model: MODEL,
      max_tokens: 5,
      messages: [user([{type: 'tool_result', tool_use_id: 'toolu_x', content: 'r'}])],
    }
    const error = codecError(() => convert('anthropic', 'gemini', body))
    expect(error.message).toContain('"toolu_x" has no matching tool call')
  })

  it('maps errors to Gemini {error} and back to is_error', () => {
    const loop = anthropicLoop({content: [{type: 'text', text: 'ENOENT'}], is_error: true})
    const {out} = convert('anthropic', 'gemini', loop)
    expect(out.contents[2].parts).toEqual([
      {functionResponse: {id: 'toolu_9', name: 'read_file', response: {error: 'ENOENT'}}},
    ])
    expect(convert('gemini', 'anthropic', out).out.messages[2].content).toEqual([
      {type: 'tool_result', tool_use_id: 'toolu_9', content: 'ENOENT', is_error: true},
    ])
  })

  it('says in the text that a tool failed, as OpenAI has no error flag', () => {
    const {out, dropped} = convert('anthropic', 'openai', anthropicLoop({content: 'ENOENT', is_error: true}))
    expect(out.messages[2]).toEqual({role: 'tool', tool_call_id: 'toolu_9', content: 'Error: ENOENT'})
    expect(dropped).not.toContain('tool_result.is_error')
  })

  it('passes images returned by a tool on: after the tool messages for OpenAI, after the responses for Gemini', () => {
    const content = [
      {type: 'text', text: 'a.png'},
      {type: 'image', source: {type: 'base64', media_type: 'image/png', data: 'AAA'}},
    ]
    expect(convert('anthropic', 'openai', anthropicLoop({content})).out.messages.slice(2)).toEqual([
      {role: 'tool', tool_call_id: 'toolu_9', content: 'a.png'},
      {role: 'user', content: [{type: 'image_url', image_url: {url: 'data:image/png;base64,AAA'}}]},
    ])
    expect(convert('anthropic', 'gemini', anthropicLoop({content})).out.contents[2].parts).toEqual([
      {functionResponse: {id: 'toolu_9', name: 'read_file', response: {output: 'a.png'}}},
      {inlineData: {mimeType: 'image/png', data: 'AAA'}},
    ])
  })

  it('reads structured Gemini responses as JSON text', () => {
    const body = {
      contents: [
        {role: 'model', parts: [{functionCall: {name: 'get_weather', args: {city: 'Paris'}}}]},
        {role: 'user', parts: [{functionResponse: {name: 'get_weather', response: {tempC: 21}}}]},
      ],
    }
    expect(convert('gemini', 'openai', body).out.messages[1]).toEqual({
      role: 'tool',
      tool_call_id: 'call_1',
      content: '{"tempC":21}',
    })
  })
})

describe('Gemini function-call ids', () => {
  const history = [
    {role: 'user', parts: [{text: 'both'}]},
    {
      role: 'model',
      parts: [
        {functionCall: {name: 'lookup', args: {q: 'a'}}},
        {functionCall: {name: 'lookup', args: {q: 'b'}}},
        {functionCall: {name: 'now', args: {}}},
      ],
    },
    {
      role: 'user',
      parts: [
        {functionResponse: {name: 'now', response: {output: 'noon'}}},
        {functionResponse: {name: 'lookup', response: {output: 'A'}}},
        {functionResponse: {name: 'lookup', response: {output: 'B'}}},
      ],
    },
  ]

  it('generates positional ids and pairs id-less responses with the oldest open call of that name', () => {
    const {out} = convert('gemini', 'anthropic', {contents: history})
    expect(out.messages[1].content.map((block: {id: string}) => block.id)).toEqual(['call_1', 'call_2', 'call_3'])
    expect(out.messages[2].content).toEqual([
      {type: 'tool_result', tool_use_id: 'call_3', content: 'noon'},
      {type: 'tool_result', tool_use_id: 'call_1', content: 'A'},
      {type: 'tool_result', tool_use_id: 'call_2', content: 'B'},
    ])
  })

  it('keeps the ids stable when the conversation grows', () => {
    const longer = [...history, {role: 'model', parts: [{functionCall: {name: 'now', args: {}}}]}]
    const first = convert('gemini', 'openai', {contents: history}).out.messages
    const second = convert('gemini', 'openai', {contents: longer}).out.messages
    expect(second.slice(0, first.length)).toEqual(first)
    expect(second.at(-1).tool_calls[0].id).toBe('call_4')
  })

  it('uses ids the client sent', () => {
    const body = {
      contents: [
        {role: 'model', parts: [{functionCall: {id: 'fc-7', name: 'now', args: {}}}]},
        {role: 'user', parts: [{functionResponse: {id: 'fc-7', name: 'now', response: {output: 'x'}}}]},
      ],
    }
    expect(convert('gemini', 'openai', body).out.messages).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [{id: 'fc-7', type: 'function', function: {name: 'now', arguments: '{}'}}],
      },
      {role: 'tool', tool_call_id: 'fc-7', content: 'x'},
    ])
  })
})

describe('Gemini thought signatures', () => {
  const body = {
    model: 'm',
    messages: [
      user('x'),
      {role: 'assistant', tool_calls: [{id: 'c1', type: 'function', function: {name: 'f', arguments: '{}'}}]},
    ],
  }

  it('adds the validator placeholder to unsigned function calls for Gemini 3 only', () => {
    expect(convert('openai', 'gemini', {...body, model: 'gemini-3-pro-preview'}).out.contents[1].parts).toEqual([
      {functionCall: {id: 'c1', name: 'f', args: {}}, thoughtSignature: 'skip_thought_signature_validator'},
    ])
    expect(convert('openai', 'gemini', {...body, model: 'gemini-2.5-flash'}).out.contents[1].parts).toEqual([
      {functionCall: {id: 'c1', name: 'f', args: {}}},
    ])
  })

  it('keeps real signatures on function calls and text, and ignores the placeholder when decoding', () => {
    const contents = [
      {role: 'user', parts: [{text: 'x'}]},
      {
        role: 'model',
        parts: [
          {text: 'Sure.', thoughtSignature: 'sig-text'},
          {functionCall: {id: 'a', name: 'f', args: {}}, thoughtSignature: 'sig-call'},
          {functionCall: {id: 'b', name: 'f', args: {}}, thoughtSignature: 'skip_thought_signature_validator'},
        ],
      },
    ]
    const {ir, out} = convert('gemini', 'gemini', {contents}, {model: 'gemini-2.5-flash'})
    expect(ir.messages[1]?.content[2]).toEqual({type: 'tool_call', id: 'b', name: 'f', input: {}})
    expect(out.contents[1].parts).toEqual([
      {text: 'Sure.', thoughtSignature: 'sig-text'},
      {functionCall: {id: 'a', name: 'f', args: {}}, thoughtSignature: 'sig-call'},
      {functionCall: {id: 'b', name: 'f', args: {}}},
    ])
  })
})

describe('Gemini request spellings', () => {
  it('decodes snake_case fields like camelCase ones', () => {
    const upperCaseSchema = {type: 'OBJECT', properties: {a_b: {type: 'INTEGER'}}}
    const camel = {
      contents: [
        {role: 'user', parts: [{text: 'x'}, {inlineData: {mimeType: 'image/png', data: 'AA'}}]},
        {role: 'model', parts: [{functionCall: {name: 'f', args: {a_b: 1}}, thoughtSignature: 's'}]},
        {role: 'user', parts: [{functionResponse: {name: 'f', response: {output: 'ok'}}}]},
      ],
      systemInstruction: {parts: [{text: 'sys'}]},
      tools: [{functionDeclarations: [{name: 'f', parameters: upperCaseSchema}]}],
      toolConfig: {functionCallingConfig: {mode: 'ANY', allowedFunctionNames: ['f']}},
      generationConfig: {
        maxOutputTokens: 10,
        topP: 0.5,
        topK: 3,
        stopSequences: ['s'],
        responseMimeType: 'application/json',
        thinkingConfig: {thinkingBudget: 1500, includeThoughts: true},
      },
    }
    const snake = {
      contents: [
        {role: 'user', parts: [{text: 'x'}, {inline_data: {mime_type: 'image/png', data: 'AA'}}]},
        {role: 'model', parts: [{function_call: {name: 'f', args: {a_b: 1}}, thought_signature: 's'}]},
        {role: 'user', parts: [{function_response: {name: 'f', response: {output: 'ok'}}}]},
      ],
      system_instruction: {parts: [{text: 'sys'}]},
      tools: [{function_declarations: [{name: 'f', parameters: upperCaseSchema}]}],
      tool_config: {function_calling_config: {mode: 'ANY', allowed_function_names: ['f']}},
      generation_config: {
        max_output_tokens: 10,
        top_p: 0.5,
        top_k: 3,
        stop_sequences: ['s'],
        response_mime_type: 'application/json',
        thinking_config: {thinking_budget: 1500, include_thoughts: true},
      },
    }
    const fromCamel = convert('gemini', 'openai', camel).ir
    expect(convert('gemini', 'openai', snake).ir).toEqual(fromCamel)
    expect(fromCamel).toMatchObject({
      system: [{type: 'text', text: 'sys'}],
      tools: [{name: 'f', parameters: {type: 'object', properties: {a_b: {type: 'integer'}}}}],
      toolChoice: {name: 'f'},
      maxTokens: 10,
      topK: 3,
      thinking: {type: 'budget', budgetTokens: 1500},
      responseFormat: {type: 'json'},
    })
  })
})

describe('tool choice', () => {
  const schema = {type: 'object', properties: {x: {type: 'string'}}}
  const tools = {
    openai: [{type: 'function', function: {name: 'f', parameters: schema}}],
    anthropic: [{name: 'f', input_schema: schema}],
    gemini: [{functionDeclarations: [{name: 'f', parameters: schema}]}],
  }
  const table = [
    {openai: 'auto', anthropic: {type: 'auto'}, gemini: {mode: 'AUTO'}},
    {openai: 'none', anthropic: {type: 'none'}, gemini: {mode: 'NONE'}},
    {openai: 'required', anthropic: {type: 'any'}, gemini: {mode: 'ANY'}},
    {
      openai: {type: 'function', function: {name: 'f'}},
      anthropic: {type: 'tool', name: 'f'},
      gemini: {mode: 'ANY', allowedFunctionNames: ['f']},
    },
  ]
  const bodies = (row: (typeof table)[number]) => ({
    openai: {model: 'm', messages: [user('x')], tools: tools.openai, tool_choice: row.openai},
    anthropic: {model: 'm', max_tokens: 5, messages: [user('x')], tools: tools.anthropic, tool_choice: row.anthropic},
    gemini: {contents: [{parts: [{text: 'x'}]}], tools: tools.gemini, toolConfig: {functionCallingConfig: row.gemini}},
  })
  const pick = {
    openai: (out: Record<string, any>) => out.tool_choice,
    anthropic: (out: Record<string, any>) => out.tool_choice,
    gemini: (out: Record<string, any>) => out.toolConfig.functionCallingConfig,
  }
  const protocols = ['openai', 'anthropic', 'gemini'] as const

  for (const row of table) {
    for (const from of protocols) {
      for (const to of protocols) {
        it(`${JSON.stringify(row.openai)}: ${from} → ${to}`, () => {
          expect(pick[to](convert(from, to, bodies(row)[from], {model: 'm'}).out)).toEqual(row[to])
        })
      }
    }
  }

  it('maps parallel_tool_calls:false to disable_parallel_tool_use and back', () => {
    const {out} = convert('openai', 'anthropic', {...bodies(table[0]!).openai, parallel_tool_calls: false})
    expect(out.tool_choice).toEqual({type: 'auto', disable_parallel_tool_use: true})
    expect(convert('anthropic', 'openai', out).out.parallel_tool_calls).toBe(false)
    const body = {model: 'm', messages: [user('x')], tools: tools.openai, parallel_tool_calls: false}
    const withoutChoice = convert('openai', 'anthropic', body)
    expect(withoutChoice.out.tool_choice).toEqual({type: 'auto', disable_parallel_tool_use: true})
  })

  it('leaves the tool choice out when there are no tools', () => {
    const {out, dropped} = convert('openai', 'anthropic', {model: 'm', messages: [user('x')], tool_choice: 'required'})
    expect(out.tool_choice).toBeUndefined()
    expect(dropped).toContain('tool_choice')
  })
})

describe('thinking configuration', () => {
  it.each([
    ['low', {thinkingBudget: 2048, includeThoughts: true}],
    ['medium', {thinkingBudget: 8192, includeThoughts: true}],
    ['high', {thinkingBudget: 24576, includeThoughts: true}],
    ['none', {thinkingBudget: 0}],
  ])('reasoning_effort %s → Gemini 2.5 %j', (effort, config) => {
    const body = {model: 'gemini-2.5-flash', reasoning_effort: effort, messages: [user('x')]}
    const {out} = convert('openai', 'gemini', body)
    expect(out.generationConfig.thinkingConfig).toEqual(config)
  })

  it('uses thinkingLevel for Gemini 3 and reads it back as an effort', () => {
    const body = {model: 'gemini-3-flash', reasoning_effort: 'high', messages: [user('x')]}
    const {out} = convert('openai', 'gemini', body)
    expect(out.generationConfig.thinkingConfig).toEqual({thinkingLevel: 'high', includeThoughts: true})
    expect(convert('gemini', 'openai', out, {model: 'gemini-3-flash'}).out.reasoning_effort).toBe('high')
  })

  it('cannot switch thinking off on Gemini Pro models', () => {
    const body = {model: 'gemini-2.5-pro', reasoning_effort: 'none', messages: [user('x')]}
    const {out, dropped} = convert('openai', 'gemini', body)
    expect(out.generationConfig).toBeUndefined()
    expect(dropped).toContain('thinking=off')
  })

  it.each([
    [{type: 'enabled', budget_tokens: 1024}, 'low'],
    [{type: 'enabled', budget_tokens: 10000}, 'medium'],
    [{type: 'enabled', budget_tokens: 30000}, 'high'],
    [{type: 'adaptive'}, 'medium'],
  ])('Anthropic thinking %j → reasoning_effort %s', (thinking, effort) => {
    const {out} = convert('anthropic', 'openai', {model: 'm', max_tokens: 64000, thinking, messages: [user('x')]})
    expect(out.reasoning_effort).toBe(effort)
  })

  it('maps disabled thinking both ways', () => {
    const body = {model: 'gemini-2.5-flash', max_tokens: 9, thinking: {type: 'disabled'}, messages: [user('x')]}
    const {out} = convert('anthropic', 'gemini', body)
    expect(out.generationConfig.thinkingConfig).toEqual({thinkingBudget: 0})
    expect(convert('gemini', 'anthropic', out).out.thinking).toEqual({type: 'disabled'})
  })

  it('maps Gemini dynamic thinking (-1) to an Anthropic budget', () => {
    const body = {
      contents: [{parts: [{text: 'x'}]}],
      generationConfig: {thinkingConfig: {thinkingBudget: -1, includeThoughts: true}},
    }
    expect(convert('gemini', 'anthropic', body).out.thinking).toEqual({type: 'enabled', budget_tokens: 8192})
  })
})

describe('response format', () => {
  const schema = {
    type: 'object',
    additionalProperties: false,
    properties: {answer: {type: 'string'}},
    required: ['answer'],
  }

  it('maps json_schema to Gemini responseMimeType + cleaned responseSchema', () => {
    const body = {
      model: 'm',
      messages: [user('x')],
      response_format: {type: 'json_schema', json_schema: {name: 'answer', schema, strict: true}},
    }
    expect(convert('openai', 'gemini', body).out.generationConfig).toEqual({
      responseMimeType: 'application/json',
      responseSchema: {type: 'object', properties: {answer: {type: 'string'}}, required: ['answer']},
    })
  })

  it('maps json_object to responseMimeType alone, and Gemini JSON back to OpenAI', () => {
    const body = {model: 'm', messages: [user('x')], response_format: {type: 'json_object'}}
    const {out} = convert('openai', 'gemini', body)
    expect(out.generationConfig).toEqual({responseMimeType: 'application/json'})
    expect(convert('gemini', 'openai', out).out.response_format).toEqual({type: 'json_object'})
    const withSchema = {
      contents: [{parts: [{text: 'x'}]}],
      generationConfig: {responseMimeType: 'application/json', responseJsonSchema: schema},
    }
    expect(convert('gemini', 'openai', withSchema).out.response_format).toEqual({
      type: 'json_schema',
      json_schema: {name: 'response', schema},
    })
  })

  it('lower-cases the OpenAPI types gemini-cli 0.61 puts in responseJsonSchema and parametersJsonSchema', () => {
    const upper = {
      type: 'OBJECT',
      properties: {score: {type: 'INTEGER'}, tags: {type: 'ARRAY', items: {type: 'STRING'}}},
      required: ['score'],
    }
    const lower = {
      type: 'object',
      properties: {score: {type: 'integer'}, tags: {type: 'array', items: {type: 'string'}}},
      required: ['score'],
    }
    const body = {
      contents: [{parts: [{text: 'x'}]}],
      tools: [{functionDeclarations: [{name: 'rate', parametersJsonSchema: upper}]}],
      generationConfig: {responseMimeType: 'application/json', responseJsonSchema: upper},
    }
    const {out} = convert('gemini', 'openai', body)
    expect(out.response_format.json_schema.schema).toEqual(lower)
    expect(out.tools[0].function.parameters).toEqual(lower)
    expect(convert('gemini', 'anthropic', body).out.output_config.format.schema).toEqual(lower)
  })

  it('refuses JSON mode without a schema for Anthropic, which has none', () => {
    const body = {model: 'm', messages: [user('x')], response_format: {type: 'json_object'}}
    expect(codecError(() => convert('openai', 'anthropic', body)).message).toMatch(/need a JSON schema/)
  })
})

describe('streaming flags and pass-through fields', () => {
  it('reads include_usage only for streams, and every Anthropic and Gemini client expects usage', () => {
    const decode = (body: unknown, protocol: Protocol = 'openai', stream?: boolean): IRRequest =>
      codecs[protocol].decodeRequest(body, {model: 'm', stream})
    const body = {model: 'm', max_tokens: 1, messages: [user('x')], stream: true}
    expect(decode({...body, stream_options: {include_usage: true}}).includeUsage).toBe(true)
    expect(decode(body).includeUsage).toBe(false)
    expect(decode(body, 'anthropic')).toMatchObject({stream: true, includeUsage: true})
    const gemini = decode({contents: [{parts: [{text: 'x'}]}]}, 'gemini', true)
    expect(gemini).toMatchObject({stream: true, includeUsage: true})
  })

  it('asks an OpenAI upstream for usage when the client expects it', () => {
    const {out} = convert('anthropic', 'openai', {model: 'm', max_tokens: 5, stream: true, messages: [user('x')]})
    expect(out).toMatchObject({stream: true, stream_options: {include_usage: true}})
  })

  it('uses max_completion_tokens for OpenAI reasoning models', () => {
    expect(convert('anthropic', 'openai', {model: 'o3-mini', max_tokens: 5, messages: [user('x')]}).out).toMatchObject({
      max_completion_tokens: 5,
    })
    const compatible = convert('anthropic', 'openai', {model: 'qwen3-coder-plus', max_tokens: 5, messages: [user('x')]})
    expect(compatible.out).toMatchObject({max_tokens: 5})
  })

  it('carries the end-user id between OpenAI and Anthropic', () => {
    const {out} = convert('openai', 'anthropic', {model: 'm', user: 'u-1', messages: [user('x')]})
    expect(out.metadata).toEqual({user_id: 'u-1'})
    expect(convert('anthropic', 'openai', out).out.user).toBe('u-1')
  })

  it('carries penalties and seed between OpenAI and Gemini', () => {
    const body = {model: 'm', messages: [user('x')], presence_penalty: 0.1, frequency_penalty: 0.2, seed: 7}
    const {out} = convert('openai', 'gemini', body)
    expect(out.generationConfig).toEqual({presencePenalty: 0.1, frequencyPenalty: 0.2, seed: 7})
    expect(convert('gemini', 'openai', out).out).toMatchObject({presence_penalty: 0.1, frequency_penalty: 0.2, seed: 7})
  })

  it('reports fields it cannot carry instead of failing', () => {
    const anthropic = {
      model: 'm',
      max_tokens: 5,
      system: [{type: 'text', text: 's', cache_control: {type: 'ephemeral'}}],
      messages: [user('x')],
      tools: [{type: 'web_search_20250305', name: 'web_search'}],
    }
    const fromAnthropic = convert('anthropic', 'openai', anthropic)
    expect(fromAnthropic.dropped).toEqual(
      expect.arrayContaining(['cache_control', 'tools[0].type=web_search_20250305']),
    )
    expect(fromAnthropic.out.tools).toBeUndefined()
    const gemini = {contents: [{parts: [{text: 'x'}]}], safetySettings: [], tools: [{googleSearch: {}}]}
    expect(convert('gemini', 'openai', gemini).dropped).toEqual(
      expect.arrayContaining(['safetySettings', 'tools.googleSearch']),
    )
  })
})

// Claude Code asks for 128000 output tokens; Vertex, behind Code Assist, refuses more than the model's limit.
describe("max_tokens over a Gemini model's output limit", () => {
  // The model as it reaches the encoder: a MODEL_ALIASES entry has renamed Claude Code's model by then.
  const anthropic = (model: string, max: number) => ({model, max_tokens: max, messages: [user('x')]})
  it.each([
    ['gemini-2.5-pro', 128000, 65536, "max_tokens (128000 cut to 65536, gemini-2.5-pro's output limit)"],
    ['gemini-3-pro-preview', 100000, 65536, "max_tokens (100000 cut to 65536, gemini-3-pro-preview's output limit)"],
    ['gemini-2.0-flash', 32000, 8192, "max_tokens (32000 cut to 8192, gemini-2.0-flash's output limit)"],
    ['gemini-2.5-flash', 65536, 65536, undefined],
    ['a-model-we-do-not-know', 128000, 128000, undefined],
  ])('%s: %i becomes %i', (model, max, sent, line) => {
    const {out, dropped} = convert('anthropic', 'gemini', anthropic(model, max))
    expect((out.generationConfig as {maxOutputTokens: number}).maxOutputTokens).toBe(sent)
    expect(dropped.filter((field) => field.startsWith('max_tokens'))).toEqual(line === undefined ? [] : [line])
  })
})
