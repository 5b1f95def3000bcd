/**
 * Consumer groups with confluent-kafka-python (librdkafka 2.0.2): the eager range assignor and the
 * incremental cooperative-sticky one (KIP-429: two rebalances per change, partitions revoked one by one).
 */
import { describe, test } from 'node:test';
import { commitsSurviveRestart, membersShareLeaveAndDie, twoGroupsEachGetEverything } from './groups-scenarios.js';
import { confluentConsumer } from './groups-support.js';

describe('consumer groups with confluent-kafka-python', { concurrency: true }, () => {
  test('range: three members share a topic; a leaving and a killed member’s partitions move to the others', () =>
    membersShareLeaveAndDie(confluentConsumer, 'ckr', { assignor: 'range' }));
  test('cooperative-sticky: three members share a topic; a leaving and a killed member’s partitions move', () =>
    membersShareLeaveAndDie(confluentConsumer, 'ckc', { assignor: 'cooperative-sticky' }));
  test('two groups on one topic each receive every record', () =>
    twoGroupsEachGetEverything(confluentConsumer, 'ck', { assignor: 'cooperative-sticky' }));
  test('committed offsets survive a restart of consumer and broker', () =>
    commitsSurviveRestart(confluentConsumer, 'ck', { assignor: 'range' }));
});
