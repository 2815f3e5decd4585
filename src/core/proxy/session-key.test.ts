import {describe, expect, it} from 'vitest'
import type {Protocol} from '../codecs/types.js'
import {sessionKey} from './session-key.js'

const claudeUserId = JSON.stringify({device_id: 'dev', account_uuid: '', session_id: 'from-metadata'})

describe('sessionKey', () => {
  it.each<[string, Record<string, string>, Record<string, unknown>, string]>([
    ['Claude Code session header', {'x-claude-code-session-id': 'cc'}, {}, 'cc'],
    ['Codex session_id header', {session_id: 'codex'}, {}, 'codex'],
    ['prompt_cache_key', {}, {prompt_cache_key: 'cache'}, 'cache'],
    ['previous_response_id', {}, {previous_response_id: 'resp_1'}, 'resp_1'],
    ['session_id in metadata.user_id', {}, {metadata: {user_id: claudeUserId}}, 'from-metadata'],
    ['x-session-id header', {'x-session-id': 'other'}, {}, 'other'],
    [
      'the Claude Code header before everything else',
      {'x-claude-code-session-id': 'cc', session_id: 'codex', 'x-session-id': 'other'},
      {prompt_cache_key: 'cache', previous_response_id: 'resp_1', metadata: {user_id: claudeUserId}},
      'cc',
    ],
    [
      "Codex's header before the body",
      {session_id: 'codex', 'x-session-id': 'other'},
      {prompt_cache_key: 'cache', previous_response_id: 'resp_1'},
      'codex',
    ],
    [
      'prompt_cache_key before previous_response_id',
      {},
      {prompt_cache_key: 'cache', previous_response_id: 'r'},
      'cache',
    ],
    [
      'previous_response_id before metadata',
      {'x-session-id': 'other'},
      {previous_response_id: 'resp_1', metadata: {user_id: claudeUserId}},
      'resp_1',
    ],
    ['metadata before x-session-id', {'x-session-id': 'other'}, {metadata: {user_id: claudeUserId}}, 'from-metadata'],
  ])('takes %s', (_name, headers, json, expected) => {
    expect(sessionKey('anthropic', headers, {messages: [{role: 'user', content: 'hi'}], ...json})).toBe(expected)
  })

  it('ignores a plain metadata.user_id and empty values', () => {
    const json = {metadata: {user_id: 'user-42'}, prompt_cache_key: ''}
    expect(sessionKey('anthropic', {'x-session-id': ''}, json)).toBeUndefined()
    expect(sessionKey('anthropic', {}, {metadata: {user_id: '{not json'}})).toBeUndefined()
  })

  const turns: Record<Protocol, [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>]> = {
    anthropic: [
      {system: 'be brief', messages: [{role: 'user', content: 'hello'}]},
      {
        system: 'be brief',
        messages: [
          {role: 'user', content: 'hello'},
          {role: 'assistant', content: 'hi'},
          {role: 'user', content: 'more'},
        ],
      },
      {system: 'be brief', messages: [{role: 'user', content: 'another start'}]},
    ],
    openai: [
      {
        messages: [
          {role: 'system', content: 'be brief'},
          {role: 'user', content: 'hello'},
        ],
      },
      {
        messages: [
          {role: 'system', content: 'be brief'},
          {role: 'user', content: 'hello'},
          {role: 'assistant', content: 'hi'},
          {role: 'user', content: 'more'},
        ],
      },
      {
        messages: [
          {role: 'system', content: 'other system'},
          {role: 'user', content: 'hello'},
        ],
      },
    ],
    responses: [
      {instructions: 'be brief', input: [{role: 'user', content: 'hello'}]},
      {
        instructions: 'be brief',
        input: [
          {role: 'user', content: 'hello'},
          {type: 'function_call_output', call_id: 'c', output: 'x'},
        ],
      },
      {instructions: 'be brief', input: 'hello'},
    ],
    gemini: [
      {systemInstruction: {parts: [{text: 'b'}]}, contents: [{role: 'user', parts: [{text: 'hello'}]}]},
      {
        systemInstruction: {parts: [{text: 'b'}]},
        contents: [
          {role: 'user', parts: [{text: 'hello'}]},
          {role: 'model', parts: [{text: 'hi'}]},
        ],
      },
      {systemInstruction: {parts: [{text: 'b'}]}, contents: [{role: 'user', parts: [{text: 'bye'}]}]},
    ],
  }

  it.each(Object.entries(turns))(
    'falls back to a hash of the opening of a %s conversation',
    (protocol, [first, later, other]) => {
      const key = sessionKey(protocol as Protocol, {}, first)
      expect(key).toMatch(/^opening:/)
      expect(sessionKey(protocol as Protocol, {}, later)).toBe(key)
      expect(sessionKey(protocol as Protocol, {}, other)).not.toBe(key)
    },
  )

  it('has no key for a request without a user message', () => {
    expect(sessionKey('openai', {}, {messages: [{role: 'system', content: 'x'}]})).toBeUndefined()
  })
})
