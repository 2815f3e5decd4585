// Type-checks JSON values against the vendor types of wire-types.ts with the TypeScript compiler: each value
// becomes an object literal assigned to its type in a source file that exists only in memory, so the compiler
// applies all its checks to it (required fields, literal and enum values, excess properties at every depth).
import {join} from 'node:path'
import ts from 'typescript'
import {ROOT} from '../helpers/cli.js'

export type WireType =
  | 'OpenAIChatCompletion'
  | 'OpenAIChatCompletionChunk'
  | 'OpenAIError'
  | 'OpenAIResponse'
  | 'OpenAIResponseStreamEvent'
  | 'OpenAIModelList'
  | 'OpenAICompaction'
  | 'AnthropicMessage'
  | 'AnthropicStreamEvent'
  | 'AnthropicPing'
  | 'AnthropicError'
  | 'GeminiResponse'
  | 'GeminiError'

export interface Sample {
  /** Where the value came from, named in a failure */
  label: string
  type: WireType
  value: unknown
}

export interface Violation {
  label: string
  message: string
}

const FILE = join(ROOT, 'test', 'conformance', '__produced__.ts')

const OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  types: [],
}

/** The SDKs' declarations are parsed once and reused by every later check */
let previous: ts.Program | undefined

/** The compiler's complaints about each sample; none when every sample fits its type */
export function typeCheck(samples: Sample[]): Violation[] {
  const lines = ['/* eslint-disable */', "import type * as W from './wire-types.js'"]
  const owner: string[] = []
  for (const [i, sample] of samples.entries()) {
    const literal = JSON.stringify(sample.value, null, 1).split('\n')
    literal[0] = `export const s${i}: W.${sample.type} = ${literal[0]}`
    const at = lines.length
    lines.push(...literal)
    for (let line = at; line < lines.length; line++) owner[line] = sample.label
  }
  const text = lines.join('\n')
  const host = ts.createCompilerHost(OPTIONS)
  const getSourceFile = host.getSourceFile.bind(host)
  host.getSourceFile = (name, version, ...rest) =>
    name === FILE ? ts.createSourceFile(name, text, version) : getSourceFile(name, version, ...rest)
  const fileExists = host.fileExists.bind(host)
  host.fileExists = (name) => name === FILE || fileExists(name)
  const program = ts.createProgram([FILE], OPTIONS, host, previous)
  previous = program
  const source = program.getSourceFile(FILE)!
  return [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].map((d) => {
    const line = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line
    return {
      label: owner[line] ?? '(file)',
      message: `line ${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
    }
  })
}
