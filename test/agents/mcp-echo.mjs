#!/usr/bin/env node
// A minimal MCP server on stdio (newline-delimited JSON-RPC 2.0) with two tools, so that an agent configured with
// it offers MCP tools to the model. `echo` returns its text; `add` returns the sum of two numbers.
import {createInterface} from 'node:readline'

const TOOLS = [
  {
    name: 'echo',
    description: 'Returns the given text unchanged.',
    inputSchema: {
      type: 'object',
      properties: {text: {type: 'string', description: 'Text to return.'}},
      required: ['text'],
    },
  },
  {
    name: 'add',
    description: 'Adds two numbers.',
    inputSchema: {
      type: 'object',
      properties: {a: {type: 'number'}, b: {type: 'number'}},
      required: ['a', 'b'],
    },
  },
]

function call(name, args) {
  if (name === 'echo') return {content: [{type: 'text', text: String(args?.text ?? '')}], isError: false}
  if (name === 'add')
    return {content: [{type: 'text', text: String(Number(args?.a) + Number(args?.b))}], isError: false}
  return {content: [{type: 'text', text: `unknown tool ${name}`}], isError: true}
}

function result(method, params) {
  switch (method) {
    case 'initialize':
      return {
        protocolVersion: params?.protocolVersion ?? '2025-06-18',
        capabilities: {tools: {listChanged: false}},
        serverInfo: {name: 'mcp-echo', version: '1.0.0'},
      }
    case 'tools/list':
      return {tools: TOOLS}
    case 'tools/call':
      return call(params?.name, params?.arguments)
    case 'ping':
      return {}
    default:
      return undefined
  }
}

const send = (message) => process.stdout.write(`${JSON.stringify(message)}\n`)

createInterface({input: process.stdin}).on('line', (line) => {
  if (line.trim() === '') return
  let message
  try {
    message = JSON.parse(line)
  } catch {
    send({jsonrpc: '2.0', id: null, error: {code: -32700, message: 'Parse error'}})
    return
  }
  // Notifications (no id) need no answer.
  if (message.id === undefined || message.id === null) return
  const value = result(message.method, message.params)
  if (value === undefined)
    send({jsonrpc: '2.0', id: message.id, error: {code: -32601, message: `Method not found: ${message.method}`}})
  else send({jsonrpc: '2.0', id: message.id, result: value})
})
