// Thinking signatures across vendors, in every direction they apply to: an upstream's signature reaches a client of
// another protocol tagged with its origin, and comes back on the next turn as the upstream gave it, only to the
// upstream type and account that gave it.
import {describe, expect, it} from 'vitest'
import {codecs} from './index.js'
import type {IRRequest, IRStreamEvent} from './ir.js'
import {encodeKiroRequest} from './kiro/request.js'
import {
  accountTag,
  readSignature,
  screenRequestSignatures,
  tagResponseSignatures,
  tagSignature,
  tagStreamSignatures,
  type SignatureOrigin,
} from './signatures.js'
import type {Protocol} from './types.js'

type Json = Record<string, any>
type Upstream = 'gemini-cli-oauth' | 'claude-custom' | 'openaiResponses-custom' | 'openai-custom' | 'claude-kiro-oauth'

// The protocol each upstream type's bodies are in (Code Assist wraps Gemini's; Kiro has its own request).
const SPEAKS: Record<Upstream, Protocol | 'kiro'> = {
  'gemini-cli-oauth': 'gemini',
  'claude-custom': 'anthropic',
  'openaiResponses-custom': 'responses',
  'openai-custom': 'openai',
  'claude-kiro-oauth': 'kiro',
}

const ACCOUNT = accountTag('instance-a')
const OTHER_ACCOUNT = accountTag('instance-b')
const MODEL = 'gemini-2.5-pro'
const SCHEMA = {type: 'object', properties: {}}

// ---- upstream answers, as each vendor sends them ----

const usage = {promptTokenCount: 5, candidatesTokenCount: 5, totalTokenCount: 10}
const ANSWERS = {
  // Gemini signs the function call of a turn that calls one…
  geminiCall: {
    upstream: 'gemini-cli-oauth',
    raw: 'Gsig/call+1==',
    body: {
      responseId: 'r1',
      candidates: [
        {
          content: {
            role: 'model',
            parts: [
              {text: 'Looking.', thought: true},
              {functionCall: {name: 'ls', args: {}}, thoughtSignature: 'Gsig/call+1=='},
            ],
          },
          finishReason: 'STOP',
        },
      ],
      usageMetadata: usage,
    },
  },
  // …and the last text part of one that does not.
  geminiText: {
    upstream: 'gemini-cli-oauth',
    raw: 'Gsig/text+2==',
    body: {
      responseId: 'r2',
      candidates: [
        {
          content: {role: 'model', parts: [{text: 'Hello.', thoughtSignature: 'Gsig/text+2=='}]},
          finishReason: 'STOP',
        },
      ],
      usageMetadata: usage,
    },
  },
  claude: {
    upstream: 'claude-custom',
    raw: 'EqQBCkYIARgCKkD.claude+3=',
    body: {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-6',
      content: [
        {type: 'thinking', thinking: 'Listing.', signature: 'EqQBCkYIARgCKkD.claude+3='},
        {type: 'tool_use', id: 'toolu_1', name: 'ls', input: {}},
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: {input_tokens: 5, output_tokens: 5},
    },
  },
  responses: {
    upstream: 'openaiResponses-custom',
    raw: 'gAAAAABencrypted.responses_4',
    body: {
      id: 'resp_1',
      object: 'response',
      status: 'completed',
      model: 'gpt-5.4',
      output: [
        {
          type: 'reasoning',
          id: 'rs_1',
          summary: [{type: 'summary_text', text: 'Listing.'}],
          encrypted_content: 'gAAAAABencrypted.responses_4',
        },
        {type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'ls', arguments: '{}', status: 'completed'},
      ],
      usage: {input_tokens: 5, output_tokens: 5, total_tokens: 10},
    },
  },
} satisfies Record<string, {upstream: Upstream; raw: string; body: Json}>
type AnswerName = keyof typeof ANSWERS

/** The upstream's answer as a client of `client` receives it. */
function clientAnswer(name: AnswerName, client: Protocol, account = ACCOUNT): Json {
  const {upstream, body} = ANSWERS[name]
  const decoded = codecs[SPEAKS[upstream] as Protocol].decodeResponse(body)
  return codecs[client].encodeResponse(tagResponseSignatures(decoded, {type: upstream, account}, client)) as Json
}

// ---- the client's next turn, with the answer in its history ----

function nextTurn(client: Protocol, answer: Json): Json {
  switch (client) {
    case 'anthropic': {
      const calls = answer.content.filter((b: Json) => b.type === 'tool_use')
      const results = calls.map((c: Json) => ({type: 'tool_result', tool_use_id: c.id, content: 'a.txt'}))
      return {
        model: MODEL,
        max_tokens: 4096,
        tools: [{name: 'ls', input_schema: SCHEMA}],
        messages: [
          {role: 'user', content: 'List the files.'},
          {role: 'assistant', content: answer.content},
          {role: 'user', content: results.length ? results : 'Thanks.'},
        ],
      }
    }
    case 'responses': {
      const calls = answer.output.filter((i: Json) => i.type === 'function_call')
      const results = calls.map((c: Json) => ({type: 'function_call_output', call_id: c.call_id, output: 'a.txt'}))
      return {
        model: MODEL,
        tools: [{type: 'function', name: 'ls', parameters: SCHEMA}],
        input: [
          {role: 'user', content: 'List the files.'},
          ...answer.output,
          ...(results.length ? results : [{role: 'user', content: 'Thanks.'}]),
        ],
      }
    }
    case 'gemini': {
      const content = answer.candidates[0].content
      const calls = content.parts.filter((p: Json) => p.functionCall)
      const results = calls.map((p: Json) => ({
        functionResponse: {id: p.functionCall.id, name: p.functionCall.name, response: {output: 'a.txt'}},
      }))
      return {
        tools: [{functionDeclarations: [{name: 'ls', parameters: SCHEMA}]}],
        contents: [
          {role: 'user', parts: [{text: 'List the files.'}]},
          content,
          {role: 'user', parts: results.length ? results : [{text: 'Thanks.'}]},
        ],
      }
    }
    case 'openai':
      throw new Error('an OpenAI chat client holds no signatures')
  }
}

/** The client's next turn as `target` receives it, and what was reported dropped on the way. */
function upstreamRequest(client: Protocol, body: Json, target: SignatureOrigin): {wire: Json; dropped: string[]} {
  const dropped: string[] = []
  const onDropped = (field: string) => dropped.push(field)
  const ir = codecs[client].decodeRequest(body, {model: MODEL, onDropped})
  const screened = screenRequestSignatures(ir, target, client, onDropped)
  return {wire: encodeFor(target.type as Upstream, screened, onDropped), dropped}
}

function encodeFor(upstream: Upstream, ir: IRRequest, onDropped: (field: string) => void): Json {
  const protocol = SPEAKS[upstream]
  if (protocol === 'kiro') return encodeKiroRequest(ir, {conversationId: 'c', modelId: 'm', onDropped}).body
  return codecs[protocol].encodeRequest(ir, {onDropped}) as Json
}

// ---- where signatures sit in a body, as `<part kind>:<signature>` ----

function geminiSignatures(contents: Json[]): string[] {
  return contents.flatMap((c) =>
    (c.parts ?? [])
      .filter((p: Json) => p.thoughtSignature !== undefined)
      .map((p: Json) => `${p.functionCall ? 'functionCall' : p.thought ? 'thought' : 'text'}:${p.thoughtSignature}`),
  )
}

function anthropicSignatures(blocks: Json[]): string[] {
  return blocks.flatMap((b) => {
    if (b.type === 'thinking') return b.signature ? [`thinking:${b.signature}`] : []
    return b.type === 'redacted_thinking' ? [`redacted_thinking:${b.data}`] : []
  })
}

function responsesSignatures(items: Json[]): string[] {
  return items
    .filter((i) => i.type === 'reasoning' && i.encrypted_content)
    .map((i) => `reasoning:${i.encrypted_content}`)
}

/** Signatures in a client's answer. */
function answerSignatures(client: Protocol, answer: Json): string[] {
  if (client === 'anthropic') return anthropicSignatures(answer.content)
  if (client === 'responses') return responsesSignatures(answer.output)
  if (client === 'gemini') return geminiSignatures([answer.candidates[0].content])
  return []
}

/** Signatures in an upstream's request; OpenAI chat and Kiro have no field for one (and must not carry it as text). */
function requestSignatures(upstream: Upstream, wire: Json, raw: string): string[] {
  switch (SPEAKS[upstream]) {
    case 'gemini':
      return geminiSignatures(wire.contents)
    case 'anthropic':
      return wire.messages.flatMap((m: Json) => (Array.isArray(m.content) ? anthropicSignatures(m.content) : []))
    case 'responses':
      return responsesSignatures(wire.input)
    default:
      return JSON.stringify(wire).includes(raw) ? [`somewhere:${raw}`] : []
  }
}

// ---- tagging, and restoring on the next turn ----

interface RoundTrip {
  answer: AnswerName
  client: Protocol
  /** Where the client's answer carries the tagged signature */
  held: string
  /** Where the upstream finds it again on the next turn */
  restored: string
}

const ROUND_TRIPS: RoundTrip[] = [
  // Gemini's signature on a function call rides a thinking block of its own, and goes back onto the call.
  {answer: 'geminiCall', client: 'anthropic', held: 'thinking', restored: 'functionCall'},
  {answer: 'geminiText', client: 'anthropic', held: 'thinking', restored: 'text'},
  {answer: 'geminiCall', client: 'responses', held: 'reasoning', restored: 'functionCall'},
  {answer: 'geminiText', client: 'responses', held: 'reasoning', restored: 'text'},
  {answer: 'responses', client: 'anthropic', held: 'thinking', restored: 'reasoning'},
  {answer: 'claude', client: 'responses', held: 'reasoning', restored: 'thinking'},
  {answer: 'claude', client: 'gemini', held: 'thought', restored: 'thinking'},
  {answer: 'responses', client: 'gemini', held: 'thought', restored: 'reasoning'},
]

describe('a signature handed to a client of another protocol', () => {
  it.each(ROUND_TRIPS)('$answer → $client client: tagged with its origin', ({answer, client, held}) => {
    const {upstream, raw} = ANSWERS[answer]
    const tagged = tagSignature({type: upstream, account: ACCOUNT}, raw)
    expect(tagged).toBe(`aic1.${upstream}.${ACCOUNT}.${raw}`)
    expect(answerSignatures(client, clientAnswer(answer, client))).toEqual([`${held}:${tagged}`])
  })

  it.each(ROUND_TRIPS)(
    '$answer → $client client → same type and account: restored raw, on its $restored',
    ({answer, client, restored}) => {
      const {upstream, raw} = ANSWERS[answer]
      const body = nextTurn(client, clientAnswer(answer, client))
      const {wire, dropped} = upstreamRequest(client, body, {type: upstream, account: ACCOUNT})
      expect(requestSignatures(upstream, wire, raw)).toEqual([`${restored}:${raw}`])
      expect(dropped.filter((d) => d.includes('signature'))).toEqual([])
    },
  )

  it.each(ROUND_TRIPS)('$answer → $client client → same type, another account: dropped', ({answer, client}) => {
    const {upstream, raw} = ANSWERS[answer]
    const body = nextTurn(client, clientAnswer(answer, client))
    const {wire, dropped} = upstreamRequest(client, body, {type: upstream, account: OTHER_ACCOUNT})
    expect(requestSignatures(upstream, wire, raw)).toEqual([])
    expect(JSON.stringify(wire)).not.toContain(raw)
    expect(dropped.some((d) => d.endsWith("(another upstream's)"))).toBe(true)
  })
})

// A signature given by one vendor, in the history a client sends to another: the other would refuse it.
const OTHER_VENDOR: {answer: AnswerName; client: Protocol; target: Upstream}[] = [
  {answer: 'geminiCall', client: 'anthropic', target: 'openaiResponses-custom'},
  {answer: 'geminiCall', client: 'responses', target: 'claude-custom'},
  {answer: 'geminiText', client: 'anthropic', target: 'openai-custom'},
  {answer: 'claude', client: 'responses', target: 'gemini-cli-oauth'},
  {answer: 'claude', client: 'responses', target: 'openai-custom'},
  {answer: 'claude', client: 'responses', target: 'claude-kiro-oauth'},
  {answer: 'claude', client: 'gemini', target: 'openaiResponses-custom'},
  {answer: 'claude', client: 'gemini', target: 'claude-kiro-oauth'},
  {answer: 'responses', client: 'anthropic', target: 'gemini-cli-oauth'},
  {answer: 'responses', client: 'anthropic', target: 'openai-custom'},
  {answer: 'responses', client: 'gemini', target: 'claude-custom'},
]

describe("another vendor's signature", () => {
  it.each(OTHER_VENDOR)('$answer → $client client → $target: dropped and reported', ({answer, client, target}) => {
    const {raw} = ANSWERS[answer]
    const body = nextTurn(client, clientAnswer(answer, client))
    const {wire, dropped} = upstreamRequest(client, body, {type: target, account: ACCOUNT})
    expect(requestSignatures(target, wire, raw)).toEqual([])
    expect(JSON.stringify(wire)).not.toContain(raw)
    expect(dropped.some((d) => d.endsWith("(another upstream's)"))).toBe(true)
  })
})

// ---- untagged and malformed signatures: the client's own upstream family only ----

/** A history whose assistant turn holds `signature` where the client's protocol keeps thinking signatures. */
function historyWith(client: Protocol, signature: string): Json {
  switch (client) {
    case 'anthropic':
      return nextTurn(client, {
        content: [
          {type: 'thinking', thinking: 'Hmm.', signature},
          {type: 'text', text: 'Hi.'},
        ],
      })
    case 'responses':
      return nextTurn(client, {
        output: [
          {
            type: 'reasoning',
            id: 'rs_1',
            summary: [{type: 'summary_text', text: 'Hmm.'}],
            encrypted_content: signature,
          },
          {type: 'message', role: 'assistant', content: [{type: 'output_text', text: 'Hi.'}]},
        ],
      })
    case 'gemini':
      return nextTurn(client, {
        candidates: [{content: {role: 'model', parts: [{text: 'Hi.', thoughtSignature: signature}]}}],
      })
    default:
      throw new Error('no signatures in OpenAI chat')
  }
}

interface Screening {
  name: string
  client: Protocol
  signature: string
  target: Upstream
  /** The signature the target receives, if any */
  sent?: string
}

const SCREENING: Screening[] = [
  {name: 'untagged, own family', client: 'anthropic', signature: 'raw-A', target: 'claude-custom', sent: 'raw-A'},
  {name: 'untagged, own family', client: 'gemini', signature: 'raw-G', target: 'gemini-cli-oauth', sent: 'raw-G'},
  {
    name: 'untagged, own family',
    client: 'responses',
    signature: 'raw-R',
    target: 'openaiResponses-custom',
    sent: 'raw-R',
  },
  {name: 'untagged, other family', client: 'anthropic', signature: 'raw-A', target: 'gemini-cli-oauth'},
  {name: 'untagged, other family', client: 'anthropic', signature: 'raw-A', target: 'openaiResponses-custom'},
  {name: 'untagged, other family', client: 'gemini', signature: 'raw-G', target: 'claude-custom'},
  {name: 'untagged, other family', client: 'responses', signature: 'raw-R', target: 'claude-custom'},
  {name: 'untagged, other family', client: 'responses', signature: 'raw-R', target: 'gemini-cli-oauth'},
  {name: 'untagged, other family', client: 'anthropic', signature: 'raw-A', target: 'openai-custom'},
  {name: 'untagged, other family', client: 'responses', signature: 'raw-R', target: 'claude-kiro-oauth'},
  // A raw signature may hold dots: only the first three fields are the tag.
  {
    name: 'tagged, dots in the raw signature',
    client: 'anthropic',
    signature: `aic1.gemini-cli-oauth.${ACCOUNT}.a.b.c`,
    target: 'gemini-cli-oauth',
    sent: 'a.b.c',
  },
  // Not the proxy's tags: taken as the client's own upstream's signatures, verbatim.
  {
    name: 'malformed tag (no account), own family',
    client: 'anthropic',
    signature: 'aic1.gemini-cli-oauth',
    target: 'claude-custom',
    sent: 'aic1.gemini-cli-oauth',
  },
  {
    name: 'malformed tag (no account), other family',
    client: 'anthropic',
    signature: 'aic1.x',
    target: 'gemini-cli-oauth',
  },
  {
    name: 'malformed tag (empty type), own family',
    client: 'responses',
    signature: `aic1..${ACCOUNT}.raw`,
    target: 'openaiResponses-custom',
    sent: `aic1..${ACCOUNT}.raw`,
  },
  {
    name: 'malformed tag (empty type), other family',
    client: 'responses',
    signature: `aic1..${ACCOUNT}.raw`,
    target: 'gemini-cli-oauth',
  },
  {
    name: 'another prefix, other family',
    client: 'gemini',
    signature: `aic2.claude-custom.${ACCOUNT}.raw`,
    target: 'claude-custom',
  },
  // A tag with nothing after it has no signature to restore.
  {
    name: 'tag with an empty signature',
    client: 'anthropic',
    signature: `aic1.gemini-cli-oauth.${ACCOUNT}.`,
    target: 'gemini-cli-oauth',
  },
]

describe('screening a signature the proxy did not tag', () => {
  it.each(SCREENING)('$name: $client client → $target', ({client, signature, target, sent}) => {
    const {wire, dropped} = upstreamRequest(client, historyWith(client, signature), {type: target, account: ACCOUNT})
    const found = requestSignatures(target, wire, signature).map((s) => s.slice(s.indexOf(':') + 1))
    expect(found).toEqual(sent === undefined ? [] : [sent])
    expect(dropped.some((d) => d.endsWith("(another upstream's)"))).toBe(sent === undefined)
  })

  it('reads a tag back into its origin and raw signature', () => {
    expect(readSignature(`aic1.claude-custom.${ACCOUNT}.x.y`)).toEqual({
      raw: 'x.y',
      origin: {type: 'claude-custom', account: ACCOUNT},
    })
    expect(readSignature('plain')).toEqual({raw: 'plain'})
  })

  it('tells two instances apart without naming either', () => {
    expect(ACCOUNT).not.toBe(OTHER_ACCOUNT)
    expect(ACCOUNT).toMatch(/^[A-Za-z0-9_-]{10}$/)
    expect(ACCOUNT).not.toContain('instance')
  })
})

// ---- streams ----

function tagged(events: IRStreamEvent[], origin: SignatureOrigin, client: Protocol): IRStreamEvent[] {
  const decoder = tagStreamSignatures({push: () => events, end: () => []}, origin, client)
  return decoder.push(new Uint8Array())
}

const GEMINI = {type: 'gemini-cli-oauth', account: ACCOUNT}
const CLAUDE = {type: 'claude-custom', account: ACCOUNT}

describe('a streamed signature handed to a client of another protocol', () => {
  const callStream: IRStreamEvent[] = [
    {type: 'message_start'},
    {type: 'block_start', index: 0, kind: 'text'},
    {type: 'text_delta', index: 0, text: 'Listing.'},
    {type: 'block_stop', index: 0},
    {type: 'block_start', index: 1, kind: 'tool_call', id: 'c1', name: 'ls', signature: 'G1'},
    {type: 'tool_input_delta', index: 1, json: '{}'},
    {type: 'block_stop', index: 1},
    {type: 'message_end', stopReason: 'tool_use'},
  ]

  it.each<Protocol>(['anthropic', 'responses'])(
    "Gemini's function call signature → %s client: a thinking block of its own before the call",
    (client) => {
      expect(tagged(callStream, GEMINI, client)).toEqual([
        {type: 'message_start'},
        {type: 'block_start', index: 0, kind: 'text'},
        {type: 'text_delta', index: 0, text: 'Listing.'},
        {type: 'block_stop', index: 0},
        {type: 'block_start', index: 1, kind: 'thinking'},
        {type: 'signature_delta', index: 1, signature: tagSignature(GEMINI, 'G1')},
        {type: 'block_stop', index: 1},
        {type: 'block_start', index: 2, kind: 'tool_call', id: 'c1', name: 'ls'},
        {type: 'tool_input_delta', index: 2, json: '{}'},
        {type: 'block_stop', index: 2},
        {type: 'message_end', stopReason: 'tool_use'},
      ])
    },
  )

  it.each<Protocol>(['anthropic', 'responses'])(
    "Gemini's text signature → %s client: a thinking block of its own after the text",
    (client) => {
      const events: IRStreamEvent[] = [
        {type: 'message_start'},
        {type: 'block_start', index: 0, kind: 'text'},
        {type: 'text_delta', index: 0, text: 'Hel'},
        {type: 'signature_delta', index: 0, signature: 'G2'},
        {type: 'text_delta', index: 0, text: 'lo.'},
        {type: 'block_stop', index: 0},
        {type: 'block_start', index: 1, kind: 'text'},
        {type: 'block_stop', index: 1},
        {type: 'message_end', stopReason: 'end_turn'},
      ]
      expect(tagged(events, GEMINI, client)).toEqual([
        {type: 'message_start'},
        {type: 'block_start', index: 0, kind: 'text'},
        {type: 'text_delta', index: 0, text: 'Hel'},
        {type: 'text_delta', index: 0, text: 'lo.'},
        {type: 'block_stop', index: 0},
        {type: 'block_start', index: 1, kind: 'thinking'},
        {type: 'signature_delta', index: 1, signature: tagSignature(GEMINI, 'G2')},
        {type: 'block_stop', index: 1},
        {type: 'block_start', index: 2, kind: 'text'},
        {type: 'block_stop', index: 2},
        {type: 'message_end', stopReason: 'end_turn'},
      ])
    },
  )

  it.each<Protocol>(['responses', 'gemini'])(
    "Anthropic's signature split over deltas → %s client: tagged once, at its start",
    (client) => {
      const events: IRStreamEvent[] = [
        {type: 'block_start', index: 0, kind: 'thinking'},
        {type: 'thinking_delta', index: 0, text: 'Hmm.'},
        {type: 'signature_delta', index: 0, signature: 'Eq'},
        {type: 'signature_delta', index: 0, signature: 'QB'},
        {type: 'block_stop', index: 0},
      ]
      const out = tagged(events, CLAUDE, client)
      const signature = out.flatMap((e) => (e.type === 'signature_delta' ? [e.signature] : [])).join('')
      expect(signature).toBe(tagSignature(CLAUDE, 'EqQB'))
      expect(out.filter((e) => e.type === 'block_start')).toHaveLength(1)
    },
  )
})
