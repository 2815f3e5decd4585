// IR → the `conversationState` body of Kiro's generateAssistantResponse, following every rule of
// upstreams.md §7.2. Kiro has no system field, no sampling parameters and no tool choice; thinking is asked
// for in the prompt text.
import {createHash} from 'node:crypto'
import {joinText, systemTexts} from '../conversation.js'
import {CodecError} from '../errors.js'
import type {IRContentBlock, IRImage, IRMessage, IRRequest, IRTool} from '../ir.js'
import {parseDataUrl} from '../media.js'
import {joinThinking, thinkingBudget} from '../thinking.js'
import type {DropHandler} from '../types.js'
import {compact, type JsonObject} from '../values.js'
import {refuseUncarried} from '../uncarried.js'
import {usesCacheControl} from '../cache-control.js'

export interface KiroRequestOptions {
  // One per attempt, e.g. randomUUID().
  conversationId: string
  // Already mapped, see kiroModelId.
  modelId: string
  // Sent only for social-login credentials.
  profileArn?: string
  onDropped?: DropHandler
}

export interface KiroRequest {
  body: JsonObject
  // Shortened tool name → the client's name, for createKiroStreamDecoder; empty unless a name was too long.
  toolNameMap: Record<string, string>
}

const MAX_TOOL_NAME_LENGTH = 64
const MAX_DESCRIPTION_LENGTH = 9216
const THINKING_LENGTH = {min: 1024, max: 24576}
// Dropped as AIClient-2-API does; presumably the names clash with Kiro's built-in web search.
const IGNORED_TOOLS = new Set(['web_search', 'websearch'])
const IMAGE_FORMATS = new Set(['png', 'jpeg', 'gif', 'webp'])
const UNFORWARDED = [
  'maxTokens',
  'temperature',
  'topP',
  'topK',
  'presencePenalty',
  'frequencyPenalty',
  'seed',
  'toolChoice',
  'parallelToolCalls',
  'responseFormat',
  'user',
  'promptCacheKey',
] as const

// AIClient-2-API sends this whenever no tool remains, presumably because Kiro, like Bedrock, refuses tool uses
// and results in a conversation that defines no tools. It is sent only then: a plain chat does not need it.
const PLACEHOLDER_TOOL = {
  toolSpecification: {
    name: 'no_tool_available',
    description: 'This is a placeholder tool when no other tools are available. It does nothing.',
    inputSchema: {json: {type: 'object', properties: {}}},
  },
}

interface Turn {
  role: IRMessage['role']
  // One entry per client message, joined with a blank line.
  text: string[]
  toolUses: JsonObject[]
  toolResults: JsonObject[]
  images: JsonObject[]
}

// The history alternates user/assistant, starts with a user turn and ends with an assistant turn, by
// construction: same-role client messages merge into one turn, a conversation opening with the assistant
// gets a user turn in front, and a final assistant message stays in the history with "Continue" as the
// current message.
export function encodeKiroRequest(req: IRRequest, opts: KiroRequestOptions): KiroRequest {
  refuseUncarried(req)
  const drop = opts.onDropped ?? (() => {})
  if (usesCacheControl(req)) drop('cache_control')
  for (const field of UNFORWARDED) if (req[field] !== undefined) drop(field)
  if (req.stop.length > 0) drop('stop')
  const names = new ToolNames()
  const turns = toTurns(req.messages, names, drop)
  const tools = encodeTools(req.tools, names, drop)
  if (tools.length === 0 && turns.some((turn) => turn.toolUses.length > 0 || turn.toolResults.length > 0)) {
    tools.push(PLACEHOLDER_TOOL)
  }
  let first = turns[0]
  if (first?.role !== 'user') {
    first = newTurn('user')
    turns.unshift(first)
  }
  const preamble = [thinkingPrefix(req), req.system.map((block) => block.text).join('\n\n')].filter(Boolean)
  if (preamble.length > 0) first.text.unshift(preamble.join('\n'))
  const last = turns.at(-1)
  const current = last?.role === 'user' ? last : newTurn('user')
  if (current === last) turns.pop()
  const history = turns.map((turn) =>
    turn.role === 'user'
      ? {userInputMessage: userMessage(turn, opts.modelId, [])}
      : {assistantResponseMessage: assistantMessage(turn)},
  )
  const conversationState = compact({
    agentTaskType: 'vibe',
    chatTriggerType: 'MANUAL',
    conversationId: opts.conversationId,
    history: history.length > 0 ? history : undefined,
    currentMessage: {userInputMessage: userMessage(current, opts.modelId, tools)},
  })
  return {body: compact({conversationState, profileArn: opts.profileArn}), toolNameMap: names.reverse}
}

// Kiro reads Anthropic's prompt-side thinking switch; the budget is clamped to what Kiro accepts.
function thinkingPrefix(req: IRRequest): string {
  const budget = req.thinking && thinkingBudget(req.thinking)
  if (budget === undefined) return ''
  const length = Math.min(THINKING_LENGTH.max, Math.max(THINKING_LENGTH.min, Math.round(budget)))
  return `<thinking_mode>enabled</thinking_mode><max_thinking_length>${length}</max_thinking_length>`
}

function newTurn(role: IRMessage['role']): Turn {
  return {role, text: [], toolUses: [], toolResults: [], images: []}
}

function toTurns(messages: IRMessage[], names: ToolNames, drop: DropHandler): Turn[] {
  const turns: Turn[] = []
  for (const message of messages) {
    const turn =
      message.role === 'assistant' ? assistantTurn(message.content, names, drop) : userTurn(systemMarked(message), drop)
    const empty = turn.text.length + turn.toolUses.length + turn.toolResults.length + turn.images.length === 0
    if (empty) continue
    const previous = turns.at(-1)
    if (previous?.role !== turn.role) {
      turns.push(turn)
      continue
    }
    previous.text.push(...turn.text)
    previous.toolUses.push(...turn.toolUses)
    previous.images.push(...turn.images)
    // Kiro rejects a toolUseId answered twice in one message; the first answer wins.
    for (const result of turn.toolResults) {
      if (!previous.toolResults.some((seen) => seen.toolUseId === result.toolUseId)) previous.toolResults.push(result)
    }
  }
  return turns
}

// Kiro's history has user and assistant turns only, so a system message goes in order as user text, marked the
// way Claude Code marks system notes inside user turns, which the Claude models behind Kiro know.
function systemMarked(message: IRMessage): IRContentBlock[] {
  if (message.role !== 'system') return message.content
  return [{type: 'text', text: `<system-reminder>\n${joinText(systemTexts(message))}\n</system-reminder>`}]
}

function userTurn(blocks: IRContentBlock[], drop: DropHandler): Turn {
  const turn = newTurn('user')
  let text = ''
  for (const block of blocks) {
    switch (block.type) {
      case 'text':
        if (block.signature !== undefined) drop('text.signature')
        text += block.text
        break
      case 'image':
        turn.images.push(encodeImage(block))
        break
      case 'tool_result':
        if (block.content.some((item) => item.type === 'image')) drop('tool_result.image')
        if (turn.toolResults.some((seen) => seen.toolUseId === block.toolCallId)) break
        turn.toolResults.push({
          toolUseId: block.toolCallId,
          content: [{text: joinText(block.content)}],
          status: block.isError ? 'error' : 'success',
        })
        break
      default:
        drop(`user.${block.type}`)
    }
  }
  if (text !== '') turn.text.push(text)
  return turn
}

// Earlier reasoning goes back as the `<thinking>` text Kiro itself answers with (a signature means nothing
// to Kiro); redacted thinking has no readable text to send.
function assistantTurn(blocks: IRContentBlock[], names: ToolNames, drop: DropHandler): Turn {
  const turn = newTurn('assistant')
  const thinking: string[] = []
  let text = ''
  for (const block of blocks) {
    switch (block.type) {
      case 'text':
        if (block.signature !== undefined) drop('text.signature')
        text += block.text
        break
      case 'thinking':
        if (block.signature !== undefined) drop('thinking.signature')
        thinking.push(block.text)
        break
      case 'tool_call':
        if (block.signature !== undefined) drop('tool_call.signature')
        turn.toolUses.push({toolUseId: block.id, name: names.toKiro(block.name), input: block.input})
        break
      default:
        drop(`assistant.${block.type}`)
    }
  }
  const reasoning = joinThinking(thinking)
  const parts = [reasoning && `<thinking>${reasoning}</thinking>`, text].filter(Boolean)
  if (parts.length > 0) turn.text.push(parts.join('\n\n'))
  return turn
}

// Content is never empty (Kiro answers "Improperly formed request."); empty arrays and objects are left out.
function userMessage(turn: Turn, modelId: string, tools: JsonObject[]): JsonObject {
  const content = turn.text.join('\n\n') || (turn.toolResults.length > 0 ? 'Tool results provided.' : 'Continue')
  const context = compact({toolResults: nonEmpty(turn.toolResults), tools: nonEmpty(tools)})
  return compact({
    content,
    modelId,
    origin: 'AI_EDITOR',
    userInputMessageContext: Object.keys(context).length > 0 ? context : undefined,
    images: nonEmpty(turn.images),
  })
}

// An assistant turn that only called tools keeps empty content, as Kiro's own history does (§7.2 example).
function assistantMessage(turn: Turn): JsonObject {
  const content = turn.text.join('\n\n') || (turn.toolUses.length > 0 ? '' : 'Continue')
  return compact({content, toolUses: nonEmpty(turn.toolUses)})
}

function nonEmpty<T>(items: T[]): T[] | undefined {
  return items.length > 0 ? items : undefined
}

function encodeImage(image: IRImage): JsonObject {
  const {source} = image
  const inline = source.kind === 'base64' ? source : parseDataUrl(source.url)
  if (!inline) {
    throw new CodecError(
      `image URL ${source.kind === 'url' ? source.url : ''} cannot be sent to a Kiro upstream: only inline base64 ` +
        'images (data: URLs) are accepted',
    )
  }
  const subtype = inline.mediaType.split('/')[1]?.toLowerCase()
  const format = subtype === 'jpg' ? 'jpeg' : subtype
  if (format === undefined || !IMAGE_FORMATS.has(format)) {
    throw new CodecError(`image type ${inline.mediaType} cannot be sent to a Kiro upstream (png, jpeg, gif, webp)`)
  }
  return {format, source: {bytes: inline.data}}
}

function encodeTools(tools: IRTool[], names: ToolNames, drop: DropHandler): JsonObject[] {
  const encoded: JsonObject[] = []
  for (const tool of tools) {
    if (IGNORED_TOOLS.has(tool.name.toLowerCase())) {
      drop(`tools.${tool.name}`)
      continue
    }
    // Claude insists on an object schema; JSON Schema lets OpenAI and Gemini clients leave `type` out.
    const schema = tool.parameters.type === undefined ? {type: 'object', ...tool.parameters} : tool.parameters
    encoded.push({
      toolSpecification: {
        name: names.toKiro(tool.name),
        description: description(tool, drop),
        inputSchema: {json: schema},
      },
    })
  }
  return encoded
}

// AIClient-2-API drops tools without a description, presumably because Kiro refuses them; sending the name
// instead keeps the tool callable.
function description(tool: IRTool, drop: DropHandler): string {
  const text = tool.description?.trim() ? tool.description : tool.name
  if (text.length <= MAX_DESCRIPTION_LENGTH) return text
  drop('tools.description (truncated)')
  const cut = text.slice(0, MAX_DESCRIPTION_LENGTH)
  // Never leave half a surrogate pair behind.
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut
}

// Kiro caps tool names at 64 characters. Longer names become `<prefix>_<12 hex of sha256>`: stable across
// requests, so history tool uses and the tool list agree, and reversible through `reverse`.
class ToolNames {
  readonly reverse: Record<string, string> = {}

  toKiro(name: string): string {
    if (name.length <= MAX_TOOL_NAME_LENGTH) return name
    const hash = createHash('sha256').update(name).digest('hex').slice(0, 12)
    const short = `${name.slice(0, MAX_TOOL_NAME_LENGTH - hash.length - 1)}_${hash}`
    this.reverse[short] = name
    return short
  }
}
