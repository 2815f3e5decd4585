import {errorMessage} from '../errors.js'
import {HttpError} from './http-error.js'

/** The request body as a JSON object, or a 400 that says what is wrong with it. */
export function parseJsonBody(body: Buffer): Record<string, unknown> {
  let json: unknown
  try {
    json = JSON.parse(body.toString('utf8'))
  } catch (error) {
    throw new HttpError(400, `The request body is not valid JSON: ${errorMessage(error)}`)
  }
  if (!json || typeof json !== 'object' || Array.isArray(json))
    throw new HttpError(400, 'The request body must be a JSON object.')
  return json as Record<string, unknown>
}

/** The request's `stream`: a boolean, or absent (`null` too, as OpenAI documents it). */
export function streamFlag(json: Record<string, unknown>): boolean {
  const value = json.stream
  if (value === undefined || value === null) return false
  if (typeof value !== 'boolean')
    throw new HttpError(400, `"stream" must be true or false, not ${JSON.stringify(value)}.`)
  return value
}

/** The request's `model`, which every chat and count_tokens request must name. */
export function requiredModel(model: unknown): string {
  if (typeof model !== 'string' || model === '') throw new HttpError(400, 'The request has no "model".')
  return model
}
