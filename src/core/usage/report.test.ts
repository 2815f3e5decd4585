import {describe, expect, it} from 'vitest'
import {EXIT, UsageError} from '../errors.js'
import {UsageDays} from './history.js'
import {parseSince, toCsv, usageReport} from './report.js'

const at = (iso: string) => Date.parse(iso)
const usage = (input: number, output: number) => ({
  input,
  output,
  cacheRead: 0,
  cacheWrite: 0,
  reasoning: 0,
  estimated: false,
})

function history(): UsageDays {
  const days = new UsageDays()
  days.add('2026-11-30', 'openai-custom/a', 'gpt', usage(100, 10))
  days.add('2026-12-01', 'openai-custom/a', 'gpt', usage(1, 1))
  days.add('2026-12-03', 'openai-custom/b', 'mini', usage(20, 2))
  days.add('2026-12-04', 'claude-custom/c', 'opus', usage(5, 5))
  days.add('2026-12-04', 'openai-custom/a', 'mini', usage(3, 0))
  return days
}

describe('parseSince', () => {
  // Ten minutes past midnight UTC: a window in hours reaches back into the day before.
  const now = at('2026-12-04T00:10:00Z')

  it.each([
    ['1d', '2026-12-04'],
    ['7d', '2026-11-28'],
    ['10m', null],
    ['1h', '2026-12-03'],
    ['24h', '2026-12-03'],
    ['25h', '2026-12-02'],
    ['2026-11-01', '2026-11-01'],
    [' 3d ', '2026-12-02'],
  ])('%j starts on %s', (text, day) => {
    if (day === null) expect(() => parseSince(text, now)).toThrow(UsageError)
    else expect(parseSince(text, now)).toBe(day)
  })

  it.each(['0d', '0h', '2026-02-30', '2026-13-01', '12/01/2026', 'yesterday', '', '-7d', '7'])(
    'refuses %j as a usage error (exit 2) that says what is accepted',
    (text) => {
      let error: unknown
      try {
        parseSince(text, now)
      } catch (caught) {
        error = caught
      }
      expect(error).toBeInstanceOf(UsageError)
      expect((error as UsageError).exit).toBe(EXIT.usage)
      expect((error as UsageError).message).toBe(
        `--since must be a number of days (7d), of hours (24h) or a date (2026-11-01), not "${text}".`,
      )
    },
  )
})

describe('usageReport', () => {
  it('cuts at the first day --since takes in, with the clock it is given, and sums by day in order', () => {
    const report = usageReport(history(), {since: parseSince('3d', at('2026-12-04T18:00:00Z')), by: 'day'})
    expect(report.since).toBe('2026-12-02')
    expect(report.rows.map((r) => [r.key, r.requests, r.totalTokens])).toEqual([
      ['2026-12-03', 1, 22],
      ['2026-12-04', 2, 13],
    ])
    expect(report.total).toMatchObject({key: 'total', requests: 3, inputTokens: 28, outputTokens: 7, totalTokens: 35})
    const wider = usageReport(history(), {since: parseSince('96h', at('2026-12-04T18:00:00Z')), by: 'day'})
    expect(wider.rows.map((r) => r.key)).toEqual(['2026-11-30', '2026-12-01', '2026-12-03', '2026-12-04'])
  })

  it('sums by instance or model, largest total first, of one type when asked', () => {
    expect(usageReport(history(), {by: 'instance'}).rows.map((r) => [r.key, r.totalTokens])).toEqual([
      ['openai-custom/a', 115],
      ['openai-custom/b', 22],
      ['claude-custom/c', 10],
    ])
    const models = usageReport(history(), {by: 'model', type: 'openai-custom'})
    expect(models.rows.map((r) => [r.key, r.requests, r.totalTokens])).toEqual([
      ['gpt', 2, 112],
      ['mini', 2, 25],
    ])
    expect(models.total.totalTokens).toBe(137)
  })
})

describe('toCsv', () => {
  it('quotes commas, quotes and line breaks, and defuses cells a spreadsheet would run as formulas', () => {
    expect(
      toCsv(
        ['model', 'n'],
        [
          ['a,b', 1],
          ['say "hi"', 2],
          ['two\nlines', 3],
          ['=HYPERLINK("x")', 4],
          ['-1', 5],
          ['plain', 6],
        ],
      ),
    ).toBe('model,n\r\n"a,b",1\r\n"say ""hi""",2\r\n"two\nlines",3\r\n"\'=HYPERLINK(""x"")",4\r\n\'-1,5\r\nplain,6\r\n')
  })
})
