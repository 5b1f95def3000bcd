/**
 * ApiVersions (key 18), v0–v4: the ranges this broker serves, built from the handler registry.
 *
 * - v1 adds throttle_time_ms.
 * - v3 (KIP-511) is flexible and carries the client's software name and version; Kafka answers
 *   INVALID_REQUEST when they are malformed (librdkafka then retries with v0).
 * - v4 is v3 again; it exists so clients can tell the broker handles UNSUPPORTED_VERSION for ApiVersions.
 * A version above v4 never reaches this handler: the dispatcher answers it with UNSUPPORTED_VERSION in v0 form.
 * No tagged fields are sent (supported/finalized features stay at their defaults): librdkafka before 2.2
 * mis-skips non-empty tagged fields.
 */

import { ErrorCode } from '../../protocol/error-codes.js';
import { ApiVersionsApi } from '../../protocol/generated/18-api-versions.js';
import { defineHandler } from '../registry.js';

const SOFTWARE_NAME_OR_VERSION = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;

export default defineHandler({
  api: ApiVersionsApi,
  minVersion: 0,
  maxVersion: 4,
  handle(request, ctx) {
    const response = ApiVersionsApi.defaultResponse();
    if (ctx.version >= 3) {
      if (
        !SOFTWARE_NAME_OR_VERSION.test(request.clientSoftwareName) ||
        !SOFTWARE_NAME_OR_VERSION.test(request.clientSoftwareVersion)
      ) {
        response.errorCode = ErrorCode.INVALID_REQUEST;
        return response;
      }
      ctx.connection.state.set('clientSoftware', `${request.clientSoftwareName}/${request.clientSoftwareVersion}`);
    }
    response.apiKeys = ctx.broker.registry.ranges().map((r) => ({ ...r }));
    return response;
  },
});
