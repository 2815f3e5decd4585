import type {IRContentBlock, IRRequest} from './ir.js'

// Whether the request marks a prompt-cache breakpoint anywhere: only Anthropic upstreams can carry one.
export function usesCacheControl(req: IRRequest): boolean {
  const marked = (block: IRContentBlock) => (block.type === 'text' || block.type === 'image') && !!block.cacheControl
  return req.system.some(marked) || req.messages.some((message) => message.content.some(marked))
}
