import {connect} from 'node:net'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {startGeminiLogin} from '../../src/core/oauth/gemini.js'
import type {LoginEvent} from '../../src/core/oauth/flow.js'
import {startFakeGoogleOAuth, type FakeGoogleOAuth} from '../fakes/oauth/index.js'
import {spawnCli, tempDir} from '../helpers/cli.js'

/**
 * Anything on the machine can talk to the login's loopback port, and browsers send odd things too. Whatever
 * arrives, the listener answers it and keeps waiting for the real redirect; the login never crashes.
 */

let fake: FakeGoogleOAuth | undefined
afterEach(async () => {
  await fake?.close()
  fake = undefined
})

/** Sends a raw request (the target exactly as given) and returns the status line of the answer. */
function rawRequest(port: number, requestLine: string, headers = 'Host: 127.0.0.1\r\n'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({port, host: '127.0.0.1'}, () =>
      socket.write(`${requestLine}\r\n${headers}Connection: close\r\n\r\n`),
    )
    let answer = ''
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')))
    socket.on('close', () => resolve(answer.split('\r\n')[0]!))
    socket.on('error', reject)
  })
}

describe('the gemini login loopback listener', () => {
  it('answers malformed, foreign and repeated-parameter requests with an error page and still completes the login', async () => {
    fake = await startFakeGoogleOAuth()
    const events: LoginEvent[] = []
    const login = await startGeminiLogin({
      endpoints: {
        GOOGLE_AUTH_URL: fake.authUrl,
        GOOGLE_TOKEN_URL: fake.tokenUrl,
        GOOGLE_USERINFO_URL: fake.userinfoUrl,
      },
      onEvent: (event) => events.push(event),
    })
    const auth = new URL(login.authUrl)
    const port = Number(new URL(auth.searchParams.get('redirect_uri')!).port)
    const state = auth.searchParams.get('state')!
    const answers: Record<string, string> = {}
    for (const target of [
      'http://[',
      'http://127.0.0.1:1/oauth2callback?code=abs',
      '*',
      '?code=no-path',
      '/%E0%A4%A?code=bad-percent',
      `/oauth2callback?%E0%A4%A&state=${state}`,
      `//evil.example/oauth2callback?state=${state}&code=host-confusion`,
      `/oauth2callback?state=${state}&state=${state}&code=twice&code=again`,
      `/oauth2callback?state=nope&state=${state}&code=c`,
    ]) {
      answers[target] = await rawRequest(port, `GET ${target} HTTP/1.1`)
    }
    answers['huge header'] = await rawRequest(
      port,
      `GET /oauth2callback?state=${state}&code=big HTTP/1.1`,
      `Host: 127.0.0.1\r\nX-Big: ${'a'.repeat(40_000)}\r\n`,
    )
    expect(answers).toEqual({
      'http://[': 'HTTP/1.1 400 Bad Request',
      'http://127.0.0.1:1/oauth2callback?code=abs': 'HTTP/1.1 400 Bad Request',
      '*': 'HTTP/1.1 400 Bad Request',
      '?code=no-path': 'HTTP/1.1 400 Bad Request',
      '/%E0%A4%A?code=bad-percent': 'HTTP/1.1 404 Not Found',
      [`/oauth2callback?%E0%A4%A&state=${state}`]: 'HTTP/1.1 400 Bad Request',
      [`//evil.example/oauth2callback?state=${state}&code=host-confusion`]: 'HTTP/1.1 404 Not Found',
      [`/oauth2callback?state=${state}&state=${state}&code=twice&code=again`]: 'HTTP/1.1 400 Bad Request',
      [`/oauth2callback?state=nope&state=${state}&code=c`]: 'HTTP/1.1 400 Bad Request',
      'huge header': 'HTTP/1.1 431 Request Header Fields Too Large',
    })
    expect(events.filter((e) => e.type === 'callback_rejected').map((e) => (e as {message: string}).message)).toContain(
      'The redirect repeats a parameter, so it cannot be trusted; it was ignored.',
    )
    // The positive control: the real redirect still completes the login.
    expect((await fake.browse(login.authUrl)).status).toBe(200)
    expect((await login.result).account).toBe('user@example.com')
  })

  it('auth login gemini survives a malformed request target, answers 400 and completes', async () => {
    fake = await startFakeGoogleOAuth()
    const {dir, cleanup} = await tempDir('aiclient-login-')
    try {
      const run = spawnCli(
        ['auth', 'login', 'gemini', '--no-browser', '--project-id', 'p', '-o', join(dir, 'g.json')],
        {home: dir, env: {CI: 'true', ...fake.env}},
      )
      const [, url] = await run.waitForStderr(/^(http:\/\/127\.0\.0\.1:\d+\/o\/oauth2\/v2\/auth\?\S+)$/m)
      const port = Number(new URL(new URL(url!).searchParams.get('redirect_uri')!).port)
      expect(await rawRequest(port, 'GET http://[ HTTP/1.1')).toBe('HTTP/1.1 400 Bad Request')
      expect((await fake.browse(url!)).status).toBe(200)
      expect(await run.exit).toBe(0)
      expect(run.stderr()).not.toMatch(/TypeError|Invalid URL|\n\s+at /)
    } finally {
      await cleanup()
    }
  })
})
