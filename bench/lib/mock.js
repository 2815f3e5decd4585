// The mock upstream: canned OpenAI/Anthropic bodies and an nginx config that serves them. nginx keeps the
// upstream's cost (~15 µs a request) off every Node event loop under test, so the figures are the proxy's.
export const PACE_MS = 5
// The concurrency sweep runs at an LLM's pace (50 tokens/s): at 5 ms, 1,000 streams would be 200k events/s,
// more than nginx and the client can produce on their one core, and the sweep would measure them.
export const SWEEP_PACE_MS = 20
export const SSE_EVENTS = 200
// Enough paced events for a valid stream, few enough that a c=1 TTFT run collects dozens of samples.
export const TTFT_EVENTS = 5

// The upstream cannot see which route a proxy chose, so the model name in the body picks the canned reply:
// every system under test forwards the same body, and one aiclient process serves every scenario.
export const MODELS = {
  json: 'bench-json',
  sse: 'bench-sse',
  paced: 'bench-paced',
  ttft: 'bench-ttft',
  sweep: 'bench-sweep',
}

const CREATED = 1767225600
const TOKEN = (i) => `tok${i} `

export const openaiJson = JSON.stringify({
  id: 'chatcmpl-bench0001',
  object: 'chat.completion',
  created: CREATED,
  model: 'gpt-bench',
  choices: [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: 'Hello! This is a canned reply from the benchmark upstream, a little longer than a greeting.',
        refusal: null,
      },
      logprobs: null,
      finish_reason: 'stop',
    },
  ],
  usage: {
    prompt_tokens: 12,
    completion_tokens: 20,
    total_tokens: 32,
    prompt_tokens_details: {cached_tokens: 0},
    completion_tokens_details: {reasoning_tokens: 0},
  },
  system_fingerprint: 'fp_bench',
})

export const anthropicJson = JSON.stringify({
  id: 'msg_bench0001',
  type: 'message',
  role: 'assistant',
  model: 'claude-bench',
  content: [
    {type: 'text', text: 'Hello! This is a canned reply from the benchmark upstream, a little longer than a greeting.'},
  ],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: {input_tokens: 12, output_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 0},
})

const openaiChunk = (delta, finish) =>
  `data: ${JSON.stringify({
    id: 'chatcmpl-bench0001',
    object: 'chat.completion.chunk',
    created: CREATED,
    model: 'gpt-bench',
    choices: [{index: 0, delta, finish_reason: finish}],
  })}\n\n`

/** OpenAI stream: `count` content deltas (the first also carries the role), a finish chunk, `[DONE]`. */
export function openaiEvents(count) {
  const events = []
  for (let i = 0; i < count; i++)
    events.push(openaiChunk(i === 0 ? {role: 'assistant', content: TOKEN(i)} : {content: TOKEN(i)}, null))
  events.push(openaiChunk({}, 'stop'))
  events.push('data: [DONE]\n\n')
  return events
}

const anthropicEvent = (type, payload) => `event: ${type}\ndata: ${JSON.stringify({type, ...payload})}\n\n`

/** Anthropic stream: message_start, a text block of `count` deltas, message_delta, message_stop. */
export function anthropicEvents(count) {
  const events = [
    anthropicEvent('message_start', {
      message: {
        id: 'msg_bench0001',
        type: 'message',
        role: 'assistant',
        model: 'claude-bench',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {input_tokens: 12, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0},
      },
    }),
    anthropicEvent('content_block_start', {index: 0, content_block: {type: 'text', text: ''}}),
  ]
  for (let i = 0; i < count; i++)
    events.push(anthropicEvent('content_block_delta', {index: 0, delta: {type: 'text_delta', text: TOKEN(i)}}))
  events.push(anthropicEvent('content_block_stop', {index: 0}))
  events.push(
    anthropicEvent('message_delta', {
      delta: {stop_reason: 'end_turn', stop_sequence: null},
      usage: {output_tokens: count},
    }),
  )
  events.push(anthropicEvent('message_stop', {}))
  return events
}

const RESPONSE_ID = 'resp_bench0001'
const ITEM_ID = 'msg_bench0001'
const responsesEvent = (type, payload, sequence) =>
  `event: ${type}\ndata: ${JSON.stringify({type, ...payload, sequence_number: sequence})}\n\n`

function responseObject(status, output, usage) {
  return {
    id: RESPONSE_ID,
    object: 'response',
    created_at: CREATED,
    status,
    error: null,
    incomplete_details: null,
    model: 'gpt-bench',
    output,
    parallel_tool_calls: true,
    store: false,
    tool_choice: 'auto',
    tools: [],
    usage,
  }
}

const messageItem = (status, text) => ({
  id: ITEM_ID,
  type: 'message',
  status,
  role: 'assistant',
  content: text === null ? [] : [{type: 'output_text', text, annotations: []}],
})

/**
 * Responses stream, the grammar of OpenAI's Responses API: created, in_progress, one message item whose text
 * arrives in `count` output_text deltas, the done events (which repeat the text, as the real API's do), completed.
 */
export function responsesEvents(count) {
  let sequence = 0
  const event = (type, payload) => responsesEvent(type, payload, sequence++)
  const at = {item_id: ITEM_ID, output_index: 0, content_index: 0}
  const text = Array.from({length: count}, (_, i) => TOKEN(i)).join('')
  const part = {type: 'output_text', text, annotations: []}
  const usage = {
    input_tokens: 12,
    input_tokens_details: {cached_tokens: 0},
    output_tokens: count,
    output_tokens_details: {reasoning_tokens: 0},
    total_tokens: 12 + count,
  }
  const events = [
    event('response.created', {response: responseObject('in_progress', [], null)}),
    event('response.in_progress', {response: responseObject('in_progress', [], null)}),
    event('response.output_item.added', {output_index: 0, item: messageItem('in_progress', null)}),
    event('response.content_part.added', {...at, part: {...part, text: ''}}),
  ]
  for (let i = 0; i < count; i++) events.push(event('response.output_text.delta', {...at, delta: TOKEN(i)}))
  events.push(event('response.output_text.done', {...at, text}))
  events.push(event('response.content_part.done', {...at, part}))
  events.push(event('response.output_item.done', {output_index: 0, item: messageItem('completed', text)}))
  events.push(
    event('response.completed', {response: responseObject('completed', [messageItem('completed', text)], usage)}),
  )
  return events
}

export const responsesJson = JSON.stringify(
  responseObject(
    'completed',
    [
      messageItem(
        'completed',
        'Hello! This is a canned reply from the benchmark upstream, a little longer than a greeting.',
      ),
    ],
    {
      input_tokens: 12,
      input_tokens_details: {cached_tokens: 0},
      output_tokens: 20,
      output_tokens_details: {reasoning_tokens: 0},
      total_tokens: 32,
    },
  ),
)

/** Request bodies as clients send them; `model` decides which canned reply comes back. */
export function openaiRequest(kind) {
  const body = {
    model: MODELS[kind],
    messages: [{role: 'user', content: 'Say hello in one short sentence.'}],
    max_tokens: 64,
  }
  if (kind !== 'json') body.stream = true
  return JSON.stringify(body)
}

export function anthropicRequest(kind) {
  const body = {
    model: MODELS[kind],
    max_tokens: 64,
    messages: [{role: 'user', content: 'Say hello in one short sentence.'}],
  }
  if (kind !== 'json') body.stream = true
  return JSON.stringify(body)
}

export function responsesRequest(kind) {
  const body = {model: MODELS[kind], input: 'Say hello in one short sentence.', max_output_tokens: 64, store: false}
  if (kind !== 'json') body.stream = true
  return JSON.stringify(body)
}

/** Protocols the mock answers, with the client body of each. */
export const REQUESTS = {openai: openaiRequest, anthropic: anthropicRequest, responses: responsesRequest}

// nginx's quoted strings take \n escapes; the canned texts hold no quote, backslash or `$` that would need more.
function quote(text) {
  if (/['\\$]/.test(text)) throw new Error(`canned text cannot be quoted for nginx: ${text.slice(0, 40)}`)
  return `'${text.replaceAll('\n', '\\n')}'`
}

function echoStream(events, paceMs) {
  const lines = events.map((event, i) => {
    const last = i === events.length - 1
    return paceMs && !last
      ? `      echo -n ${quote(event)}; echo_flush; echo_sleep ${paceMs / 1000};`
      : `      echo -n ${quote(event)};`
  })
  return lines.join('\n')
}

export const ECHO_MODULE = '/usr/lib/nginx/modules/ngx_http_echo_module.so'

/**
 * One worker, no access log, keep-alive without limit. POST to a static file is a 405 in nginx, so the
 * canned replies come from `return` (JSON) and the echo module (SSE); the request body is read first so
 * that a map over it can pick the reply, the same for direct, bare-pipe and aiclient traffic.
 */
export function nginxConfig({dir, port}) {
  const streams = {
    openai: {sse: openaiEvents(SSE_EVENTS), ttft: openaiEvents(TTFT_EVENTS)},
    anthropic: {sse: anthropicEvents(SSE_EVENTS), ttft: anthropicEvents(TTFT_EVENTS)},
    responses: {sse: responsesEvents(SSE_EVENTS), ttft: responsesEvents(TTFT_EVENTS)},
  }
  const canned = {openai: openaiJson, anthropic: anthropicJson, responses: responsesJson}
  const locations = []
  for (const [protocol, json] of Object.entries(canned)) {
    locations.push(
      `    location = /r/json/${protocol} { internal; default_type application/json; return 200 ${quote(json)}; }`,
    )
    for (const [kind, events, paceMs] of [
      ['sse', streams[protocol].sse, 0],
      ['paced', streams[protocol].sse, PACE_MS],
      ['ttft', streams[protocol].ttft, PACE_MS],
      ['sweep', streams[protocol].sse, SWEEP_PACE_MS],
    ]) {
      locations.push(
        `    location = /r/${kind}/${protocol} {\n      internal;\n      default_type text/event-stream;\n${echoStream(events, paceMs)}\n    }`,
      )
    }
  }
  return `# generated by bench/lib/mock.js
load_module ${ECHO_MODULE};
worker_processes 1;
worker_rlimit_nofile 65536;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events {
  worker_connections 16384;
  multi_accept on;
}
http {
  access_log off;
  server_tokens off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  client_body_buffer_size 64k;
  client_body_in_single_buffer on;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  tcp_nodelay on;
  map $request_body $bench_kind {
    ~${MODELS.sse} sse;
    ~${MODELS.paced} paced;
    ~${MODELS.ttft} ttft;
    ~${MODELS.sweep} sweep;
    default json;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location = /v1/chat/completions { echo_read_request_body; echo_exec /r/$bench_kind/openai; }
    location = /v1/messages { echo_read_request_body; echo_exec /r/$bench_kind/anthropic; }
    location = /v1/responses { echo_read_request_body; echo_exec /r/$bench_kind/responses; }
${locations.join('\n')}
  }
}
`
}
