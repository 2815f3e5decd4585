import type {Dispatcher} from 'undici'
import {CodecError} from '../codecs/errors.js'
import {StreamFailure, collectStream} from '../codecs/collect.js'
import type {IRResponse, IRStreamEvent, IRUsage} from '../codecs/ir.js'
import {accountTag, tagResponseSignatures} from '../codecs/signatures.js'
import type {ResponseEncodeOptions} from '../codecs/types.js'
import {errorMessage} from '../errors.js'
import {headerValue} from '../http/client-sink.js'
import {instanceLabel} from '../pools/pool-state.js'
import {classifyError} from '../providers/outcome.js'
import {withClientModel} from './client-model.js'
import {failure, sendError, type Attempt, type AttemptContext, type Received} from './context.js'
import {passesThrough} from './operations.js'
import {errorDetail, readAnswer} from './read-answer.js'
import {DEFAULT_RESPONSE_LIMIT} from './types.js'
import {answerUsage} from './usage.js'
import {EventUsage, answerChars, reportedUsage} from '../usage/extract.js'

const RELAYED_HEADERS = ['content-type', 'retry-after', 'x-request-id', 'request-id']

/** An upstream's refusal of the request itself: the client gets it as the upstream said it, or in its own shape. */
export function relayClientFault(ctx: AttemptContext, response: Dispatcher.ResponseData, text: string): Attempt {
  const {call, adapter, sink, codec} = ctx
  const status = response.statusCode
  // An empty body (or one too long to read) is not worth relaying: the client gets an error in its own shape.
  if (passesThrough(call, adapter) && text !== '') {
    const headers: Record<string, string> = {}
    for (const name of RELAYED_HEADERS) {
      const value = response.headers[name]
      if (typeof value === 'string') headers[name] = value
    }
    sink.send(status, headers, text)
    return {done: true, status}
  }
  const detail = errorDetail(text)
  sendError(sink, codec, status, detail || `The upstream rejected the request (${status}).`)
  return {done: true, status, error: detail}
}

/** Sends the answer, then works out its usage: whatever an estimate costs comes after the client has it. */
function sendJsonAnswer(
  ctx: AttemptContext,
  out: string | Buffer,
  latencyMs: number,
  reported: IRUsage | undefined,
  outputChars: () => number,
): Attempt {
  ctx.sink.send(
    200,
    {'content-type': 'application/json', 'x-aiclient-instance': headerValue(instanceLabel(ctx.live))},
    out,
  )
  return {done: true, status: 200, latencyMs, usage: answerUsage(ctx, reported, outputChars)}
}

/** A plain answer: read whole (within the limit), and converted to the client's protocol unless it passes through. */
export async function relayJson(ctx: AttemptContext, received: Received): Promise<Attempt> {
  const {deps, call, adapter, codec} = ctx
  const read = await readAnswer(received.response, deps.responseLimitBytes ?? DEFAULT_RESPONSE_LIMIT)
  if ('problem' in read) return failure(read.outcome ?? {kind: 'server', status: 502}, read.problem)
  // The client's own model name, where an alias sent the upstream another.
  const renamed = ctx.model === call.model ? undefined : call.model
  let out: Buffer | string = read.bytes
  let decoded: IRResponse | undefined
  if (passesThrough(call, adapter)) {
    if (renamed !== undefined) out = JSON.stringify(withClientModel(read.json, renamed))
  } else {
    try {
      if (call.protocol === adapter.protocol && adapter.exchange.reshape) {
        const reshaped = adapter.exchange.reshape.json(read.json)
        out = JSON.stringify(renamed === undefined ? reshaped : withClientModel(reshaped, renamed))
      } else {
        decoded = adapter.exchange.decodeJson(read.json, {onDropped: deps.onDropped})
        const answer = tagResponseSignatures(
          decoded,
          {type: call.type, account: accountTag(ctx.live.id)},
          call.protocol,
        )
        // The name the client asked for, as a converted stream shows it, not the upstream's (often dated) one.
        answer.model = call.model
        out = JSON.stringify(codec.encodeResponse(answer, encodeOptions(ctx)))
      }
    } catch (error) {
      if (error instanceof CodecError) throw error
      return failure({kind: 'server', status: 502}, `unreadable response: ${errorMessage(error)}`)
    }
  }
  // Every JSON path reads the usage from the upstream's own answer; only an estimate needs it decoded.
  const outputChars = (): number => {
    try {
      return answerChars(decoded ?? adapter.exchange.decodeJson(read.json))
    } catch {
      return 0
    }
  }
  return sendJsonAnswer(ctx, out, received.latencyMs, reportedUsage(adapter.protocol, read.json), outputChars)
}

/**
 * A plain answer for the client from an upstream that only streams: the whole stream, folded, within the size
 * limit of plain answers. Reading stops at the upstream's first error.
 */
export async function relayCollected(ctx: AttemptContext, received: Received): Promise<Attempt> {
  const {deps, call, sink, codec} = ctx
  const limit = deps.responseLimitBytes ?? DEFAULT_RESPONSE_LIMIT
  const decoder = received.createDecoder()
  const events: IRStreamEvent[] = []
  let size = 0
  try {
    for await (const chunk of received.response.body) {
      size += (chunk as Buffer).length
      if (size > limit) return failure({kind: 'server', status: 502}, `answer larger than ${limit} bytes`)
      const batch = decoder.push(chunk as Buffer)
      events.push(...batch)
      if (batch.some((event) => event.type === 'error')) break
    }
    events.push(...decoder.end())
  } catch (error) {
    return failure(classifyError(error), errorMessage(error))
  }
  let answer: IRResponse
  try {
    answer = collectStream(events, call.model)
  } catch (error) {
    const status = error instanceof StreamFailure ? error.status : 502
    if (status === 429) return failure({kind: 'rate_limited', retryAfterMs: null}, errorMessage(error))
    if (status < 500) {
      sendError(sink, codec, status, errorMessage(error))
      return {done: true, status, error: errorMessage(error)}
    }
    return failure({kind: 'server', status}, errorMessage(error))
  }
  const usage = new EventUsage()
  usage.observe(events)
  const out = JSON.stringify(codec.encodeResponse(answer, encodeOptions(ctx)))
  return sendJsonAnswer(ctx, out, received.latencyMs, usage.usage(), () => answerChars(answer))
}

/** How a plain answer is written for the client: echoing its request, under the id the server chose, if any. */
function encodeOptions({deps, call}: AttemptContext): ResponseEncodeOptions {
  return {request: call.json, onDropped: deps.onDropped, ...(call.answerId !== undefined && {id: call.answerId})}
}
