import {AppError, CancelledError} from '../errors.js'
import type {PoolStore} from '../pools/store.js'
import type {OAuthEndpoints} from './endpoints.js'
import type {OAuthProvider} from './errors.js'
import type {FlowContext, LoginResult, PendingLogin} from './flow.js'
import {discoverGeminiProject} from './gemini-project.js'
import {GEMINI_NOTICE, startGeminiLogin} from './gemini.js'
import {
  BUILDER_ID_START_URL,
  KIRO_DEFAULT_REGION,
  KIRO_NOTICE,
  loginKiroBuilderId,
  startKiroSocialLogin,
} from './kiro.js'
import {addLoginToPool, saveLogin} from './login.js'
import {loginQwen, QWEN_NOTICE} from './qwen.js'

export type KiroMethod = 'builder-id' | 'google' | 'github'

/** What `auth login` was asked to do, flags already checked. */
export interface LoginPlan {
  provider: OAuthProvider
  /** The credential file to write. */
  file: string
  endpoints: OAuthEndpoints
  /** The pool the account joins (`--add-to-pool`). */
  store?: PoolStore
  /** gemini: the Code Assist project to use instead of discovering it. */
  projectId?: string
  /** gemini: port of the 127.0.0.1 listener for the browser redirect. */
  port?: number
  /** kiro: how to sign in (default builder-id), in which AWS region, and with which start URL. */
  method?: KiroMethod
  region?: string
  startUrl?: string
}

export interface LoginOutcome {
  login: LoginResult
  /** gemini: the project used; null for the others. */
  projectId: string | null
  /** The pool instance the account went into, when it was asked to. */
  pool?: {uuid: string; created: boolean}
}

/** Waits for a browser login's redirect, which comes back by itself or is pasted; the caller owns the input. */
export type AwaitRedirect = (pending: PendingLogin, pasteRequired: boolean) => Promise<LoginResult>

const NOTICE: Record<OAuthProvider, string> = {qwen: QWEN_NOTICE, gemini: GEMINI_NOTICE, kiro: KIRO_NOTICE}

/** A whole login: the provider's flow, the credential file written, the Gemini project found, the pool updated. */
export async function runLogin(plan: LoginPlan, ctx: FlowContext, awaitRedirect: AwaitRedirect): Promise<LoginOutcome> {
  ctx.onEvent?.({type: 'notice', message: NOTICE[plan.provider]})
  const login = await loginWith(plan, ctx, awaitRedirect)
  await saveLogin(plan.file, login)
  const projectId = plan.provider === 'gemini' ? (plan.projectId ?? (await discoverProject(login, plan, ctx))) : null
  const pool = plan.store
    ? await addLoginToPool(plan.store, {
        provider: plan.provider,
        credsFile: plan.file,
        account: login.account,
        projectId,
      })
    : undefined
  return {login, projectId, ...(pool ? {pool} : {})}
}

function loginWith(plan: LoginPlan, ctx: FlowContext, awaitRedirect: AwaitRedirect): Promise<LoginResult> {
  const {endpoints} = plan
  switch (plan.provider) {
    case 'qwen':
      return loginQwen({...ctx, oauthBaseUrl: endpoints.QWEN_OAUTH_BASE_URL})
    case 'gemini':
      return startGeminiLogin({...ctx, endpoints, port: plan.port}).then((pending) => awaitRedirect(pending, false))
    case 'kiro': {
      const region = plan.region ?? KIRO_DEFAULT_REGION
      const method = plan.method ?? 'builder-id'
      if (method === 'builder-id')
        return loginKiroBuilderId({...ctx, endpoints, region, startUrl: plan.startUrl ?? BUILDER_ID_START_URL})
      const idp = method === 'google' ? 'Google' : 'Github'
      return startKiroSocialLogin({...ctx, endpoints, idp, region}).then((pending) => awaitRedirect(pending, true))
    }
  }
}

/** The file is already written: a failed discovery says so and how to finish without logging in again. */
async function discoverProject(login: LoginResult, plan: LoginPlan, ctx: FlowContext): Promise<string> {
  try {
    const project = await discoverGeminiProject({
      ...ctx,
      baseUrl: plan.endpoints.GEMINI_BASE_URL,
      accessToken: login.credentials.access_token as string,
    })
    if (project.tier === 'free-tier') {
      ctx.onEvent?.({
        type: 'notice',
        message: 'This account is on the Code Assist free tier, which stopped serving on 2026-06-18.',
      })
    }
    return project.projectId
  } catch (error) {
    if (!(error instanceof AppError) || error instanceof CancelledError) throw error
    throw new AppError(
      `Signed in and wrote ${plan.file}, but ${error.message.charAt(0).toLowerCase()}${error.message.slice(1)}`,
      {
        code: error.code,
        suggestions: [
          ...error.suggestions,
          `With a project ID, add the account without logging in again: aiclient pool add gemini-cli-oauth --creds-file ${plan.file} --project-id ID`,
        ],
      },
    )
  }
}
