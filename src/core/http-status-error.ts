/**
 * A failure that is answered to an HTTP client with `status`, in the client's protocol. Like undici's errors,
 * every subclass sets its own `name` and a stable machine `code` to branch on; the message is for people.
 * It sits at the root of core so that codecs, proxy and server share it without importing each other.
 */
export class HttpStatusError extends Error {
  override name = 'HttpStatusError'

  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    /** Headers the answer carries besides the error body (`retry-after`, `connection: close`). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message)
  }
}
