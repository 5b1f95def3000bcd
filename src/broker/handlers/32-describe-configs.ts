/**
 * DescribeConfigs (key 32), v0–v4.
 *
 * - v0 reports is_default; v1 replaces it with config_source and adds synonyms on request (KIP-226).
 * - v2 no change (throttling); v3 adds config_type and, on request, documentation (KIP-569).
 * - v4 is the flexible version.
 * Topic resources list every topic config with its effective value, TOPIC_CONFIG for an override, else
 * where the broker default comes from. Broker resources list this broker's settings, all read-only
 * because Sluice has no dynamic broker configs. Other resource types get INVALID_REQUEST.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  DescribeConfigsApi,
  type DescribeConfigsResponseDescribeConfigsResourceResult,
  type DescribeConfigsResponseDescribeConfigsResult,
} from '../../protocol/generated/32-describe-configs.js';
import { configRefusal } from '../authorizer.js';
import { ConfigSource } from '../config-source.js';
import { defineHandler } from '../registry.js';
import {
  brokerResourceError,
  ConfigResourceType,
  type DescribedConfig,
  describeBrokerConfigs,
  describeTopicConfigs,
} from '../topic-admin.js';

export default defineHandler({
  api: DescribeConfigsApi,
  minVersion: 0,
  maxVersion: 4,
  handle(request, ctx) {
    const { broker, version } = ctx;
    const response = DescribeConfigsApi.defaultResponse();
    const synonyms = version >= 1 && request.includeSynonyms;
    const documentation = version >= 3 && request.includeDocumentation;
    for (const resource of request.resources) {
      const result: DescribeConfigsResponseDescribeConfigsResult = {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        resourceType: resource.resourceType,
        resourceName: resource.resourceName,
        configs: [],
      };
      response.results.push(result);
      const refused = configRefusal(ctx, resource.resourceType, resource.resourceName, true);
      if (refused !== ErrorCode.NONE) {
        result.errorCode = refused;
        continue;
      }
      let described: DescribedConfig[];
      if (resource.resourceType === ConfigResourceType.TOPIC) {
        const topic = broker.topics.get(resource.resourceName);
        if (!topic) {
          result.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          result.errorMessage = `Topic '${resource.resourceName}' does not exist`;
          continue;
        }
        described = describeTopicConfigs(broker, topic, resource.configurationKeys);
      } else if (resource.resourceType === ConfigResourceType.BROKER) {
        const wrongBroker = brokerResourceError(broker, resource.resourceName);
        if (wrongBroker) {
          result.errorCode = ErrorCode.INVALID_REQUEST;
          result.errorMessage = wrongBroker;
          continue;
        }
        described = describeBrokerConfigs(broker, resource.configurationKeys);
      } else {
        result.errorCode = ErrorCode.INVALID_REQUEST;
        result.errorMessage = `Sluice does not describe configs of resource type ${resource.resourceType}; use 2 (topic) or 4 (broker)`;
        continue;
      }
      result.configs = described.map((c) => toEntry(c, synonyms, documentation));
    }
    return response;
  },
});

function toEntry(
  c: DescribedConfig,
  synonyms: boolean,
  documentation: boolean,
): DescribeConfigsResponseDescribeConfigsResourceResult {
  return {
    name: c.name,
    value: c.value,
    readOnly: c.readOnly,
    // v0's is_default means "not overridden here".
    isDefault: c.source === ConfigSource.DEFAULT_CONFIG || c.source === ConfigSource.STATIC_BROKER_CONFIG,
    configSource: c.source,
    isSensitive: c.sensitive,
    synonyms: synonyms ? c.synonyms : [],
    configType: c.type,
    documentation: documentation ? c.documentation : null,
  };
}
