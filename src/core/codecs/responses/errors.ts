// SKELETON: replaced by the Responses error codec.
export function responsesErrorBody(status: number, message: string): unknown {
  throw new Error(`not implemented ${status} ${message}`)
}
export function responsesStreamErrorEvent(message: string, status = 500): string {
  throw new Error(`not implemented ${status} ${message}`)
}
