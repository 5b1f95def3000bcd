/**
 * Server-side assignors of KIP-848 consumer groups (`group.consumer.assignors`; the first is the default,
 * and a member may name another with `group.remote.assignor`/`server_assignor`), after Kafka's
 * UniformAssignor and RangeAssignor. Both are deterministic: the same members, subscriptions and topics give
 * the same assignment, so a reload computes what the live coordinator computed.
 *
 * - `uniform` spreads every subscribed partition so that member loads differ by at most one when all members
 *   subscribe to the same topics, and keeps partitions where they are when balance allows (sticky). With
 *   different subscriptions each partition goes to the least loaded of its subscribers, sticky first.
 * - `range` gives each subscriber of a topic a contiguous range of its partitions, members in id order, the
 *   first `partitions % members` one partition more, so members subscribed to co-partitioned topics get the
 *   same partition numbers of each.
 */
import type { TopicPartitions } from './consumer-group-records.js';

export interface AssignmentMemberSpec {
  memberId: string;
  /** Topic ids the member subscribes to (resolved from names and regex, existing topics only). */
  subscribedTopicIds: Set<string>;
  /** Its current target assignment, for stickiness. */
  assignment: TopicPartitions;
}

export interface AssignmentTopic {
  topicId: string;
  numPartitions: number;
}

export interface ConsumerGroupAssignor {
  readonly name: string;
  assign(members: AssignmentMemberSpec[], topics: Map<string, AssignmentTopic>): Map<string, TopicPartitions>;
}

function add(out: TopicPartitions, topicId: string, partition: number): void {
  let set = out.get(topicId);
  if (!set) out.set(topicId, (set = new Set()));
  set.add(partition);
}

function sortedMembers(members: AssignmentMemberSpec[]): AssignmentMemberSpec[] {
  return [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
}

function sortedTopicIds(topics: Map<string, AssignmentTopic>): string[] {
  return [...topics.keys()].sort();
}

export class UniformAssignor implements ConsumerGroupAssignor {
  readonly name = 'uniform';

  assign(members: AssignmentMemberSpec[], topics: Map<string, AssignmentTopic>): Map<string, TopicPartitions> {
    const out = new Map<string, TopicPartitions>();
    const ordered = sortedMembers(members);
    for (const m of ordered) out.set(m.memberId, new Map());
    if (ordered.length === 0) return out;
    const first = ordered[0].subscribedTopicIds;
    const homogeneous = ordered.every(
      (m) => m.subscribedTopicIds.size === first.size && [...first].every((t) => m.subscribedTopicIds.has(t)),
    );
    return homogeneous ? this.homogeneous(ordered, topics, out) : this.heterogeneous(ordered, topics, out);
  }

  private homogeneous(
    members: AssignmentMemberSpec[],
    topics: Map<string, AssignmentTopic>,
    out: Map<string, TopicPartitions>,
  ): Map<string, TopicPartitions> {
    const all: Array<[string, number]> = [];
    for (const topicId of sortedTopicIds(topics)) {
      if (!members[0].subscribedTopicIds.has(topicId)) continue;
      for (let p = 0; p < topics.get(topicId)!.numPartitions; p++) all.push([topicId, p]);
    }
    const minQuota = Math.floor(all.length / members.length);
    let extra = all.length % members.length;
    const counts = new Map(members.map((m) => [m.memberId, 0]));
    const taken = new Set<string>();
    const keyOf = (t: string, p: number) => `${t}:${p}`;
    // Stickiness: each member keeps up to its quota of what it had; a member with more keeps one extra
    // while the remainder allows.
    for (const m of members) {
      const previous: Array<[string, number]> = [];
      for (const [t, ps] of m.assignment) {
        if (!topics.has(t) || !m.subscribedTopicIds.has(t)) continue;
        for (const p of [...ps].sort((a, b) => a - b)) if (p < topics.get(t)!.numPartitions) previous.push([t, p]);
      }
      let quota = minQuota;
      if (previous.length > minQuota && extra > 0) {
        quota++;
        extra--;
      }
      for (const [t, p] of previous.slice(0, quota)) {
        add(out.get(m.memberId)!, t, p);
        taken.add(keyOf(t, p));
        counts.set(m.memberId, counts.get(m.memberId)! + 1);
      }
    }
    // The rest go to members under their quota, then to members at it while the remainder lasts.
    const unassigned = all.filter(([t, p]) => !taken.has(keyOf(t, p)));
    const quotaOf = new Map<string, number>();
    for (const m of members) {
      const c = counts.get(m.memberId)!;
      quotaOf.set(m.memberId, Math.max(c, minQuota));
    }
    for (const m of members) {
      if (extra > 0 && quotaOf.get(m.memberId) === minQuota) {
        quotaOf.set(m.memberId, minQuota + 1);
        extra--;
      }
    }
    let i = 0;
    for (const m of members) {
      while (counts.get(m.memberId)! < quotaOf.get(m.memberId)! && i < unassigned.length) {
        const [t, p] = unassigned[i++];
        add(out.get(m.memberId)!, t, p);
        counts.set(m.memberId, counts.get(m.memberId)! + 1);
      }
    }
    return out;
  }

  private heterogeneous(
    members: AssignmentMemberSpec[],
    topics: Map<string, AssignmentTopic>,
    out: Map<string, TopicPartitions>,
  ): Map<string, TopicPartitions> {
    const counts = new Map(members.map((m) => [m.memberId, 0]));
    for (const topicId of sortedTopicIds(topics)) {
      const subscribers = members.filter((m) => m.subscribedTopicIds.has(topicId));
      if (subscribers.length === 0) continue;
      for (let p = 0; p < topics.get(topicId)!.numPartitions; p++) {
        const least = Math.min(...subscribers.map((m) => counts.get(m.memberId)!));
        // Sticky: the previous owner keeps the partition unless that would leave it two ahead of the least.
        const owner = subscribers.find((m) => m.assignment.get(topicId)?.has(p));
        const chosen =
          owner && counts.get(owner.memberId)! <= least
            ? owner
            : subscribers.find((m) => counts.get(m.memberId) === least)!;
        add(out.get(chosen.memberId)!, topicId, p);
        counts.set(chosen.memberId, counts.get(chosen.memberId)! + 1);
      }
    }
    return out;
  }
}

export class RangeAssignor implements ConsumerGroupAssignor {
  readonly name = 'range';

  assign(members: AssignmentMemberSpec[], topics: Map<string, AssignmentTopic>): Map<string, TopicPartitions> {
    const ordered = sortedMembers(members);
    const out = new Map<string, TopicPartitions>(ordered.map((m) => [m.memberId, new Map()]));
    for (const topicId of sortedTopicIds(topics)) {
      const subscribers = ordered.filter((m) => m.subscribedTopicIds.has(topicId));
      if (subscribers.length === 0) continue;
      const n = topics.get(topicId)!.numPartitions;
      const base = Math.floor(n / subscribers.length);
      const extra = n % subscribers.length;
      let next = 0;
      subscribers.forEach((m, i) => {
        const count = base + (i < extra ? 1 : 0);
        for (let k = 0; k < count; k++) add(out.get(m.memberId)!, topicId, next++);
      });
    }
    return out;
  }
}

export const ASSIGNORS: Record<string, () => ConsumerGroupAssignor> = {
  uniform: () => new UniformAssignor(),
  range: () => new RangeAssignor(),
};
