import {OAuthError} from './errors.js'
import {httpOf, realSleep, throwIfCancelled, type FlowContext} from './flow.js'
import {getJson, isOk, objectOf, postJson, serverSays, type HttpReply} from './http.js'

export interface ProjectDiscoveryOptions extends FlowContext {
  /** Code Assist origin (AICLIENT_GEMINI_BASE_URL). */
  baseUrl: string
  accessToken: string
  /** How long onboarding may take before we give up. */
  onboardTimeoutMs?: number
}

export interface CodeAssistProject {
  projectId: string
  /** The account's tier (`standard-tier`, `free-tier`, …) when the server named one. */
  tier: string | null
}

/** The client metadata gemini-cli's setup calls carry. */
export const CODE_ASSIST_METADATA = {ideType: 'IDE_UNSPECIFIED', platform: 'PLATFORM_UNSPECIFIED', pluginType: 'GEMINI'}

const NO_LICENCE_HINT =
  'Gemini Code Assist now serves only Standard and Enterprise licences; pass --project-id if your organisation gave you a project.'

/**
 * gemini-cli's setup: loadCodeAssist names the project of an onboarded account; otherwise onboardUser on the
 * default tier, polled until the long-running operation is done (GET the operation when it has a name, else
 * post again, as AIClient-2-API does).
 */
export async function discoverGeminiProject(options: ProjectDiscoveryOptions): Promise<CodeAssistProject> {
  const sleep = options.sleep ?? realSleep
  const now = options.now ?? Date.now
  const auth = {authorization: `Bearer ${options.accessToken}`}
  const call = (method: string, body: unknown) =>
    postJson(`${options.baseUrl}/v1internal:${method}`, body, httpOf(options), auth)
  options.onEvent?.({type: 'step', message: 'Looking up the Code Assist project'})
  const loadReply = await call('loadCodeAssist', {metadata: CODE_ASSIST_METADATA})
  const load = objectOf(loadReply.json)
  if (!isOk(loadReply) || !load) throw failure('loadCodeAssist', loadReply)
  const currentTier = objectOf(load.currentTier)
  if (currentTier) {
    const projectId = projectOf(load.cloudaicompanionProject)
    if (!projectId) throw noProject(load)
    return {projectId, tier: typeof currentTier.id === 'string' ? currentTier.id : null}
  }
  const allowed = Array.isArray(load.allowedTiers) ? load.allowedTiers.map(objectOf).filter((t) => t !== undefined) : []
  const tier = allowed.find((t) => t.isDefault === true) ?? {id: 'legacy-tier'}
  const tierId = typeof tier.id === 'string' ? tier.id : 'legacy-tier'
  if (tierId !== 'free-tier' && tier.userDefinedCloudaicompanionProject === true) {
    throw new OAuthError(
      `The ${tierId} of this account needs a Google Cloud project, and none is set up yet.`,
      'gemini_project_required',
      ['Re-run with --project-id YOUR_PROJECT (the project your Code Assist licence belongs to).'],
    )
  }
  options.onEvent?.({type: 'step', message: `Onboarding the account (${tierId})`})
  const deadline = now() + (options.onboardTimeoutMs ?? 60_000)
  // A free tier must not name a project: the server answers "Precondition Failed".
  let reply = await call('onboardUser', {tierId, metadata: CODE_ASSIST_METADATA})
  for (;;) {
    const operation = objectOf(reply.json)
    if (!isOk(reply) || !operation) throw failure('onboardUser', reply)
    if (operation.done === true) {
      const projectId = projectOf(objectOf(operation.response)?.cloudaicompanionProject)
      if (!projectId) throw noProject(load)
      return {projectId, tier: tierId}
    }
    if (now() >= deadline) {
      throw new OAuthError('Code Assist onboarding did not finish in time.', 'gemini_onboarding_timeout', [
        'Try the login again in a few minutes, or pass --project-id.',
      ])
    }
    const name = typeof operation.name === 'string' ? operation.name : undefined
    await sleep(name ? 5000 : 2000, options.signal)
    throwIfCancelled(options.signal)
    reply = name
      ? await getJson(`${options.baseUrl}/v1internal/${name}`, httpOf(options), auth)
      : await call('onboardUser', {tierId, metadata: CODE_ASSIST_METADATA})
  }
}

function projectOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value
  const id = objectOf(value)?.id
  return typeof id === 'string' && id !== '' ? id : undefined
}

function failure(method: string, reply: HttpReply): OAuthError {
  return new OAuthError(`Code Assist ${method} failed: ${serverSays(reply)}.`, 'gemini_project_failed', [
    NO_LICENCE_HINT,
  ])
}

function noProject(load: Record<string, unknown>): OAuthError {
  const reasons = (Array.isArray(load.ineligibleTiers) ? load.ineligibleTiers : [])
    .map(objectOf)
    .filter((t) => t !== undefined)
    .map((t) => [t.tierId, t.reasonCode, t.reasonMessage].filter((v) => typeof v === 'string' && v !== '').join(': '))
  const why = reasons.length > 0 ? ` The server says: ${reasons.join('; ')}.` : ''
  return new OAuthError(`Code Assist offers this account no project.${why}`, 'gemini_no_project', [NO_LICENCE_HINT])
}
