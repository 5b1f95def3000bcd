/**
 * AlterConfigs (key 33), v0–v2.
 *
 * - v1 no change (throttling); v2 is the flexible version.
 * The configs given replace a topic's whole set of overrides: a key left out returns to the broker
 * default (use IncrementalAlterConfigs to change single keys). Broker settings are static in Sluice, so
 * broker resources get INVALID_REQUEST, as Kafka answers for settings it cannot change dynamically.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { AlterConfigsApi } from '../../protocol/generated/33-alter-configs.js';
import { defineHandler } from '../registry.js';
import { type AdminOutcome, brokerResourceError, ConfigResourceType, replaceTopicConfigs } from '../topic-admin.js';

export default defineHandler({
  api: AlterConfigsApi,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, ctx) {
    const { broker } = ctx;
    const response = AlterConfigsApi.defaultResponse();
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
        outcome = { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Duplicate config key ${duplicate}` };
      } else if (resource.resourceType === ConfigResourceType.TOPIC) {
        const configs: Record<string, string | null> = {};
        for (const c of resource.configs) configs[c.name] = c.value;
        outcome = await replaceTopicConfigs(broker, resource.resourceName, configs, request.validateOnly);
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
