import {joinText, mergeTurns, toolNamesById} from './conversation.js'
import {CodecError} from './errors.js'
import {decodeModelPart, encodeModelPart, field, PLACEHOLDER_SIGNATURE} from './gemini-common.js'
import type {
  IRContentBlock,
  IREffort,
  IRImage,
  IRMessage,
  IRRequest,
  IRResponseFormat,
  IRText,
  IRThinkingConfig,
  IRTool,
  IRToolChoice,
  IRToolResult,
} from './ir.js'
import {guessImageType} from './media.js'
import {fromGeminiSchema, toGeminiSchema} from './schema.js'
import {EFFORT_BUDGETS} from './thinking.js'
import type {CodecOptions, DecodeRequestContext, DropHandler} from './types.js'
import {
  asArray,
  asObject,
  asString,
  compact,
  expectArray,
  expectObject,
  expectString,
  isObject,
  optionalNumber,
  optionalString,
  type JsonObject,
} from './values.js'

const REQUEST_FIELDS = new Set(['model', 'contents', 'systemInstruction', 'tools', 'toolConfig', 'generationConfig'])
const GENERATION_FIELDS = new Set([
  'temperature',
  'topP',
  'topK',
  'maxOutputTokens',
  'stopSequences',
  'presencePenalty',
  'frequencyPenalty',
  'seed',
  'responseMimeType',
  'responseSchema',
  'responseJsonSchema',
  'thinkingConfig',
])
const EFFORTS = new Set(['minimal', 'low', 'medium', 'high'])
const MAX_STOP_SEQUENCES = 5

function camel(name: string): string {
  return name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase())
}

export function decodeGeminiRequest(body: unknown, ctx: DecodeRequestContext = {}): IRRequest {
  const drop = ctx.onDropped ?? (() => {})
  const request = expectObject(body, 'request body')
  for (const key of Object.keys(request)) if (!REQUEST_FIELDS.has(camel(key))) drop(camel(key))
  const model = ctx.model ?? optionalString(request.model, 'model')
  if (!model) throw new CodecError('model is required (it is part of the URL: /v1beta/models/{model}:generateContent)')
  const contents = expectArray(field(request, 'contents'), 'contents')
  if (contents.length === 0) throw new CodecError('contents must not be empty')
  const rawConfig = field(request, 'generationConfig')
  const config = rawConfig === undefined ? {} : expectObject(rawConfig, 'generationConfig')
  for (const key of Object.keys(config)) if (!GENERATION_FIELDS.has(camel(key))) drop(`generationConfig.${camel(key)}`)
  return compact({
    model,
    system: decodeSystem(field(request, 'systemInstruction')),
    messages: decodeContents(contents, drop),
    tools: decodeTools(field(request, 'tools'), drop),
    toolChoice: decodeToolChoice(field(request, 'toolConfig'), drop),
    maxTokens: optionalNumber(field(config, 'maxOutputTokens'), 'generationConfig.maxOutputTokens'),
    temperature: optionalNumber(config.temperature, 'generationConfig.temperature'),
    topP: optionalNumber(field(config, 'topP'), 'generationConfig.topP'),
    topK: optionalNumber(field(config, 'topK'), 'generationConfig.topK'),
    presencePenalty: optionalNumber(field(config, 'presencePenalty'), 'generationConfig.presencePenalty'),
    frequencyPenalty: optionalNumber(field(config, 'frequencyPenalty'), 'generationConfig.frequencyPenalty'),
    seed: optionalNumber(config.seed, 'generationConfig.seed'),
    stop: asArray(field(config, 'stopSequences')).map((entry, i) =>
      expectString(entry, `generationConfig.stopSequences[${i}]`),
    ),
    stream: ctx.stream ?? false,
    includeUsage: true,
    thinking: decodeThinking(field(config, 'thinkingConfig')),
    responseFormat: decodeResponseFormat(config),
  })
}

function decodeSystem(value: unknown): IRText[] {
  if (value === undefined || value === null) return []
  if (typeof value === 'string') return value === '' ? [] : [{type: 'text', text: value}]
  const instruction = expectObject(value, 'systemInstruction')
  return expectArray(instruction.parts, 'systemInstruction.parts').map((part, i) => ({
    type: 'text',
    text: expectString(asObject(part).text, `systemInstruction.parts[${i}].text`),
  }))
}

function decodeContents(contents: unknown[], drop: DropHandler): IRMessage[] {
  // Calls without ids get positional ids, so the same history always decodes to the same ids; responses
  // without ids answer the oldest unanswered call of that name.
  let positional = 0
  const nextId = () => `call_${++positional}`
  const pending = new Map<string, string[]>()
  return contents.map((value, i): IRMessage => {
    const content = expectObject(value, `contents[${i}]`)
    const role = content.role ?? 'user'
    if (role !== 'user' && role !== 'model' && role !== 'function') {
      throw new CodecError(`contents[${i}].role must be "user" or "model"`)
    }
    const blocks: IRContentBlock[] = []
    expectArray(content.parts, `contents[${i}].parts`).forEach((entry, j) => {
      const path = `contents[${i}].parts[${j}]`
      const part = expectObject(entry, path)
      const response = field(part, 'functionResponse')
      const inline = field(part, 'inlineData')
      const file = field(part, 'fileData')
      if (isObject(response)) blocks.push(decodeFunctionResponse(response, `${path}.functionResponse`, pending))
      else if (isObject(inline)) blocks.push(decodeMedia(inline, `${path}.inlineData`, 'base64'))
      else if (isObject(file)) blocks.push(decodeMedia(file, `${path}.fileData`, 'url'))
      else {
        const call = field(part, 'functionCall')
        if (isObject(call)) expectString(call.name, `${path}.functionCall.name`)
        const block = decodeModelPart(part, nextId)
        if (block?.type === 'tool_call') pending.set(block.name, [...(pending.get(block.name) ?? []), block.id])
        if (block) blocks.push(block)
        else drop(`parts.${Object.keys(part)[0] ?? 'empty'}`)
      }
    })
    return {role: role === 'model' ? 'assistant' : 'user', content: blocks}
  })
}

// gemini-cli answers with {output} or {error}; other shapes are forwarded as JSON text.
function decodeFunctionResponse(response: JsonObject, path: string, pending: Map<string, string[]>): IRToolResult {
  const name = expectString(response.name, `${path}.name`)
  const queue = pending.get(name) ?? []
  const id = optionalString(response.id, `${path}.id`) ?? queue[0]
  if (id === undefined) throw new CodecError(`${path} "${name}" answers no earlier functionCall`)
  pending.set(name, queue.filter((entry) => entry !== id))
  const body = asObject(response.response)
  const keys = Object.keys(body)
  const only = keys.length === 1 ? keys[0] : undefined
  const wrapped = (only === 'output' || only === 'error') && typeof body[only] === 'string'
  const text = wrapped ? String(body[only]) : JSON.stringify(response.response ?? {})
  const content: IRText[] = text === '' ? [] : [{type: 'text', text}]
  return {type: 'tool_result', toolCallId: id, toolName: name, content, isError: only === 'error'}
}

function decodeMedia(media: JsonObject, path: string, kind: 'base64' | 'url'): IRImage {
  const mediaType = expectString(field(media, 'mimeType'), `${path}.mimeType`)
  if (!mediaType.startsWith('image/')) {
    throw new CodecError(`${path}: only images are supported for this upstream (got ${mediaType})`)
  }
  if (kind === 'base64') {
    return {type: 'image', source: {kind, mediaType, data: expectString(media.data, `${path}.data`)}}
  }
  return {type: 'image', source: {kind, mediaType, url: expectString(field(media, 'fileUri'), `${path}.fileUri`)}}
}

function decodeTools(value: unknown, drop: DropHandler): IRTool[] {
  const tools: IRTool[] = []
  asArray(value).forEach((entry, i) => {
    const tool = expectObject(entry, `tools[${i}]`)
    for (const key of Object.keys(tool)) if (camel(key) !== 'functionDeclarations') drop(`tools.${camel(key)}`)
    asArray(field(tool, 'functionDeclarations')).forEach((declaration, j) => {
      const path = `tools[${i}].functionDeclarations[${j}]`
      const fn = expectObject(declaration, path)
      const jsonSchema = field(fn, 'parametersJsonSchema')
      const parameters = isObject(jsonSchema)
        ? jsonSchema
        : isObject(fn.parameters)
          ? fromGeminiSchema(fn.parameters)
          : {type: 'object', properties: {}}
      const name = expectString(fn.name, `${path}.name`)
      tools.push(compact({name, description: optionalString(fn.description, `${path}.description`), parameters}))
    })
  })
  return tools
}

function decodeToolChoice(value: unknown, drop: DropHandler): IRToolChoice | undefined {
  const config = asObject(field(asObject(value), 'functionCallingConfig'))
  const mode = asString(config.mode)?.toUpperCase()
  const allowed = asArray(field(config, 'allowedFunctionNames'))
  if (mode === undefined) return undefined
  if (mode === 'NONE') return 'none'
  if (mode === 'ANY') {
    if (allowed.length === 1 && typeof allowed[0] === 'string') return {name: allowed[0]}
    if (allowed.length > 1) drop('allowedFunctionNames')
    return 'required'
  }
  if (mode !== 'AUTO') drop(`functionCallingConfig.mode=${mode}`)
  return 'auto'
}

function decodeThinking(value: unknown): IRThinkingConfig | undefined {
  if (value === undefined || value === null) return undefined
  const config = expectObject(value, 'generationConfig.thinkingConfig')
  const level = asString(field(config, 'thinkingLevel'))?.toLowerCase()
  if (level !== undefined && EFFORTS.has(level)) return {type: 'effort', effort: level as IREffort}
  const budget = optionalNumber(field(config, 'thinkingBudget'), 'generationConfig.thinkingConfig.thinkingBudget')
  if (budget === 0) return {type: 'off'}
  if (budget !== undefined && budget > 0) return {type: 'budget', budgetTokens: budget}
  return budget === undefined && field(config, 'includeThoughts') !== true ? undefined : {type: 'auto'}
}

function decodeResponseFormat(config: JsonObject): IRResponseFormat | undefined {
  if (asString(field(config, 'responseMimeType')) !== 'application/json') return undefined
  const jsonSchema = field(config, 'responseJsonSchema')
  const schema = field(config, 'responseSchema')
  if (isObject(jsonSchema)) return {type: 'json_schema', schema: jsonSchema}
  if (isObject(schema)) return {type: 'json_schema', schema: fromGeminiSchema(schema)}
  return {type: 'json'}
}

// Gemini Pro models cannot switch thinking off and cap budgets at 32768 (Flash: 24576).
function encodeThinking(model: string, config: IRThinkingConfig, drop: DropHandler): JsonObject | undefined {
  const pro = /pro/.test(model)
  switch (config.type) {
    case 'off':
      if (!pro) return {thinkingBudget: 0}
      drop('thinking=off')
      return undefined
    case 'auto':
      return {thinkingBudget: -1, includeThoughts: true}
    case 'effort':
      if (/gemini-3/.test(model)) return {thinkingLevel: config.effort, includeThoughts: true}
      return {thinkingBudget: EFFORT_BUDGETS[config.effort], includeThoughts: true}
    case 'budget':
      return {thinkingBudget: Math.min(config.budgetTokens, pro ? 32768 : 24576), includeThoughts: true}
  }
}

export function encodeGeminiRequest(req: IRRequest, opts: CodecOptions = {}): JsonObject {
  const drop = opts.onDropped ?? (() => {})
  if (req.parallelToolCalls !== undefined) drop('parallel_tool_calls')
  if (req.user !== undefined) drop('user')
  if (req.stop.length > MAX_STOP_SEQUENCES) drop('stop[5..]')
  const names = toolNamesById(req.messages)
  const encoder = new PartEncoder(req.model, names, drop)
  const contents = mergeTurns(req.messages).map((turn) => ({
    role: turn.role === 'assistant' ? 'model' : 'user',
    parts: encoder.parts(turn.content),
  }))
  const format = req.responseFormat
  const generationConfig = compact({
    temperature: req.temperature,
    topP: req.topP,
    topK: req.topK,
    maxOutputTokens: req.maxTokens,
    stopSequences: req.stop.length > 0 ? req.stop.slice(0, MAX_STOP_SEQUENCES) : undefined,
    presencePenalty: req.presencePenalty,
    frequencyPenalty: req.frequencyPenalty,
    seed: req.seed,
    responseMimeType: format ? 'application/json' : undefined,
    responseSchema: format?.type === 'json_schema' ? toGeminiSchema(format.schema, drop) : undefined,
    thinkingConfig: req.thinking && encodeThinking(req.model, req.thinking, drop),
  })
  const hasTools = req.tools.length > 0
  if (!hasTools && req.toolChoice !== undefined) drop('tool_choice')
  return compact({
    contents,
    systemInstruction: req.system.length > 0 ? {parts: req.system.map((block) => ({text: block.text}))} : undefined,
    tools: hasTools ? [{functionDeclarations: req.tools.map((tool) => encodeTool(tool, drop))}] : undefined,
    toolConfig:
      hasTools && req.toolChoice !== undefined ? {functionCallingConfig: encodeToolChoice(req.toolChoice)} : undefined,
    generationConfig: Object.keys(generationConfig).length > 0 ? generationConfig : undefined,
  })
}

class PartEncoder {
  private readonly gemini3: boolean

  constructor(
    model: string,
    private readonly names: Map<string, string>,
    private readonly drop: DropHandler,
  ) {
    this.gemini3 = /gemini-3/.test(model)
  }

  // Function responses lead the turn; images a tool returned follow them, since Gemini pairs the responses
  // with the previous turn's calls by position.
  parts(blocks: IRContentBlock[]): JsonObject[] {
    const parts: JsonObject[] = []
    const toolImages: JsonObject[] = []
    for (const block of blocks) {
      if (block.type === 'tool_result') {
        parts.push(this.functionResponse(block))
        for (const item of block.content) if (item.type === 'image') toolImages.push(this.image(item))
      }
    }
    parts.push(...toolImages)
    for (const block of blocks) {
      const part = block.type === 'tool_result' ? undefined : this.part(block)
      if (part) parts.push(part)
    }
    return parts
  }

  private part(block: Exclude<IRContentBlock, IRToolResult>): JsonObject | undefined {
    switch (block.type) {
      case 'text':
        return block.text === '' && block.signature === undefined ? undefined : encodeModelPart(block)
      case 'thinking':
        return encodeModelPart(block)
      case 'image':
        return this.image(block)
      case 'tool_call':
        // Gemini 3 rejects a function call of the current turn without a signature.
        return encodeModelPart(
          block.signature === undefined && this.gemini3 ? {...block, signature: PLACEHOLDER_SIGNATURE} : block,
        )
      case 'redacted_thinking':
        this.drop('redacted_thinking')
        return undefined
    }
  }

  private functionResponse(block: IRToolResult): JsonObject {
    const name = block.toolName ?? this.names.get(block.toolCallId)
    if (name === undefined) throw new CodecError(`tool result for call "${block.toolCallId}" has no matching tool call`)
    const text = joinText(block.content)
    return {functionResponse: {id: block.toolCallId, name, response: block.isError ? {error: text} : {output: text}}}
  }

  private image(image: IRImage): JsonObject {
    const {source} = image
    if (source.kind === 'base64') return {inlineData: {mimeType: source.mediaType, data: source.data}}
    if (!/^(gs:\/\/|https:\/\/generativelanguage\.googleapis\.com\/)/.test(source.url)) {
      throw new CodecError(
        `image URL ${source.url} cannot be sent to a Gemini upstream: only inline base64 images (data: URLs) ` +
          'and Gemini file URIs are accepted',
      )
    }
    return {fileData: {mimeType: source.mediaType ?? guessImageType(source.url) ?? 'image/jpeg', fileUri: source.url}}
  }
}

function encodeTool(tool: IRTool, drop: DropHandler): JsonObject {
  const parameters = toGeminiSchema(tool.parameters, drop)
  // An object schema without properties is rejected, and a function without parameters needs none.
  const empty = (parameters.type === undefined || parameters.type === 'object') && parameters.properties === undefined
  return compact({name: tool.name, description: tool.description, parameters: empty ? undefined : parameters})
}

function encodeToolChoice(choice: IRToolChoice): JsonObject {
  if (choice === 'auto') return {mode: 'AUTO'}
  if (choice === 'none') return {mode: 'NONE'}
  if (choice === 'required') return {mode: 'ANY'}
  return {mode: 'ANY', allowedFunctionNames: [choice.name]}
}
