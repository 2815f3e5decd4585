import type {IRStreamEvent} from '../codecs/ir.js'
import type {StreamDecoder} from '../codecs/types.js'
import {errorMessage} from '../errors.js'
import {SSE_HEADERS, headerValue} from '../http/client-sink.js'
import {instanceLabel} from '../pools/pool-state.js'
import {redact} from '../secrets.js'
import {classifyError} from '../providers/outcome.js'
import {CLIENT_GONE, decoderOptions, failure, type Attempt, type AttemptContext, type Received} from './context.js'
import {errorBody, errorDetail} from './read-answer.js'
import {renameModelFields} from './client-model.js'
import {scrubErrorLines, scrubErrorText} from './scrub.js'
import {answerUsage, partialUsage} from './usage.js'
import {EventUsage, type StreamUsage} from '../usage/extract.js'
import {UsageLines} from '../usage/lines.js'
import type {Outcome} from '../providers/outcome.js'
import type {ClientCall} from './types.js'

interface StreamOutput {
  text: string | Buffer
  error?: string
}

interface StreamTransform {
  push(chunk: Buffer): StreamOutput
  end(): StreamOutput
  /** What the stream reported of its usage, as it passed. */
  usage: StreamUsage
}

/**
 * A streamed answer, relayed piece by piece. Until the first piece reaches the client the attempt can still fail
 * over; after it, a failure ends the stream with an error event in the client's protocol.
 */
export async function relayStream(ctx: AttemptContext, received: Received): Promise<Attempt> {
  const {deps, adapter, live, sink, codec, signal} = ctx
  const {response} = received
  const transform = streamTransform(ctx, received.createDecoder)
  const chunks = response.body[Symbol.asyncIterator]()
  const type = String(response.headers['content-type'] ?? '')
  if (/text\/html/i.test(type) || (/json/i.test(type) && !adapter.exchange.alwaysStreams)) {
    // A stream was asked for and a document came back: an error page, or an error object with status 200.
    const text = await errorBody(response, deps.errorBodyLimitBytes)
    return failure(
      {kind: 'server', status: 502},
      `answer of type ${type.split(';')[0]} instead of a stream${errorDetail(text) ? `: ${errorDetail(text)}` : ''}`,
    )
  }
  // Reads up to the next piece for the client; null once the upstream has ended. Failures here are the upstream's;
  // a failure to answer the client is ours and propagates.
  let ended = false
  const next = async (): Promise<StreamOutput | null> => {
    if (ended) return null
    const chunk = await chunks.next()
    if (!chunk.done) return transform.push(chunk.value)
    ended = true
    return transform.end()
  }
  // Headers wait for the first bytes for the client, so a stream that breaks before anything could be relayed (a
  // reset, an over-long first event) can still fail over.
  const start = () => sink.start(200, {...SSE_HEADERS, 'x-aiclient-instance': headerValue(instanceLabel(live))})
  let failed: string | undefined
  let out: StreamOutput | null
  // After an error the upstream reported, nothing more is read: its connection is closed with the attempt.
  do {
    try {
      out = await next()
    } catch (error) {
      // Tokens an answer cut short had already cost are counted as far as the upstream reported them.
      const usage = partialUsage(transform.usage.usage())
      if (signal.aborted) return usage ? {...CLIENT_GONE, usage} : CLIENT_GONE
      if (!sink.started) return failure(classifyError(error), errorMessage(error))
      if (!sink.gone) sink.end(codec.streamErrorEvent(redact(`Upstream stream failed: ${errorMessage(error)}`), 502))
      return {
        done: true,
        status: 200,
        error: `stream interrupted: ${errorMessage(error)}`,
        failure: classifyError(error),
        ...(usage && {usage}),
      }
    }
    if (out && out.text.length > 0) {
      start()
      await sink.write(out.text)
    }
    failed ??= out?.error
  } while (out && !out.error)
  start()
  sink.end()
  const reported = transform.usage.usage()
  if (failed) {
    const usage = partialUsage(reported)
    const failure: Outcome = {kind: 'server', status: 502, reason: 'error in stream'}
    return {done: true, status: 200, error: failed, failure, ...(usage && {usage})}
  }
  const usage = answerUsage(ctx, reported, () => transform.usage.chars)
  return {done: true, status: 200, latencyMs: received.latencyMs, usage}
}

function streamTransform(ctx: AttemptContext, createDecoder: () => StreamDecoder): StreamTransform {
  const {deps, call, adapter, codec} = ctx
  if (call.protocol === adapter.protocol) {
    // Both give whole lines (bar one longer than the scrubber holds), where the client's model name can go back in.
    const renamed = ctx.model === call.model ? undefined : call.model
    if (adapter.passthrough) {
      const lines = scrubErrorLines()
      // The usage chunk the proxy asked an OpenAI upstream for, and the client did not, is not the client's.
      const usage = new UsageLines(adapter.protocol, adapter.protocol === 'openai' && !asksForUsage(call))
      const out = (text: string | Buffer) => {
        const scanned = usage.scan(text)
        return {text: renamed === undefined ? scanned : renameModelFields(scanned, renamed)}
      }
      return {push: (chunk) => out(lines.push(chunk)), end: () => out(lines.end()), usage}
    }
    if (adapter.exchange.reshape) {
      // The reshaped text is whole events, so each piece can be checked on its own.
      const reshape = adapter.exchange.reshape.stream(decoderOptions(deps))
      const usage = new UsageLines(adapter.protocol)
      const text = (piece: string) => {
        const scanned = usage.scan(piece)
        return scrubErrorText(renamed === undefined ? scanned : renameModelFields(scanned, renamed))
      }
      return {push: (chunk) => ({text: text(reshape.push(chunk))}), end: () => ({text: text(reshape.end())}), usage}
    }
  }
  const decoder = createDecoder()
  const usage = new EventUsage()
  const encoder = codec.createStreamEncoder({
    model: call.model,
    includeUsage: asksForUsage(call),
    request: call.json,
    onDropped: deps.onDropped,
    ...(call.answerId !== undefined && {id: call.answerId}),
  })
  const convert = (events: IRStreamEvent[], finish: boolean) => {
    usage.observe(events)
    const error = events.find((e) => e.type === 'error')
    let text = encoder.encode(events)
    if (finish) text += encoder.finish()
    return error && error.type === 'error' ? {text, error: error.message} : {text}
  }
  return {push: (chunk) => convert(decoder.push(chunk), false), end: () => convert(decoder.end(), true), usage}
}

/** Whether an OpenAI client asked for the usage chunk at the end of its stream. */
function asksForUsage(call: ClientCall): boolean {
  return Boolean((call.json.stream_options as {include_usage?: unknown} | undefined)?.include_usage)
}

/** Upstream error events quote the upstream, which may quote the key: scrubbed before they are encoded or logged. */
export function scrubbingErrors(decoder: StreamDecoder): StreamDecoder {
  const scrub = (events: IRStreamEvent[]): IRStreamEvent[] => {
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!
      if (event.type === 'error') events[i] = {...event, message: redact(event.message)}
    }
    return events
  }
  return {push: (chunk) => scrub(decoder.push(chunk)), end: () => scrub(decoder.end())}
}
