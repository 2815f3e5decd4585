import {describe, expect, it} from 'vitest'
import {maskSecret, rememberSecrets} from '../secrets.js'
import {HELD_LINE_LIMIT, scrubErrorLines, scrubErrorText} from './scrub.js'

const KEY = 'sk-scrub-test-key-00112233'
rememberSecrets('test/scrub', [KEY])

const OK_EVENT = 'data: {"choices":[{"delta":{"content":"an \\"error\\" in the text"}}]}\n\n'
const ERROR_EVENT = `data: {"error":{"message":"bad key ${KEY}","type":"invalid_request_error"}}\n\n`

function run(reads: Buffer[]): string {
  const scrubber = scrubErrorLines()
  return [...reads.map((read) => scrubber.push(read)), scrubber.end()].map((out) => out.toString()).join('')
}

describe('scrubErrorLines', () => {
  it('passes ordinary events through as the very same bytes, whatever the model says', () => {
    const scrubber = scrubErrorLines()
    const chunk = Buffer.from(`${OK_EVENT}data: {"choices":[{"delta":{"content":"your key is ${KEY}, a mirror"}}]}\n\n`)
    expect(scrubber.push(chunk)).toBe(chunk)
    expect(scrubber.end()).toBe('')
  })

  it('takes an error key whose value is null for no error, as every Responses event that carries the response has', () => {
    const scrubber = scrubErrorLines()
    const created = Buffer.from(
      `event: response.created\ndata: {"type":"response.created","response":{"id":"resp_1","error":null,"status":"in_progress"}}\n\n` +
        `data: {"error" : null, "text":"your key is ${KEY}"}\n\n`,
    )
    expect(scrubber.push(created)).toBe(created)
    // The positive control: an error object in the same place is redacted.
    expect(run([Buffer.from(`data: {"error": {"message":"bad key ${KEY}"}}\n\n`)])).not.toContain(KEY)
  })

  it('redacts an error event at every cut between two reads', () => {
    const whole = Buffer.from(OK_EVENT + ERROR_EVENT)
    const expected = OK_EVENT + ERROR_EVENT.replace(KEY, maskSecret(KEY))
    for (let cut = 0; cut <= whole.length; cut++) {
      expect(run([whole.subarray(0, cut), whole.subarray(cut)]), `cut at ${cut}`).toBe(expected)
    }
    expect(run(Array.from(whole, (byte) => Buffer.of(byte)))).toBe(expected)
  })

  it('holds no more than the limit of a line without an end', () => {
    const scrubber = scrubErrorLines()
    const long = Buffer.alloc(HELD_LINE_LIMIT + 1, 'x')
    expect(scrubber.push(Buffer.from('data: '))).toBe('')
    expect(scrubber.push(long).length).toBe(long.length + 'data: '.length)
    expect(scrubber.end()).toBe('')
  })

  it('redacts everything after an error line: an event over several lines, the last words', () => {
    const spread = `event: error\ndata: {"type": "error",\ndata: "message": "bad key ${KEY}"}\n\n`
    expect(
      run([
        Buffer.from(OK_EVENT),
        Buffer.from(spread.slice(0, 40)),
        Buffer.from(spread.slice(40)),
        Buffer.from(`: closing after ${KEY}\n`),
      ]),
    ).toBe(OK_EVENT + spread.replace(KEY, maskSecret(KEY)) + `: closing after ${maskSecret(KEY)}\n`)
  })

  it('redacts an error in a stream that ends without a line break', () => {
    expect(run([Buffer.from(ERROR_EVENT.trimEnd())])).toBe(ERROR_EVENT.trimEnd().replace(KEY, maskSecret(KEY)))
  })
})

describe('scrubErrorText', () => {
  it('redacts whole events that carry an error and leaves the others alone', () => {
    expect(scrubErrorText(ERROR_EVENT)).toBe(ERROR_EVENT.replace(KEY, maskSecret(KEY)))
    expect(scrubErrorText(OK_EVENT)).toBe(OK_EVENT)
  })
})
