import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {CodecError} from '../errors.js'
import {codecs} from '../index.js'
import type {IRContentBlock, IRRequest} from '../ir.js'
import {encodeResponsesRequest} from './request.js'
import {decodeResponsesRequest} from './request-decode.js'
import {clientToolNames} from './tools.js'

function decode(body: Record<string, unknown>, ctx: {stream?: boolean; model?: string} = {}) {
  const dropped: string[] = []
  const ir = decodeResponsesRequest({model: 'm', ...body}, {...ctx, onDropped: (field) => dropped.push(field)})
  return {ir, dropped}
}

function encode(ir: Partial<IRRequest>) {
  const dropped: string[] = []
  const req: IRRequest = {model: 'm', system: [], messages: [], tools: [], stop: [], stream: false, includeUsage: true}
  const out = encodeResponsesRequest({...req, ...ir}, {onDropped: (field) => dropped.push(field)})
  return {out, dropped}
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

const text = (value: string) => ({type: 'text', text: value})
const user = (...content: unknown[]) => ({role: 'user', content})
const assistant = (...content: unknown[]) => ({role: 'assistant', content})
const userItem = (content: unknown) => ({type: 'message', role: 'user', content})
const call = (id: string, name: string, args = '{}') => ({type: 'function_call', call_id: id, name, arguments: args})
const output = (id: string, value: unknown) => ({type: 'function_call_output', call_id: id, output: value})
const PNG = 'data:image/png;base64,iVBORw0KGgo='
const pngBlock = {type: 'image', source: {kind: 'base64', mediaType: 'image/png', data: 'iVBORw0KGgo='}}

describe('decoding input', () => {
  it('reads a string input as one user message', () => {
    expect(decode({input: 'Hi'}).ir.messages).toEqual([user(text('Hi'))])
  })

  it.each([
    ['typed message, string content', {type: 'message', role: 'user', content: 'Hi'}, [text('Hi')]],
    ['message without type', {role: 'user', content: 'Hi'}, [text('Hi')]],
    [
      'input_text parts',
      userItem([
        {type: 'input_text', text: 'a'},
        {type: 'input_text', text: 'b'},
      ]),
      [text('a'), text('b')],
    ],
    ['input_image data URL', userItem([{type: 'input_image', image_url: PNG, detail: 'auto'}]), [pngBlock]],
    [
      'input_image http URL',
      userItem([{type: 'input_image', image_url: 'https://example.com/cat.png'}]),
      [{type: 'image', source: {kind: 'url', url: 'https://example.com/cat.png'}}],
    ],
  ])('user content: %s', (_name, item, content) => {
    const {ir, dropped} = decode({input: [item]})
    expect(ir.messages).toEqual([{role: 'user', content}])
    expect(dropped).toEqual([])
  })

  it.each([
    ['input_image file_id', {type: 'input_image', file_id: 'file-1', detail: 'auto'}, 'input_image.file_id'],
    ['input_image detail', {type: 'input_image', image_url: PNG, detail: 'high'}, 'input_image.detail'],
    ['input_file', {type: 'input_file', file_id: 'file-1'}, 'content.input_file'],
    ['input_audio', {type: 'input_audio', input_audio: {}}, 'content.input_audio'],
  ])('user content that cannot be carried: %s', (_name, part, field) => {
    const {dropped} = decode({input: [userItem([{type: 'input_text', text: 'x'}, part])]})
    expect(dropped).toEqual([field])
  })

  it('reads assistant messages with output_text and refusal parts, and as a string', () => {
    const {ir} = decode({
      input: [
        userItem('q'),
        {type: 'message', role: 'assistant', content: [{type: 'output_text', text: 'a', annotations: []}]},
        {type: 'message', role: 'assistant', content: [{type: 'refusal', refusal: 'no'}]},
        {role: 'assistant', content: 'c'},
      ],
    })
    expect(ir.messages).toEqual([user(text('q')), assistant(text('a'), text('no'), text('c'))])
  })

  it('gathers instructions and system/developer messages anywhere into the system text, instructions first', () => {
    const {ir} = decode({
      instructions: 'I',
      input: [
        {
          role: 'developer',
          content: [
            {type: 'input_text', text: 'D1'},
            {type: 'input_text', text: 'D2'},
          ],
        },
        userItem('u'),
        {type: 'message', role: 'system', content: 'S'},
        {role: 'assistant', content: 'a'},
        {role: 'developer', content: 'D3'},
        userItem('v'),
      ],
    })
    expect(ir.system).toEqual([text('I'), text('D1'), text('D2'), text('S'), text('D3')])
    expect(ir.messages).toEqual([user(text('u')), assistant(text('a')), user(text('v'))])
  })

  it('makes one assistant turn of consecutive reasoning, messages and calls, and one user turn of outputs', () => {
    const {ir, dropped} = decode({
      input: [
        userItem('Weather and time?'),
        {type: 'reasoning', id: 'rs_1', summary: [{type: 'summary_text', text: 'think'}], encrypted_content: 'enc'},
        {type: 'message', role: 'assistant', content: [{type: 'output_text', text: 'Checking.'}]},
        {...call('call_1', 'get_weather', '{"city":"Paris"}'), id: 'fc_1', status: 'completed'},
        {...call('call_2', 'list', '{"a":1}'), namespace: 'files'},
        {type: 'custom_tool_call', call_id: 'call_3', name: 'apply_patch', input: '*** Begin Patch'},
        output('call_1', '21°C'),
        output('call_2', [
          {type: 'input_text', text: 'one'},
          {type: 'input_image', image_url: PNG},
        ]),
        {type: 'custom_tool_call_output', call_id: 'call_3', output: 'Done'},
        output('call_unknown', ''),
        userItem('Thanks'),
      ],
    })
    expect(dropped).toEqual([])
    expect(ir.messages).toEqual([
      user(text('Weather and time?')),
      assistant(
        {type: 'thinking', text: 'think', signature: 'enc'},
        text('Checking.'),
        {type: 'tool_call', id: 'call_1', name: 'get_weather', input: {city: 'Paris'}},
        {type: 'tool_call', id: 'call_2', name: 'files__list', input: {a: 1}},
        {type: 'tool_call', id: 'call_3', name: 'apply_patch', input: {input: '*** Begin Patch'}},
      ),
      user(
        {type: 'tool_result', toolCallId: 'call_1', toolName: 'get_weather', content: [text('21°C')], isError: false},
        {
          type: 'tool_result',
          toolCallId: 'call_2',
          toolName: 'files__list',
          content: [text('one'), pngBlock],
          isError: false,
        },
        {type: 'tool_result', toolCallId: 'call_3', toolName: 'apply_patch', content: [text('Done')], isError: false},
        {type: 'tool_result', toolCallId: 'call_unknown', content: [], isError: false},
      ),
      user(text('Thanks')),
    ])
  })

  it.each([
    [
      'summary and encrypted content → signed thinking',
      {
        summary: [
          {type: 'summary_text', text: 'a'},
          {type: 'summary_text', text: 'b'},
        ],
        encrypted_content: 'E',
      },
      [{type: 'thinking', text: 'a\n\nb', signature: 'E'}],
      [],
    ],
    [
      'summary only → unsigned thinking',
      {summary: [{type: 'summary_text', text: 'a'}]},
      [{type: 'thinking', text: 'a'}],
      [],
    ],
    [
      'empty summary and encrypted content → redacted thinking',
      {summary: [], content: null, encrypted_content: 'E'},
      [{type: 'redacted_thinking', data: 'E'}],
      [],
    ],
    ['neither → dropped', {summary: []}, [], ['input.reasoning (neither summary nor encrypted_content)']],
    [
      'reasoning text content → dropped',
      {summary: [], encrypted_content: 'E', content: [{type: 'reasoning_text', text: 'raw'}]},
      [{type: 'redacted_thinking', data: 'E'}],
      ['reasoning.content'],
    ],
  ])('reasoning items: %s', (_name, fields, blocks, drops) => {
    const {ir, dropped} = decode({input: [userItem('q'), {type: 'reasoning', id: 'rs_1', ...fields}, userItem('r')]})
    const middle = blocks.length > 0 ? [assistant(...blocks)] : []
    expect(ir.messages).toEqual([user(text('q')), ...middle, user(text('r'))])
    expect(dropped).toEqual(drops)
  })

  it.each(['item_reference', 'web_search_call', 'file_search_call', 'computer_call', 'compaction'])(
    'drops %s items with a debug line',
    (type) => {
      const {ir, dropped} = decode({input: [userItem('q'), {type, id: 'x'}]})
      expect(ir.messages).toEqual([user(text('q'))])
      expect(dropped).toEqual([`input.${type}`])
    },
  )

  it('drops images in system messages and assistant messages', () => {
    const image = {type: 'input_image', image_url: PNG}
    const {dropped} = decode({
      input: [{role: 'developer', content: [image]}, userItem('q'), {role: 'assistant', content: [image]}],
    })
    expect(dropped).toEqual(['developer.input_image', 'assistant.input_image'])
  })
})

describe('decoding tools and settings', () => {
  const schema = {type: 'object', properties: {x: {type: 'string'}}}

  it('reads function, namespace and custom tools', () => {
    const grammar = {type: 'grammar', syntax: 'lark', definition: 'start: "x"'}
    const {ir, dropped} = decode({
      input: 'q',
      tools: [
        {type: 'function', name: 'f', description: 'F', parameters: schema, strict: false},
        {type: 'function', name: 'g', parameters: null, strict: true},
        {
          type: 'namespace',
          name: 'files',
          description: 'File tools',
          tools: [
            {type: 'function', name: 'read', description: 'Read', parameters: schema},
            {type: 'custom', name: 'edit'},
          ],
        },
        {type: 'custom', name: 'apply_patch', description: 'Patch', format: grammar},
      ],
    })
    expect(ir.tools).toEqual([
      {name: 'f', description: 'F', parameters: schema},
      {name: 'g', parameters: {type: 'object', properties: {}}},
      {name: 'files__read', description: 'Read', parameters: schema},
      {
        name: 'files__edit',
        parameters: {
          type: 'object',
          properties: {
            input: {type: 'string', description: 'The free-form text input for this tool, passed to it unchanged.'},
          },
          required: ['input'],
        },
      },
      {
        name: 'apply_patch',
        description: 'Patch',
        parameters: {
          type: 'object',
          properties: {
            input: {
              type: 'string',
              description:
                'The free-form text input for this tool, passed to it unchanged. It must follow this lark grammar:\nstart: "x"',
            },
          },
          required: ['input'],
        },
      },
    ])
    expect(dropped).toEqual(['tools.function.strict', 'tools.namespace.description'])
  })

  it('names namespaced custom tools back as custom tools', () => {
    const request = {tools: [{type: 'namespace', name: 'files', tools: [{type: 'custom', name: 'edit'}]}]}
    expect(clientToolNames(request).get('files__edit')).toEqual({kind: 'custom', name: 'edit', namespace: 'files'})
  })

  it.each([
    'web_search',
    'web_search_preview',
    'file_search',
    'code_interpreter',
    'computer_use',
    'computer_use_preview',
    'image_generation',
    'local_shell',
    'mcp',
    'tool_search',
    'shell',
    'something_new',
  ])('drops the built-in tool %s without failing', (type) => {
    const {ir, dropped} = decode({input: 'q', tools: [{type}, {type: 'function', name: 'f', parameters: schema}]})
    expect(ir.tools.map((tool) => tool.name)).toEqual(['f'])
    expect(dropped).toEqual([`tools.${type}`])
  })

  it.each([
    ['auto', 'auto', []],
    ['none', 'none', []],
    ['required', 'required', []],
    [{type: 'function', name: 'f'}, {name: 'f'}, []],
    [{type: 'custom', name: 'apply_patch'}, {name: 'apply_patch'}, []],
    [{type: 'web_search_preview'}, 'auto', ['tool_choice.web_search_preview']],
    [{type: 'mcp', server_label: 's'}, 'auto', ['tool_choice.mcp']],
    [{type: 'allowed_tools', mode: 'required', tools: []}, 'required', ['tool_choice.allowed_tools']],
    [{type: 'allowed_tools', mode: 'auto', tools: []}, 'auto', ['tool_choice.allowed_tools']],
  ])('tool_choice %j → %j', (choice, expected, drops) => {
    const {ir, dropped} = decode({input: 'q', tool_choice: choice})
    expect(ir.toolChoice).toEqual(expected)
    expect(dropped).toEqual(drops)
  })

  it.each([
    ['none', {type: 'off'}],
    ['minimal', {type: 'effort', effort: 'minimal'}],
    ['low', {type: 'effort', effort: 'low'}],
    ['medium', {type: 'effort', effort: 'medium'}],
    ['high', {type: 'effort', effort: 'high'}],
    ['xhigh', {type: 'effort', effort: 'high'}],
  ])('reasoning.effort %s → %j', (effort, thinking) => {
    const {ir, dropped} = decode({input: 'q', reasoning: {effort, summary: 'auto'}})
    expect(ir.thinking).toEqual(thinking)
    expect(dropped).toEqual([])
  })

  it('leaves thinking unset for a summary alone and drops an unknown effort', () => {
    expect(decode({input: 'q', reasoning: {summary: 'detailed'}})).toMatchObject({dropped: []})
    expect(decode({input: 'q', reasoning: {summary: 'auto'}}).ir.thinking).toBeUndefined()
    const {ir, dropped} = decode({input: 'q', reasoning: {effort: 'max'}})
    expect(ir.thinking).toBeUndefined()
    expect(dropped).toEqual(['reasoning.effort'])
  })

  it.each([
    [{format: {type: 'text'}}, undefined, []],
    [{format: {type: 'json_object'}}, {type: 'json'}, []],
    [
      {format: {type: 'json_schema', name: 'a', schema, strict: true}},
      {type: 'json_schema', name: 'a', schema, strict: true},
      [],
    ],
    [{verbosity: 'low'}, undefined, ['text.verbosity']],
    [
      {format: {type: 'json_schema', schema, description: 'd'}, verbosity: 'high'},
      {type: 'json_schema', schema},
      ['text.verbosity', 'text.format.description'],
    ],
  ])('text %j → %j', (textConfig, format, drops) => {
    const {ir, dropped} = decode({input: 'q', text: textConfig})
    expect(ir.responseFormat).toEqual(format)
    expect(dropped).toEqual(drops)
  })

  it('reads sampling, limits, user and streaming settings', () => {
    const {ir, dropped} = decode({
      input: 'q',
      tools: [{type: 'function', name: 'f', parameters: schema}],
      parallel_tool_calls: false,
      max_output_tokens: 300,
      temperature: 0.3,
      top_p: 0.8,
      user: 'u-1',
      stream: true,
      stream_options: {include_obfuscation: false},
      store: false,
      include: ['reasoning.encrypted_content'],
    })
    expect(ir).toMatchObject({parallelToolCalls: false, maxTokens: 300, temperature: 0.3, topP: 0.8, user: 'u-1'})
    expect(ir).toMatchObject({stream: true, includeUsage: true, stop: []})
    expect(dropped).toEqual([])
    expect(decode({input: 'q', user: 'u', safety_identifier: 's'}).ir.user).toBe('s')
  })

  it('lets the context decide streaming when it knows', () => {
    expect(decode({input: 'q', stream: true}, {stream: false}).ir.stream).toBe(false)
    expect(decode({input: 'q'}, {stream: true}).ir.stream).toBe(true)
    expect(decode({input: 'q', stream: true}).ir.stream).toBe(true)
  })

  it('drops the fields it cannot carry, and takes a previous_response_id as already expanded', () => {
    const {dropped} = decode({
      input: 'q',
      prompt_cache_key: 'k',
      metadata: {a: 'b'},
      client_metadata: {turn_id: 't'},
      service_tier: 'flex',
      truncation: 'auto',
      previous_response_id: 'resp_1',
      background: false,
      stream_options: {include_obfuscation: true, future_option: 1},
      conversation: null,
    })
    expect(dropped).toEqual([
      'metadata',
      'client_metadata',
      'service_tier',
      'truncation',
      'background',
      'stream_options.future_option',
    ])
  })

  it('takes the model from the context when the body has none', () => {
    expect(decodeResponsesRequest({input: 'q'}, {model: 'ctx-model'}).model).toBe('ctx-model')
  })
})

describe('request errors', () => {
  it.each([
    ['not an object', [], "Invalid type for 'request body': expected an object, but got an array instead."],
    ['no model', {input: 'q'}, "Missing required parameter: 'model'."],
    ['no input', {model: 'm'}, "Missing required parameter: 'input'."],
    [
      'input an object',
      {model: 'm', input: {}},
      "Invalid type for 'input': expected a string or an array of input items",
    ],
    ['empty input', {model: 'm', input: []}, "Invalid 'input': empty array."],
    ['item not an object', {model: 'm', input: ['x']}, "Invalid type for 'input[0]': expected an object"],
    [
      'item without type or role',
      {model: 'm', input: [{content: 'x'}]},
      "Missing required parameter: 'input[0].type'.",
    ],
    [
      'unknown role',
      {model: 'm', input: [{role: 'robot', content: 'x'}]},
      "Invalid value for 'input[0].role': 'robot'. Supported values are: 'user', 'assistant', 'system', 'developer'.",
    ],
    [
      'content a number',
      {model: 'm', input: [{role: 'user', content: 5}]},
      "Invalid type for 'input[0].content': expected a string or an array of content parts, but got an integer instead.",
    ],
    [
      'part without text',
      {model: 'm', input: [userItem([{type: 'input_text'}])]},
      "Missing required parameter: 'input[0].content[0].text'.",
    ],
    [
      'image without url or file',
      {model: 'm', input: [userItem([{type: 'input_image', detail: 'auto'}])]},
      "Missing required parameter: 'input[0].content[0].image_url'.",
    ],
    [
      'image with a ftp URL',
      {model: 'm', input: [userItem([{type: 'input_image', image_url: 'ftp://x/y.png'}])]},
      "Invalid 'input[0].content[0].image_url': expected a base64-encoded data URL or an http(s) URL.",
    ],
    [
      'function_call without call_id',
      {model: 'm', input: [{type: 'function_call', name: 'f', arguments: '{}'}]},
      "Missing required parameter: 'input[0].call_id'.",
    ],
    [
      'function_call_output without output',
      {model: 'm', input: [{type: 'function_call_output', call_id: 'c'}]},
      "Missing required parameter: 'input[0].output'.",
    ],
    [
      'function_call_output an object',
      {model: 'm', input: [output('c', {a: 1})]},
      "Invalid type for 'input[0].output': expected a string or an array of output content parts",
    ],
    [
      'custom_tool_call without input',
      {model: 'm', input: [{type: 'custom_tool_call', call_id: 'c', name: 'apply_patch'}]},
      "Missing required parameter: 'input[0].input'.",
    ],
    [
      'reasoning summary a string',
      {model: 'm', input: [{type: 'reasoning', summary: 'x'}]},
      "Invalid type for 'input[0].summary': expected an array",
    ],
    [
      'tool without type',
      {model: 'm', input: 'q', tools: [{name: 'f'}]},
      "Missing required parameter: 'tools[0].type'.",
    ],
    [
      'function without name',
      {model: 'm', input: 'q', tools: [{type: 'function'}]},
      "Missing required parameter: 'tools[0].name'.",
    ],
    [
      'tool_choice unknown string',
      {model: 'm', input: 'q', tool_choice: 'sometimes'},
      "Invalid value for 'tool_choice': 'sometimes'. Supported values are: 'auto', 'none', 'required'.",
    ],
    [
      'tool_choice function without name',
      {model: 'm', input: 'q', tool_choice: {type: 'function'}},
      "Missing required parameter: 'tool_choice.name'.",
    ],
    [
      'temperature a string',
      {model: 'm', input: 'q', temperature: 'hot'},
      "Invalid type for 'temperature': expected a number, but got a string instead.",
    ],
    [
      'max_output_tokens a decimal',
      {model: 'm', input: 'q', max_output_tokens: 1.5},
      "Invalid type for 'max_output_tokens': expected an integer, but got a decimal instead.",
    ],
    ['stream a string', {model: 'm', input: 'q', stream: 'yes'}, "Invalid type for 'stream': expected a boolean"],
    [
      'json_schema without schema',
      {model: 'm', input: 'q', text: {format: {type: 'json_schema', name: 'a'}}},
      "Missing required parameter: 'text.format.schema'.",
    ],
    [
      'unknown text format',
      {model: 'm', input: 'q', text: {format: {type: 'yaml'}}},
      "Invalid value for 'text.format.type': 'yaml'.",
    ],
    [
      'reasoning a string',
      {model: 'm', input: 'q', reasoning: 'high'},
      "Invalid type for 'reasoning': expected an object",
    ],
  ])('%s → 400', (_name, body, message) => {
    const error = codecError(() => decodeResponsesRequest(body))
    expect(error.status).toBe(400)
    expect(error.message).toContain(message)
  })
})

describe('encoding for a Responses upstream', () => {
  const schema = {type: 'object', properties: {city: {type: 'string'}}}

  it('writes the conversation as input items in order', () => {
    const {out, dropped} = encode({
      system: [text('A') as never, text('B') as never],
      messages: [
        user(text('Hi'), pngBlock, {type: 'image', source: {kind: 'url', url: 'https://example.com/a.png'}}),
        assistant(
          {type: 'thinking', text: 'hmm', signature: 'enc-1'},
          {type: 'redacted_thinking', data: 'enc-2'},
          text('One'),
          text('Two'),
          {type: 'tool_call', id: 'call_1', name: 'get_weather', input: {city: 'Paris'}},
          text('Three'),
        ),
        user(
          {type: 'tool_result', toolCallId: 'call_1', toolName: 'get_weather', content: [text('21°C')], isError: false},
          text('And?'),
        ),
      ] as IRRequest['messages'],
    })
    expect(dropped).toEqual([])
    expect(out).toEqual({
      model: 'm',
      instructions: 'A\n\nB',
      input: [
        userItem([
          {type: 'input_text', text: 'Hi'},
          {type: 'input_image', image_url: PNG, detail: 'auto'},
          {type: 'input_image', image_url: 'https://example.com/a.png', detail: 'auto'},
        ]),
        {type: 'reasoning', summary: [{type: 'summary_text', text: 'hmm'}], encrypted_content: 'enc-1'},
        {type: 'reasoning', summary: [], encrypted_content: 'enc-2'},
        {
          type: 'message',
          role: 'assistant',
          content: [
            {type: 'output_text', text: 'One'},
            {type: 'output_text', text: 'Two'},
          ],
        },
        {type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}'},
        {type: 'message', role: 'assistant', content: [{type: 'output_text', text: 'Three'}]},
        {type: 'function_call_output', call_id: 'call_1', output: '21°C'},
        userItem([{type: 'input_text', text: 'And?'}]),
      ],
      store: false,
    })
  })

  it('drops thinking without a signature and signatures of other kinds, and says a tool failed in its output', () => {
    const {out, dropped} = encode({
      messages: [
        user(text('q')),
        assistant(
          {type: 'thinking', text: 'unsigned'},
          {...text('a'), signature: 'g1'},
          {type: 'tool_call', id: 'c', name: 'f', input: {}, signature: 'g2'},
        ),
        user({type: 'tool_result', toolCallId: 'c', content: [], isError: true}),
      ] as IRRequest['messages'],
    })
    expect(dropped).toEqual(['thinking without signature', 'text.signature', 'tool_call.signature'])
    expect(out.input).toEqual([
      userItem([{type: 'input_text', text: 'q'}]),
      {type: 'message', role: 'assistant', content: [{type: 'output_text', text: 'a'}]},
      {type: 'function_call', call_id: 'c', name: 'f', arguments: '{}'},
      {type: 'function_call_output', call_id: 'c', output: 'Error'},
    ])
  })

  it('writes tool results with several parts as an output list', () => {
    const result = {type: 'tool_result', toolCallId: 'c', content: [text('a'), pngBlock], isError: false}
    const {out} = encode({messages: [user(result)] as IRRequest['messages']})
    expect(out.input).toEqual([
      {
        type: 'function_call_output',
        call_id: 'c',
        output: [
          {type: 'input_text', text: 'a'},
          {type: 'input_image', image_url: PNG, detail: 'auto'},
        ],
      },
    ])
  })

  it('writes tools, choices, limits, sampling, format, user and streaming', () => {
    const {out, dropped} = encode({
      messages: [user(text('q'))] as IRRequest['messages'],
      tools: [
        {name: 'get_weather', description: 'W', parameters: schema},
        {name: 'noop', parameters: {}},
      ],
      toolChoice: {name: 'get_weather'},
      parallelToolCalls: false,
      maxTokens: 100,
      temperature: 0.2,
      topP: 0.5,
      responseFormat: {type: 'json_schema', schema},
      user: 'u-1',
      stream: true,
    })
    expect(dropped).toEqual([])
    expect(out).toMatchObject({
      tools: [
        {type: 'function', name: 'get_weather', description: 'W', parameters: schema, strict: false},
        {type: 'function', name: 'noop', parameters: {}, strict: false},
      ],
      tool_choice: {type: 'function', name: 'get_weather'},
      parallel_tool_calls: false,
      max_output_tokens: 100,
      temperature: 0.2,
      top_p: 0.5,
      text: {format: {type: 'json_schema', name: 'response', schema}},
      user: 'u-1',
      stream: true,
      store: false,
    })
    expect(encode({responseFormat: {type: 'json'}}).out.text).toEqual({format: {type: 'json_object'}})
  })

  it.each([
    [{type: 'off'}, {effort: 'none'}, undefined],
    [{type: 'effort', effort: 'minimal'}, {effort: 'minimal', summary: 'auto'}, ['reasoning.encrypted_content']],
    [{type: 'auto'}, {effort: 'medium', summary: 'auto'}, ['reasoning.encrypted_content']],
    [{type: 'budget', budgetTokens: 30000}, {effort: 'high', summary: 'auto'}, ['reasoning.encrypted_content']],
  ] as const)('thinking %j → reasoning %j', (thinking, reasoning, include) => {
    const {out} = encode({thinking})
    expect(out.reasoning).toEqual(reasoning)
    expect(out.include).toEqual(include)
  })

  it('reports what Responses cannot carry', () => {
    const {out, dropped} = encode({
      topK: 5,
      seed: 1,
      presencePenalty: 0.1,
      frequencyPenalty: 0.2,
      stop: ['END'],
      toolChoice: 'required',
    })
    expect(dropped).toEqual(['topK', 'seed', 'presencePenalty', 'frequencyPenalty', 'stop', 'tool_choice'])
    expect(out).toEqual({model: 'm', input: [], store: false})
  })

  it('gives the IR back when its encoding is decoded', () => {
    const ir: IRRequest = {
      model: 'm',
      system: [{type: 'text', text: 'Be brief.'}],
      messages: [
        {role: 'user', content: [{type: 'text', text: 'q'}, pngBlock as IRContentBlock]},
        {
          role: 'assistant',
          content: [
            {type: 'redacted_thinking', data: 'enc'},
            {type: 'tool_call', id: 'c1', name: 'f', input: {a: [1, 'b']}},
            {type: 'thinking', text: 'more', signature: 'enc2'},
            {type: 'text', text: 'x'},
          ],
        },
        {role: 'user', content: [{type: 'tool_result', toolCallId: 'c1', toolName: 'f', content: [], isError: false}]},
        {role: 'user', content: [{type: 'text', text: 'next'}]},
      ],
      tools: [{name: 'f', parameters: schema}],
      toolChoice: 'required',
      parallelToolCalls: true,
      maxTokens: 64,
      temperature: 1,
      topP: 0.9,
      stop: [],
      stream: true,
      includeUsage: true,
      thinking: {type: 'effort', effort: 'low'},
      responseFormat: {type: 'json_schema', schema, name: 'r', strict: true},
      user: 'u',
    }
    const body = JSON.parse(JSON.stringify(encodeResponsesRequest(ir))) as unknown
    expect(decodeResponsesRequest(body)).toEqual(ir)
  })
})

describe('requests captured from Codex 0.171.0', () => {
  const load = (name: string) => {
    const url = new URL(`../../../../test/fixtures/clients/${name}`, import.meta.url)
    return (JSON.parse(readFileSync(url, 'utf8')) as {body: Record<string, unknown>}).body
  }
  const replay = (name: string) => {
    const body = load(name)
    const dropped: string[] = []
    const ir = decodeResponsesRequest(body, {onDropped: (field) => dropped.push(field)})
    return {body, ir, dropped}
  }

  it.each(['codex-0.171.0-first-turn.json', 'codex-0.171.0-tool-result-turn.json'])(
    '%s: developer messages become system text, built-in tools drop, custom tools stay',
    (name) => {
      const {ir, dropped} = replay(name)
      expect(ir.model).toBe('gpt-5.5')
      expect(ir.stream).toBe(true)
      expect(ir.thinking).toEqual({type: 'effort', effort: 'medium'})
      expect(ir).toMatchObject({toolChoice: 'auto', parallelToolCalls: true})
      expect(ir.system).toHaveLength(4)
      expect(ir.system[3]?.text).toContain('Deferred tool namespaces')
      expect(ir.messages[0]?.role).toBe('user')
      expect(ir.messages[1]?.role).toBe('user')
      expect(ir.tools.map((tool) => tool.name)).toEqual([
        'exec_command',
        'write_stdin',
        'request_user_input',
        'apply_patch',
        'view_image',
        'get_goal',
        'create_goal',
        'update_goal',
        'tool_search',
      ])
      expect(ir.tools[3]?.parameters).toMatchObject({properties: {input: {type: 'string'}}, required: ['input']})
      expect(ir.promptCacheKey).toBeDefined()
      expect(dropped).toEqual(['client_metadata', 'tools.web_search', 'text.verbosity'])
    },
  )

  it('pairs the function call with its output and keeps the encrypted reasoning', () => {
    const {ir} = replay('codex-0.171.0-tool-result-turn.json')
    expect(ir.messages.slice(2)).toEqual([
      assistant(
        {type: 'redacted_thinking', data: 'ENCRYPTED-REASONING-RECORDED'},
        {type: 'tool_call', id: 'call_rec1', name: 'exec_command', input: {cmd: 'echo hi'}},
      ),
      user({
        type: 'tool_result',
        toolCallId: 'call_rec1',
        toolName: 'exec_command',
        content: [text(expect.stringContaining('Output:\nhi') as unknown as string)],
        isError: false,
      }),
    ])
  })

  it.each([
    ['codex-0.171.0-first-turn.json', 'openai'],
    ['codex-0.171.0-first-turn.json', 'anthropic'],
    ['codex-0.171.0-first-turn.json', 'gemini'],
    ['codex-0.171.0-first-turn.json', 'responses'],
    ['codex-0.171.0-tool-result-turn.json', 'openai'],
    ['codex-0.171.0-tool-result-turn.json', 'anthropic'],
    ['codex-0.171.0-tool-result-turn.json', 'gemini'],
    ['codex-0.171.0-tool-result-turn.json', 'responses'],
  ] as const)('%s encodes for %s upstreams', (name, protocol) => {
    const {ir} = replay(name)
    const out = codecs[protocol].encodeRequest(ir) as Record<string, unknown>
    expect(JSON.stringify(out)).toContain('apply_patch')
    if (name.includes('tool-result')) expect(JSON.stringify(out)).toContain('call_rec1')
  })

  it('sends the tool-result turn to a Responses upstream with the reasoning and the call pair intact', () => {
    const {ir} = replay('codex-0.171.0-tool-result-turn.json')
    const out = encodeResponsesRequest(ir)
    expect((out.input as unknown[]).slice(-3)).toEqual([
      {type: 'reasoning', summary: [], encrypted_content: 'ENCRYPTED-REASONING-RECORDED'},
      {type: 'function_call', call_id: 'call_rec1', name: 'exec_command', arguments: '{"cmd":"echo hi"}'},
      {type: 'function_call_output', call_id: 'call_rec1', output: expect.stringContaining('Output:\nhi') as unknown},
    ])
    expect(out).toMatchObject({store: false, include: ['reasoning.encrypted_content'], reasoning: {effort: 'medium'}})
  })
})
