import Anthropic from '@anthropic-ai/sdk'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import OpenAI from 'openai'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {startDemoUpstreams, type DemoUpstreams} from '../../src/demo/upstreams.js'
import {tempDir} from '../helpers/cli.js'
import {get, post, startTestProxy, type TestProxy} from '../helpers/proxy.js'

// What the README promises of `serve --demo`: its curl and SDK examples answer, the Anthropic type streams,
// and every fifth request to openai-flaky fails over.
let demo: DemoUpstreams
let proxy: TestProxy
let dir: {dir: string; cleanup: () => Promise<void>}

beforeAll(async () => {
  dir = await tempDir()
  demo = await startDemoUpstreams(join(dir.dir, 'demo.json'))
  proxy = await startTestProxy(JSON.parse(await readFile(demo.poolsFile, 'utf8')), {defaultType: 'openai-custom'})
})

afterAll(async () => {
  await proxy?.cleanup()
  await demo?.close()
  await dir?.cleanup()
})

it('writes a pool of two OpenAI instances (one flaky) and one Anthropic instance pointing at its upstreams', async () => {
  const doc = JSON.parse(await readFile(demo.poolsFile, 'utf8'))
  expect(doc['openai-custom'].map((i: {customName: string}) => i.customName)).toEqual(['openai-a', 'openai-flaky'])
  expect(doc['claude-custom'][0]).toMatchObject({customName: 'claude-a', CLAUDE_BASE_URL: demo.upstreams[2]!.url})
  expect(doc['openai-custom'][0].OPENAI_BASE_URL).toBe(`${demo.upstreams[0]!.url}/v1`)
  expect(demo.upstreams.map((u) => u.name)).toEqual(['openai-a', 'openai-flaky', 'claude-a'])
})

it('answers the README curl examples through the proxy', async () => {
  const chat = await post(`${proxy.url}/v1/chat/completions`, {
    model: 'gpt-4o-mini',
    messages: [{role: 'user', content: 'hi'}],
  })
  expect(chat.status).toBe(200)
  expect(chat.json().choices[0].message.content).toMatch(/^openai-(a|flaky): hi$/)
  const claude = await post(`${proxy.url}/claude-custom/v1/messages`, {
    model: 'claude-sonnet-4-6',
    max_tokens: 100,
    messages: [{role: 'user', content: 'hi'}],
  })
  expect(claude.status).toBe(200)
  expect(claude.json()).toMatchObject({
    role: 'assistant',
    content: [{type: 'text', text: 'claude-a: hi'}],
    stop_reason: 'end_turn',
  })
  expect((await get(`${proxy.url}/health`)).status).toBe(200)
})

it('streams to the OpenAI and Anthropic SDKs', async () => {
  const openai = new OpenAI({baseURL: `${proxy.url}/v1`, apiKey: 'unused', maxRetries: 0})
  const stream = await openai.chat.completions.create({
    model: 'gpt-4o-mini',
    stream: true,
    messages: [{role: 'user', content: 'say a few words'}],
  })
  const deltas: string[] = []
  for await (const chunk of stream) deltas.push(chunk.choices[0]?.delta.content ?? '')
  expect(deltas.filter((d) => d !== '').length).toBeGreaterThan(1)
  expect(deltas.join('')).toMatch(/^openai-(a|flaky): say a few words$/)

  const anthropic = new Anthropic({baseURL: `${proxy.url}/claude-custom`, apiKey: 'unused', maxRetries: 0})
  const message = await anthropic.messages
    .stream({model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{role: 'user', content: 'hello there'}]})
    .finalMessage()
  expect(message.content.map((block) => (block.type === 'text' ? block.text : block.type))).toEqual([
    'claude-a: hello there',
  ])
  expect(message.stop_reason).toBe('end_turn')
})

it('fails every fifth request to openai-flaky with a 500, which the proxy fails over', async () => {
  proxy.records.length = 0
  for (let i = 0; i < 20; i++) {
    expect(
      (
        await post(`${proxy.url}/v1/chat/completions`, {
          model: 'gpt-4o-mini',
          messages: [{role: 'user', content: `n${i}`}],
        })
      ).status,
    ).toBe(200)
  }
  const failedOver = proxy.records.filter((r) => r.attempts === 2)
  expect(failedOver.length).toBeGreaterThanOrEqual(1)
  expect(failedOver.every((r) => r.instance === 'openai-a')).toBe(true)
})
