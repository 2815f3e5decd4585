import {EventEmitter} from 'node:events'
import type {Readable} from 'node:stream'
import type {Dispatcher} from 'undici'
import type {ProtocolCodec, StreamDecoder, StreamDecoderOptions} from '../codecs/types.js'
import type {ClientSink} from '../http/client-sink.js'
import type {LiveInstance} from '../pools/pool-state.js'
import type {AttemptBody} from '../providers/exchange.js'
import type {ProviderAdapter} from '../providers/types.js'
import {redact} from '../secrets.js'
import {describeOutcome, type Outcome} from '../providers/outcome.js'
import type {TokenUsage} from '../usage/tokens.js'
import type {ClientCall, ProxyDeps} from './types.js'

/**
 * Each attempt's upstream body: shared by all attempts, or built per instance by the adapter's exchange, for the
 * model the instance's upstream is sent.
 */
export interface BodySource {
  (live: LiveInstance, model: string): Promise<AttemptBody>
  /**
   * The bodies without thinking signatures, for the one retry after an upstream refused one; undefined when the
   * request holds none. Asked only then, so that a request that is not refused never pays for looking.
   */
  unsigned?: () => BodySource | undefined
}

/**
 * Fires when the client hangs up, and aborts the upstream request with it. undici takes an EventEmitter as its
 * signal; that costs a fraction of an AbortController, which every request would otherwise create.
 */
export class ClientGone extends EventEmitter {
  aborted = false

  abort(): void {
    if (this.aborted) return
    this.aborted = true
    this.emit('abort')
  }
}

/** Everything one attempt on one instance works with. */
export interface AttemptContext {
  deps: ProxyDeps
  call: ClientCall
  adapter: ProviderAdapter
  live: LiveInstance
  /** The model this instance's upstream is sent: the client's, or what an alias makes of it. */
  model: string
  bodies: BodySource
  sink: ClientSink
  /** The client's protocol, in which every answer and error is written. */
  codec: ProtocolCodec
  signal: ClientGone
  /** Every upstream body this attempt opened, closed when the attempt ends. */
  upstreams: Readable[]
}

/** An upstream answer with a success status, about to be relayed. */
export interface Received {
  response: Dispatcher.ResponseData
  latencyMs: number
  createDecoder: () => StreamDecoder
}

/**
 * One attempt's result. Done: the client has its answer, with `latencyMs` when it was a success and `failure` when
 * the instance failed while answering (a stream cut short). Not done: the instance failed before anything reached
 * the client, and `message` says how. `usage` is the tokens of an answer the upstream gave.
 */
export type Attempt =
  | {done: true; status: number; error?: string; latencyMs?: number; failure?: Outcome; usage?: TokenUsage}
  | {done: false; outcome: Outcome; message: string}

export const CLIENT_GONE: Extract<Attempt, {done: true}> = {
  done: true,
  status: 499,
  error: 'client closed the connection',
}

/** A failed attempt; the upstream's words are quoted redacted, as the message goes to the log, the board and the client. */
export function failure(outcome: Outcome, upstreamMessage: string): Attempt {
  const message = redact(upstreamMessage)
  return {done: false, outcome, message: `${describeOutcome(outcome)}${message ? ` (${message})` : ''}`}
}

export function decoderOptions(deps: ProxyDeps): StreamDecoderOptions {
  return {onDropped: deps.onDropped, maxEventLength: deps.streamEventLimitBytes}
}

/** An error in the shape the client's SDK parses, with the right status; an answer already started is just ended. */
export function sendError(
  sink: ClientSink,
  codec: ProtocolCodec,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  if (sink.started) {
    sink.end()
    return
  }
  sink.send(status, {'content-type': 'application/json', ...headers}, JSON.stringify(codec.errorBody(status, message)))
}
