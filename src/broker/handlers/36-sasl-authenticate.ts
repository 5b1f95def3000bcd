/**
 * SaslAuthenticate (key 36), v0–v2 (KIP-152): one SASL token from the client, one back.
 *
 * - v1 adds session_lifetime_ms (KIP-368): with connections.max.reauth.ms set, how long the session
 *   lasts before the client must re-authenticate.
 * - v2 is flexible.
 * A failure is answered SASL_AUTHENTICATION_FAILED after connection.failed.authentication.delay.ms, then
 * the connection closes. On a listener without SASL, or after authentication, the answer is
 * ILLEGAL_SASL_STATE.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { SaslAuthenticateApi } from '../../protocol/generated/36-sasl-authenticate.js';
import { defineHandler } from '../registry.js';

export default defineHandler({
  api: SaslAuthenticateApi,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, ctx) {
    const response = SaslAuthenticateApi.defaultResponse();
    const sasl = ctx.connection.security?.sasl;
    if (!sasl) {
      response.errorCode = ErrorCode.ILLEGAL_SASL_STATE;
      response.errorMessage = 'SaslAuthenticate request received after successful authentication';
      return response;
    }
    const outcome = await sasl.authenticate(request.authBytes);
    response.errorCode = outcome.errorCode;
    response.errorMessage = outcome.errorMessage;
    response.authBytes = outcome.authBytes;
    response.sessionLifetimeMs = outcome.sessionLifetimeMs;
    if (outcome.closeReason !== undefined) ctx.connection.closeAfterResponse?.(outcome.closeReason);
    return response;
  },
});
