import {describe, expect, it} from 'vitest'
import type {ClientSink} from '../../http/client-sink.js'
import {FinalResponseCapture} from './final-response.js'

function nullSink(): ClientSink {
  return {
    started: false,
    gone: false,
    send: () => {},
    start: () => {},
    write: () => undefined,
    end: () => {},
    onGone: () => () => {},
  }
}

const response = {id: 'resp_1', object: 'response', status: 'completed', output: [{type: 'message', content: []}]}
const stream = [
  'event: response.created\ndata: {"type":"response.created","sequence_number":0,"response":{"id":"resp_1","output":[]}}\n\n',
  'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":1,"delta":"hi"}\n\n',
  `event: response.completed\ndata: ${JSON.stringify({type: 'response.completed', sequence_number: 2, response})}\n\n`,
].join('')

describe('FinalResponseCapture', () => {
  it('finds the completed response of a stream cut at every byte boundary', () => {
    const bytes = Buffer.from(stream)
    for (let cut = 1; cut < bytes.length; cut++) {
      const capture = new FinalResponseCapture()
      const sink = capture.wrap(nullSink())
      void sink.write(bytes.subarray(0, cut))
      sink.end(bytes.subarray(cut))
      expect(capture.response(), `cut at ${cut}`).toEqual(response)
    }
  })

  it('finds nothing in a stream that did not complete, or in an error answer', () => {
    const cutOff = new FinalResponseCapture()
    cutOff.wrap(nullSink()).end(stream.slice(0, stream.indexOf('event: response.completed')))
    expect(cutOff.response()).toBeUndefined()
    const refused = new FinalResponseCapture()
    refused.wrap(nullSink()).send(400, {}, JSON.stringify({error: {message: 'no'}}))
    expect(refused.response()).toBeUndefined()
  })

  it('takes a plain answer as it is and passes everything on to the client', () => {
    const capture = new FinalResponseCapture()
    const sent: string[] = []
    const sink = capture.wrap({...nullSink(), send: (_status, _headers, body) => void sent.push(String(body))})
    sink.send(200, {}, JSON.stringify(response))
    expect(capture.response()).toEqual(response)
    expect(sent).toEqual([JSON.stringify(response)])
  })

  it('is not fooled by the marker inside generated text', () => {
    const capture = new FinalResponseCapture()
    const text = stream.replace('"delta":"hi"', '"delta":"see response.completed below"')
    capture.wrap(nullSink()).end(text)
    expect(capture.response()).toEqual(response)
  })
})
