import type {DropHandler} from './types.js'
import {asArray, asObject, isObject, type JsonObject} from './values.js'

// Gemini `parameters` / `responseSchema` take an OpenAPI 3.0 subset and answer 400 to other keywords
// (`$schema`, `additionalProperties`, `$ref`, `exclusiveMinimum`, most `format`s…).
const KEPT = new Set([
  'title',
  'description',
  'nullable',
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
  'minProperties',
  'maxProperties',
  'default',
  'example',
  'propertyOrdering',
])
// Rewritten below rather than copied.
const HANDLED = new Set([
  'type',
  'format',
  'enum',
  'const',
  'properties',
  'required',
  'items',
  'anyOf',
  'oneOf',
  'allOf',
  '$ref',
  '$defs',
  'definitions',
])
const FORMATS: Record<string, readonly string[]> = {
  string: ['enum', 'date-time'],
  integer: ['int32', 'int64'],
  number: ['float', 'double'],
}

export function toGeminiSchema(schema: JsonObject, onDropped?: DropHandler): JsonObject {
  const defs = {...asObject(schema.definitions), ...asObject(schema.$defs)}
  return clean(schema, {defs, resolving: new Set(), drop: onDropped ?? (() => {})})
}

interface Scope {
  defs: JsonObject
  resolving: Set<string>
  drop: DropHandler
}

function clean(node: JsonObject, scope: Scope): JsonObject {
  if (typeof node.$ref === 'string') return inlineRef(node, node.$ref, scope)
  const out: JsonObject = {}
  for (const [key, value] of Object.entries(node)) {
    if (KEPT.has(key)) out[key] = value
    else if (!HANDLED.has(key)) scope.drop(`schema.${key}`)
  }
  setType(out, node.type)
  setEnum(out, node, scope)
  if (typeof node.format === 'string') {
    if (FORMATS[String(out.type)]?.includes(node.format)) out.format = node.format
    else scope.drop('schema.format')
  }
  if (isObject(node.properties)) {
    const properties = Object.fromEntries(
      Object.entries(node.properties).map(([name, value]) => [name, clean(asObject(value), scope)]),
    )
    if (Object.keys(properties).length > 0) out.properties = properties
  }
  const properties = isObject(out.properties) ? out.properties : {}
  const required = asArray(node.required).filter((name) => typeof name === 'string' && name in properties)
  if (required.length > 0) out.required = required
  if (isObject(node.items)) out.items = clean(node.items, scope)
  else if (node.items !== undefined) scope.drop('schema.items')
  const alternatives = [...asArrayOfObjects(node.anyOf), ...asArrayOfObjects(node.oneOf)]
  if (alternatives.length > 0) setAlternatives(out, alternatives, scope)
  for (const part of asArrayOfObjects(node.allOf)) mergeInto(out, clean(part, scope))
  return out
}

// Refs are inlined; a ref that is missing or recursive cannot be expressed and degrades to a plain object.
function inlineRef(node: JsonObject, ref: string, scope: Scope): JsonObject {
  const name = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(ref)?.[1]
  const target = name === undefined ? undefined : scope.defs[name]
  const {$ref: _, ...siblings} = node
  if (name === undefined || !isObject(target) || scope.resolving.has(name)) {
    scope.drop('schema.$ref')
    return {type: 'object', ...(typeof node.description === 'string' && {description: node.description})}
  }
  scope.resolving.add(name)
  const out = clean({...target, ...siblings}, scope)
  scope.resolving.delete(name)
  return out
}

function setType(out: JsonObject, type: unknown): void {
  if (typeof type === 'string') {
    if (type === 'null') out.nullable = true
    else out.type = type
    return
  }
  if (!Array.isArray(type)) return
  const types = type.filter((entry): entry is string => typeof entry === 'string' && entry !== 'null')
  if (types.length < type.length) out.nullable = true
  if (types.length === 1) out.type = types[0]
  else if (types.length > 1) out.anyOf = types.map((entry) => ({type: entry}))
}

// Gemini enums are lists of strings on a string schema.
function setEnum(out: JsonObject, node: JsonObject, scope: Scope): void {
  const values = Array.isArray(node.enum) ? node.enum : node.const !== undefined ? [node.const] : undefined
  if (values === undefined) return
  if (values.every((value) => typeof value === 'string')) {
    out.type ??= 'string'
    out.enum = values
  } else scope.drop('schema.enum')
}

function setAlternatives(out: JsonObject, alternatives: JsonObject[], scope: Scope): void {
  const cleaned = alternatives.map((alternative) => clean(alternative, scope))
  const nonNull = cleaned.filter((alternative) => !(alternative.nullable === true && alternative.type === undefined))
  if (nonNull.length < cleaned.length) out.nullable = true
  if (nonNull.length === 1 && nonNull[0]) mergeInto(out, nonNull[0])
  else if (nonNull.length > 1) out.anyOf = nonNull
}

function mergeInto(out: JsonObject, part: JsonObject): void {
  for (const [key, value] of Object.entries(part)) {
    if (key === 'properties' && isObject(out.properties) && isObject(value)) {
      out.properties = {...out.properties, ...value}
    } else if (key === 'required' && Array.isArray(out.required) && Array.isArray(value)) {
      out.required = [...new Set([...out.required, ...value])]
    } else out[key] ??= value
  }
}

function asArrayOfObjects(value: unknown): JsonObject[] {
  return Array.isArray(value) ? value.filter(isObject) : []
}

// Gemini clients built on the google-genai SDK send OpenAPI type names in upper case ("OBJECT"); JSON Schema
// targets need them lower-cased.
export function fromGeminiSchema(schema: JsonObject): JsonObject {
  const out: JsonObject = {...schema}
  if (typeof out.type === 'string') out.type = out.type.toLowerCase()
  if (isObject(out.properties)) {
    out.properties = Object.fromEntries(
      Object.entries(out.properties).map(([name, value]) => [name, isObject(value) ? fromGeminiSchema(value) : value]),
    )
  }
  if (isObject(out.items)) out.items = fromGeminiSchema(out.items)
  if (Array.isArray(out.anyOf)) {
    out.anyOf = out.anyOf.map((value) => (isObject(value) ? fromGeminiSchema(value) : value))
  }
  return out
}
