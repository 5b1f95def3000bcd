/** Consumer groups with kcat's balanced consumer (kcat -G, librdkafka 2.0.2, range and roundrobin offered). */
import { describe, test } from 'node:test';
import { commitsSurviveRestart, membersShareLeaveAndDie, twoGroupsEachGetEverything } from './groups-scenarios.js';
import { kcatConsumer } from './groups-support.js';

describe('consumer groups with kcat -G', { concurrency: true }, () => {
  test('three members share a topic; a leaving and a killed member’s partitions move to the others', () =>
    membersShareLeaveAndDie(kcatConsumer, 'kcat'));
  test('two groups on one topic each receive every record', () => twoGroupsEachGetEverything(kcatConsumer, 'kcat'));
  test('committed offsets survive a restart of consumer and broker', () => commitsSurviveRestart(kcatConsumer, 'kcat'));
});
