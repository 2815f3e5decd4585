import {readFile} from 'node:fs/promises'
import {afterAll, afterEach, beforeAll, expect, it} from 'vitest'
import {startOAuthUpstreams, type OAuthUpstreams} from '../helpers/oauth-upstreams.js'
import {parseMetrics, samples, total} from '../helpers/metrics.js'
import {get, post, startTestProxy, type TestProxy} from '../helpers/proxy.js'

let up: OAuthUpstreams
let proxy: TestProxy | undefined

beforeAll(async () => {
  up = await startOAuthUpstreams()
})

afterEach(async () => {
  await proxy?.cleanup()
  proxy = undefined
})

afterAll(async () => {
  await up.close()
})

it('shows an OAuth instance’s token expiry in /metrics and the status once serve has read its file, and never the token', async () => {
  proxy = await startTestProxy({'openai-qwen-oauth': up.pool()['openai-qwen-oauth']})
  const credentials = JSON.parse(await readFile(up.files.qwen, 'utf8'))
  const expiry = (families: ReturnType<typeof parseMetrics>) =>
    samples(families, 'aiclient_oauth_token_expiry_timestamp_seconds', {instance: 'qwen'})
  expect(expiry(parseMetrics((await get(`${proxy.url}/metrics`)).text))).toEqual([])

  const answer = await post(`${proxy.url}/openai-qwen-oauth/v1/chat/completions`, {
    model: 'qwen3-coder-plus',
    messages: [{role: 'user', content: 'hi'}],
  })
  expect(answer.status).toBe(200)
  const scrape = (await get(`${proxy.url}/metrics`)).text
  const families = parseMetrics(scrape)
  expect(total(families, 'aiclient_oauth_token_expiry_timestamp_seconds', {instance: 'qwen'})).toBe(
    credentials.expiry_date / 1000,
  )
  expect(total(families, 'aiclient_requests_total', {type: 'openai-qwen-oauth', status_class: '2xx'})).toBe(1)
  const status = await get(`${proxy.url}/aiclient/v1/status`)
  expect(status.json().instances[0].token).toEqual({
    state: 'valid',
    expiresAt: new Date(credentials.expiry_date).toISOString(),
  })
  for (const secret of [credentials.access_token, credentials.refresh_token]) {
    expect(scrape).not.toContain(secret)
    expect(status.text).not.toContain(secret)
  }
})
