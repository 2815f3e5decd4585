import {asArray, asObject, asString, type JsonObject} from '../values.js'

/** How the client declared a tool the IR knows by one flat name. */
export interface ClientToolName {
  /**
   * `custom` tools take free text (`custom_tool_call.input`), carried in the IR as `{input: string}`; `tool_search`
   * is a tool search the client runs itself, called with a `tool_search_call` item.
   */
  kind: 'function' | 'custom' | 'tool_search'
  name: string
  /** The `namespace` tool that grouped this function. */
  namespace?: string
}

/** The IR name of a `tool_search` tool the client runs (Codex offers one to find its MCP tools). */
export const TOOL_SEARCH = 'tool_search'

/** Whether a Responses tool is a tool search the client runs itself, rather than one OpenAI runs. */
export function isClientToolSearch(tool: JsonObject): boolean {
  return tool.type === 'tool_search' && tool.execution === 'client'
}

/**
 * The IR name of a function declared inside a `namespace` tool. Other upstreams know no namespaces, so the two
 * names are joined; the join is only ever read back through `clientToolNames`, never split.
 */
export function irToolName(name: string, namespace?: string): string {
  if (namespace === undefined || namespace === '') return name
  return namespace.endsWith('_') ? `${namespace}${name}` : `${namespace}__${name}`
}

/**
 * IR tool name → how the client declared it, from the request's `tools` and the tools its `tool_search_output`
 * items loaded; empty without a request.
 */
export function clientToolNames(request: Record<string, unknown> | undefined): Map<string, ClientToolName> {
  const names = new Map<string, ClientToolName>()
  // As in the IR's tools, the first declaration of a name wins.
  const add = (irName: string, declared: ClientToolName) => {
    if (!names.has(irName)) names.set(irName, declared)
  }
  const loaded = asArray(request?.input).flatMap((item) => {
    const output = asObject(item)
    return output.type === 'tool_search_output' ? asArray(output.tools) : []
  })
  for (const value of [...asArray(request?.tools), ...loaded]) {
    const tool = asObject(value)
    const type = asString(tool.type)
    const name = asString(tool.name)
    if (type === 'namespace' && name !== undefined) {
      for (const value of asArray(tool.tools)) {
        const inner = asObject(value)
        const innerName = asString(inner.name)
        const kind = inner.type === 'custom' ? 'custom' : 'function'
        if (innerName !== undefined) add(irToolName(innerName, name), {kind, name: innerName, namespace: name})
      }
    } else if ((type === 'function' || type === 'custom') && name !== undefined) {
      add(name, {kind: type, name})
    } else if (isClientToolSearch(tool)) {
      add(TOOL_SEARCH, {kind: 'tool_search', name: TOOL_SEARCH})
    }
  }
  return names
}
