import {describe, expect, it} from 'vitest'
import {newId, randomIdBytes} from './ids.js'
import {newResponseId} from './responses/response.js'

describe('ids from the pooled random bytes', () => {
  it('hands out each byte once, across the refills of the pool', () => {
    // 1,000 ids of 24 bytes run through six pools of 4 KB; the slices must never overlap or repeat.
    const seen = new Set<string>()
    for (let i = 0; i < 1000; i++) {
      const bytes = randomIdBytes(24)
      expect(bytes).toHaveLength(24)
      seen.add(bytes.toString('hex'))
    }
    expect(seen.size).toBe(1000)
  })

  it('keeps the shape of each kind of id', () => {
    const responses = Array.from({length: 600}, () => newResponseId())
    for (const id of responses) expect(id).toMatch(/^resp_[0-9a-f]{32}$/)
    expect(new Set(responses).size).toBe(600)
    expect(newId('call_')).toMatch(/^call_[0-9A-Za-z]{24}$/)
    expect(newId('req_011C', 20)).toMatch(/^req_011C[0-9A-Za-z]{20}$/)
  })
})
