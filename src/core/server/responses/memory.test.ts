import {describe, expect, it} from 'vitest'
import {ResponseStore, type StoredResponse} from './memory.js'

function stored(id: string, text = 'x'): StoredResponse {
  return {
    id,
    input: [{role: 'user', content: text}],
    output: [],
    response: {id, output: []},
    type: 'openai-custom',
    upstreamStored: false,
  }
}

describe('ResponseStore', () => {
  it('finds what it keeps and forgets it after the time limit', () => {
    let now = 0
    const store = new ResponseStore({maxEntries: 10, maxBytes: 1 << 20, ttlMs: 1000}, () => now)
    store.put(stored('resp_a'))
    now = 999
    expect(store.get('resp_a')?.id).toBe('resp_a')
    now = 1000
    expect(store.get('resp_a')).toBeUndefined()
    expect(store.size).toBe(0)
  })

  it('drops the oldest first when over the count', () => {
    const store = new ResponseStore({maxEntries: 2, maxBytes: 1 << 20, ttlMs: 60_000}, () => 0)
    for (const id of ['resp_1', 'resp_2', 'resp_3']) store.put(stored(id))
    expect(store.get('resp_1')).toBeUndefined()
    expect(store.get('resp_2')?.id).toBe('resp_2')
    expect(store.get('resp_3')?.id).toBe('resp_3')
  })

  it('drops the oldest first when over the size, and never keeps one larger than the whole store', () => {
    const store = new ResponseStore({maxEntries: 100, maxBytes: 200, ttlMs: 60_000}, () => 0)
    store.put(stored('resp_1', 'a'.repeat(80)))
    store.put(stored('resp_2', 'b'.repeat(80)))
    expect(store.size).toBe(1)
    expect(store.get('resp_2')?.id).toBe('resp_2')
    store.put(stored('resp_big', 'c'.repeat(500)))
    expect(store.get('resp_big')).toBeUndefined()
    expect(store.get('resp_2')?.id).toBe('resp_2')
  })

  it('deletes on request', () => {
    const store = new ResponseStore()
    store.put(stored('resp_a'))
    expect(store.delete('resp_a')).toBe(true)
    expect(store.delete('resp_a')).toBe(false)
    expect(store.get('resp_a')).toBeUndefined()
  })
})
