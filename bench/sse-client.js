#!/usr/bin/env node
// Streaming load client: wrk counts whole responses, this one looks inside them. Each worker runs streams
// back to back on its own keep-alive connection and records the time to the first content token, the gaps
// between reads that carry tokens, and whether every token arrived once and in order. Prints one JSON line.
//
// It speaks HTTP/1.1 on a bare socket and scans bytes: at 1,000 streams it shares a core with nginx, and
// an HTTP client library (undici: ~30 µs a read here) would become the bottleneck it is meant to measure.
//
// node bench/sse-client.js --url URL --body-file FILE --protocol openai|anthropic --expect 200
//   [--concurrency 1] [--duration 3 | --streams 1] [--stall-ms 50] [--timeout 60] [--ramp-ms 0] [--judge-first]
//
// --ramp-ms spreads the workers' starts (a thousand connects in one instant overflow a default listen
// backlog); --judge-first counts a first stream's TTFT as a stall when it is over --stall-ms too.
import {readFileSync} from 'node:fs'
import {connect} from 'node:net'
import {performance} from 'node:perf_hooks'
import {parseArgs} from 'node:util'

const {values} = parseArgs({
  options: {
    url: {type: 'string'},
    'body-file': {type: 'string'},
    protocol: {type: 'string', default: 'openai'},
    expect: {type: 'string', default: '200'},
    concurrency: {type: 'string', default: '1'},
    duration: {type: 'string'},
    streams: {type: 'string'},
    'stall-ms': {type: 'string', default: '50'},
    timeout: {type: 'string', default: '60'},
    'ramp-ms': {type: 'string', default: '0'},
    'judge-first': {type: 'boolean', default: false},
  },
})

const url = new URL(values.url)
const body = readFileSync(values['body-file'])
const request = Buffer.concat([
  Buffer.from(
    `POST ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: ${body.length}\r\n\r\n`,
  ),
  body,
])
const expect = Number(values.expect)
const concurrency = Number(values.concurrency)
const stallMs = Number(values['stall-ms'])
const rampMs = Number(values['ramp-ms'])
const judgeFirst = values['judge-first']
const timeoutMs = Number(values.timeout) * 1000
// The stream's last event tells a complete stream from one cut short after its last token.
const terminator = values.protocol === 'anthropic' ? 'message_stop' : '[DONE]'
const TOK = Buffer.from('tok')
const CRLF2 = Buffer.from('\r\n\r\n')

class Samples {
  constructor() {
    this.data = new Float64Array(1024)
    this.n = 0
  }
  push(v) {
    if (this.n === this.data.length) {
      const next = new Float64Array(this.data.length * 2)
      next.set(this.data)
      this.data = next
    }
    this.data[this.n++] = v
  }
  summary() {
    const sorted = this.data.slice(0, this.n).sort()
    const at = (q) => (this.n === 0 ? null : sorted[Math.min(this.n - 1, Math.floor(q * this.n))])
    return {n: this.n, p50: at(0.5), p99: at(0.99), max: this.n === 0 ? null : sorted[this.n - 1]}
  }
}

const totals = {
  streams: 0,
  ok: 0,
  errors: 0,
  dropped: 0,
  reordered: 0,
  duplicated: 0,
  truncated: 0,
  stalls: 0,
  events: 0,
  bytes: 0,
}
const errorSamples = new Set()
const ttft = new Samples()
const firstTtft = new Samples()
const gaps = new Samples()

function noteError(message) {
  totals.errors++
  if (errorSamples.size < 5) errorSamples.add(message)
}

/** One stream's bookkeeping: token order, timing, and the tail for the terminator check. */
class StreamCheck {
  constructor(isFirst) {
    this.isFirst = isFirst
    this.started = performance.now()
    this.lastAt = this.started
    this.next = 0
    this.carry = null
    this.previous = null
    this.latest = null
    this.stalled = false
  }

  data(piece, now) {
    const buf = this.carry === null ? piece : Buffer.concat([this.carry, piece])
    this.carry = null
    let found = 0
    for (let pos = buf.indexOf(TOK); pos !== -1;) {
      let n = 0
      let i = pos + 3
      for (; i < buf.length && buf[i] >= 48 && buf[i] <= 57; i++) n = n * 10 + buf[i] - 48
      if (i === buf.length) {
        // A token split across two reads is counted when the rest arrives.
        this.carry = buf.subarray(pos)
        break
      }
      if (buf[i] === 32 && i > pos + 3) {
        if (n === this.next) this.next++
        else if (n > this.next) {
          totals.dropped += n - this.next
          this.next = n + 1
        } else if (n === this.next - 1) totals.duplicated++
        else totals.reordered++
        found++
      }
      pos = buf.indexOf(TOK, i)
    }
    const end = buf.length
    if (this.carry === null && buf[end - 1] === 116) this.carry = buf.subarray(end - 1)
    else if (this.carry === null && end > 1 && buf[end - 2] === 116 && buf[end - 1] === 111)
      this.carry = buf.subarray(end - 2)
    this.previous = this.latest
    this.latest = piece
    if (found === 0) return
    totals.events += found
    if (this.lastAt === this.started) {
      const t = now - this.started
      ;(this.isFirst ? firstTtft : ttft).push(t)
      // A first stream also waits for its connection; its TTFT is kept apart, and judged only when asked.
      if (t > stallMs && (!this.isFirst || judgeFirst)) this.stalled = true
    } else {
      const gap = now - this.lastAt
      gaps.push(gap)
      if (gap > stallMs) this.stalled = true
    }
    this.lastAt = now
  }

  end() {
    totals.streams++
    const tail =
      this.latest === null
        ? Buffer.alloc(0)
        : this.previous === null
          ? this.latest
          : Buffer.concat([this.previous, this.latest])
    const complete = tail.includes(terminator)
    if (this.next < expect) totals.dropped += expect - this.next
    if (!complete) totals.truncated++
    if (this.stalled) totals.stalls++
    if (this.next >= expect && complete) totals.ok++
  }
}

/**
 * A keep-alive connection running one request at a time. Parses the status line, Content-Length or
 * chunked framing, and hands the body bytes to the StreamCheck.
 */
class Connection {
  constructor() {
    this.socket = null
    this.pending = null
  }

  open() {
    return new Promise((resolve, reject) => {
      const socket = connect({host: url.hostname, port: Number(url.port || 80), noDelay: true})
      socket.once('connect', () => {
        this.socket = socket
        resolve()
      })
      socket.once('error', (error) => {
        if (this.socket !== socket) reject(error)
        else this.fail(`socket: ${error.message}`)
      })
      socket.on('close', () => {
        if (this.socket === socket) this.socket = null
        this.fail('connection closed mid-response')
      })
      socket.on('data', (chunk) => this.onData(chunk))
    })
  }

  async stream(isFirst) {
    if (this.socket === null) {
      try {
        await this.open()
      } catch (error) {
        totals.streams++
        noteError(`connect: ${error.message}`)
        return
      }
    }
    await new Promise((resolve) => {
      this.pending = {
        check: new StreamCheck(isFirst),
        resolve,
        head: null,
        status: 0,
        length: -1,
        chunked: false,
        size: -1,
        sizeLine: '',
        crlf: 0,
        errorBody: '',
      }
      this.socket.write(request)
    })
  }

  finish(error) {
    const p = this.pending
    if (!p) return
    this.pending = null
    if (error) {
      totals.streams++
      noteError(error)
    } else if (p.status !== 200) {
      totals.streams++
      noteError(`HTTP ${p.status}: ${p.errorBody.slice(0, 200)}`)
    } else p.check.end()
    p.resolve()
  }

  fail(message) {
    if (this.pending) this.finish(message)
  }

  onData(chunk) {
    const now = performance.now()
    totals.bytes += chunk.length
    const p = this.pending
    if (!p) return
    let buf = chunk
    if (p.status === 0) {
      p.head = p.head === null ? buf : Buffer.concat([p.head, buf])
      const end = p.head.indexOf(CRLF2)
      if (end === -1) return
      const head = p.head.toString('latin1', 0, end)
      buf = p.head.subarray(end + 4)
      p.head = null
      p.status = Number(head.slice(9, 12))
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)
      p.chunked = /\r\ntransfer-encoding:\s*chunked/i.test(head)
      p.length = length ? Number(length[1]) : -1
      if (!p.chunked && p.length < 0) p.length = Infinity
      if (/\r\nconnection:\s*close/i.test(head)) p.close = true
    }
    if (p.chunked) this.chunked(p, buf, now)
    else {
      const piece = buf.subarray(0, p.length)
      p.length -= piece.length
      this.body(p, piece, now)
      if (p.length === 0) this.done(p)
    }
  }

  body(p, piece, now) {
    if (piece.length === 0) return
    if (p.status === 200) p.check.data(piece, now)
    else if (p.errorBody.length < 300) p.errorBody += piece.toString('utf8')
  }

  // Chunked framing: "<hex size>\r\n<data>\r\n", ending with a zero size line and an empty line.
  chunked(p, buf, now) {
    let i = 0
    while (i < buf.length && this.pending === p) {
      if (p.size === -1) {
        const nl = buf.indexOf(10, i)
        if (nl === -1) {
          p.sizeLine += buf.toString('latin1', i)
          return
        }
        p.sizeLine += buf.toString('latin1', i, nl)
        i = nl + 1
        p.size = parseInt(p.sizeLine, 16)
        p.sizeLine = ''
        if (p.size === 0) p.crlf = 2
        else if (!Number.isFinite(p.size)) return this.finish('bad chunk size')
      } else if (p.size > 0) {
        const take = Math.min(p.size, buf.length - i)
        this.body(p, buf.subarray(i, i + take), now)
        p.size -= take
        i += take
        if (p.size === 0) p.crlf = 1
      } else {
        // After a data chunk: skip its CRLF; after the last chunk: skip (empty) trailers up to the blank line.
        const nl = buf.indexOf(10, i)
        if (nl === -1) return
        i = nl + 1
        if (p.crlf === 1) {
          p.size = -1
        } else if (p.crlf === 2) {
          p.crlf = 0
          p.size = -1
          this.done(p)
        }
      }
    }
  }

  done(p) {
    const close = p.close
    this.finish()
    if (close && this.socket) {
      this.socket.destroy()
      this.socket = null
    }
  }

  close() {
    this.socket?.destroy()
  }
}

async function worker(endAt, count, delayMs) {
  if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs))
  const connection = new Connection()
  let first = true
  for (let i = 0; count === undefined ? performance.now() < endAt : i < count; i++) {
    await connection.stream(first)
    first = false
  }
  connection.close()
}

const started = performance.now()
const endAt = values.duration ? started + Number(values.duration) * 1000 : Infinity
const count = values.streams ? Number(values.streams) : values.duration ? undefined : 1
const watchdog = setTimeout(
  () => {
    process.stdout.write(JSON.stringify({error: 'timeout', ...totals, errorSamples: [...errorSamples]}) + '\n')
    process.exit(1)
  },
  timeoutMs + Number(values.duration ?? 0) * 1000,
)
await Promise.all(Array.from({length: concurrency}, (_, i) => worker(endAt, count, (i * rampMs) / concurrency)))
clearTimeout(watchdog)
const elapsedS = (performance.now() - started) / 1000
const result = {
  ...totals,
  elapsedS,
  streamsPerS: totals.ok / elapsedS,
  ttft: ttft.n > 0 ? ttft.summary() : firstTtft.summary(),
  firstTtft: firstTtft.summary(),
  gap: gaps.summary(),
  errorSamples: [...errorSamples],
}
process.stdout.write(JSON.stringify(result) + '\n')
