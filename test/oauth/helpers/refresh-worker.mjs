// Run as its own process by token-manager.test.ts (from the build, to start fast): waits for a shared start
// time, then asks its own TokenManager for a token, so two processes race to refresh one file.
import {resolveEndpoints} from '../../../dist/core/oauth/endpoints.js'
import {qwenCredentialSpec} from '../../../dist/core/oauth/qwen.js'
import {tokenManagers} from '../../../dist/core/oauth/token-manager.js'

const [file, startAt] = process.argv.slice(2)
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())))
const token = await tokenManagers
  .get(qwenCredentialSpec, file, {endpoints: resolveEndpoints(process.env)})
  .getAccessToken()
process.stdout.write(JSON.stringify({token: token.token}))
