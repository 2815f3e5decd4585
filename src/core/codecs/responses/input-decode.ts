import {CodecError} from '../errors.js'
import type {
  IRContentBlock,
  IRImage,
  IRMessage,
  IRRedactedThinking,
  IRText,
  IRThinking,
  IRTool,
  IRToolCall,
  IRToolResult,
} from '../ir.js'
import {parseDataUrl} from '../media.js'
import {decodeArguments} from '../openai-tool-calls.js'
import type {DropHandler} from '../types.js'
import {compact, type JsonObject} from '../values.js'
import {
  invalidType,
  invalidValue,
  missing,
  optionalArray,
  optionalString,
  requireObject,
  requireString,
} from './checks.js'
import {decodeToolList} from './tool-decode.js'
import {irToolName, TOOL_SEARCH} from './tools.js'

const ROLES = ['user', 'assistant', 'system', 'developer'] as const

export interface DecodedInput {
  system: IRText[]
  messages: IRMessage[]
  /** Tools that `tool_search_output` items loaded, in order; the model may call them from then on. */
  loadedTools: IRTool[]
}

// Responses `input` → IR turns. System and developer messages may sit anywhere; they join the system text in
// order. Consecutive assistant-side items (assistant messages, reasoning, calls) make one IR assistant turn,
// and consecutive tool outputs one user turn of tool results, the shape the other encoders expect.
export function decodeInput(value: unknown, drop: DropHandler): DecodedInput {
  const reader = new InputReader(drop)
  if (typeof value === 'string') {
    if (value !== '') reader.messages.push({role: 'user', content: [{type: 'text', text: value}]})
    return reader
  }
  if (value === undefined || value === null) throw missing('input')
  if (!Array.isArray(value)) throw invalidType('input', 'a string or an array of input items', value)
  if (value.length === 0) {
    throw new CodecError(
      "Invalid 'input': empty array. Expected an array with minimum length 1, but got an empty array instead.",
    )
  }
  value.forEach((entry, i) => reader.item(requireObject(entry, `input[${i}]`), `input[${i}]`))
  return reader
}

class InputReader implements DecodedInput {
  readonly system: IRText[] = []
  readonly messages: IRMessage[] = []
  readonly loadedTools: IRTool[] = []
  // call_id → IR tool name, so tool outputs can name the tool they answer.
  private readonly toolNames = new Map<string, string>()

  constructor(private readonly drop: DropHandler) {}

  item(item: JsonObject, path: string): void {
    // Easy input messages may leave out `type`.
    const type = item.type ?? (item.role === undefined ? undefined : 'message')
    switch (type) {
      case 'message':
        return this.message(item, path)
      case 'function_call':
      case 'custom_tool_call':
        return this.assistant(this.toolCall(item, path))
      case 'function_call_output':
      case 'custom_tool_call_output':
        return this.toolResult(this.toolOutput(item, path))
      case 'tool_search_call':
      case 'tool_search_output':
        return this.toolSearch(item, path)
      case 'reasoning': {
        const block = this.reasoning(item, path)
        if (block) this.assistant(block)
        return
      }
      default:
        if (type === undefined || type === null) throw missing(`${path}.type`)
        if (typeof type !== 'string') throw invalidType(`${path}.type`, 'a string', type)
        // item_reference, built-in tool calls and their outputs, compaction items: nothing another upstream knows.
        this.drop(`input.${type}`)
    }
  }

  private message(item: JsonObject, path: string): void {
    const role = requireString(item.role, `${path}.role`)
    if (!(ROLES as readonly string[]).includes(role)) throw invalidValue(`${path}.role`, role, ROLES)
    const content = this.content(item.content, `${path}.content`, role)
    if (role === 'system' || role === 'developer') {
      for (const block of content) {
        if (block.type === 'text') this.system.push(block)
        else this.drop(`${role}.input_image`)
      }
    } else if (role === 'assistant') {
      for (const block of content) {
        if (block.type === 'text') this.assistant(block)
        else this.drop('assistant.input_image')
      }
    } else if (content.length > 0) this.messages.push({role: 'user', content})
  }

  private content(value: unknown, path: string, role: string): (IRText | IRImage)[] {
    if (typeof value === 'string') return value === '' ? [] : [{type: 'text', text: value}]
    if (value === undefined || value === null) throw missing(path)
    if (!Array.isArray(value)) throw invalidType(path, 'a string or an array of content parts', value)
    const blocks: (IRText | IRImage)[] = []
    value.forEach((entry, j) => {
      const block = this.part(requireObject(entry, `${path}[${j}]`), `${path}[${j}]`, role)
      if (block) blocks.push(block)
    })
    return blocks
  }

  private part(part: JsonObject, path: string, role: string): IRText | IRImage | undefined {
    const type = requireString(part.type, `${path}.type`)
    switch (type) {
      case 'input_text':
      case 'output_text':
        if (type === 'output_text' && (optionalArray(part.annotations, `${path}.annotations`)?.length ?? 0) > 0) {
          this.drop('output_text.annotations')
        }
        return {type: 'text', text: requireString(part.text, `${path}.text`)}
      case 'refusal':
        return {type: 'text', text: requireString(part.refusal, `${path}.refusal`)}
      case 'input_image':
        return this.image(part, path)
      default:
        // input_file, input_audio…: the IR carries text and images only.
        this.drop(`${role === 'tool' ? 'output' : 'content'}.${type}`)
        return undefined
    }
  }

  private image(part: JsonObject, path: string): IRImage | undefined {
    if (part.detail !== undefined && part.detail !== null && part.detail !== 'auto') this.drop('input_image.detail')
    const url = optionalString(part.image_url, `${path}.image_url`)
    if (url === undefined) {
      if (part.file_id === undefined || part.file_id === null) throw missing(`${path}.image_url`)
      // Files uploaded to OpenAI cannot be read by other upstreams.
      this.drop('input_image.file_id')
      return undefined
    }
    const inline = parseDataUrl(url)
    if (inline) return {type: 'image', source: {kind: 'base64', ...inline}}
    if (!/^https?:\/\//i.test(url)) {
      throw new CodecError(`Invalid '${path}.image_url': expected a base64-encoded data URL or an http(s) URL.`)
    }
    return {type: 'image', source: {kind: 'url', url}}
  }

  // Custom tools take free text, which the IR carries as the call's `input` argument.
  private toolCall(item: JsonObject, path: string): IRToolCall {
    const id = requireString(item.call_id, `${path}.call_id`)
    const namespace = optionalString(item.namespace, `${path}.namespace`)
    const name = irToolName(requireString(item.name, `${path}.name`), namespace)
    this.toolNames.set(id, name)
    const input =
      item.type === 'custom_tool_call'
        ? {input: requireString(item.input, `${path}.input`)}
        : decodeArguments(item.arguments, this.drop)
    return {type: 'tool_call', id, name, input}
  }

  private toolOutput(item: JsonObject, path: string): IRToolResult {
    const toolCallId = requireString(item.call_id, `${path}.call_id`)
    const output = item.output
    if (output !== undefined && output !== null && typeof output !== 'string' && !Array.isArray(output)) {
      throw invalidType(`${path}.output`, 'a string or an array of output content parts', output)
    }
    const content = this.content(output, `${path}.output`, 'tool')
    const toolName = this.toolNames.get(toolCallId)
    return compact({type: 'tool_result' as const, toolCallId, toolName, content, isError: false})
  }

  // A tool search the client ran is a tool call and its result. The result names the tools it loaded, which are
  // offered from then on. A search OpenAI ran has no call another upstream could pair a result with; its tools
  // are still loaded.
  private toolSearch(item: JsonObject, path: string): void {
    const callId = optionalString(item.call_id, `${path}.call_id`)
    const clientRun = callId !== undefined && item.execution !== 'server'
    if (item.type === 'tool_search_call') {
      if (!clientRun) return this.drop('input.tool_search_call (run by the server)')
      this.toolNames.set(callId, TOOL_SEARCH)
      return this.assistant({
        type: 'tool_call',
        id: callId,
        name: TOOL_SEARCH,
        input: decodeArguments(item.arguments, this.drop),
      })
    }
    const tools = decodeToolList(item.tools, `${path}.tools`, this.drop, true)
    this.loadedTools.push(...tools)
    if (!clientRun) return this.drop('input.tool_search_output (run by the server)')
    const content = [{type: 'text' as const, text: loadedToolsText(tools)}]
    this.toolResult({type: 'tool_result', toolCallId: callId, toolName: TOOL_SEARCH, content, isError: false})
  }

  // See RESP_SHARED: a summary makes a thinking block signed by the encrypted content; encrypted content alone
  // makes redacted thinking; an item with neither carries nothing.
  private reasoning(item: JsonObject, path: string): IRThinking | IRRedactedThinking | undefined {
    const summary = (optionalArray(item.summary, `${path}.summary`) ?? []).map((entry, j) =>
      requireString(requireObject(entry, `${path}.summary[${j}]`).text, `${path}.summary[${j}].text`),
    )
    const encrypted = optionalString(item.encrypted_content, `${path}.encrypted_content`) || undefined
    if ((optionalArray(item.content, `${path}.content`)?.length ?? 0) > 0) this.drop('reasoning.content')
    if (summary.length > 0)
      return compact({type: 'thinking' as const, text: summary.join('\n\n'), signature: encrypted})
    if (encrypted !== undefined) return {type: 'redacted_thinking', data: encrypted}
    this.drop('input.reasoning (neither summary nor encrypted_content)')
    return undefined
  }

  private assistant(block: IRContentBlock): void {
    const last = this.messages.at(-1)
    if (last?.role === 'assistant') last.content.push(block)
    else this.messages.push({role: 'assistant', content: [block]})
  }

  private toolResult(result: IRToolResult): void {
    const last = this.messages.at(-1)
    if (last?.role === 'user' && last.content.every((block) => block.type === 'tool_result')) last.content.push(result)
    else this.messages.push({role: 'user', content: [result]})
  }
}

/** What a tool search result tells the model: the names to call the loaded tools by, and what they do. */
function loadedToolsText(tools: IRTool[]): string {
  if (tools.length === 0) return 'No tools matched the search.'
  const lines = tools.map((tool) => (tool.description ? `- ${tool.name}: ${tool.description}` : `- ${tool.name}`))
  return `These tools are now available; call them by these names:\n${lines.join('\n')}`
}
