import type {IRRequest} from '../codecs/ir.js'

/** Characters per token for the estimate; tokenizers average 3.5–4.5 on English text and code. */
export const CHARS_PER_TOKEN = 4

/**
 * An input-token estimate for upstreams that cannot count: the characters of everything the model reads
 * (system, messages, tool definitions) divided by four. Images count as a flat 1,600 characters.
 */
export function estimateInputTokens(request: IRRequest): number {
  let chars = 0
  for (const block of request.system) chars += block.text.length
  for (const message of request.messages) {
    for (const block of message.content) {
      switch (block.type) {
        case 'text':
          chars += block.text.length
          break
        case 'thinking':
          chars += block.text.length
          break
        case 'image':
          chars += 1600
          break
        case 'tool_call':
          chars += block.name.length + JSON.stringify(block.input).length
          break
        case 'tool_result':
          for (const part of block.content) chars += part.type === 'text' ? part.text.length : 1600
          break
        case 'redacted_thinking':
          chars += block.data.length
          break
      }
    }
  }
  for (const tool of request.tools)
    chars += tool.name.length + (tool.description?.length ?? 0) + JSON.stringify(tool.parameters).length
  return Math.max(1, Math.ceil(chars / CHARS_PER_TOKEN))
}
