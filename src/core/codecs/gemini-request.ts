import {hoistSystemMessages, joinText, mergeTurns, toolNamesById} from './conversation.js'
import {CodecError} from './errors.js'
import {encodeModelPart, PLACEHOLDER_SIGNATURE} from './gemini-common.js'
import type {IRContentBlock, IRImage, IRRequest, IRThinkingConfig, IRTool, IRToolChoice, IRToolResult} from './ir.js'
import {guessImageType} from './media.js'
import {toGeminiSchema} from './schema.js'
import {EFFORT_BUDGETS, thinkingEffort} from './thinking.js'
import type {CodecOptions, DropHandler} from './types.js'
import {compact, type JsonObject} from './values.js'
import {refuseStreamedUncarried} from './uncarried.js'
import {usesCacheControl} from './cache-control.js'

const MAX_STOP_SEQUENCES = 5

// Gemini Pro models cannot switch thinking off and cap budgets at 32768 (Flash: 24576). Gemini 3 models take a
// thinking level instead of a budget.
function encodeThinking(model: string, config: IRThinkingConfig, drop: DropHandler): JsonObject | undefined {
  const pro = /pro/.test(model)
  if (/gemini-3/.test(model) && config.type !== 'off') return gemini3Thinking(pro, config)
  switch (config.type) {
    case 'off':
      if (!pro) return {thinkingBudget: 0}
      drop('thinking=off')
      return undefined
    case 'auto':
      return {thinkingBudget: -1, includeThoughts: true}
    case 'effort':
      return {thinkingBudget: EFFORT_BUDGETS[config.effort], includeThoughts: true}
    case 'budget':
      return {thinkingBudget: Math.min(config.budgetTokens, pro ? 32768 : 24576), includeThoughts: true}
  }
}

// Gemini 3 Pro knows the levels low and high only; Flash also minimal and medium. Without a level (auto) the
// model thinks dynamically, as a budget of -1 asks of 2.5.
function gemini3Thinking(pro: boolean, config: Exclude<IRThinkingConfig, {type: 'off'}>): JsonObject {
  const effort = thinkingEffort(config)
  if (config.type === 'auto' || effort === undefined) return {includeThoughts: true}
  const level = pro ? (effort === 'minimal' || effort === 'low' ? 'low' : 'high') : effort
  return {thinkingLevel: level, includeThoughts: true}
}

// The models' output limits: Vertex (behind Code Assist) refuses a larger maxOutputTokens outright, while clients of
// other vendors ask for more (Claude Code: 128000). Unknown models are sent what the client asked for.
const OUTPUT_LIMITS: ReadonlyArray<[RegExp, number]> = [
  [/gemini-(2\.5|3)/, 65536],
  [/gemini-(1\.5|2\.0)/, 8192],
]

function fitOutputLimit(model: string, maxTokens: number, drop: DropHandler): number {
  const limit = OUTPUT_LIMITS.find(([pattern]) => pattern.test(model))?.[1]
  if (limit === undefined || maxTokens <= limit) return maxTokens
  drop(`max_tokens (${maxTokens} cut to ${limit}, ${model}'s output limit)`)
  return limit
}

export function encodeGeminiRequest(req: IRRequest, opts: CodecOptions = {}): JsonObject {
  refuseStreamedUncarried(req)
  const drop = opts.onDropped ?? (() => {})
  if (usesCacheControl(req)) drop('cache_control')
  if (req.parallelToolCalls !== undefined) drop('parallel_tool_calls')
  if (req.user !== undefined) drop('user')
  if (req.promptCacheKey !== undefined) drop('promptCacheKey')
  if (req.stop.length > MAX_STOP_SEQUENCES) drop('stop[5..]')
  const names = toolNamesById(req.messages)
  const encoder = new PartEncoder(req.model, names, drop)
  // Gemini's only system role is systemInstruction; a user turn would pass the instruction off as the user's.
  const {system, messages} = hoistSystemMessages(req)
  const contents = mergeTurns(messages).map((turn) => ({
    role: turn.role === 'assistant' ? 'model' : 'user',
    parts: encoder.parts(turn.content),
  }))
  const format = req.responseFormat
  const generationConfig = compact({
    temperature: req.temperature,
    topP: req.topP,
    topK: req.topK,
    maxOutputTokens: req.maxTokens && fitOutputLimit(req.model, req.maxTokens, drop),
    stopSequences: req.stop.length > 0 ? req.stop.slice(0, MAX_STOP_SEQUENCES) : undefined,
    presencePenalty: req.presencePenalty,
    frequencyPenalty: req.frequencyPenalty,
    seed: req.seed,
    responseMimeType: format ? 'application/json' : undefined,
    responseSchema: format?.type === 'json_schema' ? toGeminiSchema(format.schema, drop) : undefined,
    thinkingConfig: req.thinking && encodeThinking(req.model, req.thinking, drop),
    candidateCount: req.candidateCount,
    responseLogprobs: req.logprobs && true,
    logprobs: req.logprobs?.top,
  })
  const hasTools = req.tools.length > 0
  if (!hasTools && req.toolChoice !== undefined) drop('tool_choice')
  return compact({
    contents,
    systemInstruction: system.length > 0 ? {parts: system.map((block) => ({text: block.text}))} : undefined,
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
