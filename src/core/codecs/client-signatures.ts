import {PLACEHOLDER_SIGNATURE} from './gemini-common.js'
import {readSignature, type SignatureOrigin} from './signatures.js'
import type {Protocol} from './types.js'
import {isObject, type JsonObject} from './values.js'

// A client of the upstream's own protocol has its body passed through, but its history may hold signatures the
// proxy tagged while the conversation went to another upstream type (a Claude Code session moved from
// gemini-cli-oauth to claude-custom). Those are screened in the client's own format: restored raw for the upstream
// and account that gave them, and otherwise removed, with the block or item carrying them where the upstream
// refuses it unsigned. Untagged signatures are the upstream's own family's and stay as they are.

/**
 * Whether the client's bytes may hold a tag, or the empty signature an Anthropic client gets for thinking another
 * upstream did not sign: most bodies hold neither, and pass without being walked.
 */
export function mayHoldForeignSignatures(body: Buffer | string): boolean {
  return body.includes('aic1.') || body.includes('"signature":""')
}

type Screen = (value: string) => string | undefined
type Drop = (field: string, value: string) => void

/** The model the body goes to (Gemini 3 wants every function call signed), and where drops are reported. */
export interface ClientBodyContext {
  model: string
  onDropped?: (field: string) => void
}

/**
 * The client's body with its tagged signatures screened for `target`, or undefined when it holds none (its bytes
 * then pass unchanged).
 */
export function screenClientSignatures(
  protocol: Protocol,
  json: JsonObject,
  target: SignatureOrigin,
  ctx: ClientBodyContext,
): JsonObject | undefined {
  let changed = false
  // The raw signature when the tag is the target's; undefined when it is another's or empty (no upstream takes
  // it); the value when untagged.
  const screen: Screen = (value) => {
    if (value === '') changed = true
    if (value === '') return undefined
    const {raw, origin} = readSignature(value)
    if (!origin) return value
    changed = true
    return origin.type === target.type && origin.account === target.account && raw ? raw : undefined
  }
  const drop: Drop = (field, value) => ctx.onDropped?.(`${field} (${value === '' ? 'unsigned' : "another upstream's"})`)
  const out = walk(protocol, json, screen, drop, ctx)
  return changed ? out : undefined
}

/** Whether the client's bytes may hold a signature of any upstream: then a refused one can be retried without. */
export function mayHoldSignatures(protocol: Protocol, body: Buffer | string): boolean {
  if (protocol === 'anthropic') return body.includes('"signature"') || body.includes('"redacted_thinking"')
  if (protocol === 'gemini') return body.includes('houghtSignature') || body.includes('hought_signature')
  return protocol === 'responses' && body.includes('"encrypted_content"')
}

/** The client's body without any signature, for the one retry after the upstream refused one. */
export function stripClientSignatures(protocol: Protocol, json: JsonObject, model: string): JsonObject {
  return walk(
    protocol,
    json,
    () => undefined,
    () => {},
    {model},
  )
}

function walk(protocol: Protocol, json: JsonObject, screen: Screen, drop: Drop, ctx: ClientBodyContext): JsonObject {
  if (protocol === 'anthropic') return screenAnthropic(json, screen, drop, ctx.onDropped)
  if (protocol === 'gemini') return screenGemini(json, screen, drop, /gemini-3/.test(ctx.model))
  if (protocol === 'responses') return screenResponses(json, screen, drop)
  return json
}

// Anthropic refuses a thinking block without its signature: a block whose signature is another's goes whole.
function screenAnthropic(
  json: JsonObject,
  screen: Screen,
  drop: Drop,
  onDropped?: (field: string) => void,
): JsonObject {
  if (!Array.isArray(json.messages)) return json
  const messages = json.messages.flatMap((message: unknown) => {
    if (!isObject(message) || !Array.isArray(message.content)) return [message]
    const content = message.content.flatMap((block: unknown) => {
      if (!isObject(block)) return [block]
      const field = block.type === 'thinking' ? 'signature' : block.type === 'redacted_thinking' ? 'data' : undefined
      const value = field && block[field]
      if (typeof value !== 'string') return [block]
      const kept = screen(value)
      if (kept === value) return [block]
      if (kept !== undefined) return [{...block, [field!]: kept}]
      drop(`${block.type} block`, value)
      return []
    })
    // A turn that held nothing else is left out rather than sent empty.
    return content.length > 0 ? [{...message, content}] : []
  })
  const out: JsonObject = {...json, messages}
  // As in a conversion: with a tool loop in progress, Anthropic wants its calling turn to start with thinking.
  if (isObject(json.thinking) && json.thinking.type !== 'disabled' && inToolLoopWithoutThinking(messages)) {
    onDropped?.('thinking (tool loop without thinking blocks)')
    delete out.thinking
  }
  return out
}

function inToolLoopWithoutThinking(messages: unknown[]): boolean {
  const [caller, results] = messages.slice(-2).map((m) => (isObject(m) ? m : {}))
  const first = (message: JsonObject | undefined) =>
    Array.isArray(message?.content) && isObject(message.content[0]) ? message.content[0].type : undefined
  if (results?.role !== 'user' || first(results) !== 'tool_result') return false
  const type = first(caller)
  return caller?.role === 'assistant' && type !== 'thinking' && type !== 'redacted_thinking'
}

// Gemini takes a part without its signature: only the signature goes. Gemini 3 refuses a function call without
// one, and takes the placeholder other clients send, as a conversion does.
function screenGemini(json: JsonObject, screen: Screen, drop: Drop, gemini3: boolean): JsonObject {
  if (!Array.isArray(json.contents)) return json
  const contents = json.contents.map((content: unknown) => {
    if (!isObject(content) || !Array.isArray(content.parts)) return content
    const parts = content.parts.map((part: unknown) => {
      if (!isObject(part)) return part
      const key = 'thoughtSignature' in part ? 'thoughtSignature' : 'thought_signature'
      const value = part[key]
      if (typeof value !== 'string') return part
      const kept = screen(value)
      if (kept === value) return part
      if (kept !== undefined) return {...part, [key]: kept}
      drop('thoughtSignature', value)
      const {[key]: _dropped, ...bare} = part
      return gemini3 && isObject(part.functionCall) ? {...bare, thoughtSignature: PLACEHOLDER_SIGNATURE} : bare
    })
    return {...content, parts}
  })
  return {...json, contents}
}

// A reasoning item stands on its encrypted content: an item whose content is another's goes whole.
function screenResponses(json: JsonObject, screen: Screen, drop: Drop): JsonObject {
  if (!Array.isArray(json.input)) return json
  const input = json.input.flatMap((item: unknown) => {
    if (!isObject(item) || item.type !== 'reasoning' || typeof item.encrypted_content !== 'string') return [item]
    const kept = screen(item.encrypted_content)
    if (kept === item.encrypted_content) return [item]
    if (kept !== undefined) return [{...item, encrypted_content: kept}]
    drop('reasoning item', item.encrypted_content)
    return []
  })
  return {...json, input}
}
