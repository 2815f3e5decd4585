import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {EXIT, UsageError} from '../errors.js'
import {DEFAULT_LOG_MAX_BYTES, openRequestLog, parseSize, requestLogOf} from './request-log.js'

describe('parseSize', () => {
  it.each([
    ['512KB', 512 * 1024],
    ['10MB', 10 * 1024 * 1024],
    ['10mb', 10 * 1024 * 1024],
    ['1.5 GiB', 1.5 * 1024 ** 3],
    ['2M', 2 * 1024 * 1024],
    ['4096', 4096],
    ['300B', 300],
  ])('reads %s', (text, bytes) => {
    expect(parseSize(text, '--log-max-size')).toBe(bytes)
  })

  it.each(['', 'ten', '10XB', '-5MB', '0', '0KB', 'MB', '1e3'])('refuses %j as a usage error', (text) => {
    expect(() => parseSize(text, '--log-max-size')).toThrow(UsageError)
    expect(() => parseSize(text, '--log-max-size')).toThrow(
      `--log-max-size must be a size such as 512KB or 10MB, not ${JSON.stringify(text)}.`,
    )
  })
})

describe('requestLogOf', () => {
  it('is nothing without --log-file', () => {
    expect(requestLogOf({}, [])).toBeUndefined()
  })

  it('resolves the file and the size, and warns only when bodies are logged', () => {
    const warnings: string[] = []
    expect(requestLogOf({logFile: 'requests.jsonl'}, warnings)).toEqual({
      file: join(process.cwd(), 'requests.jsonl'),
      maxBytes: DEFAULT_LOG_MAX_BYTES,
      bodies: false,
    })
    expect(warnings).toEqual([])
    const options = requestLogOf({logFile: '/tmp/r.jsonl', logMaxSize: '1MB', logBodies: true}, warnings)
    expect(options).toEqual({file: '/tmp/r.jsonl', maxBytes: 1024 * 1024, bodies: true})
    expect(warnings).toEqual([expect.stringMatching(/^--log-bodies: request and response bodies .* \/tmp\/r\.jsonl/)])
  })
})

describe('openRequestLog', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aiclient-reqlog-'))
  })
  afterEach(async () => {
    await rm(dir, {recursive: true, force: true})
  })

  it('refuses a file whose directory does not exist, or a directory, as usage errors', async () => {
    const missing = join(dir, 'no-such-dir', 'requests.jsonl')
    const refusal = openRequestLog({file: missing, maxBytes: 1000, bodies: false})
    await expect(refusal).rejects.toThrow(
      `--log-file ${missing}: the directory ${join(dir, 'no-such-dir')} does not exist.`,
    )
    await expect(refusal).rejects.toHaveProperty('exit', EXIT.usage)
    await expect(openRequestLog({file: dir, maxBytes: 1000, bodies: false})).rejects.toThrow(
      `--log-file ${dir} is a directory; name a file in it.`,
    )
  })

  it('writes one line per record and flushes on close', async () => {
    const file = join(dir, 'requests.jsonl')
    const log = await openRequestLog({file, maxBytes: 1000, bodies: false})
    const record = {
      time: 0,
      route: '/v1/models',
      protocol: 'openai' as const,
      type: null,
      instance: null,
      model: '-',
      status: 200,
      ms: 1,
      attempts: 0,
      stream: false,
    }
    log.write(record)
    log.write({...record, status: 500})
    await log.close()
    const lines = (await readFile(file, 'utf8')).trim().split('\n')
    expect(lines.map((line) => JSON.parse(line).status)).toEqual([200, 500])
  })
})
