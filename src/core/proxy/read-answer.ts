import type {Dispatcher} from 'undici'
import {errorMessage} from '../errors.js'
import {DEFAULT_ERROR_BODY_LIMIT, readLimited, readText} from '../http/body.js'
import {classifyError, upstreamErrorMessage, type Outcome} from '../providers/outcome.js'

export type Answer = {bytes: Buffer; json: unknown} | {problem: string; outcome?: Outcome}

/**
 * Reads a successful plain answer and makes sure it is one: JSON, within the size limit, and not an error
 * object dressed as a 200 (some OpenAI-compatible servers do that). Anything else fails over.
 */
export async function readAnswer(response: Dispatcher.ResponseData, limit: number): Promise<Answer> {
  const type = String(response.headers['content-type'] ?? '')
  if (type !== '' && !/json/i.test(type)) {
    await response.body.dump().catch(() => {})
    return {problem: `answer of type ${type.split(';')[0]} instead of JSON`}
  }
  const declared = Number(response.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) {
    response.body.destroy()
    return {problem: `answer larger than ${limit} bytes`}
  }
  let bytes: Buffer
  try {
    // A declared length within the limit can be read in one go; only unbounded answers are counted as they come.
    const read = Number.isFinite(declared)
      ? Buffer.from(await response.body.arrayBuffer())
      : await readLimited(response.body, limit)
    if (!read) return {problem: `answer larger than ${limit} bytes`}
    bytes = read
  } catch (error) {
    return {problem: errorMessage(error), outcome: classifyError(error)}
  }
  let json: unknown
  try {
    json = JSON.parse(bytes.toString('utf8'))
  } catch {
    return {problem: 'answer is not valid JSON'}
  }
  if (isErrorObject(json))
    return {problem: `error in a 200 answer: ${errorDetail(bytes.toString('utf8')) || 'no message'}`}
  return {bytes, json}
}

function isErrorObject(json: unknown): boolean {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return false
  const record = json as Record<string, unknown>
  return (
    'error' in record &&
    record.error !== null &&
    !('choices' in record) &&
    !('content' in record) &&
    !('candidates' in record) &&
    !('response' in record)
  )
}

/** An upstream error body, read up to the limit; '' when it was longer (then it is not read on) or broke off. */
export async function errorBody(response: Dispatcher.ResponseData, limit = DEFAULT_ERROR_BODY_LIMIT): Promise<string> {
  const read = await readText(response.body, limit).catch(() => undefined)
  return read?.complete ? read.text : ''
}

const ERROR_DETAIL_LIMIT = 300

/** A short hint from an upstream error body, for the log and the final error message. */
export function errorDetail(text: string): string {
  return (upstreamErrorMessage(text) ?? '').slice(0, ERROR_DETAIL_LIMIT)
}
