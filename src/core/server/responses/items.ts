/** A user message as a Responses input item. */
export function userMessage(text: string) {
  return {type: 'message', role: 'user', content: [{type: 'input_text', text}]}
}

/** A request's `input` as items: a string is one user message. */
export function inputItems(input: unknown): unknown[] {
  if (typeof input === 'string') return [userMessage(input)]
  return Array.isArray(input) ? input : []
}

/** JSON text that should hold an object; undefined when it does not. */
export function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}
