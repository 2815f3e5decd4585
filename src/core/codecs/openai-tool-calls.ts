import type {IRToolCall} from './ir.js'
import type {DropHandler} from './types.js'
import {isObject, parseJsonObject, type JsonObject} from './values.js'

export function encodeToolCall(call: IRToolCall): JsonObject {
  return {id: call.id, type: 'function', function: {name: call.name, arguments: JSON.stringify(call.input)}}
}

// Models occasionally emit arguments that are not a JSON object; the call is kept (so its result still
// pairs with it) with empty arguments.
export function decodeArguments(value: unknown, drop: DropHandler): JsonObject {
  if (isObject(value)) return value
  const parsed = typeof value === 'string' ? parseJsonObject(value) : undefined
  if (parsed === undefined && value !== undefined && value !== null) drop('tool_calls.function.arguments')
  return parsed ?? {}
}
