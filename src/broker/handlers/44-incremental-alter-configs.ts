/**
 * IncrementalAlterConfigs (key 44), v0–v1 (KIP-339).
 *
 * - v1 is the flexible version.
 * Each config names an operation: SET (0) a value, DELETE (1) the override, APPEND (2) to or SUBTRACT (3)
 * from a list config (cleanup.policy). Keys not named keep their overrides. All operations of a resource
 * apply together or not at all. Broker settings are static in Sluice: broker resources get INVALID_REQUEST.
 */
import { IncrementalAlterConfigsApi } from '../../protocol/generated/44-incremental-alter-configs.js';
import { configRefusal } from '../authorizer.js';
import { defineHandler } from '../registry.js';
import { alterConfigResources, alterTopicConfigsIncrementally } from '../topic-admin.js';

export default defineHandler({
  api: IncrementalAlterConfigsApi,
  minVersion: 0,
  maxVersion: 1,
  async handle(request, ctx) {
    const { broker } = ctx;
    const response = IncrementalAlterConfigsApi.defaultResponse();
    response.responses = await alterConfigResources(
      broker,
      request.resources,
      (key) => `Error due to duplicate config keys: ${key}`,
      (resource) =>
        alterTopicConfigsIncrementally(
          broker,
          resource.resourceName,
          resource.configs.map((c) => ({ name: c.name, operation: c.configOperation, value: c.value })),
          request.validateOnly,
        ),
      (resource) => configRefusal(ctx, resource.resourceType, resource.resourceName, false),
    );
    return response;
  },
});
