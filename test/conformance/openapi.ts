// Validates JSON values against the schemas of OpenAI's OpenAPI document that test/fixtures/openapi keeps, with
// ajv: OpenAPI 3.1 schemas are JSON Schema 2020-12.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {Ajv2020, type ErrorObject} from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import {ROOT} from '../helpers/cli.js'
import type {Sample, Violation, WireType} from './typecheck.js'

const SUBSET: {components: {schemas: Record<string, any>}} = JSON.parse(
  readFileSync(join(ROOT, 'test', 'fixtures', 'openapi', 'openai-subset.json'), 'utf8'),
)

/** The schema of the document each answer of OpenAI's protocols must fit */
const SCHEMA_OF: Partial<Record<WireType, string>> = {
  OpenAIChatCompletion: 'CreateChatCompletionResponse',
  OpenAIChatCompletionChunk: 'CreateChatCompletionStreamResponse',
  OpenAIError: 'ErrorResponse',
  OpenAIResponse: 'Response',
  OpenAIResponseStreamEvent: 'ResponseStreamEvent',
  OpenAIModelList: 'ListModelsResponse',
  OpenAICompaction: 'CompactResource',
}

/**
 * Where the live API answers what its own document does not allow: the place in the document's schemas, what it
 * also allows there, and why. wire-types.ts makes the same allowances to the SDK's types. (`reasoning_content` in a
 * chat completion, which the proxy adds on purpose, needs none: the document leaves its objects open.)
 */
const ALSO_ALLOWED: Array<{at: string; allow: object; why: string}> = [
  {
    at: '/Response/allOf/2/properties/usage',
    allow: {type: 'null'},
    why: 'null until the response is done, as in the document’s own example of response.created',
  },
  {
    at: '/ModelResponseProperties/properties/user',
    allow: {type: 'null'},
    why: 'null when the request had none, as in the same example',
  },
]

for (const {at, allow} of ALSO_ALLOWED) {
  const path = at.split('/').slice(1)
  const key = path.pop()!
  const parent = path.reduce((node, step) => node?.[step], SUBSET.components.schemas)
  if (parent?.[key] === undefined) throw new Error(`${at} is not in the OpenAPI subset any more: review ALSO_ALLOWED`)
  parent[key] = {anyOf: [parent[key], allow]}
}

// Not strict about types: the document often leaves `type: object` implied by `properties`, which is valid JSON Schema.
const ajv = new Ajv2020({allErrors: true, verbose: true, strictTypes: false})
// Every schema sits under `components`, where the document's references point.
ajv.addKeyword({keyword: 'components'})
addFormats.default(ajv)
// OpenAI's timestamps: whole seconds since the epoch, not milliseconds.
ajv.addFormat('unixtime', {type: 'number', validate: (n: number) => Number.isInteger(n) && n >= 0 && n < 1e11})
ajv.addSchema({components: SUBSET.components}, 'openai')

/**
 * A stream event against the member of the union its `type` names, so that a failure names what is wrong with it
 * rather than why it is none of the fifty kinds of event
 */
const EVENTS = new Map<string, string>(
  SUBSET.components.schemas.ResponseStreamEvent.anyOf.map(({$ref}: {$ref: string}) => {
    const name = $ref.split('/').at(-1)!
    return [SUBSET.components.schemas[name].properties.type.enum[0], name]
  }),
)

function schemaName(type: WireType, value: any): string | undefined {
  const name = SCHEMA_OF[type]
  return name === 'ResponseStreamEvent' ? (EVENTS.get(value?.type) ?? name) : name
}

/** How each sample of OpenAI's protocols does not fit its schema; none when all do */
export function validateOpenAPI(samples: Sample[]): Violation[] {
  const violations: Violation[] = []
  for (const {label, type, value} of samples) {
    const name = schemaName(type, value)
    if (!name) throw new Error(`${label}: ${type} has no schema in the OpenAPI document`)
    const validate = ajv.getSchema(`openai#/components/schemas/${name}`)!
    if (validate(value)) continue
    violations.push({label, message: `${name}: ${describe(validate.errors ?? [])}`})
  }
  return violations
}

/**
 * The errors that say what is wrong: in a union (of fifty tools, of output items), those of the member of the value's
 * `type` rather than every other member's complaint that it is not of theirs
 */
function describe(errors: ErrorObject[]): string {
  const ofItsType = errors.filter((e) => {
    const allowed = e.parentSchema?.properties?.type?.enum
    const tag = (e.data as {type?: unknown} | undefined)?.type
    return !(typeof tag === 'string' && Array.isArray(allowed) && !allowed.includes(tag))
  })
  const specific = ofItsType.filter(
    (e) =>
      !(e.keyword === 'anyOf' || e.keyword === 'oneOf' || (e.keyword === 'enum' && e.instancePath.endsWith('/type'))),
  )
  const lines = (specific.length > 0 ? specific : errors).map(
    (e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`,
  )
  return [...new Set(lines)].join('\n  ')
}
