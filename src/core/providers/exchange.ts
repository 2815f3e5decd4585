import type {Dispatcher} from 'undici'
import {codecs} from '../codecs/index.js'
import type {IRRequest, IRResponse} from '../codecs/ir.js'
import type {Protocol, StreamDecoder, StreamDecoderOptions} from '../codecs/types.js'
import type {PoolInstance} from '../pools/types.js'
import {classifyStatus, type Outcome} from './outcome.js'
import {sendUpstream, type SendInit} from './send.js'
import type {UpstreamCall} from './types.js'

type Headers = Record<string, string | string[] | undefined>

/** The request an exchange encodes: the client's own, or (for a probe) an IR request standing in for a client. */
export interface BodyInput {
  clientProtocol: Protocol
  clientJson: Record<string, unknown>
  /** The client's bytes, passed on untouched when the upstream speaks the client's protocol. */
  clientBody: Buffer | string
  /** The model differs from the body's (a `type:` prefix was removed), so the bytes cannot pass as they are. */
  modelRewritten: boolean
  /** The request in the IR, decoded once on first use. */
  ir(): IRRequest
  model: string
  stream: boolean
  onDropped?: (field: string) => void
}

/** One attempt's upstream body, and the stream decoder its answers need (Kiro's depends on the body). */
export interface AttemptBody {
  body: string | Buffer
  createStreamDecoder(opts?: StreamDecoderOptions): StreamDecoder
}

/** Turns the bytes of a same-protocol stream into what the client expects (Code Assist's `{response}` unwrap). */
export interface ByteTransform {
  push(chunk: Uint8Array): string
  end(): string
}

/**
 * One complete exchange with an upstream type: the body each attempt sends, the send, and the reading of the
 * answer. Serving, `pool check`'s probes, model lists and token counts all go through it, so a probe cannot drift
 * from what serving does.
 */
export interface Exchange {
  /** The upstream answers only with streams; plain requests get the stream collected into one answer. */
  readonly alwaysStreams: boolean
  /**
   * The bodies for one request: whatever does not depend on the instance is converted here, once (a request the
   * upstream cannot carry fails before any instance is chosen); the returned function gives one attempt's body.
   */
  bodies(input: BodyInput): (instance: PoolInstance) => Promise<AttemptBody>
  send(call: UpstreamCall, init: SendInit): Promise<Dispatcher.ResponseData>
  /** A plain answer, decoded to the IR. */
  decodeJson(body: unknown, opts?: {onDropped?: (field: string) => void}): IRResponse
  /** What an error answer means for the request and the instance. */
  classify(status: number, headers: Headers, body: string, now: number): Outcome
  /** For clients of the adapter's protocol when its bytes cannot pass through: answers reshaped without the IR. */
  reshape?: {json(body: unknown): unknown; stream(opts?: StreamDecoderOptions): ByteTransform}
}

/** An upstream-specific reading of an error answer; undefined falls back to the common status table. */
export type SpecialClassify = (status: number, headers: Headers, body: string, now: number) => Outcome | undefined

export interface ExchangeOverrides extends Partial<Omit<Exchange, 'classify'>> {
  classify?: SpecialClassify
}

/**
 * The exchange of an upstream that speaks `protocol` as the clients do: the client's bytes pass through when the
 * protocols match, other requests are converted once by the protocol's codec, and answers are read by it too.
 * Upstreams that differ (Code Assist's envelope, Kiro's event stream) override only what differs.
 */
export function protocolExchange(protocol: Protocol, overrides: ExchangeOverrides = {}): Exchange {
  const codec = codecs[protocol]
  const createStreamDecoder = (opts?: StreamDecoderOptions) => codec.createStreamDecoder(opts)
  const special = overrides.classify
  return {
    alwaysStreams: false,
    bodies(input) {
      // An OpenAI upstream reports a stream's usage only when asked: it always is, so that every count is exact.
      const askUsage = protocol === 'openai' && input.stream
      let body: string | Buffer
      if (input.clientProtocol === protocol) body = askUsage ? withIncludeUsage(input) : clientBytes(input)
      else {
        const ir = input.ir()
        body = JSON.stringify(
          codec.encodeRequest(askUsage ? {...ir, includeUsage: true} : ir, {onDropped: input.onDropped}),
        )
      }
      const shared = Promise.resolve({body, createStreamDecoder})
      return () => shared
    },
    send: sendUpstream,
    decodeJson: (body, opts) => codec.decodeResponse(body, opts),
    ...overrides,
    classify: (status, headers, body, now) =>
      special?.(status, headers, body, now) ?? classifyStatus(status, headers, now),
  }
}

/** The client's request as the upstream gets it when the protocols match: its own bytes, unless the model changed. */
function clientBytes(input: BodyInput): string | Buffer {
  return input.modelRewritten ? JSON.stringify({...input.clientJson, model: input.model}) : input.clientBody
}

const INCLUDE_USAGE = Buffer.from(',"stream_options":{"include_usage":true}}')
const CLOSING_BRACE = 0x7d

/**
 * An OpenAI chat body that asks for the stream's usage. A client's own bytes, when they name no stream_options and
 * keep their model, get the field added before their closing brace, so a long conversation is not serialized anew.
 */
function withIncludeUsage(input: BodyInput): string | Buffer {
  const options = input.clientJson.stream_options
  const kept = options !== null && typeof options === 'object' ? (options as Record<string, unknown>) : {}
  if (kept.include_usage === true) return clientBytes(input)
  if (options === undefined && !input.modelRewritten) {
    const bytes = Buffer.isBuffer(input.clientBody) ? input.clientBody : Buffer.from(input.clientBody)
    const close = bytes.lastIndexOf(CLOSING_BRACE)
    if (close > 0) return Buffer.concat([bytes.subarray(0, close), INCLUDE_USAGE])
  }
  return JSON.stringify({...input.clientJson, model: input.model, stream_options: {...kept, include_usage: true}})
}
