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
      let body: string | Buffer
      if (input.clientProtocol === protocol)
        body = input.modelRewritten ? JSON.stringify({...input.clientJson, model: input.model}) : input.clientBody
      else body = JSON.stringify(codec.encodeRequest(input.ir(), {onDropped: input.onDropped}))
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
