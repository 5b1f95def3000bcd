/**
 * SaslHandshake (key 17), v0–v1: the client names the SASL mechanism it will use.
 *
 * - v0: the SASL tokens that follow are sent raw (size-prefixed, no request header), Kafka's legacy flow.
 * - v1 (KIP-152): the tokens follow in SaslAuthenticate requests.
 * Served on every listener, as Kafka does; on a listener without SASL the answer is ILLEGAL_SASL_STATE.
 * An unsupported mechanism is answered UNSUPPORTED_SASL_MECHANISM with the enabled ones, and the connection
 * closes.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { SaslHandshakeApi } from '../../protocol/generated/17-sasl-handshake.js';
import { defineHandler } from '../registry.js';

export default defineHandler({
  api: SaslHandshakeApi,
  minVersion: 0,
  maxVersion: 1,
  handle(request, ctx) {
    const response = SaslHandshakeApi.defaultResponse();
    const sasl = ctx.connection.security?.sasl;
    if (!sasl) {
      response.errorCode = ErrorCode.ILLEGAL_SASL_STATE;
      return response;
    }
    const outcome = sasl.handshake(request.mechanism, ctx.version);
    response.errorCode = outcome.errorCode;
    response.mechanisms = outcome.mechanisms;
    if (outcome.closeReason !== undefined) ctx.connection.closeAfterResponse?.(outcome.closeReason);
    return response;
  },
});
