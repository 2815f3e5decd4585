import type {IRTool} from '../ir.js'
import type {DropHandler} from '../types.js'
import {compact, type JsonObject} from '../values.js'
import {optionalArray, optionalObject, optionalString, requireObject, requireString} from './checks.js'
import {irToolName, isClientToolSearch, TOOL_SEARCH} from './tools.js'

/**
 * A list of Responses tools (the request's `tools`, or those a `tool_search_output` loaded) → IR tools. `path` names
 * the list in errors. Loaded tools are marked `defer_loading` by the client; they are loaded now, so that is no loss.
 */
export function decodeToolList(value: unknown, path: string, drop: DropHandler, loaded = false): IRTool[] {
  const report: DropHandler = (field) => {
    if (!loaded || field !== 'tools.defer_loading') drop(field)
  }
  const tools: IRTool[] = []
  ;(optionalArray(value, path) ?? []).forEach((entry, i) => {
    const at = `${path}[${i}]`
    const tool = requireObject(entry, at)
    const type = requireString(tool.type, `${at}.type`)
    if (type === 'function' || type === 'custom') tools.push(decodeTool(tool, at, report))
    else if (type === 'namespace') tools.push(...decodeNamespace(tool, at, report))
    // A tool search the client runs itself is a tool like any other: the model calls it, the client answers.
    else if (isClientToolSearch(tool)) tools.push(decodeToolSearch(tool, at))
    // Built-in tools (web_search, file_search, code_interpreter, computer_use, image_generation, local_shell,
    // mcp, a tool_search run by OpenAI…) run inside OpenAI only. Codex always sends web_search, so they never fail a
    // request.
    else report(`tools.${type}`)
  })
  return tools
}

/** Tools with names already taken left out: the first declaration wins. */
export function uniqueTools(tools: IRTool[]): IRTool[] {
  const byName = new Map<string, IRTool>()
  for (const tool of tools) if (!byName.has(tool.name)) byName.set(tool.name, tool)
  return [...byName.values()]
}

function decodeNamespace(tool: JsonObject, path: string, drop: DropHandler): IRTool[] {
  const namespace = requireString(tool.name, `${path}.name`)
  if (optionalString(tool.description, `${path}.description`)) drop('tools.namespace.description')
  return (optionalArray(tool.tools, `${path}.tools`) ?? []).flatMap((entry, j) => {
    const inner = requireObject(entry, `${path}.tools[${j}]`)
    const type = requireString(inner.type, `${path}.tools[${j}].type`)
    if (type !== 'function' && type !== 'custom') {
      drop(`tools.namespace.${type}`)
      return []
    }
    return [decodeTool(inner, `${path}.tools[${j}]`, drop, namespace)]
  })
}

function decodeTool(tool: JsonObject, path: string, drop: DropHandler, namespace?: string): IRTool {
  const name = irToolName(requireString(tool.name, `${path}.name`), namespace)
  const description = optionalString(tool.description, `${path}.description`)
  // Strict mode (the API's default when `strict` is left out) has no counterpart elsewhere; Codex sends false.
  if (tool.strict === true) drop('tools.function.strict')
  if (tool.defer_loading === true) drop('tools.defer_loading')
  if (tool.type === 'custom') return compact({name, description, parameters: customToolParameters(tool, path)})
  const parameters = optionalObject(tool.parameters, `${path}.parameters`) ?? {type: 'object', properties: {}}
  return compact({name, description, parameters})
}

function decodeToolSearch(tool: JsonObject, path: string): IRTool {
  const description = optionalString(tool.description, `${path}.description`)
  const parameters = optionalObject(tool.parameters, `${path}.parameters`) ?? {type: 'object', properties: {}}
  return compact({name: TOOL_SEARCH, description, parameters})
}

// A custom tool takes free text; other upstreams only know JSON arguments, so the text becomes the one
// string argument `input`. A grammar the text must follow is passed on to the model in words.
function customToolParameters(tool: JsonObject, path: string): JsonObject {
  const format = optionalObject(tool.format, `${path}.format`)
  let description = 'The free-form text input for this tool, passed to it unchanged.'
  if (format?.type === 'grammar') {
    const syntax = optionalString(format.syntax, `${path}.format.syntax`) ?? 'lark'
    const definition = optionalString(format.definition, `${path}.format.definition`) ?? ''
    description += ` It must follow this ${syntax} grammar:\n${definition}`
  }
  return {type: 'object', properties: {input: {type: 'string', description}}, required: ['input']}
}
