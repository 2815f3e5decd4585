import {newId} from '../../codecs/ids.js'
import {responseSink, type ClientSink} from '../../http/client-sink.js'
import {proxyRequest} from '../../proxy/proxy.js'
import {requestType, type Handler, type HandlerDeps} from '../handler.js'
import {parseJsonBody, requiredModel} from '../request-json.js'
import {isResponsesUpstream, serveResponses} from '../responses/serve.js'
import {inputItems, parseObject, userMessage} from '../responses/items.js'
import type {ResponseMemory} from '../responses/memory.js'

const SUMMARY_INSTRUCTIONS =
  'You compact a conversation between a user and a coding assistant so that it can go on in a fresh context. ' +
  'Write a summary for the assistant that will continue: the goal and the constraints the user set, what has been ' +
  'done and decided (files, commands, results), what is left to do and the next step. Be complete but brief; keep ' +
  'exact names, paths and values. Answer with the summary only.'

const SUMMARY_REQUEST = 'Summarise the conversation above as instructed, for the assistant that takes over.'

const SUMMARY_PREFIX =
  'The conversation so far was compacted. This summary, written for you, replaces the earlier turns:\n\n'

/** The summarising turn keeps nothing: its answer only feeds the compacted history. */
const FORGETFUL: ResponseMemory = {get: () => undefined, put: () => {}}

/**
 * `POST /v1/responses/compact`. A Responses upstream compacts the conversation itself (the request passes through).
 * Other upstreams cannot, so a summarising turn runs through the pool instead and the answer has the same shape as
 * OpenAI's: every user message of the input, then the summary, here as a user message rather than an encrypted
 * `compaction` item, which only OpenAI can read.
 */
export const compact: Handler<'compact'> = async (deps, {pathname, typePrefix, headers, body, res}) => {
  const json = parseJsonBody(body)
  const rawModel = requiredModel(json.model)
  const {type, model} = requestType(deps, {typePrefix, headers}, rawModel)
  if (isResponsesUpstream(deps, type)) {
    const call = {route: pathname, protocol: 'responses' as const, type, body, json, model, headers}
    const record = await proxyRequest(
      deps.proxy,
      {...call, modelRewritten: model !== rawModel, stream: false, operation: 'compact'},
      responseSink(res),
    )
    deps.onRecord?.(record)
    return {kind: 'relayed'}
  }
  const turn = {
    model: rawModel,
    instructions: SUMMARY_INSTRUCTIONS,
    input: [...inputItems(json.input), userMessage(SUMMARY_REQUEST)],
    stream: false,
    store: false,
  }
  const answer = new AnswerHolder()
  const request = {json: turn, body: Buffer.from(JSON.stringify(turn)), pathname, typePrefix: type, headers}
  deps.onRecord?.(await serveResponses(deps, request, answer, FORGETFUL))
  const response = answer.status === 200 ? parseObject(answer.body) : undefined
  if (!response) return {kind: 'text', status: answer.status, text: answer.body, headers: answer.headers}
  return {kind: 'json', status: 200, body: compacted(deps, json.input, response)}
}

function compacted(deps: HandlerDeps, input: unknown, response: Record<string, unknown>) {
  const userMessages = inputItems(input).filter((item) => {
    const message = item as {type?: unknown; role?: unknown}
    return (message.type === undefined || message.type === 'message') && message.role === 'user'
  })
  return {
    id: newId('resp_'),
    object: 'response.compaction',
    created_at: Math.floor(deps.now() / 1000),
    output: [...userMessages, userMessage(SUMMARY_PREFIX + outputText(response.output))].map(keptMessage),
    usage: response.usage,
  }
}

/**
 * A user message as the compaction lists it, an item of the conversation: with an id and a status, and its content
 * as parts even when the request gave it as a string.
 */
function keptMessage(item: unknown): Record<string, unknown> {
  const {content, ...message} = item as Record<string, unknown>
  const parts = typeof content === 'string' ? [{type: 'input_text', text: content}] : content
  return {id: newId('msg_'), status: 'completed', ...message, type: 'message', content: parts}
}

/** The text of the answer's messages. */
function outputText(output: unknown): string {
  const texts: string[] = []
  for (const item of Array.isArray(output) ? output : []) {
    const {type, content} = item as {type?: unknown; content?: unknown}
    if (type !== 'message' || !Array.isArray(content)) continue
    for (const part of content as {type?: unknown; text?: unknown}[])
      if (part.type === 'output_text' && typeof part.text === 'string') texts.push(part.text)
  }
  return texts.join('\n\n')
}

/** A sink that holds a plain answer in memory, for a turn whose answer the client does not get as it is. */
class AnswerHolder implements ClientSink {
  status = 502
  headers: Record<string, string> = {'content-type': 'application/json'}
  body = ''
  started = false
  readonly gone = false

  send(status: number, headers: Record<string, string>, body: string | Buffer): void {
    this.started = true
    this.status = status
    this.headers = {...headers, 'content-type': headers['content-type'] ?? 'application/json'}
    this.body = typeof body === 'string' ? body : body.toString('utf8')
  }

  start(status: number, headers: Record<string, string>): void {
    this.send(status, headers, '')
  }

  write(chunk: string | Uint8Array): undefined {
    this.body += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    return undefined
  }

  end(chunk?: string | Uint8Array): void {
    if (chunk !== undefined) this.write(chunk)
  }

  onGone(): () => void {
    return () => {}
  }
}
