import {CodecError} from './errors.js'
import {decodeModelPart, field} from './gemini-common.js'
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
import {fromGeminiSchema} from './schema.js'
import {severalAnswers} from './uncarried.js'
import type {DecodeRequestContext, DropHandler} from './types.js'
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
  'candidateCount',
  'responseLogprobs',
  'logprobs',
])
const EFFORTS = new Set(['minimal', 'low', 'medium', 'high'])

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
    candidateCount: severalAnswers(optionalNumber(field(config, 'candidateCount'), 'generationConfig.candidateCount')),
    logprobs: decodeLogprobs(config),
  })
}

function decodeLogprobs(config: JsonObject): IRRequest['logprobs'] {
  if (field(config, 'responseLogprobs') !== true) return undefined
  return compact({top: optionalNumber(config.logprobs, 'generationConfig.logprobs')})
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
      throw new CodecError('Please use a valid role: user, model.')
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
  pending.set(
    name,
    queue.filter((entry) => entry !== id),
  )
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
        ? fromGeminiSchema(jsonSchema)
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
  // Gemini takes OpenAPI's upper-case types here too, and gemini-cli 0.61 sends them (`"type": "OBJECT"`); OpenAI
  // and Anthropic reject those, so they are lower-cased like `responseSchema`'s.
  if (isObject(jsonSchema)) return {type: 'json_schema', schema: fromGeminiSchema(jsonSchema)}
  if (isObject(schema)) return {type: 'json_schema', schema: fromGeminiSchema(schema)}
  return {type: 'json'}
}
