#!/usr/bin/env node
// The Node ceiling for the bench: the least a proxy can do on node:http + undici. One Pool to the upstream,
// the request and response bodies passed as bytes with backpressure, no parsing, no logging, no state.
// Usage: node bench/bare-pipe.js --upstream http://127.0.0.1:8080 [--port 0] [--connections N] [--mode read|stream]
import {once} from 'node:events'
import {createServer} from 'node:http'
import {parseArgs} from 'node:util'
import {Pool} from 'undici'

const {values} = parseArgs({
  options: {
    upstream: {type: 'string'},
    port: {type: 'string', default: '0'},
    connections: {type: 'string', default: '0'},
    mode: {type: 'string', default: 'read'},
  },
})
if (!values.upstream) {
  console.error('usage: bare-pipe.js --upstream URL [--port N] [--connections N]')
  process.exit(2)
}

// No connection cap by default (0): the ceiling should not queue where a tuned proxy would not.
const connections = Number(values.connections) || null
const pool = new Pool(values.upstream, {
  connections,
  pipelining: 1,
  keepAliveTimeout: 4_000,
  headersTimeout: 60_000,
  bodyTimeout: 120_000,
})

const FORWARDED = ['content-type', 'content-length', 'accept']

function onResponse({statusCode, headers, opaque: res}) {
  const out = {'content-type': headers['content-type'] ?? 'application/octet-stream'}
  if (headers['content-length'] !== undefined) out['content-length'] = headers['content-length']
  res.writeHead(statusCode, out)
  return res
}

function forwardHeaders(req) {
  const headers = {}
  for (const name of FORWARDED) if (req.headers[name] !== undefined) headers[name] = req.headers[name]
  return headers
}

function onError(res, error) {
  if (!res.headersSent) {
    res.writeHead(502, {'content-type': 'text/plain'})
    res.end(`bare pipe: ${error.message}\n`)
  } else res.destroy()
}

// stream(): undici writes each parsed body piece into res, one socket write per upstream chunk (an SSE
// event from a chunked upstream).
function viaStream(req, res, signal) {
  pool.stream(
    {path: req.url, method: req.method, headers: forwardHeaders(req), body: req, opaque: res, signal},
    onResponse,
    (error) => {
      if (error) onError(res, error)
    },
  )
}

// request() and reading the body: what one socket read brought arrives as one buffer, so one write per
// upstream read; write() honours backpressure. The request body is read whole first, as any LLM proxy does
// (it routes on it), and goes upstream as one Buffer, undici's cheapest body.
async function viaRead(req, res) {
  let body
  try {
    const chunks = []
    for await (const chunk of req) chunks.push(chunk)
    const {
      statusCode,
      headers,
      body: upstream,
    } = await pool.request({
      path: req.url,
      method: req.method,
      headers: forwardHeaders(req),
      body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks),
    })
    body = upstream
    // A client that goes away ends the upstream request too; a listener costs less than an AbortSignal.
    res.once('close', () => {
      if (!res.writableFinished) body.destroy()
    })
    onResponse({statusCode, headers, opaque: res})
    for await (const chunk of body) {
      if (!res.write(chunk)) await once(res, 'drain')
    }
    res.end()
  } catch (error) {
    body?.destroy()
    onError(res, error)
  }
}

const server = createServer({keepAliveTimeout: 65_000, requestTimeout: 0}, (req, res) => {
  if (values.mode !== 'stream') return void viaRead(req, res)
  const abort = new AbortController()
  res.once('close', () => {
    if (!res.writableFinished) abort.abort()
  })
  viaStream(req, res, abort.signal)
})

server.listen(Number(values.port), '127.0.0.1', () => {
  console.log(`bare pipe listening on http://127.0.0.1:${server.address().port} -> ${values.upstream}`)
})

const shutdown = () => {
  server.close()
  server.closeAllConnections()
  pool.destroy().finally(() => process.exit(0))
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
