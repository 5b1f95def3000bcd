/**
 * AlterConfigs (key 33), v0–v2.
 *
 * - v1 no change (throttling); v2 is the flexible version.
 * The configs given replace a topic's whole set of overrides: a key left out returns to the broker
 * default (use IncrementalAlterConfigs to change single keys). Broker settings are static in Sluice, so
 * broker resources get INVALID_REQUEST, as Kafka answers for settings it cannot change dynamically.
 */
import { AlterConfigsApi } from '../../protocol/generated/33-alter-configs.js';
import { configRefusal } from '../authorizer.js';
import { defineHandler } from '../registry.js';
import { alterConfigResources, replaceTopicConfigs } from '../topic-admin.js';

export default defineHandler({
  api: AlterConfigsApi,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, ctx) {
    const { broker } = ctx;
    const response = AlterConfigsApi.defaultResponse();
    response.responses = await alterConfigResources(
      broker,
      request.resources,
      (key) => `Duplicate config key ${key}`,
      (resource) => {
        const configs: Record<string, string | null> = {};
        for (const c of resource.configs) configs[c.name] = c.value;
        return replaceTopicConfigs(broker, resource.resourceName, configs, request.validateOnly);
      },
      (resource) => configRefusal(ctx, resource.resourceType, resource.resourceName, false),
    );
    return response;
  },
});
