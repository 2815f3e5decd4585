import type {Handler} from '../handler.js'

/**
 * `GET /v1/responses/{id}` and `DELETE /v1/responses/{id}`: a response this server kept (see ResponseStore), in
 * OpenAI's words when it has none.
 */
export const storedResponse: Handler<'stored_response'> = async (deps, {route}) => {
  const {id, method} = route
  const stored = deps.responses.get(id)
  if (!stored)
    return {
      kind: 'json',
      status: 404,
      body: {
        error: {message: `Response with id '${id}' not found.`, type: 'invalid_request_error', param: null, code: null},
      },
    }
  if (method === 'GET') return {kind: 'json', status: 200, body: stored.response}
  deps.responses.delete(id)
  return {kind: 'json', status: 200, body: {id, object: 'response', deleted: true}}
}
