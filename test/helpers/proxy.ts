import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {Agent, request} from 'undici'
import {afterAll, afterEach, beforeAll, expect} from 'vitest'
import {resolveServeSettings} from '../../src/core/server/options.js'
import {startProxy, type RunningProxy, type StartOptions} from '../../src/core/server/start.js'
import type {RequestRecord} from '../../src/core/proxy/types.js'
import type {FakeUpstream} from '../fakes/index.js'
import {tempDir} from './cli.js'

export interface TestProxy extends RunningProxy {
  poolsFile: string
  records: RequestRecord[]
  warnings: string[]
  dir: string
  readPool(): Promise<Record<string, Array<Record<string, unknown>>>>
  cleanup(): Promise<void>
}

export function openaiInstance(
  fake: FakeUpstream,
  name: string,
  key = `sk-${name}-0123456789abcdef`,
): Record<string, unknown> {
  return {
    OPENAI_API_KEY: key,
    OPENAI_BASE_URL: fake.baseUrl,
    customName: name,
    uuid: `${name}-uuid-0000`,
    isHealthy: true,
    usageCount: 0,
    errorCount: 0,
  }
}

export function claudeInstance(
  fake: FakeUpstream,
  name: string,
  key = `sk-ant-${name}-0123456789`,
): Record<string, unknown> {
  return {
    CLAUDE_API_KEY: key,
    CLAUDE_BASE_URL: fake.baseUrl,
    customName: name,
    uuid: `${name}-uuid-0000`,
    isHealthy: true,
    usageCount: 0,
    errorCount: 0,
  }
}

/** Starts the real proxy on 127.0.0.1:0 over a pool file written from `doc`. */
export async function startTestProxy(
  doc: Record<string, unknown>,
  overrides: Partial<StartOptions> & {config?: Record<string, unknown>} = {},
): Promise<TestProxy> {
  const {dir, cleanup} = await tempDir()
  const poolsFile = join(dir, 'provider_pools.json')
  await writeFile(poolsFile, JSON.stringify(doc, null, 2))
  const records: RequestRecord[] = []
  const warnings: string[] = []
  const settings = resolveServeSettings(
    {host: '127.0.0.1', port: 0},
    {},
    {file: null, chosen: true, values: (overrides.config ?? {}) as never},
    {},
  )
  const proxy = await startProxy({
    ...settings,
    poolsFile,
    flushDelayMs: 100,
    pollMs: 50,
    onRecord: (r) => records.push(r),
    onWarning: (w) => warnings.push(w),
    ...overrides,
  })
  return {
    ...proxy,
    poolsFile,
    records,
    warnings,
    dir,
    readPool: async () => JSON.parse(await readFile(poolsFile, 'utf8')),
    cleanup: async () => {
      await proxy.stop()
      await cleanup()
    },
  }
}

export const testAgent = new Agent({keepAliveTimeout: 10, keepAliveMaxTimeout: 10})

export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{status: number; headers: Record<string, unknown>; text: string; json: () => any}> {
  const response = await request(url, {
    method: 'POST',
    headers: {'content-type': 'application/json', ...headers},
    body: typeof body === 'string' ? body : JSON.stringify(body),
    dispatcher: testAgent,
  })
  const text = await response.body.text()
  return {status: response.statusCode, headers: response.headers, text, json: () => JSON.parse(text)}
}

export async function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{status: number; text: string; json: () => any}> {
  const response = await request(url, {method: 'GET', headers, dispatcher: testAgent})
  const text = await response.body.text()
  return {status: response.statusCode, text, json: () => JSON.parse(text)}
}

export {waitFor} from './poll.js'

export interface ProxyHarness {
  /** The running test's proxy, stopped after the test */
  proxy: TestProxy | undefined
  /** The running test's fakes, closed after the proxy */
  fakes: FakeUpstream[]
}

/**
 * Registers the teardown of each test's proxy and fakes; with `failOnUnhandledRejection`, a test also fails
 * when a promise was rejected unhandled while the file ran.
 */
export function useProxyHarness(options: {failOnUnhandledRejection?: boolean} = {}): ProxyHarness {
  const harness: ProxyHarness = {proxy: undefined, fakes: []}
  // Registered first, so it runs after the teardown below (hooks run as a stack) and sees what the teardown caused.
  if (options.failOnUnhandledRejection) failOnUnhandledRejections()
  afterEach(async () => {
    await harness.proxy?.cleanup()
    harness.proxy = undefined
    await Promise.all(harness.fakes.map((f) => f.close()))
    harness.fakes = []
  })
  return harness
}

/** Each test of the file fails when a promise was rejected unhandled while the file ran (the proxy leaked one). */
export function failOnUnhandledRejections(): void {
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => unhandled.push(reason)
  beforeAll(() => void process.on('unhandledRejection', onUnhandled))
  afterAll(() => void process.off('unhandledRejection', onUnhandled))
  afterEach(() => expect(unhandled).toEqual([]))
}
