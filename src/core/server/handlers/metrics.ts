import type {Handler} from '../handler.js'
import {HttpError} from '../http-error.js'

/** Prometheus's text format; the server routes here only while metrics are on. */
export const metrics: Handler<'metrics'> = async ({metrics}, {route}) => {
  if (route.method !== 'GET') throw new HttpError(405, `Use GET /metrics, not ${route.method}.`, {allow: 'GET'})
  return {kind: 'text', status: 200, text: await metrics!.scrape(), headers: {'content-type': metrics!.contentType}}
}
