import {describe, expect, it} from 'vitest'
import {UsageLines} from './lines.js'

const data = (json: unknown) => `data: ${JSON.stringify(json)}\n\n`

describe('UsageLines', () => {
  it('reads the usage chunk of an OpenAI stream, past the `"usage":null` of every other chunk', () => {
    const lines = new UsageLines('openai')
    const usage = {prompt_tokens: 10, completion_tokens: 4, prompt_tokens_details: {cached_tokens: 3}}
    const text = data({choices: [{delta: {content: 'Hi'}}], usage: null}) + data({choices: [], usage})
    expect(lines.scan(Buffer.from(text)).toString()).toBe(text)
    expect(lines.usage()).toEqual({inputTokens: 10, outputTokens: 4, cachedInputTokens: 3})
  })

  it('leaves the usage-only chunk out when told to, in bytes and in text, and still counts it', () => {
    const first = data({choices: [{delta: {content: 'Hi'}}], usage: null})
    const usageChunk = data({choices: [], usage: {prompt_tokens: 10, completion_tokens: 4}})
    for (const wrap of [(s: string) => s, (s: string) => Buffer.from(s)]) {
      const lines = new UsageLines('openai', true)
      const out = lines.scan(wrap(first + usageChunk + 'data: [DONE]\n\n'))
      expect(out.toString()).toBe(`${first}\ndata: [DONE]\n\n`)
      expect(lines.usage()).toEqual({inputTokens: 10, outputTokens: 4})
    }
  })

  it('keeps a chunk that carries choices and usage together, even when told to leave usage chunks out', () => {
    const lines = new UsageLines('openai', true)
    const text = data({choices: [{delta: {}, finish_reason: 'stop'}], usage: {prompt_tokens: 1, completion_tokens: 2}})
    expect(lines.scan(text)).toBe(text)
    expect(lines.usage()).toEqual({inputTokens: 1, outputTokens: 2})
  })

  it("folds Anthropic's message_delta over message_start", () => {
    const lines = new UsageLines('anthropic')
    const start = {input_tokens: 5, output_tokens: 1, cache_read_input_tokens: 20, cache_creation_input_tokens: 7}
    lines.scan(`event: message_start\n${data({type: 'message_start', message: {usage: start}})}`)
    lines.scan(`event: message_delta\n${data({type: 'message_delta', usage: {output_tokens: 42}})}`)
    expect(lines.usage()).toEqual({
      inputTokens: 32,
      outputTokens: 42,
      cachedInputTokens: 20,
      cacheCreationInputTokens: 7,
    })
  })

  it("takes a Gemini stream's last usageMetadata, spaces and all", () => {
    const lines = new UsageLines('gemini')
    lines.scan(data({candidates: [], usageMetadata: {promptTokenCount: 9}}))
    lines.scan('data: {"candidates": [], "usageMetadata" : {"promptTokenCount": 9, "candidatesTokenCount": 3}}\n\n')
    expect(lines.usage()).toEqual({inputTokens: 9, outputTokens: 3})
  })

  it('reads nothing from generated text that talks about usage, and counts that text', () => {
    const lines = new UsageLines('openai')
    lines.scan(data({choices: [{delta: {content: 'say "usage": {"a":1} and \\ more'}}]}))
    expect(lines.usage()).toBeUndefined()
    expect(lines.chars).toBe(JSON.stringify('say "usage": {"a":1} and \\ more').length - 2)
  })

  it('counts the text values each protocol streams', () => {
    const lines = new UsageLines('anthropic')
    lines.scan(data({type: 'content_block_delta', delta: {type: 'text_delta', text: 'abcd'}}))
    lines.scan(data({type: 'content_block_delta', delta: {type: 'thinking_delta', thinking: 'ef'}}))
    lines.scan(data({type: 'content_block_delta', delta: {type: 'input_json_delta', partial_json: '{"x":1}'}}))
    expect(lines.chars).toBe(4 + 2 + JSON.stringify('{"x":1}').length - 2)
  })
  it('stops counting text once the stream names its usage, as one that reports it does', () => {
    const lines = new UsageLines('openai')
    lines.scan(data({choices: [{delta: {content: 'abcd'}}]}))
    lines.scan(data({choices: [{delta: {content: 'efgh'}}], usage: null}))
    lines.scan(data({choices: [{delta: {content: 'ijkl'}}], usage: null}))
    expect(lines.chars).toBe(4)
  })
  it('reads the usage of a line that came in pieces, from the piece that holds it', () => {
    const lines = new UsageLines('responses')
    const usage = {input_tokens: 30, input_tokens_details: {cached_tokens: 10}, output_tokens: 5}
    const completed = data({type: 'response.completed', response: {output: [{text: 'x'.repeat(100)}], usage}})
    const cut = completed.indexOf('xxxx') + 50
    lines.scan(completed.slice(0, cut))
    lines.scan(completed.slice(cut))
    expect(lines.usage()).toEqual({inputTokens: 30, outputTokens: 5, cachedInputTokens: 10})
  })
})
