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

  /** One opening, each conversation's messages after it, and a different opening. */
  const conversations: Record<Protocol, (opening: string, ...later: string[]) => Record<string, unknown>> = {
    anthropic: (opening, ...later) => ({
      system: 'be brief',
      messages: [opening, ...later].map((content, i) => ({role: i % 2 ? 'assistant' : 'user', content})),
    }),
    openai: (opening, ...later) => ({
      messages: [
        {role: 'system', content: 'be brief'},
        ...[opening, ...later].map((content, i) => ({role: i % 2 ? 'assistant' : 'user', content})),
      ],
    }),
    responses: (opening, ...later) => ({
      instructions: 'be brief',
      input: [opening, ...later].map((content, i) => ({role: i % 2 ? 'assistant' : 'user', content})),
    }),
    gemini: (opening, ...later) => ({
      systemInstruction: {parts: [{text: 'be brief'}]},
      contents: [opening, ...later].map((text, i) => ({role: i % 2 ? 'model' : 'user', parts: [{text}]})),
    }),
  }

  it.each(Object.entries(conversations))(
    'falls back to a hash of the opening of a %s conversation, once it has more than one turn',
    (name, conversation) => {
      const protocol = name as Protocol
      const key = sessionKey(protocol, {}, conversation('hello', 'hi'))
      expect(key).toMatch(/^opening:/)
      expect(sessionKey(protocol, {}, conversation('hello', 'hi', 'more', 'ok', 'again'))).toBe(key)
      expect(sessionKey(protocol, {}, conversation('bye', 'hi'))).not.toBe(key)
      expect(sessionKey(protocol, {}, conversation('hello'))).toBeUndefined()
    },
  )

  it('tells conversations apart by their system prompt', () => {
    const other = {...conversations.anthropic('hello', 'hi'), system: 'be verbose'}
    expect(sessionKey('anthropic', {}, other)).not.toBe(
      sessionKey('anthropic', {}, conversations.anthropic('hello', 'hi')),
    )
  })
})
