import type {Handler} from '../handler.js'

const UNIMPLEMENTED = 501

/**
 * Gemini's `models/{model}:embedContent` and `:batchEmbedContents`. Only the public Gemini API has them, and no
 * provider type speaks it (Code Assist has no embedding call), so the answer is Google's own UNIMPLEMENTED, logged,
 * and pointing to the embeddings this server does serve. Not NOT_FOUND: the model is not what is missing.
 */
export const geminiEmbed: Handler<'gemini_embed'> = async (deps, {route}) => {
  const started = deps.now()
  const message =
    `${route.method} is not available through this server: no provider type speaks the public Gemini API, which ` +
    'alone has it. Embeddings are served by POST /v1/embeddings (OpenAI) through openai-custom and ' +
    'openaiResponses-custom instances.'
  deps.onRecord?.({
    time: started,
    route: `/v1beta/models/…:${route.method}`,
    protocol: 'gemini',
    type: null,
    instance: null,
    model: route.model,
    status: UNIMPLEMENTED,
    ms: deps.now() - started,
    attempts: 0,
    stream: false,
    error: message,
  })
  return {kind: 'json', status: UNIMPLEMENTED, body: deps.codecs.gemini.errorBody(UNIMPLEMENTED, message)}
}
