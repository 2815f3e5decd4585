import {describe, expect, it} from 'vitest'
import {classifyError, classifyStatus, type Outcome} from '../providers/outcome.js'
import {decide, type Decision} from './policy.js'

const POLICY = {defaultCooldownMs: 30_000, maxCooldownMs: 1_800_000}
const NOW = Date.parse('2026-12-03T12:00:00Z')

const status = (code: number, headers: Record<string, string> = {}) => classifyStatus(code, headers, NOW)
const error = (code: string) => classifyError(Object.assign(new Error(code), {code}))

const cases: Array<[string, Outcome, boolean, Decision]> = [
  [
    '429 with Retry-After: cool for what it asked, capped',
    status(429, {'retry-after': '7'}),
    false,
    {action: 'next', effect: {kind: 'cool', ms: 7000, capped: true, reason: 'rate limited'}},
  ],
  [
    '429 without Retry-After: the default cooldown',
    status(429),
    false,
    {action: 'next', effect: {kind: 'cool', ms: 30_000, capped: true, reason: 'rate limited'}},
  ],
  [
    'quota with a named reset: that long, uncapped',
    {kind: 'quota', retryAfterMs: 86_400_000, reason: 'quota exhausted until midnight'},
    false,
    {action: 'next', effect: {kind: 'cool', ms: 86_400_000, capped: false, reason: 'quota exhausted until midnight'}},
  ],
  [
    'quota without a reset (402): the longest cooldown',
    status(402),
    false,
    {action: 'next', effect: {kind: 'cool', ms: 1_800_000, capped: true, reason: 'quota exhausted'}},
  ],
  [
    '401 with a refresh left: refresh, nothing held against the instance',
    status(401),
    true,
    {action: 'refresh', effect: {kind: 'none'}},
  ],
  [
    '401 after the refresh: unhealthy, next instance',
    status(401),
    false,
    {action: 'next', effect: {kind: 'unhealthy', reason: 'auth'}},
  ],
  [
    '403 with a reason from the adapter',
    {kind: 'auth', reason: 'account suspended'},
    false,
    {action: 'next', effect: {kind: 'unhealthy', reason: 'account suspended'}},
  ],
  [
    '5xx: counted, next instance',
    status(503),
    false,
    {action: 'next', effect: {kind: 'count', reason: 'server error 503'}},
  ],
  [
    '529 overloaded: counted, next instance',
    status(529),
    true,
    {action: 'next', effect: {kind: 'count', reason: 'server error 529'}},
  ],
  [
    'an error event inside a stream: counted as such',
    {kind: 'server', status: 502, reason: 'error in stream'},
    false,
    {action: 'next', effect: {kind: 'count', reason: 'error in stream'}},
  ],
  [
    'connection refused: counted, next instance',
    error('ECONNREFUSED'),
    false,
    {action: 'next', effect: {kind: 'count', reason: 'network error ECONNREFUSED'}},
  ],
  [
    'connect timeout (nothing sent): counted, next instance',
    error('UND_ERR_CONNECT_TIMEOUT'),
    false,
    {action: 'next', effect: {kind: 'count', reason: 'connect timeout'}},
  ],
  [
    'headers timeout (sent): counted, never resent',
    error('UND_ERR_HEADERS_TIMEOUT'),
    false,
    {action: 'stop', effect: {kind: 'count', reason: 'headers timeout'}},
  ],
  [
    'body timeout (sent): counted, never resent',
    error('UND_ERR_BODY_TIMEOUT'),
    false,
    {action: 'stop', effect: {kind: 'count', reason: 'body timeout'}},
  ],
  ['400: the client is answered, nothing counted', status(400), false, {action: 'stop', effect: {kind: 'none'}}],
  ['404: the client is answered, nothing counted', status(404), true, {action: 'stop', effect: {kind: 'none'}}],
  ['422: the client is answered, nothing counted', status(422), false, {action: 'stop', effect: {kind: 'none'}}],
  [
    'the client cancelled: stop, never counted',
    error('UND_ERR_ABORTED'),
    false,
    {action: 'stop', effect: {kind: 'none'}},
  ],
]

describe('decide: what an attempt outcome means for the request and the instance', () => {
  it.each(cases)('%s', (_name, outcome, refreshLeft, expected) => {
    expect(decide(outcome, POLICY, {refreshLeft})).toEqual(expected)
  })

  it('a refresh left changes only what a 401 does', () => {
    for (const [, outcome] of cases.filter(([, outcome]) => outcome.kind !== 'auth')) {
      expect(decide(outcome, POLICY, {refreshLeft: true})).toEqual(decide(outcome, POLICY, {refreshLeft: false}))
    }
  })
})
