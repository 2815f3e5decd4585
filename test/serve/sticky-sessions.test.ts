import {describe, expect, it} from 'vitest'
import {startOpenAIFake} from '../fakes/index.js'
import {openaiInstance, post, startTestProxy, useProxyHarness} from '../helpers/proxy.js'
import type {FakeUpstream} from '../fakes/index.js'

const h = useProxyHarness()

const SESSION = '3f1c2a9e-5b7d-4c1e-9a2b-6d8e0f4a7c31'

/** Claude Code's turn `n` of one conversation: its session header, metadata.user_id, and the history so far. */
function turn(url: string, n: number, session = SESSION) {
  const messages: Array<{role: string; content: string}> = []
  for (let i = 0; i < n; i++) messages.push({role: 'user', content: `step ${i}`}, {role: 'assistant', content: 'ok'})
  messages.push({role: 'user', content: `step ${n}`})
  return post(
    `${url}/openai-custom/v1/messages`,
    {
      model: 'claude-sonnet-4-5',
      max_tokens: 64,
      system: [{type: 'text', text: 'You are Claude Code.'}],
      metadata: {user_id: JSON.stringify({device_id: 'dev', account_uuid: '', session_id: session})},
      messages,
    },
    {'anthropic-version': '2023-06-01', 'x-claude-code-session-id': session},
  )
}

async function three(first?: Parameters<typeof startOpenAIFake>[0]) {
  const fakes = await Promise.all([
    startOpenAIFake({name: 'a', ...first}),
    startOpenAIFake({name: 'b'}),
    startOpenAIFake({name: 'c'}),
  ])
  h.fakes = fakes
  return fakes
}

const pool = (fakes: FakeUpstream[]) => ({
  'openai-custom': fakes.map((fake, i) => openaiInstance(fake, 'abc'[i]!)),
})

/** Each fake's completed answers. */
const served = (fakes: FakeUpstream[]) => fakes.map((fake) => fake.completed)

describe('sticky sessions through the proxy', () => {
  it('keep a 20-turn Claude Code conversation on one instance of three', async () => {
    const fakes = await three()
    h.proxy = await startTestProxy(pool(fakes))
    for (let n = 0; n < 20; n++) expect((await turn(h.proxy.url, n)).status).toBe(200)
    expect(served(fakes)).toEqual([20, 0, 0])
    // Another conversation is routed on its own and is not pulled onto the first one's instance.
    expect((await turn(h.proxy.url, 0, 'another-session')).status).toBe(200)
    expect(served(fakes)).toEqual([20, 1, 0])
  })

  it('keep a Codex conversation on one instance by its session_id header, whatever the input', async () => {
    const fakes = await three()
    h.proxy = await startTestProxy(pool(fakes))
    for (let n = 0; n < 6; n++) {
      const answer = await post(
        `${h.proxy.url}/openai-custom/v1/responses`,
        // Each turn's input differs (Codex may compact it), so only the header ties them together.
        {model: 'gpt-5-codex', instructions: 'You are Codex.', input: `turn ${n}`, stream: false},
        {session_id: 'codex-session', originator: 'codex_cli_rs'},
      )
      expect(answer.status).toBe(200)
    }
    expect(served(fakes)).toEqual([6, 0, 0])
  })

  it('spread the same conversation with SESSION_AFFINITY off', async () => {
    const fakes = await three()
    h.proxy = await startTestProxy(pool(fakes), {config: {SESSION_AFFINITY: false}})
    for (let n = 0; n < 21; n++) expect((await turn(h.proxy.url, n)).status).toBe(200)
    expect(served(fakes)).toEqual([7, 7, 7])
  })

  it('move only while the instance rests after a 429, then come back to it', async () => {
    // The sixth request to `a` is refused with a 429 asking for a 2 s rest.
    const fakes = await three({
      script: {handler: (_req, n) => (n === 5 ? {kind: 'status', status: 429, retryAfter: 2} : undefined)},
    })
    let clock = Date.now()
    h.proxy = await startTestProxy(pool(fakes), {now: () => clock})
    const url = h.proxy.url
    for (let n = 0; n < 5; n++) expect((await turn(url, n)).status).toBe(200)
    expect(served(fakes)).toEqual([5, 0, 0])
    // The refused turn fails over, and so does the next while `a` rests; neither moves the session.
    expect((await turn(url, 5)).status).toBe(200)
    expect((await turn(url, 6)).status).toBe(200)
    expect(fakes[0]!.requests.map((r) => r.status).at(-1)).toBe(429)
    expect(fakes[0]!.completed).toBe(5)
    clock += 2000
    for (let n = 7; n < 12; n++) expect((await turn(url, n)).status).toBe(200)
    expect(fakes[0]!.completed).toBe(10)
    expect(fakes[1]!.completed + fakes[2]!.completed).toBe(2)
  })
})
