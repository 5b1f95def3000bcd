/** Sluice as a library: embed a broker (`startBroker`) or compose one (`Broker`). */
export { Broker, type BrokerOptions } from './broker/broker.js';
export { type BrokerConfig, defaultConfig, loadConfig } from './broker/config.js';
export { ErrorCode } from './protocol/error-codes.js';
export {
  type BrokerControl,
  type EmbeddedBroker,
  type StartBrokerOptions,
  startBroker,
  type TopicSpec,
} from './testing/start-broker.js';
