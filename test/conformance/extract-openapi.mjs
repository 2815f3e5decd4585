#!/usr/bin/env node
// Writes test/fixtures/openapi/openai-subset.json: the component schemas of OpenAI's OpenAPI document that
// test/conformance/openapi.test.ts validates the proxy's answers against, with everything they reference, and
// without the keywords that only annotate (descriptions, examples, titles, OpenAPI's `discriminator`, the `x-`
// hints to OpenAI's documentation and SDK generators), which validate nothing and would make the fixture several
// times larger. `nullable: true`, an OpenAPI 3.0 keyword the 3.1 document still has in places and JSON Schema
// 2020-12 does not know, is written in the 2020-12 form: the schema, or null.
//
//   node test/conformance/extract-openapi.mjs <openapi.json> <commit> <commit date>
import {readFileSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import prettier from 'prettier'

const REPOSITORY = 'https://github.com/openai/openai-openapi'
/** What the proxy answers in OpenAI's two protocols, and where the document names it */
const ROOTS = {
  CreateChatCompletionResponse: 'POST /chat/completions, not streamed',
  CreateChatCompletionStreamResponse: 'POST /chat/completions, each streamed chunk',
  Response: 'POST /responses not streamed, GET /responses/{id}, and the response the stream events carry',
  ResponseStreamEvent: 'POST /responses, each stream event',
  CompactResource: 'POST /responses/compact',
  ErrorResponse: 'the error body of every path',
  ListModelsResponse: 'GET /models',
}
const ANNOTATIONS = new Set(['description', 'title', 'example', 'examples', 'deprecated', 'discriminator'])
/** Keywords whose value is a schema, a list of schemas, or a map of names to schemas */
const SCHEMA = new Set(['items', 'additionalProperties', 'not', 'if', 'then', 'else', 'contains', 'propertyNames'])
const SCHEMAS = new Set(['anyOf', 'oneOf', 'allOf', 'prefixItems'])
const NAMED = new Set(['properties', 'patternProperties', '$defs'])

const [source, commit, date] = process.argv.slice(2)
if (!source || !commit || !date) {
  console.error('usage: extract-openapi.mjs <openapi.json> <commit> <commit date>')
  process.exit(2)
}
const document = JSON.parse(readFileSync(source, 'utf8'))
const all = document.components.schemas

/** The schema without its annotations, at every depth; every schema it references is queued */
function strip(schema, queue) {
  if (typeof schema !== 'object' || schema === null) return schema
  const {nullable, ...rest} = schema
  if (nullable === true) return {anyOf: [strip(rest, queue), {type: 'null'}]}
  const kept = {}
  for (const [key, value] of Object.entries(rest)) {
    if (ANNOTATIONS.has(key) || key.startsWith('x-')) continue
    if (key === '$ref') {
      const name = /^#\/components\/schemas\/(.+)$/.exec(value)?.[1]
      if (!name) throw new Error(`unexpected reference ${value}`)
      queue.push(name)
    }
    if (SCHEMA.has(key)) kept[key] = strip(value, queue)
    else if (SCHEMAS.has(key)) kept[key] = value.map((s) => strip(s, queue))
    else if (NAMED.has(key)) kept[key] = Object.fromEntries(Object.entries(value).map(([n, s]) => [n, strip(s, queue)]))
    else kept[key] = value
  }
  return kept
}

const schemas = {}
const queue = Object.keys(ROOTS)
while (queue.length > 0) {
  const name = queue.shift()
  if (name in schemas) continue
  if (!(name in all)) throw new Error(`no schema ${name} in ${source}`)
  schemas[name] = strip(all[name], queue)
}

const subset = {
  $comment:
    `The component schemas of OpenAI's OpenAPI document (${REPOSITORY}, openapi.json) that the roots reference, ` +
    'without annotations and with `nullable` in its JSON Schema form. Regenerate with test/conformance/extract-openapi.mjs (see README.md here).',
  source: {
    repository: REPOSITORY,
    file: 'openapi.json',
    commit,
    date,
    openapi: document.openapi,
    version: document.info.version,
  },
  roots: ROOTS,
  kept: Object.keys(schemas).sort(),
  components: {
    schemas: Object.fromEntries(
      Object.keys(schemas)
        .sort()
        .map((n) => [n, schemas[n]]),
    ),
  },
}
const out = fileURLToPath(new URL('../fixtures/openapi/openai-subset.json', import.meta.url))
// In the form `npm run lint` checks it in.
const options = await prettier.resolveConfig(out)
writeFileSync(out, await prettier.format(JSON.stringify(subset), {...options, filepath: out}))
console.log(`${out}: ${Object.keys(schemas).length} schemas`)
