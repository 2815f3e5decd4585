import {HttpStatusError} from '../http-status-error.js'

/** A request the server itself refuses (bad body, unknown type, limits), answered in the client's protocol. */
export class HttpError extends HttpStatusError {
  override name = 'HttpError'

  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message, status, 'request_refused', headers)
  }
}
