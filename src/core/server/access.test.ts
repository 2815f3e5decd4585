import {describe, expect, it} from 'vitest'
import {checkAccess, isLoopbackName, normalizeOrigin} from './access.js'

describe('isLoopbackName', () => {
  it('knows every spelling of this machine, and nothing that only starts like one', () => {
    for (const name of [
      'localhost',
      'LOCALHOST',
      'localhost.',
      'app.localhost',
      '127.0.0.1',
      '127.255.0.9',
      '0x7f.1',
      '::1',
      '[::1]',
      '0:0:0:0:0:0:0:1',
      '::ffff:127.0.0.1',
    ]) {
      expect(isLoopbackName(name), name).toBe(true)
    }
    for (const name of [
      '0.0.0.0',
      '::',
      '10.0.0.1',
      '127.0.0.1.evil.example',
      'localhost.evil.example',
      'evil.example',
      '',
      '[',
      'a@127.0.0.1',
    ]) {
      expect(isLoopbackName(name), name).toBe(false)
    }
  })
})

describe('normalizeOrigin', () => {
  it('writes origins as browsers send them', () => {
    expect(normalizeOrigin('HTTP://LocalHost:5173/')).toBe('http://localhost:5173')
    expect(normalizeOrigin('https://app.example:443')).toBe('https://app.example')
    expect(normalizeOrigin('chrome-extension://ABCdef')).toBe('chrome-extension://abcdef')
    for (const bad of ['*', 'null', '', 'https://app.example/x', 'https://app.example?q', 'app.example'])
      expect(normalizeOrigin(bad), bad).toBeUndefined()
  })
})

describe('checkAccess', () => {
  const target = new URL('http://localhost/v1/chat/completions')
  const open = {keyRequired: false, corsOrigins: ['https://app.example']}
  it('without a key: loopback Host only; own or listed Origin only', () => {
    expect(checkAccess(open, {host: '127.0.0.1:3000'}, target, false).allowed).toBe(true)
    expect(checkAccess(open, {}, target, false).allowed).toBe(true)
    expect(checkAccess(open, {host: 'evil.example:3000'}, target, false).allowed).toBe(false)
    expect(checkAccess(open, {host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3000'}, target, false)).toMatchObject({
      allowed: true,
      corsHeaders: {'access-control-allow-origin': 'http://127.0.0.1:3000'},
    })
    expect(checkAccess(open, {host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3001'}, target, false).allowed).toBe(
      false,
    )
    expect(checkAccess(open, {host: '127.0.0.1:3000', origin: 'https://app.example'}, target, false).allowed).toBe(true)
    expect(checkAccess(open, {host: '127.0.0.1:3000'}, new URL('http://evil.example/v1/models'), true).allowed).toBe(
      false,
    )
  })
  it('with a key: any Host; only listed Origins', () => {
    const keyed = {...open, keyRequired: true}
    expect(checkAccess(keyed, {host: 'my-server.lan'}, target, false).allowed).toBe(true)
    expect(checkAccess(keyed, {host: 'my-server.lan', origin: 'http://localhost:5173'}, target, false).allowed).toBe(
      false,
    )
    expect(checkAccess(keyed, {host: 'my-server.lan', origin: 'https://app.example'}, target, false).allowed).toBe(true)
  })
})
