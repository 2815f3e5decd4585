import {describe, expect, it} from 'vitest'
import {maskSecret, redact, rememberSecrets, secretValues} from './secrets.js'

describe('secretValues', () => {
  it('takes the values of fields named as secrets, and leaves fields that only mention one', () => {
    const values = secretValues({
      access_token: 'ya29.an-access-token-value',
      refresh_token: '1//a-refresh-token-value',
      clientSecret: 'a-client-secret-value',
      OPENAI_API_KEY: 'sk-an-api-key-value-0123',
      token_uri: 'https://oauth2.googleapis.com/token',
      token_type: 'Bearer',
      tokenType: 'Bearer-but-long-enough',
      customName: 'not-a-secret-at-all',
      id_token: 'short',
    })
    expect(values).toEqual([
      'ya29.an-access-token-value',
      '1//a-refresh-token-value',
      'a-client-secret-value',
      'sk-an-api-key-value-0123',
    ])
  })
})

describe('redact', () => {
  it('masks every secret remembered, whoever it belongs to', () => {
    rememberSecrets('test/a', ['sk-first-secret-000000aaaa'])
    rememberSecrets('test/b', ['second-secret-000000bbbb'])
    expect(redact('a sk-first-secret-000000aaaa and second-secret-000000bbbb, twice: second-secret-000000bbbb')).toBe(
      `a ${maskSecret('sk-first-secret-000000aaaa')} and ${maskSecret('second-secret-000000bbbb')}, twice: ${maskSecret('second-secret-000000bbbb')}`,
    )
    expect(redact('nothing to see')).toBe('nothing to see')
  })

  it('finds secrets written the way JSON and URLs may escape them', () => {
    const secret = '1//0g-refresh+token/with=slashes'
    rememberSecrets('test/escaped', [secret])
    for (const form of [secret, secret.replaceAll('/', '\\/'), encodeURIComponent(secret)]) {
      expect(redact(`refresh_token=${form} was refused`)).toBe(`refresh_token=${maskSecret(secret)} was refused`)
    }
  })

  it('masks a longer secret whole when a shorter one is part of it', () => {
    rememberSecrets('test/nested', ['nested-secret-01', 'nested-secret-0123456789'])
    expect(redact('x nested-secret-0123456789 y')).toBe(`x ${maskSecret('nested-secret-0123456789')} y`)
  })

  it('keeps an owner to its last few values, so rotating tokens do not pile up', () => {
    const tokens = Array.from({length: 9}, (_, n) => `rotating-token-${n}-abcdefgh`)
    for (const token of tokens) rememberSecrets('test/rotating', [token])
    expect(redact(tokens[0]!)).toBe(tokens[0])
    for (const token of tokens.slice(1)) expect(redact(token)).toBe(maskSecret(token))
    // Seen again, an old value counts as new.
    rememberSecrets('test/rotating', [tokens[1]!, 'rotating-token-9-abcdefgh'])
    expect(redact(tokens[1]!)).toBe(maskSecret(tokens[1]!))
    expect(redact(tokens[2]!)).toBe(tokens[2])
  })

  it('ignores values too short to be told from ordinary words', () => {
    rememberSecrets('test/short', ['Bearer', 'abc'])
    expect(redact('Bearer abc')).toBe('Bearer abc')
  })
})
