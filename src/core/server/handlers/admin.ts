import {checkInstance, findLive, resetInstance, setInstanceDisabled} from '../../admin/instances.js'
import {statusOf} from '../../admin/status.js'
import {UsageError} from '../../errors.js'
import type {LiveInstance} from '../../pools/pool-state.js'
import {redact} from '../../secrets.js'
import type {Handler, Reply} from '../handler.js'
import {HttpError} from '../http-error.js'
import {ADMIN_PREFIX} from '../routes.js'

const INSTANCE_ACTION = /^instances\/([^/]+)\/(disable|enable|reset|check)$/

export const LOCAL_ADMIN_REFUSAL = `Refused: this server has no API key, so it takes no changes over HTTP. Start it with --api-key (or AICLIENT_API_KEY) and send the key, or pass --allow-local-admin to let programs on this machine change the pool without one.`

/**
 * The management API: `GET status` (the board's data) and `POST instances/{ref}/{action}`, where the action goes
 * through the same operation as `aiclient pool {action} {ref}`. Answers are scrubbed of every secret the process
 * holds, since they quote names, reasons and probe errors from elsewhere.
 */
export const admin: Handler<'admin'> = async ({admin}, {route}) => {
  const management = admin!
  if (route.path === 'status') {
    allowOnly(route.method, 'GET')
    return json(statusOf(management))
  }
  const action = INSTANCE_ACTION.exec(route.path)
  if (!action)
    throw new HttpError(
      404,
      `Unknown route ${route.method} ${ADMIN_PREFIX}${route.path}. The management API serves GET ${ADMIN_PREFIX}status and POST ${ADMIN_PREFIX}instances/{uuid}/disable, enable, reset and check.`,
    )
  allowOnly(route.method, 'POST')
  if (!management.keyRequired && !management.allowLocalAdmin) throw new HttpError(403, LOCAL_ADMIN_REFUSAL)
  const live = lookup(management.state, action[1]!)
  let result: Record<string, unknown> = {}
  switch (action[2]) {
    case 'disable':
    case 'enable':
      await setInstanceDisabled(management, live, action[2] === 'disable')
      break
    case 'reset':
      await resetInstance(management, live)
      break
    case 'check':
      result = {check: await checkInstance(management, live, management.check)}
      break
  }
  const instance = statusOf(management).instances.find((row) => row.id === live.id) ?? null
  return json({action: action[2], ...result, instance})
}

function allowOnly(method: string, allowed: string): void {
  if (method !== allowed)
    throw new HttpError(405, `This management route takes ${allowed}, not ${method}.`, {allow: allowed})
}

/** The instance as the CLI would find it; the CLI's own messages, as 404 or 409. */
function lookup(state: Parameters<typeof findLive>[0], encoded: string): LiveInstance {
  let ref: string
  try {
    ref = decodeURIComponent(encoded)
  } catch {
    throw new HttpError(400, `The instance reference "${encoded}" has malformed percent-encoding.`)
  }
  try {
    return findLive(state, ref)
  } catch (error) {
    if (error instanceof UsageError && error.code === 'instance_not_found') throw new HttpError(404, error.message)
    if (error instanceof UsageError && error.code === 'ambiguous_instance') throw new HttpError(409, error.message)
    throw error
  }
}

function json(body: unknown): Reply {
  return {kind: 'text', status: 200, text: redact(JSON.stringify(body)), headers: {'content-type': 'application/json'}}
}
