import {readFile, stat, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {startFakeQwenOAuth} from '../fakes/oauth/index.js'
import {loginTestEnv, modeOf, readJson} from './helpers/login-env.js'

const env = loginTestEnv()

describe('auth login qwen', () => {
  it("--json prints one object, writes qwen-code's file 0600 in a 0700 directory, and adds the instance", async () => {
    const fake = await env.track(startFakeQwenOAuth())
    fake.approve()
    const pools = join(env.home, 'pools', 'provider_pools.json')
    const result = await env.cli(
      ['auth', 'login', 'qwen', '--json', '--no-browser', '--add-to-pool', '--pools-file', pools],
      fake.env,
    )
    expect(result.stderr).toContain('Qwen shut down its free OAuth tier on 2026-04-15')
    expect(result.code).toBe(0)
    const payload = JSON.parse(result.stdout)
    const file = join(env.home, '.qwen', 'oauth_creds.json')
    expect(payload).toEqual({
      provider: 'qwen',
      credsFile: file,
      expiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/),
      account: null,
      poolUuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
    })
    expect(Object.keys(await readJson(file))).toEqual([
      'access_token',
      'refresh_token',
      'token_type',
      'expiry_date',
      'resource_url',
    ])
    expect((await readJson(file)).expiry_date).toBe(Date.parse(payload.expiresAt))
    expect(await modeOf(file)).toBe(0o600)
    expect(await modeOf(join(env.home, '.qwen'))).toBe(0o700)
    expect(result.stderr).toMatch(
      /^Open this URL to approve the login:\nhttp:\/\/127\.0\.0\.1:\d+\/authorize\?user_code=QW\w+&client=qwen-code$/m,
    )
    expect(result.stderr).toMatch(/^Code: QW\w+ \(expires in 30:00\)$/m)
    expect(result.stdout + result.stderr).not.toContain((await readJson(file)).access_token)
    const instances = (await readJson(pools))['openai-qwen-oauth']
    expect(instances).toEqual([
      {
        QWEN_OAUTH_CREDS_FILE_PATH: file,
        checkModelName: null,
        uuid: payload.poolUuid,
        isHealthy: true,
        lastUsed: null,
        usageCount: 0,
        errorCount: 0,
        lastErrorTime: null,
      },
    ])
  })

  it('refuses to replace an existing file without --force, before any request', async () => {
    const fake = await env.track(startFakeQwenOAuth())
    const file = join(env.home, 'creds.json')
    await writeFile(file, '{"access_token":"keep"}')
    const result = await env.cli(['auth', 'login', 'qwen', '--output', file, '--no-browser'], fake.env)
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(`${file} already exists`)
    expect(result.stderr).toContain('--force')
    expect(await readFile(file, 'utf8')).toBe('{"access_token":"keep"}')
    expect(fake.requests).toHaveLength(0)
  })

  it('with --force re-logs in: keeps unknown fields, revives the pool instance that uses the file', async () => {
    const fake = await env.track(startFakeQwenOAuth())
    fake.approve()
    const file = join(env.home, 'creds.json')
    const pools = join(env.home, 'provider_pools.json')
    await writeFile(
      file,
      JSON.stringify({access_token: 'old', refresh_token: 'old', token_type: 'Bearer', expiry_date: 1, note: 'mine'}),
    )
    const instance = {
      QWEN_OAUTH_CREDS_FILE_PATH: 'creds.json',
      uuid: 'u-1',
      customName: 'main',
      isHealthy: false,
      lastErrorReason: 're-login needed: aiclient auth login qwen',
      extra: true,
    }
    await writeFile(pools, JSON.stringify({'openai-qwen-oauth': [instance]}))
    const result = await env.cli(
      ['auth', 'login', 'qwen', '-o', file, '--force', '--no-browser', '--add-to-pool', '--pools-file', pools],
      fake.env,
    )
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(
      new RegExp(
        `^Signed in to Qwen: wrote ${file} \\(token valid until \\S+Z\\); updated in ${pools} as openai-qwen-oauth u-1\\.\\n$`,
      ),
    )
    const saved = await readJson(file)
    expect(saved).toMatchObject({note: 'mine', token_type: 'Bearer'})
    expect(saved.access_token).not.toBe('old')
    expect((await readJson(pools))['openai-qwen-oauth']).toEqual([
      {...instance, isHealthy: true, lastErrorReason: null},
    ])
  })

  it('says what the server said when it refuses the login', async () => {
    const fake = await env.track(
      startFakeQwenOAuth({
        deviceReply: {
          status: 403,
          body: {error: 'access_denied', error_description: 'Qwen OAuth free tier has been discontinued'},
        },
      }),
    )
    const result = await env.cli(['auth', 'login', 'qwen', '--no-browser'], fake.env)
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(
      'Error: Qwen device authorization failed: HTTP 403 access_denied: Qwen OAuth free tier has been discontinued.',
    )
    await expect(stat(join(env.home, '.qwen'))).rejects.toMatchObject({code: 'ENOENT'})
  })

  it('Ctrl-C cancels with exit 130 and writes nothing', async () => {
    const fake = await env.track(startFakeQwenOAuth())
    const run = env.spawn(['auth', 'login', 'qwen', '--no-browser'], fake.env)
    await run.waitForStderr(/^Code: /m)
    run.child.kill('SIGINT')
    expect(await run.exit).toBe(130)
    await expect(stat(join(env.home, '.qwen', 'oauth_creds.json'))).rejects.toMatchObject({code: 'ENOENT'})
  })

  it('rejects flags of other providers', async () => {
    const result = await env.cli(['auth', 'login', 'qwen', '--port', '8085'], {})
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('--port is only for `auth login gemini`')
  })
})
