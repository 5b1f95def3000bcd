/** Consumer groups with kafkajs 2.2.4 (RoundRobinAssigner, JoinGroup v5 with MEMBER_ID_REQUIRED, OffsetCommit v5). */
import { describe, test } from 'node:test';
import { commitsSurviveRestart, membersShareLeaveAndDie, twoGroupsEachGetEverything } from './groups-scenarios.js';
import { kafkajsConsumer } from './groups-support.js';

describe('consumer groups with kafkajs', { concurrency: true }, () => {
  test('three members share a topic; a leaving and a killed member’s partitions move to the others', () =>
    membersShareLeaveAndDie(kafkajsConsumer, 'kjs'));
  test('two groups on one topic each receive every record', () => twoGroupsEachGetEverything(kafkajsConsumer, 'kjs'));
  test('committed offsets survive a restart of consumer and broker', () =>
    commitsSurviveRestart(kafkajsConsumer, 'kjs'));
});
