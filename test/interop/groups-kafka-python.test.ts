/** Consumer groups with kafka-python 2.0.2 (JoinGroup v2 without MEMBER_ID_REQUIRED, OffsetCommit v2, range). */
import { describe, test } from 'node:test';
import { commitsSurviveRestart, membersShareLeaveAndDie, twoGroupsEachGetEverything } from './groups-scenarios.js';
import { kafkaPythonConsumer } from './groups-support.js';

describe('consumer groups with kafka-python', { concurrency: true }, () => {
  test('three members share a topic; a leaving and a killed member’s partitions move to the others', () =>
    membersShareLeaveAndDie(kafkaPythonConsumer, 'kpy'));
  test('two groups on one topic each receive every record', () =>
    twoGroupsEachGetEverything(kafkaPythonConsumer, 'kpy'));
  test('committed offsets survive a restart of consumer and broker', () =>
    commitsSurviveRestart(kafkaPythonConsumer, 'kpy'));
});
