import {createHash} from 'node:crypto'
import type {IRContentBlock, IRRequest, IRResponse, IRResponseBlock, IRStreamEvent} from './ir.js'
import type {Protocol, StreamDecoder} from './types.js'

// Thinking signatures are opaque proofs an upstream checks when its thinking comes back. A signature handed to a
// client of another protocol is tagged with where it came from, `aic1.<upstream type>.<account tag>.<raw>`, so
// that on the next turn it goes back only to the upstream (and account) that can verify it, and is dropped for
// any other, which would reject the whole request.

const PREFIX = 'aic1'

/** Where a signature came from: an upstream type and a short, non-secret tag of the instance. */
export interface SignatureOrigin {
  type: string
  account: string
}

/** A hash of the instance id: tells two accounts apart without naming either. */
export function accountTag(instanceId: string): string {
  return createHash('sha256').update(instanceId).digest('base64url').slice(0, 10)
}

export function tagSignature(origin: SignatureOrigin, raw: string): string {
  return `${PREFIX}.${origin.type}.${origin.account}.${raw}`
}

/** The raw signature and, when the proxy tagged it, its origin. */
export function readSignature(signature: string): {raw: string; origin?: SignatureOrigin} {
  const [prefix, type, account] = signature.split('.', 3)
  if (prefix !== PREFIX || !type || !account) return {raw: signature}
  return {raw: signature.slice(PREFIX.length + type.length + account.length + 3), origin: {type, account}}
}

// The upstream type whose signatures a client of each protocol holds untagged (its own answers pass through).
const NATIVE_TYPE: Partial<Record<Protocol, string>> = {
  anthropic: 'claude-custom',
  gemini: 'gemini-cli-oauth',
  responses: 'openaiResponses-custom',
}

const GEMINI = 'gemini-cli-oauth'

// Only Gemini signs function calls and text; clients of these protocols can hold a signature on thinking only.
const THINKING_ONLY: ReadonlySet<Protocol> = new Set(['anthropic', 'responses'])

function carried(block: IRResponseBlock): boolean {
  return (block.type === 'tool_call' || block.type === 'text') && block.signature !== undefined
}

/**
 * An upstream's answer for a client of another protocol: every signature tagged with its origin, and Gemini's
 * signatures on function calls and text moved onto a thinking block of their own (before the call, after the
 * text), which Anthropic and Responses clients keep and send back.
 */
export function tagResponseSignatures(res: IRResponse, origin: SignatureOrigin, client: Protocol): IRResponse {
  const content: IRResponseBlock[] = []
  for (const block of res.content) {
    if (block.type === 'thinking' && block.signature !== undefined) {
      content.push({...block, signature: tagSignature(origin, block.signature)})
    } else if (THINKING_ONLY.has(client) && carried(block)) {
      const {signature, ...bare} = block as IRResponseBlock & {signature: string}
      const holder: IRResponseBlock = {type: 'thinking', text: '', signature: tagSignature(origin, signature)}
      if (block.type === 'tool_call') content.push(holder, bare as IRResponseBlock)
      else content.push(bare as IRResponseBlock, holder)
    } else content.push(block)
  }
  return {...res, content}
}

/** The same for a stream: block indices after an inserted thinking block move up by one. */
// Most streams never shift a block: their events pass on as they are, without a copy each.
const reindexed = <E extends {index: number}>(event: E, index: number): E =>
  event.index === index ? event : {...event, index}

export function tagStreamSignatures(decoder: StreamDecoder, origin: SignatureOrigin, client: Protocol): StreamDecoder {
  const carry = THINKING_ONLY.has(client)
  let shift = 0
  // Blocks whose signature has begun: Anthropic may split one over several deltas; only the first is tagged.
  const signed = new Set<number>()
  const kinds = new Map<number, string>()
  // A Gemini signature on a text block, given a thinking block of its own once the text block ends.
  let pending: string | undefined
  const holder = (index: number, signature: string): IRStreamEvent[] => [
    {type: 'block_start', index, kind: 'thinking'},
    {type: 'signature_delta', index, signature: tagSignature(origin, signature)},
    {type: 'block_stop', index},
  ]
  const map = (events: IRStreamEvent[]): IRStreamEvent[] => {
    const out: IRStreamEvent[] = []
    for (const event of events) {
      if (!('index' in event)) {
        out.push(event)
        continue
      }
      const index = event.index + shift
      if (event.type === 'block_start') {
        kinds.set(event.index, event.kind)
        if (carry && event.kind === 'tool_call' && event.signature !== undefined) {
          const {signature, ...bare} = event
          out.push(...holder(index, signature), {...bare, index: index + 1})
          shift++
          continue
        }
        out.push(reindexed(event, index))
      } else if (event.type === 'signature_delta') {
        const kind = kinds.get(event.index)
        if (carry && kind === 'text') pending = (pending ?? '') + event.signature
        else if (kind === 'thinking' && !signed.has(event.index)) {
          signed.add(event.index)
          out.push({...event, index, signature: tagSignature(origin, event.signature)})
        } else out.push(reindexed(event, index))
      } else if (event.type === 'block_stop' && pending !== undefined) {
        out.push(reindexed(event, index), ...holder(index + 1, pending))
        pending = undefined
        shift++
      } else out.push(reindexed(event, index))
    }
    return out
  }
  return {push: (chunk) => map(decoder.push(chunk)), end: () => map(decoder.end())}
}

/** What a signature becomes on its way to `target`: its raw form when the target can verify it, else nothing. */
function screen(signature: string, target: SignatureOrigin, client: Protocol): string | undefined {
  const {raw, origin} = readSignature(signature)
  // A tag with nothing after it has nothing to restore.
  if (origin) return origin.type === target.type && origin.account === target.account && raw ? raw : undefined
  return NATIVE_TYPE[client] === target.type ? signature : undefined
}

/**
 * A client's history on its way to `target`: signatures the target did not give are dropped (their thinking stays,
 * unsigned, for the encoder to keep or omit), and a Gemini signature a thinking block carried for a call or text
 * goes back onto that part.
 */
export function screenRequestSignatures(
  req: IRRequest,
  target: SignatureOrigin,
  client: Protocol,
  onDropped?: (field: string) => void,
): IRRequest {
  const messages = req.messages.map((message) => {
    const content: IRContentBlock[] = message.content.flatMap((block): IRContentBlock[] => {
      if (block.type === 'redacted_thinking') {
        // A Responses reasoning item with no summary arrives so: its encrypted content is the signature.
        const kept = screen(block.data, target, client)
        if (kept === undefined) onDropped?.("redacted_thinking (another upstream's)")
        if (kept === undefined) return []
        return [target.type === GEMINI ? {type: 'thinking', text: '', signature: kept} : {...block, data: kept}]
      }
      if (!('signature' in block) || block.signature === undefined) return [block]
      const kept = screen(block.signature, target, client)
      if (kept === undefined) {
        onDropped?.(`${block.type}.signature (another upstream's)`)
        const {signature: _dropped, ...bare} = block
        return [bare]
      }
      return [{...block, signature: kept}]
    })
    if (target.type === GEMINI) restoreGeminiSignatures(content)
    return {...message, content: content.filter((b) => !(b.type === 'thinking' && b.text === '' && !b.signature))}
  })
  return {...req, messages}
}

// An empty signed thinking block holds the signature of the next function call, or else of the text before it.
// Blocks are replaced, not changed: the decoded request is shared by every attempt.
function restoreGeminiSignatures(content: IRContentBlock[]): void {
  content.forEach((block, i) => {
    if (block.type !== 'thinking' || block.text !== '' || !block.signature) return
    let owner = content.findIndex((b, j) => j > i && b.type === 'tool_call')
    if (owner < 0) for (let j = i - 1; j >= 0 && owner < 0; j--) if (content[j]?.type === 'text') owner = j
    const target = content[owner]
    if (!target || !(target.type === 'tool_call' || target.type === 'text') || target.signature !== undefined) return
    content[owner] = {...target, signature: block.signature}
    content[i] = {type: 'thinking', text: ''}
  })
}

/** Whether a request holds any signature an upstream could refuse. */
export function hasSignatures(req: IRRequest): boolean {
  return req.messages.some((m) =>
    m.content.some((b) => ('signature' in b && b.signature) || b.type === 'redacted_thinking'),
  )
}

/** The request with no thinking signatures at all: what is left when the upstream refused one. */
export function withoutSignatures(req: IRRequest): IRRequest {
  const messages = req.messages.map((message) => ({
    ...message,
    content: message.content.flatMap((block): IRContentBlock[] => {
      if (block.type === 'redacted_thinking') return []
      if (!('signature' in block) || block.signature === undefined) return [block]
      if (block.type === 'thinking' && block.text === '') return []
      const {signature: _dropped, ...bare} = block
      return [bare]
    }),
  }))
  return {...req, messages}
}
