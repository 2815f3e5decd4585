import {Flags} from '@oclif/core'
import {EventEmitter} from 'node:events'
import {BaseCommand} from '../base-command.js'
import {AppError} from '../core/errors.js'
import {createLineWriter, formatPoolEvent, formatRecord} from '../core/log.js'
import type {PoolEvent} from '../core/pools/pool-state.js'
import {resolveServeSettings} from '../core/server/options.js'
import {startProxy, type RunningProxy} from '../core/server/start.js'
import {onTermination} from '../signals.js'
import type {DemoUpstreams} from '../demo/upstreams.js'

export default class Serve extends BaseCommand<typeof Serve> {
  static override summary = 'Run the proxy: one OpenAI/Anthropic/Gemini endpoint over the whole pool'
  static override description = `Listens on http://127.0.0.1:3000 (by default) for OpenAI chat completions, Anthropic messages and Gemini generateContent requests, and sends each to a healthy instance of the pool, failing over to another when one breaks. Statistics are written back to the pool file; edits made with \`aiclient pool …\` while it runs take effect within a second.

The provider type of a request comes from a path prefix (/claude-custom/v1/messages), the Model-Provider header, a "type:" prefix on the model name, the default (--model-provider), or the only type in the pool. Ctrl-C or SIGTERM stops accepting, lets running requests finish (up to 10 s), saves statistics and exits 0; a closed terminal (SIGHUP) does the same and ends with status 129.

Without --api-key only programs on this machine can use it: web pages of other origins and requests naming a non-loopback Host are refused. --cors-origin lets a web app's origin in; --host with a key opens it to other machines.`
  static override examples = [
    '<%= config.bin %> serve',
    '<%= config.bin %> serve --port 8080 --model-provider claude-custom',
    'AICLIENT_API_KEY=choose-a-secret <%= config.bin %> serve --host 0.0.0.0',
    '<%= config.bin %> serve --api-key choose-a-secret --cors-origin http://localhost:5173',
    '<%= config.bin %> serve --demo',
    '<%= config.bin %> serve --log-file requests.jsonl --log-max-size 50MB',
  ]
  static override flags = {
    host: Flags.string({description: 'address to listen on (config.json HOST; default 127.0.0.1)'}),
    port: Flags.integer({
      description: 'port to listen on, 0 for any free port (config.json SERVER_PORT; default 3000)',
      min: 0,
      max: 65_535,
    }),
    'model-provider': Flags.string({
      description: 'default provider type for requests that do not choose one (config.json MODEL_PROVIDER)',
    }),
    'api-key': Flags.string({
      description: 'key clients must send (env AICLIENT_API_KEY, config.json REQUIRED_API_KEY)',
    }),
    'cors-origin': Flags.string({
      description:
        'let web pages of this origin call the server, e.g. http://localhost:5173; repeat or separate with commas (env AICLIENT_CORS_ORIGINS, config.json CORS_ORIGINS)',
      multiple: true,
    }),
    'health-check-interval': Flags.integer({
      description:
        'also probe healthy instances every N seconds (config.json HEALTH_CHECK_INTERVAL_SECONDS; default 0 = off, probes spend quota)',
      min: 0,
    }),
    'allow-local-admin': Flags.boolean({
      description:
        'without an API key, still accept changes through the management API (POST /aiclient/v1/instances/…) from this machine',
    }),
    'log-file': Flags.string({
      description: 'also write one JSON line per request to this file, rotated by size (FILE.1 … FILE.5 kept)',
    }),
    'log-max-size': Flags.string({
      description: 'rotate --log-file before it grows past this size, e.g. 512KB or 10MB (default 10MB)',
      dependsOn: ['log-file'],
    }),
    'log-bodies': Flags.boolean({
      description:
        'with --log-file: also log request and response bodies (first 64 KiB of each; keys and secret-named fields masked)',
      dependsOn: ['log-file'],
    }),
    watch: Flags.boolean({
      char: 'w',
      description:
        'show a live status board instead of log lines (needs a terminal; falls back to logs without one or with CI set)',
    }),
    demo: Flags.boolean({
      description: 'serve bundled local fake upstreams from a throwaway pool file (no keys needed)',
    }),
    'demo-load': Flags.integer({
      description: 'with --demo: send this many requests per second of demo traffic',
      min: 1,
      dependsOn: ['demo'],
    }),
  }

  async run(): Promise<void> {
    const settings = resolveServeSettings(
      {
        host: this.flags.host,
        port: this.flags.port,
        modelProvider: this.flags['model-provider'],
        apiKey: this.flags['api-key'],
        corsOrigins: this.flags['cors-origin'],
        healthCheckIntervalSeconds: this.flags['health-check-interval'],
        allowLocalAdmin: this.flags['allow-local-admin'],
        logFile: this.flags['log-file'],
        logMaxSize: this.flags['log-max-size'],
        logBodies: this.flags['log-bodies'],
      },
      process.env,
      await this.configJson(),
      this.settings().all(),
    )
    for (const warning of settings.warnings) process.stderr.write(`warning: ${warning}\n`)
    let demo: DemoUpstreams | undefined
    if (this.flags.demo) {
      // Loaded only when used: the demo upstreams, and below Ink and React, would otherwise sit in every server's memory.
      const {startDemoUpstreams} = await import('../demo/upstreams.js')
      demo = await startDemoUpstreams(this.flags['pools-file'])
      settings.defaultType ??= 'openai-custom'
    }
    const poolsFile = demo?.poolsFile ?? (await this.poolsFile()).value
    const feed = new EventEmitter()
    const board = this.flags.watch && this.canRenderLive()
    // Watched from here: a signal or a lost terminal during startup shuts down once the server is up. The board
    // reads keys from stdin, which fails too once the terminal is gone.
    const shutdown = waitForShutdown(
      board ? [process.stdout, process.stderr, process.stdin] : [process.stdout, process.stderr],
    )
    const log = board ? (line: string) => void feed.emit('log', line) : createLineWriter(process.stdout)
    const warn = board ? (line: string) => void feed.emit('message', line) : createLineWriter(process.stderr)
    let proxy: RunningProxy
    try {
      proxy = await startProxy({
        ...settings,
        poolsFile,
        onRecord: board ? (record) => feed.emit('record', record) : (record) => log(formatRecord(record)),
        onWarning: (message) => warn(`warning: ${message}`),
        // Fields a conversion cannot carry are dropped silently unless asked: they are expected, not errors.
        onDropped: process.env.DEBUG?.includes('aiclient')
          ? (field) => warn(`debug: dropped ${field} in conversion`)
          : undefined,
      })
    } catch (error) {
      await demo?.close()
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EADDRINUSE')
        throw new AppError(`Port ${settings.port} on ${settings.host} is already in use.`, {
          suggestions: ['Pick another with --port (0 picks a free one).'],
        })
      if (code === 'EADDRNOTAVAIL')
        throw new AppError(`Cannot listen on ${settings.host}: no such address on this machine.`)
      throw error
    }
    proxy.state.on('event', (event: PoolEvent) => {
      const line = formatPoolEvent(event, Date.now())
      if (line) (board ? warn : log)(line)
    })
    const counts = proxy.state.types().map((type) => `${type}: ${proxy.state.list(type).length}`)
    this.log(
      `aiclient listening on ${proxy.url} — ${counts.length > 0 ? counts.join(', ') : 'no instances yet'} (pool file ${poolsFile})${settings.apiKey ? '; API key required' : ''}`,
    )
    if (demo && !board)
      this.log(
        `demo: fake upstreams ${demo.upstreams.map((u) => `${u.name} ${u.url}`).join(', ')}; try:\n  curl ${proxy.url}/v1/chat/completions -H 'content-type: application/json' -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'`,
      )
    const load =
      demo && this.flags['demo-load']
        ? (await import('../demo/load.js')).startDemoLoad(proxy.url, this.flags['demo-load'], settings.apiKey)
        : undefined
    let quitFromBoard: () => void = () => {}
    const boardQuit = new Promise<void>((resolve) => (quitFromBoard = resolve))
    const view = board
      ? (await import('../ui/board/render.js')).renderBoard(proxy, feed, () => quitFromBoard())
      : undefined
    await Promise.race([shutdown, boardQuit])
    try {
      view?.unmount()
      this.log('Shutting down: finishing running requests and saving statistics…')
    } finally {
      // Whatever happened to the terminal, the statistics are saved.
      await load?.stop()
      await proxy.stop()
      await demo?.close()
    }
  }
}

/**
 * Resolves when serving should end: on SIGINT, SIGTERM or SIGHUP, or when the terminal or log reader is gone
 * and a write to it fails. All start the same graceful shutdown; a second Ctrl-C exits at once.
 */
function waitForShutdown(streams: NodeJS.EventEmitter[]): Promise<void> {
  return new Promise((resolve) => onTermination(() => resolve(), streams))
}
