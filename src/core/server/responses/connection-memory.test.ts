import {describe, expect, it} from 'vitest'
import {ConnectionMemory} from './connection-memory.js'
import type {StoredResponse} from './memory.js'

const response = (id: string): StoredResponse => ({
  id,
  input: [],
  output: [],
  response: {id},
  type: 'openai-custom',
  upstreamStored: false,
})

/** The server's memory, as a map the test can look into. */
function serverMemory() {
  const kept = new Map<string, StoredResponse>()
  return {kept, get: (id: string) => kept.get(id), put: (stored: StoredResponse) => void kept.set(stored.id, stored)}
}

describe("a connection's memory", () => {
  it('keeps unstored responses for itself only, stored ones for the server too', () => {
    const server = serverMemory()
    const memory = new ConnectionMemory(server)

    memory.forRequest(false).put(response('resp_unstored'))
    memory.forRequest(true).put(response('resp_stored'))

    expect(memory.get('resp_unstored')?.id).toBe('resp_unstored')
    expect([...server.kept.keys()]).toEqual(['resp_stored'])
  })

  it("falls back to the server's memory", () => {
    const server = serverMemory()
    server.put(response('resp_http'))

    expect(new ConnectionMemory(server).forRequest(false).get('resp_http')?.id).toBe('resp_http')
  })

  it('forgets the oldest past its limit, a response put again counting as new', () => {
    const memory = new ConnectionMemory(serverMemory(), 3)
    const put = memory.forRequest(false).put
    for (const id of ['a', 'b', 'c']) put(response(id))
    put(response('a'))
    put(response('d'))

    expect(['a', 'b', 'c', 'd'].filter((id) => memory.get(id))).toEqual(['a', 'c', 'd'])
  })
})
