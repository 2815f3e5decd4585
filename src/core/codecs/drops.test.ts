// Nothing silently dropped: each field either reaches the upstream's counterpart or is reported through
// onDropped (a debug line), in every direction it applies to.
import {describe, expect, it} from 'vitest'
import {codecs} from './index.js'
import {encodeKiroRequest} from './kiro/request.js'
import type {IRRequest} from './ir.js'
import type {Protocol} from './types.js'

type Json = Record<string, any>
type Target = Protocol | 'kiro'

function encode(to: Target, ir: IRRequest, dropped: string[]): Json {
  const onDropped = (field: string) => dropped.push(field)
  if (to === 'kiro') return encodeKiroRequest(ir, {conversationId: 'c', modelId: 'm', onDropped}).body
  return codecs[to].encodeRequest(ir, {onDropped}) as Json
}

describe('prompt_cache_key', () => {
  const sources: [Protocol, Json][] = [
    ['openai', {model: 'm', messages: [{role: 'user', content: 'x'}], prompt_cache_key: 'k1'}],
    ['responses', {model: 'm', input: 'x', prompt_cache_key: 'k1'}],
  ]
  const kept: [Target, (out: Json) => unknown][] = [
    ['openai', (out) => out.prompt_cache_key],
    ['responses', (out) => out.prompt_cache_key],
  ]
  const reported: Target[] = ['anthropic', 'gemini', 'kiro']

  for (const [from, body] of sources) {
    it.each(kept)(`${from} → %s keeps it`, (to, read) => {
      const dropped: string[] = []
      const ir = codecs[from].decodeRequest(body, {onDropped: (field) => dropped.push(field)})
      expect(read(encode(to, ir, dropped))).toBe('k1')
      expect(dropped).not.toContain('prompt_cache_key')
    })

    it.each(reported)(`${from} → %s reports it dropped`, (to) => {
      const dropped: string[] = []
      const ir = codecs[from].decodeRequest(body, {onDropped: (field) => dropped.push(field)})
      expect(JSON.stringify(encode(to, ir, dropped))).not.toContain('k1')
      expect(dropped).toContain('promptCacheKey')
    })
  }
})
