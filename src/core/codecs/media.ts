export interface InlineData {
  mediaType: string
  data: string
}

// Only base64 data URLs carry bytes every target can forward; percent-encoded ones are rare for images.
export function parseDataUrl(url: string): InlineData | undefined {
  if (!url.startsWith('data:')) return undefined
  const comma = url.indexOf(',')
  if (comma < 0) return undefined
  const params = url.slice(5, comma).split(';')
  if (params.at(-1)?.toLowerCase() !== 'base64') return undefined
  return {mediaType: params[0] || 'application/octet-stream', data: url.slice(comma + 1)}
}

export function toDataUrl({mediaType, data}: InlineData): string {
  return `data:${mediaType};base64,${data}`
}

const EXTENSION_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
}

export function guessImageType(url: string): string | undefined {
  const path = url.split(/[?#]/, 1)[0] ?? ''
  const extension = path.slice(path.lastIndexOf('.') + 1).toLowerCase()
  return EXTENSION_TYPES[extension]
}
