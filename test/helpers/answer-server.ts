import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'

export interface AnswerServer {
  /** An OpenAI SDK `baseURL` that reaches the server. */
  baseURL: string
  /** Bodies of the requests it received, parsed as JSON. */
  requests: unknown[]
  close(): Promise<void>
}

/**
 * A loopback server that answers every request with `body`: lets a real client library read exactly the bytes a
 * codec produced, through a real HTTP stack.
 */
export async function serveAnswer(body: string, contentType: string): Promise<AnswerServer> {
  const requests: unknown[] = []
  const server = createServer((req, res) => {
    let text = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => (text += chunk))
    req.on('end', () => {
      requests.push(JSON.parse(text || 'null'))
      res.writeHead(200, {'content-type': contentType})
      res.end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
