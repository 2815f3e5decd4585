// The captured Claude Code request of its default model (a `role: "system"` message after the user message)
// sent through `serve`: converted routes answer 200 with the system text in place, and claude-custom gets the
// bytes, `?beta=true` and `anthropic-beta` as Claude Code sent them.
import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {startAnthropicFake, startOpenAIFake} from '../fakes/index.js'
import {claudeInstance, openaiInstance, startTestProxy, useProxyHarness} from '../helpers/proxy.js'

const capture = JSON.parse(
  readFileSync(new URL('../fixtures/clients/claude-code-2.1.335-opus-turn.json', import.meta.url), 'utf8'),
) as {path: string; headers: Record<string, string>; body: Record<string, any>}

const systemText: string = capture.body.messages[1].content[0].text
const h = useProxyHarness()

// Claude Code's own headers, minus those of the connection it was captured on.
function clientHeaders(): Record<string, string> {
  const headers: Record<string, string> = {...capture.headers, 'x-api-key': 'sk-unused'}
  for (const name of ['host', 'content-length', 'connection', 'accept-encoding']) delete headers[name]
  return headers
}

async function send(base: string, prefix: string): Promise<Response> {
  return fetch(`${base}/${prefix}${capture.path}`, {
    method: 'POST',
    headers: clientHeaders(),
    body: JSON.stringify({...capture.body, stream: false}),
  })
}

describe('Claude Code 2.1.335, default model, with its mid-conversation system message', () => {
  it('gets a 200 through openai-custom, and the upstream sees the system text in place', async () => {
    const fake = await startOpenAIFake({name: 'up'})
    h.fakes = [fake]
    h.proxy = await startTestProxy({'openai-custom': [openaiInstance(fake, 'up')]})
    const response = await send(h.proxy.url, 'openai-custom')
    expect(response.status).toBe(200)
    expect((await response.json()).type).toBe('message')
    const sent = fake.requests[0]!
    expect(sent.body.messages.map((m: {role: string}) => m.role)).toEqual(['system', 'user', 'system'])
    expect(sent.body.messages[2]).toEqual({role: 'system', content: systemText})
    expect(sent.body.reasoning_effort).toBe('medium')
    expect(sent.query).toEqual({})
    expect(sent.headers['anthropic-beta']).toBeUndefined()
  })

  it('reaches claude-custom untouched, with ?beta=true and anthropic-beta', async () => {
    const fake = await startAnthropicFake({name: 'up'})
    h.fakes = [fake]
    h.proxy = await startTestProxy({'claude-custom': [claudeInstance(fake, 'up')]})
    // The fake answers as Anthropic does for models that refuse a system message; what matters is what it got.
    await send(h.proxy.url, 'claude-custom')
    const sent = fake.requests[0]!
    expect(sent.query).toEqual({beta: 'true'})
    expect(sent.headers['anthropic-beta']).toBe(capture.headers['anthropic-beta'])
    expect(sent.body).toEqual({...capture.body, stream: false})
  })
})
