import type {IRContentBlock, IRMessage} from './ir.js'

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
