import {describe, expect, it} from 'vitest'
import {renameModelFields, withClientModel} from './client-model.js'

describe('renameModelFields', () => {
  it('renames every model field of whole events, nested or spaced, and nothing inside generated text', () => {
    const events = [
      'data: {"type":"message_start","message":{"id":"m","model":"claude-sonnet-4-6","content":[]}}',
      'data: {"id":"c","model" : "gpt-4o-2024-08-06","choices":[{"delta":{"content":"say \\"model\\":\\"x\\""}}]}',
      'data: {"candidates":[],"modelVersion":"gemini-2.5-pro"}',
      '',
    ].join('\n')
    expect(renameModelFields(events, 'claude-opus-5-5')).toBe(
      [
        'data: {"type":"message_start","message":{"id":"m","model":"claude-opus-5-5","content":[]}}',
        'data: {"id":"c","model":"claude-opus-5-5","choices":[{"delta":{"content":"say \\"model\\":\\"x\\""}}]}',
        'data: {"candidates":[],"modelVersion":"claude-opus-5-5"}',
        '',
      ].join('\n'),
    )
  })

  it('keeps bytes of a piece that ends inside a UTF-8 character, and events without a model as they came', () => {
    const line = Buffer.from('data: {"model":"gpt-4o","choices":[{"delta":{"content":"Grüße €"}}]}\n')
    const cut = line.indexOf(Buffer.from('€')) + 1
    const pieces = [line.subarray(0, cut), line.subarray(cut)]
    const out = Buffer.concat(pieces.map((piece) => Buffer.from(renameModelFields(piece, 'mödel'))))
    expect(out.toString('utf8')).toBe('data: {"model":"mödel","choices":[{"delta":{"content":"Grüße €"}}]}\n')
    const plain = Buffer.from('data: {"type":"content_block_delta"}\n')
    expect(renameModelFields(plain, 'x')).toBe(plain)
  })
})

describe('withClientModel', () => {
  it("renames a plain answer's top-level model or modelVersion only", () => {
    expect(withClientModel({model: 'a', usage: {model: 'keep'}}, 'b')).toEqual({model: 'b', usage: {model: 'keep'}})
    expect(withClientModel({modelVersion: 'a'}, 'b')).toEqual({modelVersion: 'b'})
    expect(withClientModel({id: 'x'}, 'b')).toEqual({id: 'x'})
    expect(withClientModel([1], 'b')).toEqual([1])
  })
})
