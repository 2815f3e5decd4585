import {mkdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {startFakeAwsSsoOidc, startFakeKiroAuthService} from '../fakes/oauth/index.js'
import {loginTestEnv, modeOf, readJson} from './helpers/login-env.js'

const env = loginTestEnv()

describe('auth login kiro', () => {
  it('builder-id writes the Kiro token file when none exists, 0600 under 0700 directories', async () => {
    const oidc = await env.track(startFakeAwsSsoOidc())
    const auth = await env.track(startFakeKiroAuthService())
    oidc.approve()
    const result = await env.cli(['auth', 'login', 'kiro', '--json', '--no-browser'], {...oidc.env, ...auth.env})
    expect(result.code).toBe(0)
    const file = join(env.home, '.aws', 'sso', 'cache', 'kiro-auth-token.json')
    expect(JSON.parse(result.stdout)).toMatchObject({
      provider: 'kiro',
      credsFile: file,
      account: expect.stringContaining('FAKEPROFILE'),
    })
    expect(await readJson(file)).toMatchObject({
      authMethod: 'builder-id',
      idcRegion: 'us-east-1',
      clientId: expect.any(String),
      expiresAt: expect.stringMatching(/Z$/),
    })
    expect(await modeOf(file)).toBe(0o600)
    for (const dir of ['.aws', '.aws/sso', '.aws/sso/cache']) expect(await modeOf(join(env.home, dir))).toBe(0o700)
    expect(result.stderr).toMatch(/^Code: ABCD-\w+/m)
  })

  it('never replaces an existing Kiro IDE token silently', async () => {
    const oidc = await env.track(startFakeAwsSsoOidc())
    const file = join(env.home, '.aws', 'sso', 'cache', 'kiro-auth-token.json')
    await mkdir(join(env.home, '.aws', 'sso', 'cache'), {recursive: true})
    await writeFile(file, '{"accessToken":"ide"}')
    const result = await env.cli(['auth', 'login', 'kiro', '--no-browser'], oidc.env)
    expect(result.code).toBe(2)
    expect(await readFile(file, 'utf8')).toBe('{"accessToken":"ide"}')
  })

  it('github: the pasted kiro:// link completes the login', async () => {
    const auth = await env.track(startFakeKiroAuthService())
    const file = join(env.home, 'kiro', 'github.json')
    const run = env.spawn(
      ['auth', 'login', 'kiro', '--method', 'github', '--no-browser', '--json', '-o', file],
      auth.env,
    )
    const [, url] = await run.waitForStderr(/^(http:\/\/127\.0\.0\.1:\d+\/login\?\S+)$/m)
    await run.waitForStderr(/kiro:\/\/ link/)
    run.child.stdin.write(`${await auth.redirectFor(url!)}\n`)
    expect(await run.exit).toBe(0)
    expect(JSON.parse(run.stdout())).toMatchObject({provider: 'kiro', credsFile: file})
    expect(await readJson(file)).toMatchObject({
      authMethod: 'social',
      provider: 'Github',
      refreshToken: expect.stringMatching(/^aorSocial/),
    })
    expect(auth.calls('/oauth/token')[0]!.body.redirect_uri).toBe('kiro://kiro.kiroAgent/authenticate-success')
  })

  it('google: fails at once when stdin ends without a link', async () => {
    const auth = await env.track(startFakeKiroAuthService())
    const result = await env.cli(
      ['auth', 'login', 'kiro', '--method', 'google', '--no-browser', '-o', join(env.home, 'k.json')],
      auth.env,
      '',
    )
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('The input ended before the link was pasted.')
  })
})
