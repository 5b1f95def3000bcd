/**
 * IncrementalAlterConfigs (key 44), v0–v1 (KIP-339).
 *
 * - v1 is the flexible version.
 * Each config names an operation: SET (0) a value, DELETE (1) the override, APPEND (2) to or SUBTRACT (3)
 * from a list config (cleanup.policy). Keys not named keep their overrides. All operations of a resource
 * apply together or not at all. Broker settings are static in Sluice: broker resources get INVALID_REQUEST.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { IncrementalAlterConfigsApi } from '../../protocol/generated/44-incremental-alter-configs.js';
import { defineHandler } from '../registry.js';
import {
  type AdminOutcome,
  alterTopicConfigsIncrementally,
  brokerResourceError,
  ConfigResourceType,
} from '../topic-admin.js';

export default defineHandler({
  api: IncrementalAlterConfigsApi,
  minVersion: 0,
  maxVersion: 1,
  async handle(request, ctx) {
    const { broker } = ctx;
    const response = IncrementalAlterConfigsApi.defaultResponse();
    const seen = new Map<string, number>();
    for (const r of request.resources) {
      const id = `${r.resourceType}\0${r.resourceName}`;
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    for (const resource of request.resources) {
      let outcome: AdminOutcome;
      const names = resource.configs.map((c) => c.name);
      const duplicate = names.find((n, i) => names.indexOf(n) !== i);
      if ((seen.get(`${resource.resourceType}\0${resource.resourceName}`) ?? 0) > 1) {
        outcome = { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate resource in the request' };
      } else if (duplicate !== undefined) {
        outcome = {
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage: `Error due to duplicate config keys: ${duplicate}`,
        };
      } else if (resource.resourceType === ConfigResourceType.TOPIC) {
        outcome = await alterTopicConfigsIncrementally(
          broker,
          resource.resourceName,
          resource.configs.map((c) => ({ name: c.name, operation: c.configOperation, value: c.value })),
          request.validateOnly,
        );
      } else if (resource.resourceType === ConfigResourceType.BROKER) {
        outcome = {
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage:
            brokerResourceError(broker, resource.resourceName) ??
            'Broker settings cannot be changed while Sluice runs: restart it with --override KEY=VALUE',
        };
      } else {
        outcome = {
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage: `Sluice does not alter configs of resource type ${resource.resourceType}; use 2 (topic)`,
        };
      }
      response.responses.push({
        errorCode: outcome.errorCode,
        errorMessage: outcome.errorMessage,
        resourceType: resource.resourceType,
        resourceName: resource.resourceName,
      });
    }
    return response;
  },
});
