export * from './server.js'
export * from './qwen.js'
export * from './google.js'
export * from './kiro.js'
