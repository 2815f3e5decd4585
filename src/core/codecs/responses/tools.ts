import {asArray, asObject, asString} from '../values.js'

/** How the client declared a tool the IR knows by one flat name. */
export interface ClientToolName {
  /** `custom` tools take free text (`custom_tool_call.input`), carried in the IR as `{input: string}`. */
  kind: 'function' | 'custom'
  name: string
  /** The `namespace` tool that grouped this function. */
  namespace?: string
}

/**
 * The IR name of a function declared inside a `namespace` tool. Other upstreams know no namespaces, so the two
 * names are joined; the join is only ever read back through `clientToolNames`, never split.
 */
export function irToolName(name: string, namespace?: string): string {
  if (namespace === undefined || namespace === '') return name
  return namespace.endsWith('_') ? `${namespace}${name}` : `${namespace}__${name}`
}

/** IR tool name → how the client declared it, from the request's `tools`; empty without a request. */
export function clientToolNames(request: Record<string, unknown> | undefined): Map<string, ClientToolName> {
  const names = new Map<string, ClientToolName>()
  for (const value of asArray(request?.tools)) {
    const tool = asObject(value)
    const type = asString(tool.type)
    const name = asString(tool.name)
    if (type === 'namespace' && name !== undefined) {
      for (const value of asArray(tool.tools)) {
        const inner = asObject(value)
        const innerName = asString(inner.name)
        const kind = inner.type === 'custom' ? 'custom' : 'function'
        if (innerName !== undefined) names.set(irToolName(innerName, name), {kind, name: innerName, namespace: name})
      }
    } else if ((type === 'function' || type === 'custom') && name !== undefined) {
      names.set(name, {kind: type, name})
    }
  }
  return names
}
