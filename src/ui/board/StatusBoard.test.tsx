import {render} from 'ink-testing-library'
import {describe, expect, it} from 'vitest'
import type {RequestRecord} from '../../core/proxy/types.js'
import type {BoardData, InstanceRowData} from './model.js'
import {StatusBoard} from './StatusBoard.js'

const plain = (frame: string | undefined) => (frame ?? '').replace(/\u001B\[[0-9;]*m/g, '')
const NOW = Date.parse('2026-11-27T12:00:00Z')

function row(overrides: Partial<InstanceRowData>): InstanceRowData {
  return {
    id: `openai-custom/${overrides.name ?? 'x'}`,
    type: 'openai-custom',
    name: 'x',
    state: 'healthy',
    stateText: 'healthy',
    inFlight: 0,
    sessions: 0,
    concurrencyLimit: 0,
    priority: 0,
    weight: 1,
    strategy: 'round-robin',
    requests: 0,
    errors: 0,
    tokens: 0,
    tokensPerSecond: 0,
    errorRate: null,
    p50Ms: null,
    lastUsed: null,
    token: null,
    quota: null,
    ...overrides,
  }
}

function data(rows: InstanceRowData[], recent: RequestRecord[] = []): BoardData {
  return {
    url: 'http://127.0.0.1:3000',
    startedAt: NOW - 3_725_000,
    now: NOW,
    requestsPerSecond: 12.4,
    tokensPerSecond: 0,
    total: 1234,
    failed: 5,
    rows,
    recent,
    message: null,
  }
}

const record = (i: number): RequestRecord => ({
  time: NOW - 1000 * i,
  route: '/v1/chat/completions',
  protocol: 'openai',
  type: 'claude-custom',
  instance: 'work',
  model: 'claude-sonnet-4-6',
  status: i === 0 ? 502 : 200,
  ms: 40 + i,
  attempts: 1,
  stream: i % 2 === 0,
})

/** The board, plain, with one instance and one recent request, wide enough for the whole request line */
const recentLine = (request: RequestRecord) =>
  plain(
    render(
      <StatusBoard
        data={data([row({})], [request])}
        width={120}
        height={30}
        selected={null}
        filter={null}
        help={false}
      />,
    ).lastFrame(),
  )

describe('StatusBoard', () => {
  it('shows the header, states as words with symbols, counters and the recent requests', () => {
    const rows = [
      row({
        name: 'work',
        requests: 120,
        errors: 3,
        errorRate: 3 / 123,
        p50Ms: 412,
        lastUsed: new Date(NOW - 5000).toISOString(),
        inFlight: 2,
      }),
      row({name: 'spare', state: 'cooling', stateText: 'cooling 12s'}),
      row({name: 'dead', state: 'unhealthy', stateText: 'unhealthy: auth'}),
      row({name: 'off', state: 'disabled', stateText: 'disabled'}),
      row({id: 'claude-custom/c', type: 'claude-custom', name: 'claude', token: 'in 54m'}),
    ]
    const frame = plain(
      render(
        <StatusBoard
          data={data(rows, [record(1), record(0)])}
          width={100}
          height={30}
          selected="openai-custom/work"
          filter={null}
          help={false}
        />,
      ).lastFrame(),
    )
    expect(frame).toMatch(/aiclient http:\/\/127\.0\.0\.1:3000 {2}up 1h02m {2}12\.4 req\/s {2}total 1234 {2}errors 5/)
    expect(frame).toMatch(/openai-custom \(1\/4 healthy\)/)
    expect(frame).toMatch(/› work\s+● healthy\s+2\s+120\s+3\s+2%\s+412ms\s+5s ago/)
    expect(frame).toMatch(/spare\s+◐ cooling 12s/)
    expect(frame).toMatch(/dead\s+✖ unhealthy: auth/)
    expect(frame).toMatch(/off\s+○ disabled/)
    expect(frame).toMatch(/claude-custom \(1\/1 healthy\)\n\s+claude\s+● healthy.*in 54m/)
    expect(frame).toMatch(
      /11:59:59 openai → claude-custom\/work claude-sonnet-4-6 200 41ms\n12:00:00 openai → claude-custom\/work claude-sonnet-4-6 502 40ms stream/,
    )
    expect(frame).toMatch(/↑↓ select {2}d disable\/enable {2}c check {2}r reset {2}f filter: all {2}\? help {2}q quit/)
  })

  it('shows both model names of a request an alias renamed', () => {
    const renamed = {...record(1), model: 'claude-opus-5-5', upstreamModel: 'claude-opus-4-8'}
    const frame = recentLine(renamed)
    expect(frame).toContain('claude-custom/work claude-opus-5-5→claude-opus-4-8 200')
  })

  it('shows the requested type before the one that served a request by a fallback', () => {
    const fallback = {
      ...record(1),
      type: 'claude-custom' as const,
      fallbackFrom: 'claude-kiro-oauth' as const,
      instance: 'team',
    }
    const frame = recentLine(fallback)
    expect(frame).toContain('openai → claude-kiro-oauth→claude-custom/team claude-sonnet-4-6 200')
  })

  it('fits 80×24: every line within 80 columns, fewer than 24 lines, long names truncated', () => {
    const rows = Array.from({length: 40}, (_, i) =>
      row({id: `openai-custom/${i}`, name: `a-very-long-instance-name-number-${i}`, requests: 123456, p50Ms: 99999}),
    )
    const recent = Array.from({length: 50}, (_, i) => ({
      ...record(i),
      model: 'a-model-name-that-goes-on-and-on-and-on-and-on-and-on-forever',
    }))
    const frame = plain(
      render(
        <StatusBoard
          data={data(rows, recent)}
          width={80}
          height={24}
          selected="openai-custom/39"
          filter={null}
          help={false}
        />,
      ).lastFrame(),
    )
    const lines = frame.split('\n')
    expect(lines.length).toBeLessThan(24)
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80)
    expect(frame).toContain('a-very-long-in…')
    expect(frame).toContain('100.0s')
    // The selected instance scrolls into view.
    expect(frame).toMatch(/› a-very-long-in…/)
    expect(frame).not.toMatch(/number-0 /)
  })

  it('shows priority, weight and a strategy other than round-robin once routing is configured, within 80 columns', () => {
    const plainFrame = plain(
      render(
        <StatusBoard
          data={data([row({name: 'one'})])}
          width={80}
          height={24}
          selected={null}
          filter={null}
          help={false}
        />,
      ).lastFrame(),
    )
    expect(plainFrame).toMatch(/NAME\s+STATE\s+INFL\s+REQS/)
    expect(plainFrame).toMatch(/openai-custom \(1\/1 healthy\)\n/)
    const rows = [
      row({name: 'main', priority: 10, weight: 3, inFlight: 2, requests: 7, strategy: 'weighted'}),
      row({name: 'backup', priority: -1, weight: 0, strategy: 'weighted'}),
      row({id: 'claude-custom/c', type: 'claude-custom', name: 'claude'}),
    ]
    const frame = plain(
      render(
        <StatusBoard data={data(rows)} width={80} height={24} selected={null} filter={null} help={false} />,
      ).lastFrame(),
    )
    expect(frame).toMatch(/NAME\s+STATE\s+INFL\s+PRI\s+WT\s+REQS/)
    expect(frame).toMatch(/openai-custom \(2\/2 healthy\) {2}weighted/)
    expect(frame).toMatch(/main\s+● healthy\s+2\s+10\s+3\s+7\s/)
    expect(frame).toMatch(/backup\s+● healthy\s+0\s+-1\s+0\s+0\s/)
    expect(frame).toMatch(/claude\s+● healthy\s+0\s+0\s+1\s+0\s/)
    for (const line of frame.split('\n')) expect(line.length).toBeLessThanOrEqual(80)
  })

  it('shows the sessions bound to each instance while some instance has any', () => {
    const rows = [row({name: 'bound', sessions: 12, requests: 30}), row({name: 'free', requests: 4})]
    const frame = plain(
      render(
        <StatusBoard data={data(rows)} width={80} height={24} selected={null} filter={null} help={false} />,
      ).lastFrame(),
    )
    expect(frame).toMatch(/NAME\s+STATE\s+INFL\s+SESS\s+REQS/)
    expect(frame).toMatch(/bound\s+● healthy\s+0\s+12\s+30\s/)
    expect(frame).toMatch(/free\s+● healthy\s+0\s+0\s+4\s/)
    for (const line of frame.split('\n')) expect(line.length).toBeLessThanOrEqual(80)
  })

  it('shows the requests in flight against the concurrency limit where an instance has one', () => {
    const rows = [
      row({name: 'capped', inFlight: 3, concurrencyLimit: 4, requests: 9}),
      row({name: 'open', inFlight: 2}),
    ]
    const frame = plain(
      render(
        <StatusBoard data={data(rows)} width={80} height={24} selected={null} filter={null} help={false} />,
      ).lastFrame(),
    )
    expect(frame).toMatch(/capped\s+● healthy\s+3\/4\s+9\s/)
    expect(frame).toMatch(/open\s+● healthy\s+2\s+0\s/)
  })

  it('filters by type and shows the help', () => {
    const rows = [row({name: 'one'}), row({id: 'claude-custom/two', type: 'claude-custom', name: 'two'})]
    const filtered = plain(
      render(
        <StatusBoard data={data(rows)} width={80} height={24} selected={null} filter="claude-custom" help={false} />,
      ).lastFrame(),
    )
    expect(filtered).toContain('two')
    expect(filtered).not.toMatch(/\bone\b/)
    expect(filtered).toContain('f filter: claude-custom')
    const help = plain(
      render(<StatusBoard data={data(rows)} width={80} height={24} selected={null} filter={null} help />).lastFrame(),
    )
    expect(help).toMatch(/d\s+disable or enable the selected instance/)
    expect(help).toMatch(/q, Ctrl-C\s+quit/)
  })

  it('shows tokens and tokens per second per instance, and the overall rate, once some instance has used tokens', () => {
    const quiet = plain(
      render(
        <StatusBoard
          data={data([row({name: 'one'})])}
          width={100}
          height={24}
          selected={null}
          filter={null}
          help={false}
        />,
      ).lastFrame(),
    )
    expect(quiet).not.toContain('TOKENS')
    expect(quiet).not.toContain('tok/s')
    const rows = [
      row({name: 'busy', requests: 40, tokens: 1_234_567, tokensPerSecond: 1520.4}),
      row({name: 'idle', requests: 2, tokens: 950}),
    ]
    const frame = plain(
      render(
        <StatusBoard
          data={{...data(rows), tokensPerSecond: 1520.4}}
          width={100}
          height={24}
          selected={null}
          filter={null}
          help={false}
        />,
      ).lastFrame(),
    )
    expect(frame).toMatch(/12\.4 req\/s {2}1\.5k tok\/s {2}total 1234/)
    expect(frame).toMatch(/NAME\s+STATE\s+INFL\s+REQS\s+ERRS\s+ERR%\s+TOKENS\s+TOK\/S\s+P50\s+LAST\s+TOKEN/)
    expect(frame).toMatch(/busy\s+● healthy\s+0\s+40\s+0\s+-\s+1\.2M\s+1\.5k\s+-\s+-\s+-/)
    expect(frame).toMatch(/idle\s+● healthy\s+0\s+2\s+0\s+-\s+950\s+0\s+-/)
    for (const line of frame.split('\n')) expect(line.length).toBeLessThanOrEqual(100)
  })

  it('shows what is left of a quota and when it refills, once some vendor reported one', () => {
    const quota = (remainingPercent: number, resetInMs: number) => ({
      remainingPercent,
      resetAt: new Date(NOW + resetInMs).toISOString(),
      exhausted: remainingPercent === 0,
      source: 'rate-limit-headers' as const,
      checkedAt: new Date(NOW).toISOString(),
    })
    const board = (rows: InstanceRowData[]) =>
      plain(
        render(
          <StatusBoard data={data(rows)} width={120} height={24} selected={null} filter={null} help={false} />,
        ).lastFrame(),
      )
    expect(board([row({name: 'plain'})])).not.toContain('QUOTA')
    const frame = board([
      row({name: 'kiro', quota: quota(62, (3 * 60 + 12) * 60_000)}),
      row({name: 'spent', state: 'cooling', stateText: 'cooling 11520s', quota: quota(0, 192 * 60_000)}),
      row({name: 'unknown'}),
    ])
    expect(frame).toMatch(/NAME.*TOKEN\s+QUOTA/)
    expect(frame).toMatch(/kiro\s+● healthy.*-\s+62% 3h12m/)
    expect(frame).toMatch(/spent\s+◐ cooling.*0% 3h12m/)
    expect(frame).toMatch(/unknown\s+● healthy.*-\s+-\n/)
  })
})
