import type {IRContentBlock, IRImage, IRMessage, IRRequest, IRText, IRToolResult} from './ir.js'

// For protocols whose only place for system text is one system field (Anthropic's `system` when it is not
// Claude Code's own request passing through, Gemini's systemInstruction): system messages from the
// conversation join it after the leading system text, in order. A system message means to instruct the model;
// as text in a user turn the model would take it for the user's words.
export function hoistSystemMessages(req: IRRequest): {system: IRText[]; messages: IRMessage[]} {
  const system = [...req.system]
  const messages: IRMessage[] = []
  for (const message of req.messages) {
    if (message.role !== 'system') messages.push(message)
    else for (const block of message.content) if (block.type === 'text') system.push(block)
  }
  return {system, messages}
}

// The text blocks of a system message, for protocols that keep it in place.
export function systemTexts(message: IRMessage): IRText[] {
  return message.content.filter((block) => block.type === 'text')
}

// Tool results name their call only by id; protocols that need the function name look it up here.
export function toolNamesById(messages: IRMessage[]): Map<string, string> {
  const names = new Map<string, string>()
  for (const message of messages) {
    for (const block of message.content) if (block.type === 'tool_call') names.set(block.id, block.name)
  }
  return names
}

// Anthropic and Gemini want strictly alternating turns with tool results leading the user turn that answers
// a tool call; OpenAI's separate `tool` messages and empty assistant messages produce neither.
export function mergeTurns(messages: IRMessage[]): IRMessage[] {
  const merged: IRMessage[] = []
  for (const message of messages) {
    if (message.content.length === 0) continue
    const last = merged.at(-1)
    if (last && last.role === message.role) last.content.push(...message.content)
    else merged.push({role: message.role, content: [...message.content]})
  }
  for (const message of merged) if (message.role === 'user') message.content = toolResultsFirst(message.content)
  return merged
}

function toolResultsFirst(blocks: IRContentBlock[]): IRContentBlock[] {
  const results = blocks.filter((block) => block.type === 'tool_result')
  return results.length === 0 ? blocks : [...results, ...blocks.filter((block) => block.type !== 'tool_result')]
}

export function joinText(blocks: readonly IRContentBlock[]): string {
  let text = ''
  for (const block of blocks) if (block.type === 'text') text += block.text
  return text
}

// OpenAI's tool messages and function_call_output items have no error flag: a failed call says so in the text the
// model reads, unless its text already does.
export function toolResultContent(result: IRToolResult): (IRText | IRImage)[] {
  if (!result.isError) return result.content
  const [first, ...rest] = result.content
  if (first?.type === 'text' && /^error\b/i.test(first.text)) return result.content
  if (first?.type === 'text') return [{type: 'text', text: `Error: ${first.text}`}, ...rest]
  return [{type: 'text', text: 'Error'}, ...result.content]
}
