import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {startFakeGoogleOAuth} from '../fakes/oauth/index.js'
import {loginTestEnv, modeOf, readJson, refused} from './helpers/login-env.js'

const env = loginTestEnv()

describe('auth login gemini', () => {
  it('--no-browser prints the URL on a line of its own; the browser comes back; project discovered and pooled', async () => {
    const fake = await env.track(startFakeGoogleOAuth({email: 'dev@example.com', codeAssist: {project: 'proj-42'}}))
    const pools = join(env.home, 'provider_pools.json')
    const run = env.spawn(['auth', 'login', 'gemini', '--no-browser', '--add-to-pool', '--pools-file', pools], fake.env)
    const [, url] = await run.waitForStderr(/^(http:\/\/127\.0\.0\.1:\d+\/o\/oauth2\/v2\/auth\?\S+)$/m)
    const redirectUri = new URL(url!).searchParams.get('redirect_uri')!
    expect(redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/oauth2callback$/)

    const forged = await fake.browse(url!, {state: 'forged'})
    expect(forged.status).toBe(400)
    await run.waitForStderr(/^Ignored: .*state mismatch/m)
    expect((await fake.browse(url!)).status).toBe(200)

    expect(await run.exit).toBe(0)
    const file = join(env.home, '.gemini', 'oauth_creds.json')
    expect(run.stdout()).toMatch(
      new RegExp(
        `^Signed in to Gemini \\(Google\\) as dev@example.com: wrote ${file} \\(token valid until \\S+\\), project proj-42; added to`,
      ),
    )
    expect(Object.keys(await readJson(file)).sort()).toEqual([
      'access_token',
      'expiry_date',
      'id_token',
      'refresh_token',
      'scope',
      'token_type',
    ])
    expect(await modeOf(file)).toBe(0o600)
    expect((await readJson(pools))['gemini-cli-oauth'][0]).toMatchObject({
      GEMINI_OAUTH_CREDS_FILE_PATH: file,
      PROJECT_ID: 'proj-42',
      customName: 'dev@example.com',
    })
    expect(await refused(Number(new URL(redirectUri).port))).toBe(true)
    expect(run.stderr()).not.toMatch(/code=/)
  })

  it('completes with the redirect URL pasted on stdin, and skips discovery with --project-id', async () => {
    const fake = await env.track(startFakeGoogleOAuth())
    const run = env.spawn(
      ['auth', 'login', 'gemini', '--no-browser', '--project-id', 'given', '--json', '-o', join(env.home, 'g.json')],
      fake.env,
    )
    const [, url] = await run.waitForStderr(/^(http:\/\/127\.0\.0\.1:\d+\/o\/oauth2\/v2\/auth\?\S+)$/m)
    run.child.stdin.write('this is not it\n')
    await run.waitForStderr(/^Ignored: That is not a URL/m)
    run.child.stdin.write(`${await fake.redirectFor(url!)}\n`)
    expect(await run.exit).toBe(0)
    expect(JSON.parse(run.stdout())).toMatchObject({provider: 'gemini', account: 'user@example.com', poolUuid: null})
    expect(fake.calls('/v1internal:loadCodeAssist')).toHaveLength(0)
  })

  it('Ctrl-C closes the loopback listener and exits 130', async () => {
    const fake = await env.track(startFakeGoogleOAuth())
    const run = env.spawn(['auth', 'login', 'gemini', '--no-browser'], fake.env)
    const [, url] = await run.waitForStderr(/^(http:\/\/127\.0\.0\.1:\d+\/o\/oauth2\/v2\/auth\?\S+)$/m)
    const port = Number(new URL(new URL(url!).searchParams.get('redirect_uri')!).port)
    expect(await refused(port)).toBe(false)
    run.child.kill('SIGINT')
    expect(await run.exit).toBe(130)
    expect(await refused(port)).toBe(true)
  })

  it('tells a login without a Code Assist licence what the server said, keeping the file', async () => {
    const fake = await env.track(
      startFakeGoogleOAuth({
        codeAssist: {
          loadReply: {
            status: 200,
            body: {
              currentTier: {id: 'free-tier'},
              ineligibleTiers: [
                {tierId: 'standard-tier', reasonCode: 'INELIGIBLE_ACCOUNT', reasonMessage: 'Not licensed.'},
              ],
            },
          },
        },
      }),
    )
    const run = env.spawn(['auth', 'login', 'gemini', '--no-browser'], fake.env)
    const [, url] = await run.waitForStderr(/^(http:\/\/127\.0\.0\.1:\d+\/o\/oauth2\/v2\/auth\?\S+)$/m)
    await fake.browse(url!)
    expect(await run.exit).toBe(1)
    expect(run.stderr()).toContain(
      'but code Assist offers this account no project. The server says: standard-tier: INELIGIBLE_ACCOUNT: Not licensed.',
    )
    expect(run.stderr()).toContain('aiclient pool add gemini-cli-oauth --creds-file')
    expect(await modeOf(join(env.home, '.gemini', 'oauth_creds.json'))).toBe(0o600)
  })
})
