import {createHash} from 'node:crypto'
import {CodecError} from '../errors.js'
import type {IRResponse, IRResponseBlock, IRStopReason, IRUsage} from '../ir.js'
import {randomIdBytes} from '../ids.js'
import {decodeOpenAIStreamError} from '../openai-errors.js'
import {decodeArguments} from '../openai-tool-calls.js'
import type {CodecOptions, DropHandler, ResponseEncodeOptions} from '../types.js'
import {
  asArray,
  asNumber,
  asObject,
  asString,
  compact,
  expectObject,
  parseJsonObject,
  type JsonObject,
} from '../values.js'
import {clientToolNames, irToolName, type ClientToolName} from './tools.js'
import {reportUncarriedAnswer} from '../uncarried.js'

export type ClientToolNames = Map<string, ClientToolName>

/** `resp_` and 32 lowercase hex digits, like the ids OpenAI gives. */
export function newResponseId(): string {
  return `resp_${randomIdBytes(16).toString('hex')}`
}

// Output item ids are a prefix (`msg_`, `rs_`, `fc_`, `ctc_`, `tsc_`) and 32 hex digits that follow from the response
// id and the item's position: unique per response, and one answer gives the same ids as a stream or as a document.
export function itemIdSuffix(responseId: string, outputIndex: number): string {
  return createHash('sha256').update(`${responseId}/${outputIndex}`).digest('hex').slice(0, 32)
}

export function encodeResponsesUsage(usage: IRUsage): JsonObject {
  return {
    input_tokens: usage.inputTokens,
    // The API counts cache writes too; Anthropic upstreams report them as cache creation.
    input_tokens_details: {
      cached_tokens: usage.cachedInputTokens ?? 0,
      cache_write_tokens: usage.cacheCreationInputTokens ?? 0,
    },
    output_tokens: usage.outputTokens,
    output_tokens_details: {reasoning_tokens: usage.reasoningTokens ?? 0},
    total_tokens: usage.inputTokens + usage.outputTokens,
  }
}

export function decodeResponsesUsage(value: unknown): IRUsage {
  const usage = asObject(value)
  return compact({
    inputTokens: asNumber(usage.input_tokens) ?? 0,
    outputTokens: asNumber(usage.output_tokens) ?? 0,
    cachedInputTokens: asNumber(asObject(usage.input_tokens_details).cached_tokens),
    // Anthropic clients see cache writes as cache creation; none written is as good as none reported.
    cacheCreationInputTokens: asNumber(asObject(usage.input_tokens_details).cache_write_tokens) || undefined,
    reasoningTokens: asNumber(asObject(usage.output_tokens_details).reasoning_tokens),
  })
}

/** Why a response stopped early, as `incomplete_details`; null when it completed. */
export function incompleteDetails(reason: IRStopReason): JsonObject | null {
  if (reason === 'max_tokens') return {reason: 'max_output_tokens'}
  if (reason === 'content_filter') return {reason: 'content_filter'}
  return null
}

export function decodeStopReason(response: JsonObject, sawFunctionCall: boolean): IRStopReason {
  const reason = asString(asObject(response.incomplete_details).reason)
  if (response.status === 'incomplete' || reason !== undefined) {
    if (reason === 'max_output_tokens') return 'max_tokens'
    if (reason === 'content_filter') return 'content_filter'
    return 'other'
  }
  return sawFunctionCall ? 'tool_use' : 'end_turn'
}

export interface ResponseState {
  id: string
  createdAt: number
  model: string
  status: 'in_progress' | 'completed' | 'incomplete' | 'failed'
  output: JsonObject[]
  usage?: IRUsage
  incompleteDetails?: JsonObject | null
  error?: JsonObject | null
}

/** The `response` object, echoing the settings of the client's request as OpenAI does (defaults where unset). */
export function responseObject(state: ResponseState, request: Record<string, unknown> = {}): JsonObject {
  const echo = (key: string, fallback: unknown) => request[key] ?? fallback
  return compact({
    id: state.id,
    object: 'response',
    created_at: state.createdAt,
    status: state.status,
    error: state.error ?? null,
    incomplete_details: state.incompleteDetails ?? null,
    instructions: echo('instructions', null),
    max_output_tokens: echo('max_output_tokens', null),
    model: state.model,
    output: state.output,
    parallel_tool_calls: echo('parallel_tool_calls', true),
    previous_response_id: echo('previous_response_id', null),
    reasoning: echo('reasoning', {effort: null, summary: null}),
    store: echo('store', true),
    temperature: echo('temperature', 1),
    text: echo('text', {format: {type: 'text'}}),
    tool_choice: echo('tool_choice', 'auto'),
    tools: echoTools(request.tools),
    top_p: echo('top_p', 1),
    usage: state.usage ? encodeResponsesUsage(state.usage) : null,
    user: asString(request.user),
    metadata: echo('metadata', {}),
  })
}

/**
 * The client's tools as the API lists them, a function tool always with its `parameters` and `strict`. Strict mode is
 * never applied here (see tool-decode.ts), so a function tool says it is not strict, whatever the request asked.
 */
function echoTools(tools: unknown): unknown[] {
  return asArray(tools).map((tool) => {
    const declared = asObject(tool)
    return declared.type === 'function' ? {...declared, parameters: declared.parameters ?? null, strict: false} : tool
  })
}

export function outputText(text: string): JsonObject {
  return {type: 'output_text', text, annotations: [], logprobs: []}
}

export function messageItem(id: string, text: string | undefined): JsonObject {
  const content = text === undefined ? [] : [outputText(text)]
  return {id, type: 'message', status: text === undefined ? 'in_progress' : 'completed', role: 'assistant', content}
}

// Thinking becomes a summary; its signature (or redacted thinking's data) travels as `encrypted_content`.
export function reasoningItem(id: string, summary: string | undefined, encrypted?: string): JsonObject {
  return {
    id,
    type: 'reasoning',
    summary: summary === undefined ? [] : [{type: 'summary_text', text: summary}],
    ...(encrypted !== undefined && {encrypted_content: encrypted}),
  }
}

export interface ToolCallItemArgs {
  /** See itemIdSuffix; the prefix depends on the kind of call. */
  idSuffix: string
  callId: string
  irName: string
  /** The arguments JSON; undefined while the call is still streaming. */
  json: string | undefined
}

/**
 * A tool call as the client declared the tool: a `custom_tool_call` with its free text, a `tool_search_call` for a
 * tool search the client runs, or a `function_call`.
 */
export function toolCallItem(names: ClientToolNames, args: ToolCallItemArgs): JsonObject {
  const declared = names.get(args.irName)
  if (declared?.kind === 'tool_search') {
    // Codex reads the call from `output_item.done` and requires `execution` and `arguments` (an object).
    return {
      id: `tsc_${args.idSuffix}`,
      type: 'tool_search_call',
      status: args.json === undefined ? 'in_progress' : 'completed',
      call_id: args.callId,
      execution: 'client',
      arguments: args.json === undefined ? {} : (parseJsonObject(args.json) ?? {}),
    }
  }
  if (declared?.kind === 'custom') {
    return {
      id: `ctc_${args.idSuffix}`,
      type: 'custom_tool_call',
      status: args.json === undefined ? 'in_progress' : 'completed',
      call_id: args.callId,
      name: declared.name,
      input: args.json === undefined ? '' : customInput(args.json),
    }
  }
  return compact({
    id: `fc_${args.idSuffix}`,
    type: 'function_call',
    status: args.json === undefined ? 'in_progress' : 'completed',
    call_id: args.callId,
    name: declared?.name ?? args.irName,
    namespace: declared?.namespace,
    arguments: args.json === undefined ? '' : args.json || '{}',
  })
}

// The IR carries a custom tool's text as `{input: text}`; anything else is passed on as its JSON.
function customInput(json: string): string {
  const input = parseJsonObject(json)?.input
  return typeof input === 'string' ? input : json
}

function encodeBlock(block: IRResponseBlock, suffix: string, names: ClientToolNames, drop: DropHandler): JsonObject {
  switch (block.type) {
    case 'text':
      if (block.signature !== undefined) drop('text.signature')
      return messageItem(`msg_${suffix}`, block.text)
    case 'thinking':
      return reasoningItem(`rs_${suffix}`, block.text, block.signature)
    case 'redacted_thinking':
      return reasoningItem(`rs_${suffix}`, undefined, block.data)
    case 'tool_call':
      if (block.signature !== undefined) drop('tool_call.signature')
      return toolCallItem(names, {
        idSuffix: suffix,
        callId: block.id,
        irName: block.name,
        json: JSON.stringify(block.input),
      })
  }
}

export function encodeResponsesResponse(res: IRResponse, opts: ResponseEncodeOptions = {}): JsonObject {
  const drop = opts.onDropped ?? (() => {})
  reportUncarriedAnswer(res, drop)
  const names = clientToolNames(opts.request)
  const id = opts.id ?? res.id ?? newResponseId()
  const output = res.content.map((block, index) => encodeBlock(block, itemIdSuffix(id, index), names, drop))
  const details = incompleteDetails(res.stopReason)
  return responseObject(
    {
      id,
      createdAt: Math.floor(Date.now() / 1000),
      model: res.model,
      status: details ? 'incomplete' : 'completed',
      output,
      usage: res.usage,
      incompleteDetails: details,
    },
    opts.request,
  )
}

/** Summary texts of a reasoning item, joined as one thinking text. */
export function summaryText(item: JsonObject): string {
  return asArray(item.summary)
    .map((part) => asString(asObject(part).text) ?? '')
    .join('\n\n')
}

export function messageText(item: JsonObject): string {
  return asArray(item.content)
    .map((part) => {
      const content = asObject(part)
      return asString(content.text) ?? asString(content.refusal) ?? ''
    })
    .join('')
}

/** The IR name of a function_call or custom_tool_call item. */
export function itemToolName(item: JsonObject): string {
  return irToolName(asString(item.name) ?? '', asString(item.namespace))
}

/** A reasoning item as the IR knows it (see RESP_SHARED): thinking, redacted thinking, or nothing. */
export function decodeReasoningItem(item: JsonObject): IRResponseBlock | undefined {
  const encrypted = asString(item.encrypted_content)
  if (asArray(item.summary).length > 0) {
    return {type: 'thinking', text: summaryText(item), ...(encrypted && {signature: encrypted})}
  }
  return encrypted ? {type: 'redacted_thinking', data: encrypted} : undefined
}

export function decodeItem(item: JsonObject, drop: DropHandler): IRResponseBlock | undefined {
  switch (item.type) {
    case 'message':
      return {type: 'text', text: messageText(item)}
    case 'reasoning': {
      const block = decodeReasoningItem(item)
      if (!block) drop('reasoning without summary')
      return block
    }
    case 'function_call':
      return {
        type: 'tool_call',
        id: asString(item.call_id) ?? '',
        name: itemToolName(item),
        input: decodeArguments(item.arguments, drop),
      }
    case 'custom_tool_call':
      return {
        type: 'tool_call',
        id: asString(item.call_id) ?? '',
        name: itemToolName(item),
        input: {input: asString(item.input) ?? ''},
      }
    default:
      drop(`output.${String(item.type)}`)
      return undefined
  }
}

export function decodeResponsesResponse(body: unknown, opts: CodecOptions = {}): IRResponse {
  const drop = opts.onDropped ?? (() => {})
  const response = expectObject(body, 'response body')
  if (response.status === 'failed') {
    const error = decodeOpenAIStreamError(response.error)
    throw new CodecError(error.message, error.status)
  }
  const content: IRResponseBlock[] = []
  for (const value of asArray(response.output)) {
    const block = decodeItem(asObject(value), drop)
    if (block) content.push(block)
  }
  return compact({
    id: asString(response.id),
    model: asString(response.model) ?? '',
    content,
    stopReason: decodeStopReason(
      response,
      content.some((block) => block.type === 'tool_call'),
    ),
    usage: decodeResponsesUsage(response.usage),
  })
}
