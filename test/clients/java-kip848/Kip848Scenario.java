// KIP-848 consumer groups with the Java client (group.protocol=consumer), against Sluice or Apache Kafka.
// Usage: Kip848Scenario <bootstrap> <label>            — the scenario; prints a JSON summary last.
//        Kip848Scenario <bootstrap> member <topic> <group> — one member in its own JVM, killed by the scenario;
//        it prints "COMMITTED <value>" for every record whose offset it has committed.
import java.time.Duration;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.*;
import org.apache.kafka.common.serialization.*;

public class Kip848Scenario {
  static final List<String> checks = new ArrayList<>();
  static int passed = 0, failed = 0;

  static void check(String name, boolean ok, String detail) {
    if (ok) passed++; else failed++;
    checks.add("{\"ok\":" + ok + ",\"name\":" + q(name) + (detail == null ? "" : ",\"detail\":" + q(detail)) + "}");
    System.out.println((ok ? "ok   " : "FAIL ") + name + (detail == null ? "" : " # " + detail));
  }

  static String q(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", " ") + "\"";
  }

  static Properties consumerProps(String bootstrap, String group) {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("group.id", group);
    p.put("group.protocol", "consumer");
    p.put("enable.auto.commit", "false");
    p.put("auto.offset.reset", "earliest");
    p.put("key.deserializer", StringDeserializer.class.getName());
    p.put("value.deserializer", StringDeserializer.class.getName());
    return p;
  }

  /** A member that commits what it consumed after every poll and before giving up partitions. */
  static class Member implements Runnable {
    final KafkaConsumer<String, String> consumer;
    final Map<String, Integer> seen;
    final Map<TopicPartition, OffsetAndMetadata> pending = new HashMap<>();
    final List<String> uncommitted = new ArrayList<>();
    volatile boolean running = true;
    volatile Set<TopicPartition> assigned = Set.of();
    final CountDownLatch closed = new CountDownLatch(1);

    Member(String bootstrap, String topic, String group, Map<String, Integer> seen) {
      this.consumer = new KafkaConsumer<>(consumerProps(bootstrap, group));
      this.seen = seen;
      consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
        public void onPartitionsRevoked(Collection<TopicPartition> parts) { commit(); }
        public void onPartitionsAssigned(Collection<TopicPartition> parts) {}
      });
    }

    void commit() {
      if (pending.isEmpty()) return;
      consumer.commitSync(new HashMap<>(pending));
      pending.clear();
      for (String v : uncommitted) seen.merge(v, 1, Integer::sum);
      uncommitted.clear();
    }

    public void run() {
      try {
        while (running) {
          for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
            uncommitted.add(r.value());
            pending.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
          }
          commit();
          assigned = new HashSet<>(consumer.assignment());
        }
        commit();
      } finally {
        consumer.close();
        closed.countDown();
      }
    }
  }

  static void produce(String bootstrap, String topic, int from, int to) throws Exception {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("key.serializer", StringSerializer.class.getName());
    p.put("value.serializer", StringSerializer.class.getName());
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      for (int i = from; i < to; i++) producer.send(new ProducerRecord<>(topic, i % 6, null, "v" + i));
      producer.flush();
    }
  }

  static ConsumerGroupDescription describe(Admin admin, String group) throws Exception {
    return admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get();
  }

  /** Waits until the group has `members` members with `perMember` partitions each (Stable), or times out. */
  static ConsumerGroupDescription awaitBalance(Admin admin, String group, int members, int perMember, long timeoutMs) throws Exception {
    long deadline = System.currentTimeMillis() + timeoutMs;
    ConsumerGroupDescription d = null;
    while (System.currentTimeMillis() < deadline) {
      try {
        d = describe(admin, group);
      } catch (ExecutionException e) {
        // Before its first member has joined, the group does not exist yet.
        if (!(e.getCause() instanceof org.apache.kafka.common.errors.GroupIdNotFoundException)) throw e;
        Thread.sleep(250);
        continue;
      }
      boolean ok = d.members().size() == members && d.groupState() == GroupState.STABLE
          && d.members().stream().allMatch(m -> m.assignment().topicPartitions().size() == perMember);
      if (ok) return d;
      Thread.sleep(250);
    }
    return d;
  }

  static String shape(ConsumerGroupDescription d) {
    if (d == null) return "none";
    StringBuilder sb = new StringBuilder(d.groupState() + " epoch=" + d.groupEpoch());
    for (MemberDescription m : d.members())
      sb.append(" [").append(m.clientId()).append(" epoch=").append(m.memberEpoch()).append(" ").append(m.assignment().topicPartitions().size()).append("]");
    return sb.toString();
  }

  static void awaitAll(Map<String, Integer> seen, int count, long timeoutMs) throws Exception {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (seen.size() < count && System.currentTimeMillis() < deadline) Thread.sleep(100);
  }

  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    if (args[1].equals("member")) {
      runChildMember(bootstrap, args[2], args[3]);
      return;
    }
    String suffix = Long.toHexString(System.nanoTime());
    String topic = "kip848-" + suffix, group = "kip848-group-" + suffix;
    Properties ap = new Properties();
    ap.put("bootstrap.servers", bootstrap);
    Map<String, Integer> seen = new ConcurrentHashMap<>();
    Process child = null;
    try (Admin admin = Admin.create(ap)) {
      admin.createTopics(List.of(new NewTopic(topic, 6, (short) 1))).all().get();
      produce(bootstrap, topic, 0, 300);

      Member a = new Member(bootstrap, topic, group, seen), b = new Member(bootstrap, topic, group, seen);
      Thread ta = new Thread(a), tb = new Thread(b);
      ta.start();
      tb.start();
      child = new ProcessBuilder("java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx128m",
          "-cp", System.getProperty("java.class.path"), "Kip848Scenario", bootstrap, "member", topic, group)
          .redirectErrorStream(false).start();
      Process c = child;
      Thread reader = new Thread(() -> {
        try (Scanner s = new Scanner(c.getInputStream())) {
          while (s.hasNextLine()) {
            String line = s.nextLine();
            if (line.startsWith("COMMITTED ")) seen.merge(line.substring(10), 1, Integer::sum);
          }
        }
      });
      reader.start();

      ConsumerGroupDescription d = awaitBalance(admin, group, 3, 2, 60_000);
      check("three members of a 6-partition topic get 2 partitions each (uniform assignor)", d != null && d.members().size() == 3
          && d.members().stream().allMatch(m -> m.assignment().topicPartitions().size() == 2), shape(d));
      ConsumerGroupDescription first = d;
      check("the group describes as a consumer-protocol group, Stable, members at the group epoch",
          first != null && first.type() == GroupType.CONSUMER && first.groupState() == GroupState.STABLE
              && first.members().stream().allMatch(m -> m.memberEpoch().orElse(-1).equals(first.groupEpoch().orElse(-2))), shape(first));
      check("its assignor is uniform", d != null && "uniform".equals(d.partitionAssignor()), d == null ? null : d.partitionAssignor());
      awaitAll(seen, 300, 30_000);

      // A leaves: its partitions move to the others, after it commits.
      a.running = false;
      a.closed.await(30, TimeUnit.SECONDS);
      produce(bootstrap, topic, 300, 450);
      d = awaitBalance(admin, group, 2, 3, 60_000);
      check("after a member leaves, the two others get 3 partitions each", d != null && d.members().size() == 2
          && d.members().stream().allMatch(m -> m.assignment().topicPartitions().size() == 3), shape(d));
      awaitAll(seen, 450, 30_000);

      // The child member is killed: after the session timeout, B has all six partitions.
      child.destroyForcibly().waitFor();
      reader.join(5_000);
      produce(bootstrap, topic, 450, 600);
      long killed = System.currentTimeMillis();
      d = awaitBalance(admin, group, 1, 6, 120_000);
      check("after a member is killed, its partitions move once its session times out", d != null && d.members().size() == 1
          && d.members().iterator().next().assignment().topicPartitions().size() == 6, shape(d) + " after " + (System.currentTimeMillis() - killed) + " ms");
      awaitAll(seen, 600, 60_000);
      b.running = false;
      b.closed.await(30, TimeUnit.SECONDS);

      List<String> missing = new ArrayList<>(), twice = new ArrayList<>();
      for (int i = 0; i < 600; i++) {
        Integer n = seen.get("v" + i);
        if (n == null) missing.add("v" + i); else if (n > 1) twice.add("v" + i);
      }
      check("every record is consumed and committed exactly once across a leave and a kill", missing.isEmpty() && twice.isEmpty(),
          "missing " + missing.size() + " " + missing.subList(0, Math.min(5, missing.size())) + ", twice " + twice.size() + " " + twice.subList(0, Math.min(5, twice.size())));

      // A restarted member resumes from the committed offsets: it sees only what came after.
      produce(bootstrap, topic, 600, 660);
      Map<String, Integer> resumed = new ConcurrentHashMap<>();
      Member r = new Member(bootstrap, topic, group, resumed);
      Thread tr = new Thread(r);
      tr.start();
      awaitAll(resumed, 60, 60_000);
      Thread.sleep(1_000);
      r.running = false;
      r.closed.await(30, TimeUnit.SECONDS);
      boolean onlyNew = resumed.size() == 60 && resumed.keySet().stream().allMatch(v -> Integer.parseInt(v.substring(1)) >= 600);
      check("a member joining later resumes from the committed offsets", onlyNew, "consumed " + resumed.size());

      Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
      long total = committed.values().stream().mapToLong(OffsetAndMetadata::offset).sum();
      check("the committed offsets cover every record", total == 660, "sum " + total);
      d = describe(admin, group);
      check("the group is Empty once every member has left", d.groupState() == GroupState.EMPTY, shape(d));
      Collection<GroupListing> listed = admin.listGroups(ListGroupsOptions.forConsumerGroups()).all().get();
      check("ListGroups shows it as a consumer-protocol group", listed.stream().anyMatch(g -> g.groupId().equals(group)
          && g.type().orElse(null) == GroupType.CONSUMER), listed.toString());
    } catch (Exception e) {
      check("scenario ran to the end", false, e.toString());
    } finally {
      if (child != null) child.destroyForcibly();
    }
    System.out.println("{\"passed\":" + passed + ",\"failed\":" + failed + ",\"checks\":[" + String.join(",", checks) + "]}");
    System.exit(0);
  }

  static void runChildMember(String bootstrap, String topic, String group) {
    Map<String, Integer> ignored = new ConcurrentHashMap<>();
    Member m = new Member(bootstrap, topic, group, ignored) {
      @Override void commit() {
        if (pending.isEmpty()) return;
        consumer.commitSync(new HashMap<>(pending));
        pending.clear();
        for (String v : uncommitted) System.out.println("COMMITTED " + v);
        System.out.flush();
        uncommitted.clear();
      }
    };
    m.run();
  }
}
