// Fake Google Code Assist upstream (reference §6), the `gemini-cli-oauth` provider: project discovery
// (loadCodeAssist, onboardUser and its long-running operation) and generateContent, streamGenerateContent and
// countTokens, whose bodies are the public Gemini ones inside the v1internal envelope. The Gemini fake's adapter
// renders and validates those inner bodies; this module adds the envelope, OAuth bearer tokens and the account.
import {
  bearer,
  isRecord,
  requestTag,
  startFake,
  type Behaviour,
  type ErrorReply,
  type FakeUpstream,
  type RecordedRequest,
} from './fake-server.js'
import {geminiAdapter, geminiError, type GeminiFakeOptions} from './gemini-fake.js'

export interface CodeAssistTier {
  id: string
  name?: string
  isDefault?: boolean
  /** The tier needs a Google Cloud project of the user's own (onboardUser must name it) */
  userDefinedCloudaicompanionProject?: boolean
}

export interface IneligibleTier {
  tierId: string
  /** INELIGIBLE_ACCOUNT, RESTRICTED_AGE, UNSUPPORTED_LOCATION, VALIDATION_REQUIRED, … */
  reasonCode: string
  reasonMessage: string
  validationUrl?: string
}

/** What loadCodeAssist knows about the account; onboarding changes it until the fake is reset */
export interface CodeAssistAccount {
  /** Tier of an onboarded account; null: loadCodeAssist names none and onboardUser must run. Default 'standard-tier' */
  currentTier?: string | null
  /** The project loadCodeAssist names and a free-tier onboarding yields; null: none. Default 'fake-project-123' */
  project?: string | null
  /** Tiers offered for onboarding; default one default tier, the current one or 'free-tier' */
  allowedTiers?: CodeAssistTier[]
  ineligibleTiers?: IneligibleTier[]
  /** Reads of the onboarding operation (GETs, or onboardUser posted again) before it is done; default 1 */
  onboardingPolls?: number
  /**
   * 'operation' (default): the operation has a name to GET, as gemini-cli polls it; 'repost': it has none, so
   * clients post onboardUser again, as AIClient-2-API does (which works in both styles)
   */
  onboardingStyle?: 'operation' | 'repost'
}

/**
 * One `buckets[]` entry of `v1internal:retrieveUserQuota`, as gemini-cli reads it (google-gemini/gemini-cli
 * packages/core/src/code_assist/types.ts BucketInfo): remainingAmount is an int64 carried as a string
 */
export interface CodeAssistQuotaBucket {
  remainingAmount?: string
  remainingFraction?: number
  resetTime?: string
  tokenType?: string
  modelId?: string
}

export interface CodeAssistFakeOptions extends Omit<GeminiFakeOptions, 'keys'> {
  /** What retrieveUserQuota answers; read on every request, so a test may change it. Default: one bucket, 80 % left */
  quotaBuckets?: CodeAssistQuotaBucket[]
  /** Accepted access tokens; tests add and delete entries while the fake runs. Absent: any token, or none */
  tokens?: Set<string>
  account?: CodeAssistAccount
}

/** Error bodies Code Assist answers with (reference §6.4); messages are illustrative */
export type CodeAssistFailure =
  /** 429 with ErrorInfo RATE_LIMIT_EXCEEDED (or MODEL_CAPACITY_EXHAUSTED) and each hint given */
  | {
      kind: 'rate-limited'
      reason?: 'RATE_LIMIT_EXCEEDED' | 'MODEL_CAPACITY_EXHAUSTED'
      /** RetryInfo.retryDelay, e.g. '34.074824224s' */
      retryDelay?: string
      /** ErrorInfo.metadata.quotaResetDelay, e.g. '34.07s' */
      quotaResetDelay?: string
      /** e.g. 'Your quota will reset after 34s.' */
      message?: string
      model?: string
    }
  /** 429 with ErrorInfo QUOTA_EXHAUSTED; `daily` adds a QuotaFailure with a PerDay quota id */
  | {kind: 'quota-exhausted'; daily?: boolean; model?: string}
  /** 403 of an account that must be verified in a browser first */
  | {kind: 'validation-required'; url?: string}
  | {kind: 'permission-denied'; message?: string}

const RPC = 'type.googleapis.com/google.rpc.'
const DOMAIN = 'cloudcode-pa.googleapis.com'
const DEFAULT_PROJECT = 'fake-project-123'
const TIER_NAMES: Record<string, string> = {
  'free-tier': 'Gemini Code Assist for individuals',
  'legacy-tier': 'Gemini Code Assist',
  'standard-tier': 'Gemini Code Assist Standard',
}
const UNAUTHENTICATED =
  'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.'
const NOT_JSON = 'Invalid JSON payload received. Unexpected token.'
const UNKNOWN_NAME = 'Invalid JSON payload received. Unknown name'
const ENVELOPE_FIELDS = ['model', 'project', 'user_prompt_id', 'userPromptId', 'request']
// Vertex fields Code Assist accepts in the inner request that the public API would reject
const VERTEX_ONLY_FIELDS = ['session_id', 'sessionId', 'labels']

function failed(status: number, message: string | undefined, details: Record<string, unknown>[]): Behaviour {
  const body = geminiError(status, {
    ...(message === undefined ? {} : {message}),
    ...(details.length > 0 ? {details} : {}),
  })
  return {kind: 'status', status, body}
}

/** A scripted Code Assist error, for `fake.enqueue(...)` or `script.aux` */
export function codeAssistFailure(failure: CodeAssistFailure): Behaviour {
  const errorInfo = (reason: string, metadata: Record<string, string | undefined> = {}): Record<string, unknown> => ({
    '@type': `${RPC}ErrorInfo`,
    reason,
    domain: DOMAIN,
    metadata: Object.fromEntries(Object.entries(metadata).filter(([, v]) => v !== undefined)),
  })
  switch (failure.kind) {
    case 'rate-limited': {
      const {reason = 'RATE_LIMIT_EXCEEDED', retryDelay, quotaResetDelay, message, model} = failure
      const retryInfo = retryDelay === undefined ? [] : [{'@type': `${RPC}RetryInfo`, retryDelay}]
      const details = [errorInfo(reason, {model, quotaResetDelay}), ...retryInfo]
      return failed(429, message ?? 'You have exhausted your capacity on this model.', details)
    }
    case 'quota-exhausted': {
      const quotaId = 'GenerateRequestsPerDayPerProjectPerModel'
      const violations = [{quotaMetric: `${DOMAIN}/generate_content_requests`, quotaId}]
      const daily = failure.daily ? [{'@type': `${RPC}QuotaFailure`, violations}] : []
      const details = [errorInfo('QUOTA_EXHAUSTED', {model: failure.model}), ...daily]
      return failed(429, 'You have exhausted your daily quota on this model.', details)
    }
    case 'validation-required': {
      const url = failure.url ?? 'https://accounts.google.com/signin/continue?sarp=1&scc=1&plt=fake'
      const links = [
        {description: 'Verify your account', url},
        {description: 'Learn more', url: 'https://support.google.com/accounts?p=al_alert'},
      ]
      const details = [errorInfo('VALIDATION_REQUIRED', {validation_link: url}), {'@type': `${RPC}Help`, links}]
      return failed(403, 'Verify your account to continue.', details)
    }
    case 'permission-denied':
      return failed(403, failure.message, [])
  }
}

function invalid(message: string, status = 400): ErrorReply {
  return {status, body: geminiError(status, {message})}
}

function bodyOf(req: RecordedRequest): Record<string, unknown> {
  return isRecord(req.body) ? req.body : {}
}

/** The envelope's inner request as the public API would receive it, so the Gemini adapter can handle it */
function inner(req: RecordedRequest): RecordedRequest {
  const request = bodyOf(req).request
  const body: Record<string, unknown> = isRecord(request) ? {...request} : {}
  if (req.route === 'countTokens') return {...req, body: {contents: body.contents}}
  for (const key of VERTEX_ONLY_FIELDS) delete body[key]
  return {...req, body}
}

interface Onboarding {
  name: string
  tier: string
  project: string | null
  reads: number
}

function defaultBuckets(): CodeAssistQuotaBucket[] {
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString()
  return [
    {
      remainingAmount: '800',
      remainingFraction: 0.8,
      resetTime: tomorrow,
      tokenType: 'REQUESTS',
      modelId: 'gemini-2.5-pro',
    },
  ]
}

export function startCodeAssistFake(opts: CodeAssistFakeOptions = {}): Promise<FakeUpstream> {
  return startFake({name: 'code-assist-fake', eol: '\r\n'}, opts, ({eol}) => {
    const gemini = geminiAdapter(opts, eol, (req, response) => ({response, traceId: `trace-${requestTag(req)}`}))
    const account = opts.account ?? {}
    const initialTier = account.currentTier === undefined ? 'standard-tier' : account.currentTier
    const initialProject = account.project === undefined ? DEFAULT_PROJECT : account.project
    const allowedTiers = account.allowedTiers ?? [{id: initialTier ?? 'free-tier', isDefault: true}]
    let currentTier = initialTier
    let project = initialProject
    let onboarding: Onboarding | undefined

    const tier = (id: string): Record<string, unknown> => ({id, name: TIER_NAMES[id] ?? id})

    function loadCodeAssist(): Record<string, unknown> {
      return {
        ...(currentTier === null ? {} : {currentTier: {...tier(currentTier), hasOnboardedPreviously: true}}),
        allowedTiers: allowedTiers.map((t) => ({...tier(t.id), ...t})),
        ...(account.ineligibleTiers ? {ineligibleTiers: account.ineligibleTiers} : {}),
        ...(currentTier !== null && project !== null ? {cloudaicompanionProject: project} : {}),
      }
    }

    function operation(o: Onboarding): Record<string, unknown> {
      const name = account.onboardingStyle === 'repost' ? {} : {name: o.name}
      if (o.reads < (account.onboardingPolls ?? 1)) return {...name, done: false}
      currentTier = o.tier
      project = o.project
      const response = {
        '@type': 'type.googleapis.com/google.internal.cloud.code.v1internal.OnboardUserResponse',
        ...(o.project === null ? {} : {cloudaicompanionProject: {id: o.project, name: o.project}}),
      }
      return {...name, done: true, response}
    }

    // Each read of the operation, by GET or by posting onboardUser again, brings it closer to done
    function read(o: Onboarding): Record<string, unknown> {
      o.reads++
      return operation(o)
    }

    function onboardUser(req: RecordedRequest): Record<string, unknown> {
      if (onboarding) return read(onboarding)
      const body = bodyOf(req)
      const own = typeof body.cloudaicompanionProject === 'string' ? body.cloudaicompanionProject : undefined
      const name = `operations/onboard-${requestTag(req)}`
      onboarding = {name, tier: String(body.tierId), project: own ?? initialProject, reads: 0}
      return operation(onboarding)
    }

    function validateOnboarding(req: RecordedRequest): ErrorReply | undefined {
      const body: unknown = req.body
      if (!isRecord(body)) return invalid(NOT_JSON)
      const offered = allowedTiers.find((t) => t.id === body.tierId)
      if (!offered) return invalid(`Tier ${JSON.stringify(body.tierId)} is not offered to this account.`)
      // A free tier gets a managed project; naming one is refused, and user-defined tiers need one
      const named = typeof body.cloudaicompanionProject === 'string' && body.cloudaicompanionProject !== ''
      if (offered.id === 'free-tier' ? named : offered.userDefinedCloudaicompanionProject === true && !named) {
        return {
          status: 400,
          body: geminiError(400, {message: 'Precondition check failed.', status: 'FAILED_PRECONDITION'}),
        }
      }
      return undefined
    }

    function validateEnvelope(req: RecordedRequest): ErrorReply | undefined {
      const body: unknown = req.body
      if (!isRecord(body)) return invalid(NOT_JSON)
      const unknown = Object.keys(body).find((k) => !ENVELOPE_FIELDS.includes(k))
      if (unknown !== undefined) return invalid(`${UNKNOWN_NAME} "${unknown}": Cannot find field.`)
      if (typeof body.model !== 'string' || body.model === '') return invalid('model is required.')
      if (!isRecord(body.request)) return invalid('request is required.')
      if ('model' in body.request) return invalid(`${UNKNOWN_NAME} "model" at 'request': Cannot find field.`)
      if (typeof body.project !== 'string' || body.project === '') return invalid('project is required.')
      if (currentTier === null || body.project !== project) {
        const resource = `//cloudaicompanion.googleapis.com/projects/${body.project}/locations/global`
        const message = `Permission 'cloudaicompanion.companions.generateChat' denied on resource '${resource}' (or it may not exist).`
        return invalid(message, 403)
      }
      return undefined
    }

    return {
      ...gemini,
      baseUrl: (origin) => origin,
      route(req) {
        // Clients may percent-encode the ':' before the method name
        const path = decodeURIComponent(req.path)
        if (req.method === 'GET')
          return /^\/v1internal\/.+$/.test(path) ? {name: 'operation', generate: false, stream: false} : undefined
        const method = /^\/v1internal:(\w+)$/.exec(path)?.[1]
        if (req.method !== 'POST' || method === undefined) return undefined
        const body = bodyOf(req)
        if (method === 'generateContent' || method === 'streamGenerateContent') {
          const model = typeof body.model === 'string' ? body.model : undefined
          return {name: method, generate: true, stream: method === 'streamGenerateContent', model}
        }
        if (method === 'countTokens') {
          const model =
            isRecord(body.request) && typeof body.request.model === 'string' ? body.request.model : undefined
          return {name: method, generate: false, stream: false, model: model?.replace(/^models\//, '')}
        }
        if (method === 'loadCodeAssist' || method === 'onboardUser' || method === 'retrieveUserQuota')
          return {name: method, generate: false, stream: false}
        return undefined
      },
      credential: bearer,
      authenticate(req) {
        if (!opts.tokens || (req.key !== undefined && opts.tokens.has(req.key))) return undefined
        return {status: 401, body: geminiError(401, {message: UNAUTHENTICATED})}
      },
      validate(req) {
        switch (req.route) {
          case 'loadCodeAssist':
            return isRecord(req.body) ? undefined : invalid(NOT_JSON)
          case 'onboardUser':
            return validateOnboarding(req)
          case 'retrieveUserQuota':
            return isRecord(req.body) && req.body.project === project && currentTier !== null
              ? undefined
              : invalid(`Permission denied on resource project ${String(bodyOf(req).project)}.`, 403)
          case 'operation':
            return onboarding && decodeURIComponent(req.path) === `/v1internal/${onboarding.name}`
              ? undefined
              : invalid('Operation not found.', 404)
          case 'countTokens':
            if (!isRecord(bodyOf(req).request)) return invalid('request is required.')
            return gemini.validate(inner(req))
          default:
            return validateEnvelope(req) ?? gemini.validate(inner(req))
        }
      },
      conversation: (req) => gemini.conversation(inner(req)),
      unary: (req, reply) => gemini.unary(inner(req), reply),
      events: (req, reply) => gemini.events(inner(req), reply),
      aux(req) {
        if (req.route === 'loadCodeAssist') return loadCodeAssist()
        if (req.route === 'onboardUser') return onboardUser(req)
        if (req.route === 'retrieveUserQuota') return {buckets: opts.quotaBuckets ?? defaultBuckets()}
        // validate() has answered 404 to an operation that does not exist
        if (req.route === 'operation') return onboarding && read(onboarding)
        return gemini.aux(inner(req))
      },
      reset() {
        currentTier = initialTier
        project = initialProject
        onboarding = undefined
      },
    }
  })
}
