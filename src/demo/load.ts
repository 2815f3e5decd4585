import {Agent, request} from 'undici'

export interface DemoLoad {
  stop(): Promise<void>
}

const PROMPTS = [
  'Say hello',
  'What is a provider pool?',
  'Write a haiku about failover',
  'Explain round-robin in one line',
]

/**
 * Sends a steady mix of OpenAI and Anthropic requests (a third of them streamed) to the proxy, so the demo
 * shows traffic without a client of your own. Responses are read and discarded.
 */
export function startDemoLoad(baseUrl: string, requestsPerSecond: number, apiKey?: string): DemoLoad {
  const agent = new Agent({keepAliveTimeout: 1000})
  const inFlight = new Set<Promise<unknown>>()
  let n = 0
  const send = () => {
    const i = n++
    const stream = i % 3 === 0
    const prompt = PROMPTS[i % PROMPTS.length]!
    const anthropic = i % 4 === 3
    const body = anthropic
      ? {model: 'claude-custom:claude-sonnet-4-6', max_tokens: 64, stream, messages: [{role: 'user', content: prompt}]}
      : {model: 'gpt-4o-mini', stream, messages: [{role: 'user', content: prompt}]}
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      ...(apiKey ? {authorization: `Bearer ${apiKey}`} : {}),
    }
    const work = request(`${baseUrl}${anthropic ? '/v1/messages' : '/v1/chat/completions'}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      dispatcher: agent,
    })
      .then((response) => response.body.dump())
      .catch(() => {})
    inFlight.add(work)
    void work.finally(() => inFlight.delete(work))
  }
  const timer = setInterval(send, Math.max(1, Math.round(1000 / requestsPerSecond)))
  return {
    stop: async () => {
      clearInterval(timer)
      await Promise.allSettled([...inFlight])
      await agent.close()
    },
  }
}
