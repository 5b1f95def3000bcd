/** A lean Kafka client on Sluice's own codecs, for any Kafka-compatible broker. */
export * from './admin.js';
export * from './client.js';
export * from './connection.js';
export * from './consumer.js';
export * from './errors.js';
export * from './group-consumer.js';
export * from './partitioner.js';
export * from './producer.js';
export * from './versions.js';
