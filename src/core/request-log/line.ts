import type {RequestRecord} from '../proxy/types.js'
import {maskSecret, redact} from '../secrets.js'
import type {BodyExcerpt, Exchange} from './capture.js'

/**
 * One request as a JSON line. Every secret the process holds is masked wherever it appears (an upstream error
 * can quote a key), and so is the value of every secret-named field of the bodies.
 */
export function requestLogLine(record: RequestRecord, exchange?: Exchange): string {
  const line = {
    time: new Date(record.time).toISOString(),
    route: record.route,
    protocol: record.protocol,
    type: record.type,
    fallbackFrom: record.fallbackFrom,
    instance: record.instance,
    instanceId: record.instanceId,
    model: record.model,
    upstreamModel: record.upstreamModel,
    status: record.status,
    attempts: record.attempts,
    ms: record.ms,
    ttftMs: record.ttftMs,
    stream: record.stream,
    usage: record.usage,
    error: record.error,
    ...(exchange && {...body('request', exchange.request), ...body('response', exchange.response)}),
  }
  return redact(JSON.stringify(line)).replace(
    INVISIBLE,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

function body(name: 'request' | 'response', excerpt: BodyExcerpt): Record<string, unknown> {
  return {
    [`${name}Body`]: redact(maskSecretFields(excerpt.text)),
    ...(excerpt.truncated && {[`${name}BodyTruncated`]: true}),
  }
}

/** A field whose name ends in a secret word (`api_key`, `x-api-key`, `access_token`, `clientSecret`, `key`). */
const SECRET_NAME = String.raw`[\w.-]*(?:key|token|secret|password|authorization)`
/** `"name": "value"` as JSON has it, and as it has it inside a string (a tool call's arguments): `\"name\":\"value\"`. */
const SECRET_FIELDS = [
  new RegExp(String.raw`("${SECRET_NAME}"\s*:\s*")((?:[^"\\]|\\.)*)(")`, 'gi'),
  new RegExp(String.raw`(\\"${SECRET_NAME}\\"\s*:\s*\\")((?:[^"\\]|\\[^"])*)(\\")`, 'gi'),
]

/** Masks the values of secret-named fields in JSON text, or in text made of JSON (an event stream). */
export function maskSecretFields(text: string): string {
  let out = text
  for (const pattern of SECRET_FIELDS)
    out = out.replace(
      pattern,
      (_match, open: string, value: string, close: string) => `${open}${maskSecret(value)}${close}`,
    )
  return out
}

/**
 * What JSON.stringify leaves as it is but a terminal showing the file (`tail -f`) would act on or reorder: DEL and
 * C1 controls, the line and paragraph separators, bidi overrides. They can only be inside strings, where a `\u`
 * escape reads back the same.
 */
const INVISIBLE = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g
