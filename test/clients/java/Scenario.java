import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.CreatePartitionsOptions;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListGroupsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.RemoveMembersFromConsumerGroupOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicCollection;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.GroupNotEmptyException;
import org.apache.kafka.common.errors.GroupSubscribedToTopicException;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.OffsetOutOfRangeException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The Apache Kafka Java client (kafka-clients 4.x) through the team's interop scenario, against the broker
 * at a bootstrap address: {@code java Scenario <bootstrap> <sluice|kafka> <group>...}.
 *
 * Groups: {@code clients} (metadata, keyed acks=all produce with headers, classic consumer group exactly
 * once, commit and resume, every codec, offsets by timestamp, delete), {@code admin} (every Admin call the
 * broker serves, and UnsupportedVersionException for those Sluice does not serve), {@code idempotence}
 * (a producer with default settings). Every check prints {@code ok - ...} or {@code not ok - ... # detail};
 * the last line is a JSON summary. The second argument names the broker only for the few calls whose
 * answer is known to differ (each says why); everything else must pass the same on both.
 */
public final class Scenario {
  private static final int N_MESSAGES = 1000;
  private static final int N_KEYS = 10;
  private static final int N_RESUME = 10;
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final String bootstrap;
  private final boolean sluice;
  private final String prefix;
  private final List<Map<String, Object>> checks = new ArrayList<>();
  private String group = "";
  private int passed;
  private int failed;

  private Scenario(String bootstrap, String broker) {
    this.bootstrap = bootstrap;
    this.sluice = broker.equals("sluice");
    this.prefix = "java-" + Long.toString(System.currentTimeMillis(), 36);
  }

  public static void main(String[] args) {
    if (args.length < 3 || !(args[1].equals("sluice") || args[1].equals("kafka"))) {
      System.err.println("usage: java Scenario <bootstrap> <sluice|kafka> <clients|admin|idempotence>...");
      System.exit(2);
    }
    Scenario s = new Scenario(args[0], args[1]);
    for (int i = 2; i < args.length; i++) {
      s.group = args[i];
      try {
        switch (args[i]) {
          case "clients" -> s.clients();
          case "admin" -> s.adminCalls();
          case "idempotence" -> s.idempotence();
          default -> s.check(false, "unknown scenario group " + args[i], "");
        }
      } catch (Throwable t) {
        s.check(false, "scenario crashed", describe(t));
      }
    }
    System.out.println(s.summary());
    System.out.flush();
    // The clients' non-daemon threads are closed, but exit explicitly so a stuck one cannot hang the JVM.
    System.exit(s.failed == 0 && s.passed > 0 ? 0 : 1);
  }

  // ---- output ----

  private boolean check(boolean ok, String name, Object detail) {
    String full = group + ": " + name;
    String text = detail == null ? "" : oneLine(String.valueOf(detail));
    if (ok) passed++;
    else failed++;
    System.out.println((ok ? "ok - " : "not ok - ") + full + (ok || text.isEmpty() ? "" : " # " + text));
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("ok", ok);
    c.put("name", full);
    if (!ok) c.put("detail", text);
    checks.add(c);
    return ok;
  }

  private void info(String message) {
    System.out.println("# " + group + ": " + oneLine(message));
  }

  private String summary() {
    StringBuilder b = new StringBuilder("{\"passed\":").append(passed).append(",\"failed\":").append(failed);
    b.append(",\"checks\":[");
    for (int i = 0; i < checks.size(); i++) {
      Map<String, Object> c = checks.get(i);
      if (i > 0) b.append(',');
      b.append("{\"ok\":").append(c.get("ok")).append(",\"name\":").append(json((String) c.get("name")));
      if (c.containsKey("detail")) b.append(",\"detail\":").append(json((String) c.get("detail")));
      b.append('}');
    }
    return b.append("]}").toString();
  }

  private static String json(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char ch : s.toCharArray()) {
      switch (ch) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        default -> {
          if (ch < 0x20) b.append(String.format("\\u%04x", (int) ch));
          else b.append(ch);
        }
      }
    }
    return b.append('"').toString();
  }

  private static String oneLine(String s) {
    String t = s.replaceAll("\\s+", " ").trim();
    return t.length() > 400 ? t.substring(0, 400) : t;
  }

  private static String describe(Throwable t) {
    if (t == null) return "no error";
    return t.getClass().getSimpleName() + ": " + t.getMessage();
  }

  /** The exception a future failed with (unwrapped), or null when it succeeded. */
  private static Throwable failure(Future<?> f) {
    try {
      f.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      return null;
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (Exception e) {
      return e;
    }
  }

  private static <T> T get(KafkaFuture<T> f) throws Exception {
    return f.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Checks that a future failed with exactly the exception class Kafka's client maps the error code to. */
  private void expectFailure(Future<?> f, Class<? extends Throwable> expected, String name) {
    Throwable t = failure(f);
    check(expected.isInstance(t), name, "expected " + expected.getSimpleName() + ", got " + describe(t));
  }

  private static boolean waitFor(BooleanSupplier condition, long timeoutMs) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (true) {
      try {
        if (condition.getAsBoolean()) return true;
      } catch (RuntimeException ignored) {
        // Not there yet (e.g. metadata still propagating on Kafka): try again until the deadline.
      }
      if (System.currentTimeMillis() >= deadline) return false;
      Thread.sleep(200);
    }
  }

  // ---- clients ----

  private Admin newAdmin() {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(AdminClientConfig.CLIENT_ID_CONFIG, "interop-java-admin");
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 15000);
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30000);
    return Admin.create(p);
  }

  /** A producer with acks=all and the client's default idempotence (on since kafka-clients 3.0). */
  private KafkaProducer<String, String> producer(String compression) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "interop-java-producer");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression);
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30000);
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 15000);
    return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
  }

  private KafkaConsumer<String, String> consumer(String groupId) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "interop-java-consumer");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 200);
    if (groupId != null) {
      p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
      p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
    }
    return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
  }

  /** Polls until `want` records arrived or the timeout, then `graceMs` more to catch duplicates. */
  private static List<ConsumerRecord<String, String>> pollUntil(
      KafkaConsumer<String, String> c, int want, long timeoutMs, long graceMs) {
    List<ConsumerRecord<String, String>> out = new ArrayList<>();
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (out.size() < want && System.currentTimeMillis() < deadline) {
      c.poll(Duration.ofMillis(200)).forEach(out::add);
    }
    long graceEnd = System.currentTimeMillis() + graceMs;
    while (System.currentTimeMillis() < graceEnd) c.poll(Duration.ofMillis(200)).forEach(out::add);
    return out;
  }

  private static String key(int seq) {
    return "user-" + (seq % N_KEYS);
  }

  private String value(int seq) {
    return "{\"seq\":" + seq + ",\"key\":\"" + key(seq) + "\",\"prefix\":\"" + prefix + "\"}";
  }

  private static int seqOf(String value) {
    int i = value.indexOf("\"seq\":");
    if (i < 0) return -1;
    int j = value.indexOf(',', i);
    return Integer.parseInt(value.substring(i + 6, j));
  }

  /** Even sequence numbers carry two headers, odd ones none, as in the shared scenarios. */
  private ProducerRecord<String, String> keyed(String topic, int seq) {
    ProducerRecord<String, String> r = new ProducerRecord<>(topic, key(seq), value(seq));
    if (seq % 2 == 0) {
      r.headers().add("seq", Integer.toString(seq).getBytes());
      r.headers().add("origin", "interop".getBytes());
    }
    return r;
  }

  private static Map<String, String> headersOf(ConsumerRecord<String, String> r) {
    Map<String, String> h = new TreeMap<>();
    for (Header header : r.headers()) h.put(header.key(), new String(header.value()));
    return h;
  }

  /** The shared scenarios' checks on a consumed set: exactly once, intact, one partition per key, in order. */
  private void verifyConsumed(
      String label,
      List<ConsumerRecord<String, String>> records,
      Map<Integer, RecordMetadata> acks,
      Set<Integer> expect,
      boolean offsetsFromZero) {
    Map<Integer, ConsumerRecord<String, String>> seen = new HashMap<>();
    List<Integer> dups = new ArrayList<>();
    List<Integer> unexpected = new ArrayList<>();
    int badContent = 0;
    for (ConsumerRecord<String, String> r : records) {
      int seq = seqOf(r.value());
      if (!expect.contains(seq)) {
        unexpected.add(seq);
        continue;
      }
      if (seen.putIfAbsent(seq, r) != null) dups.add(seq);
      Map<String, String> wantHeaders = new TreeMap<>();
      if (seq % 2 == 0) {
        wantHeaders.put("seq", Integer.toString(seq));
        wantHeaders.put("origin", "interop");
      }
      if (!key(seq).equals(r.key()) || !value(seq).equals(r.value()) || !wantHeaders.equals(headersOf(r))) badContent++;
    }
    // With nothing consumed the checks below would hold vacuously: they fail instead.
    boolean any = !records.isEmpty();
    Set<Integer> missing = new HashSet<>(expect);
    missing.removeAll(seen.keySet());
    check(missing.isEmpty() && unexpected.isEmpty(),
        label + ": all " + expect.size() + " expected records arrived",
        "got " + records.size() + ", missing " + missing.size() + ", unexpected " + unexpected);
    check(any && dups.isEmpty(), label + ": every record arrived exactly once", dups.size() + " duplicates");
    check(any && badContent == 0, label + ": keys, values and headers identical to what was produced", badContent + " differ");

    Map<String, Set<Integer>> partitionsOfKey = new HashMap<>();
    Map<String, Integer> lastSeqOfKey = new HashMap<>();
    int disorder = 0;
    int wrongOffset = 0;
    for (ConsumerRecord<String, String> r : records) {
      partitionsOfKey.computeIfAbsent(r.key(), k -> new HashSet<>()).add(r.partition());
      int seq = seqOf(r.value());
      Integer last = lastSeqOfKey.put(r.key(), seq);
      if (last != null && last >= seq) disorder++;
      RecordMetadata ack = acks.get(seq);
      if (ack == null || ack.partition() != r.partition() || ack.offset() != r.offset()) wrongOffset++;
    }
    check(any && partitionsOfKey.values().stream().allMatch(s -> s.size() == 1),
        label + ": all records of each key came from one partition", partitionsOfKey);
    check(any && disorder == 0, label + ": records of each key arrived in the order produced", disorder + " out of order");
    check(any && wrongOffset == 0, label + ": each record is at the partition and offset its acknowledgement named",
        wrongOffset + " differ");
    if (offsetsFromZero) {
      Map<Integer, List<Long>> offsets = new TreeMap<>();
      for (ConsumerRecord<String, String> r : records)
        offsets.computeIfAbsent(r.partition(), k -> new ArrayList<>()).add(r.offset());
      boolean dense = offsets.values().stream().allMatch(list -> {
        for (int i = 0; i < list.size(); i++) if (list.get(i) != i) return false;
        return true;
      });
      check(any && dense, label + ": offsets of each partition run densely from 0", offsets.keySet());
    }
  }

  private void clients() throws Exception {
    String main = prefix + "-main";
    String groupId = prefix + "-group";
    String tsTopic = prefix + "-ts";
    List<String> codecs = List.of("none", "gzip", "snappy", "lz4", "zstd");
    List<String> all = new ArrayList<>(List.of(main, tsTopic));
    for (String codec : codecs) all.add(prefix + "-c-" + codec);

    try (Admin admin = newAdmin()) {
      // a. metadata
      Collection<Node> nodes = get(admin.describeCluster().nodes());
      check(nodes.size() == 1 && nodes.stream().allMatch(n -> n.port() > 0 && !n.host().isEmpty() && n.id() >= 0),
          "metadata: one broker listed with node id, host and port", nodes);

      // b. create topic
      check(failure(admin.createTopics(List.of(new NewTopic(main, 3, (short) 1))).all()) == null,
          "create topic with 3 partitions", null);
      boolean ready = waitFor(() -> {
        try {
          TopicDescription d = get(admin.describeTopics(List.of(main)).topicNameValues().get(main));
          return d.partitions().size() == 3 && d.partitions().stream().allMatch(p -> p.leader() != null);
        } catch (Exception e) {
          return false;
        }
      }, 15000);
      check(ready, "metadata: the topic has 3 partitions, each with a leader", null);

      // c. produce 1000 keyed records with acks=all
      Map<Integer, RecordMetadata> acks = new HashMap<>();
      List<String> errors = new ArrayList<>();
      try (KafkaProducer<String, String> producer = producer("none")) {
        Map<Integer, Future<RecordMetadata>> sends = new LinkedHashMap<>();
        for (int seq = 0; seq < N_MESSAGES; seq++) sends.put(seq, producer.send(keyed(main, seq)));
        producer.flush();
        for (var e : sends.entrySet()) {
          try {
            acks.put(e.getKey(), e.getValue().get(30, TimeUnit.SECONDS));
          } catch (ExecutionException ex) {
            errors.add(describe(ex.getCause()));
          }
        }
        check(acks.size() == N_MESSAGES && errors.isEmpty(),
            "produce: " + N_MESSAGES + " keyed records acknowledged (acks=all) with an offset",
            acks.size() + " acked; " + errors.stream().limit(2).toList());
        Set<String> positions = acks.values().stream().map(m -> m.partition() + "/" + m.offset()).collect(Collectors.toSet());
        check(positions.size() == acks.size(), "produce: acknowledged partition/offset pairs are unique", null);

        // d. consume in a classic group, exactly once; e. commit and close
        Set<Integer> first = new HashSet<>();
        for (int i = 0; i < N_MESSAGES; i++) first.add(i);
        try (KafkaConsumer<String, String> c = consumer(groupId)) {
          c.subscribe(List.of(main));
          List<ConsumerRecord<String, String>> got = pollUntil(c, N_MESSAGES, 60000, 1500);
          verifyConsumed("consume", got, acks, first, true);
          Throwable commit = null;
          try {
            c.commitSync(Duration.ofSeconds(15));
          } catch (RuntimeException e) {
            commit = e;
          }
          check(commit == null, "commit: commitSync succeeds", describe(commit));
        }
        Map<TopicPartition, OffsetAndMetadata> committed = get(admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata());
        Map<TopicPartition, ListOffsetsResultInfo> ends = get(admin.listOffsets(
            Map.of(tp(main, 0), OffsetSpec.latest(), tp(main, 1), OffsetSpec.latest(), tp(main, 2), OffsetSpec.latest())).all());
        long sum = ends.values().stream().mapToLong(ListOffsetsResultInfo::offset).sum();
        boolean equal = ends.entrySet().stream().allMatch(e ->
            committed.get(e.getKey()) != null && committed.get(e.getKey()).offset() == e.getValue().offset());
        check(equal && sum == N_MESSAGES, "commit: committed offset of every partition equals its end offset (sum 1000)",
            "committed " + committed + " ends " + ends);

        // f. 10 more records; the same group resumes from the committed offsets
        Set<Integer> more = new HashSet<>();
        for (int seq = N_MESSAGES; seq < N_MESSAGES + N_RESUME; seq++) {
          try {
            acks.put(seq, producer.send(keyed(main, seq)).get(30, TimeUnit.SECONDS));
            more.add(seq);
          } catch (ExecutionException ex) {
            info("produce failed: " + describe(ex.getCause()));
          }
        }
        check(more.size() == N_RESUME, "produce: " + N_RESUME + " more records acknowledged", null);
        try (KafkaConsumer<String, String> c = consumer(groupId)) {
          c.subscribe(List.of(main));
          List<ConsumerRecord<String, String>> got = pollUntil(c, N_RESUME, 45000, 2000);
          check(got.size() == N_RESUME, "resume: the reopened group receives exactly the " + N_RESUME + " new records",
              "got " + got.size());
          verifyConsumed("resume", got, acks, more, false);
          c.commitSync(Duration.ofSeconds(15));
        }
      }

      // g. every codec
      check(failure(admin.createTopics(all.subList(1, all.size()).stream().map(t -> new NewTopic(t, 1, (short) 1)).toList()).all()) == null,
          "create one-partition topics for timestamps and each codec", null);
      for (String codec : codecs) {
        String topic = prefix + "-c-" + codec;
        List<Long> offsets = new ArrayList<>();
        Throwable err = null;
        try (KafkaProducer<String, String> p = producer(codec)) {
          List<Future<RecordMetadata>> sends = new ArrayList<>();
          for (int i = 0; i < 20; i++) sends.add(p.send(keyed(topic, i)));
          p.flush();
          for (Future<RecordMetadata> f : sends) offsets.add(f.get(30, TimeUnit.SECONDS).offset());
        } catch (ExecutionException e) {
          err = e.getCause();
        }
        List<Long> want = new ArrayList<>();
        for (long i = 0; i < 20; i++) want.add(i);
        check(err == null && offsets.equals(want), "compression " + codec + ": 20 records acknowledged at offsets 0..19",
            err != null ? describe(err) : offsets);
      }

      // h. offsets by timestamp
      long base = System.currentTimeMillis() - 3_600_000L;
      try (KafkaProducer<String, String> p = producer("none")) {
        List<Future<RecordMetadata>> sends = new ArrayList<>();
        for (int i = 0; i < 10; i++) sends.add(p.send(new ProducerRecord<>(tsTopic, 0, base + i * 1000L, "ts-" + i, "ts-value-" + i)));
        p.flush();
        boolean ok = true;
        for (Future<RecordMetadata> f : sends) ok &= failure(f) == null;
        check(ok, "list offsets: 10 records with explicit timestamps produced", null);
      }

      try (KafkaConsumer<String, String> c = consumer(null)) {
        List<TopicPartition> parts = all.subList(1, all.size()).stream().map(t -> tp(t, 0)).toList();
        c.assign(parts);
        c.seekToBeginning(parts);
        List<ConsumerRecord<String, String>> got = pollUntil(c, 10 + 20 * codecs.size(), 30000, 300);
        for (String codec : codecs) {
          String topic = prefix + "-c-" + codec;
          List<ConsumerRecord<String, String>> mine = got.stream().filter(r -> r.topic().equals(topic)).toList();
          boolean same = mine.size() == 20;
          for (int i = 0; same && i < 20; i++) {
            ConsumerRecord<String, String> r = mine.get(i);
            Map<String, String> wantHeaders = new TreeMap<>();
            if (i % 2 == 0) {
              wantHeaders.put("seq", Integer.toString(i));
              wantHeaders.put("origin", "interop");
            }
            same = r.offset() == i && key(i).equals(r.key()) && value(i).equals(r.value()) && wantHeaders.equals(headersOf(r));
          }
          check(same, "compression " + codec + ": 20 records consumed back intact, in order, at offsets 0..19", "got " + mine.size());
        }
        List<ConsumerRecord<String, String>> ts = got.stream().filter(r -> r.topic().equals(tsTopic)).toList();
        boolean stamps = ts.size() == 10;
        for (int i = 0; stamps && i < 10; i++) stamps = ts.get(i).timestamp() == base + i * 1000L && ts.get(i).offset() == i;
        check(stamps, "list offsets: consumed records carry the producer's timestamps", ts.size() + " records");

        TopicPartition tsp = tp(tsTopic, 0);
        check(Objects.equals(c.beginningOffsets(List.of(tsp)).get(tsp), 0L), "list offsets: beginningOffsets = 0", null);
        check(Objects.equals(c.endOffsets(List.of(tsp)).get(tsp), 10L), "list offsets: endOffsets = 10", null);
        OffsetAndTimestamp exact = c.offsetsForTimes(Map.of(tsp, base + 5000L)).get(tsp);
        check(exact != null && exact.offset() == 5 && exact.timestamp() == base + 5000L,
            "list offsets: offsetsForTimes at a record's timestamp -> that record (offset 5)", exact);
        OffsetAndTimestamp between = c.offsetsForTimes(Map.of(tsp, base + 6500L)).get(tsp);
        check(between != null && between.offset() == 7 && between.timestamp() == base + 7000L,
            "list offsets: offsetsForTimes between two records -> the next one (offset 7)", between);
        OffsetAndTimestamp future = c.offsetsForTimes(Map.of(tsp, System.currentTimeMillis() + 3_600_000L)).get(tsp);
        check(future == null, "list offsets: offsetsForTimes after the last record -> null", future);
      }

      // i. delete
      check(failure(admin.deleteTopics(all).all()) == null, "delete topics: " + all.size() + " topics deleted", null);
      boolean gone = waitFor(() -> {
        try {
          Set<String> names = get(admin.listTopics().names());
          return all.stream().noneMatch(names::contains);
        } catch (Exception e) {
          return false;
        }
      }, 15000);
      check(gone, "delete topics: gone from listTopics", null);
    }
  }

  private static TopicPartition tp(String topic, int partition) {
    return new TopicPartition(topic, partition);
  }

  // ---- admin ----

  private void adminCalls() throws Exception {
    String topic = prefix + "-admin";
    String groupTopic = prefix + "-admin-group";
    String recordsTopic = prefix + "-admin-records";
    String groupId = prefix + "-admin-group";
    try (Admin admin = newAdmin()) {
      // describeCluster
      DescribeClusterResult cluster = admin.describeCluster();
      Collection<Node> nodes = get(cluster.nodes());
      Node controller = get(cluster.controller());
      String clusterId = get(cluster.clusterId());
      check(nodes.size() == 1 && clusterId != null && !clusterId.isEmpty() && controller != null,
          "describeCluster: one node, a cluster id and a controller", nodes + " " + clusterId + " " + controller);
      Node node = nodes.iterator().next();
      check(bootstrap.equals(node.host() + ":" + node.port()), "describeCluster: the node is the bootstrap address", node);

      // createTopics
      CreateTopicsResult dry = admin.createTopics(List.of(new NewTopic(topic, 4, (short) 1)), new CreateTopicsOptions().validateOnly(true));
      check(failure(dry.all()) == null && Objects.equals(get(dry.numPartitions(topic)), 4),
          "createTopics validateOnly: succeeds and reports 4 partitions", describe(failure(dry.all())));
      check(!get(admin.listTopics().names()).contains(topic), "createTopics validateOnly: no topic is created", null);

      NewTopic withConfigs = new NewTopic(topic, 2, (short) 1).configs(Map.of("retention.ms", "3600000", "cleanup.policy", "delete"));
      CreateTopicsResult created = admin.createTopics(List.of(withConfigs));
      check(failure(created.all()) == null, "createTopics: a 2-partition topic with configs is created", describe(failure(created.all())));
      Uuid topicId = get(created.topicId(topic));
      Config createdConfig = get(created.config(topic));
      check(get(created.numPartitions(topic)) == 2 && get(created.replicationFactor(topic)) == 1
              && topicId != null && !topicId.equals(Uuid.ZERO_UUID)
              && "3600000".equals(createdConfig.get("retention.ms").value()),
          "createTopics: the result carries partitions, replication factor, topic id and the configs",
          topicId + " " + createdConfig.get("retention.ms"));
      expectFailure(admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all(), TopicExistsException.class,
          "createTopics: an existing name -> TopicExistsException");
      expectFailure(admin.createTopics(List.of(new NewTopic(prefix + "-rf3", 1, (short) 3))).all(),
          InvalidReplicationFactorException.class, "createTopics: replication factor 3 on one broker -> InvalidReplicationFactorException");
      expectFailure(admin.createTopics(List.of(new NewTopic(prefix + "/bad", 1, (short) 1))).all(), InvalidTopicException.class,
          "createTopics: an illegal name -> InvalidTopicException");
      expectFailure(admin.createTopics(List.of(new NewTopic(prefix + "-p0", 0, (short) 1))).all(), InvalidPartitionsException.class,
          "createTopics: 0 partitions -> InvalidPartitionsException");
      expectFailure(admin.createTopics(List.of(new NewTopic(prefix + "-badcfg", 1, (short) 1).configs(Map.of("no.such.config", "1")))).all(),
          InvalidConfigurationException.class, "createTopics: an unknown topic config -> InvalidConfigurationException");
      expectFailure(admin.createTopics(List.of(new NewTopic(prefix + "-badval", 1, (short) 1).configs(Map.of("retention.ms", "soon")))).all(),
          InvalidConfigurationException.class, "createTopics: an invalid config value -> InvalidConfigurationException");

      // listTopics, describeTopics
      waitFor(() -> {
        try {
          return get(admin.describeTopics(List.of(topic)).allTopicNames()).get(topic).partitions().size() == 2;
        } catch (Exception e) {
          return false;
        }
      }, 10000);
      check(get(admin.listTopics().names()).contains(topic), "listTopics: lists the new topic", null);
      TopicDescription d = get(admin.describeTopics(List.of(topic)).allTopicNames()).get(topic);
      boolean partitionsOk = d.partitions().size() == 2;
      for (TopicPartitionInfo p : d.partitions()) {
        partitionsOk &= p.leader() != null && p.leader().id() == node.id()
            && p.replicas().size() == 1 && p.replicas().get(0).id() == node.id()
            && p.isr().size() == 1 && p.isr().get(0).id() == node.id();
      }
      check(partitionsOk && !d.isInternal() && topicId.equals(d.topicId()),
          "describeTopics: 2 partitions led by the node, replicas and ISR = [node], the created topic id", d);
      TopicDescription byId = get(admin.describeTopics(TopicCollection.ofTopicIds(List.of(topicId))).allTopicIds()).get(topicId);
      check(byId != null && topic.equals(byId.name()), "describeTopics by topic id: finds the topic by its id", byId);
      expectFailure(admin.describeTopics(List.of(prefix + "-missing")).allTopicNames(), UnknownTopicOrPartitionException.class,
          "describeTopics: an unknown topic -> UnknownTopicOrPartitionException");

      // createPartitions
      check(failure(admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(6)), new CreatePartitionsOptions().validateOnly(true)).all()) == null,
          "createPartitions validateOnly: succeeds", null);
      check(failure(admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(4))).all()) == null,
          "createPartitions: 2 -> 4 succeeds", null);
      boolean four = waitFor(() -> {
        try {
          return get(admin.describeTopics(List.of(topic)).allTopicNames()).get(topic).partitions().size() == 4;
        } catch (Exception e) {
          return false;
        }
      }, 10000);
      check(four, "createPartitions: describeTopics shows 4 partitions (validateOnly changed nothing)", null);
      expectFailure(admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(3))).all(), InvalidPartitionsException.class,
          "createPartitions: fewer partitions -> InvalidPartitionsException");
      expectFailure(admin.createPartitions(Map.of(prefix + "-missing", NewPartitions.increaseTo(3))).all(),
          UnknownTopicOrPartitionException.class, "createPartitions: an unknown topic -> UnknownTopicOrPartitionException");

      // describeConfigs / incrementalAlterConfigs: topic
      ConfigResource topicResource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
      Config tc = get(admin.describeConfigs(List.of(topicResource)).all()).get(topicResource);
      ConfigEntry retention = tc.get("retention.ms");
      ConfigEntry segment = tc.get("segment.bytes");
      check(retention != null && "3600000".equals(retention.value()) && retention.source() == ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG,
          "describeConfigs topic: retention.ms set at creation, source DYNAMIC_TOPIC_CONFIG", retention);
      check(segment != null && segment.source() == ConfigEntry.ConfigSource.DEFAULT_CONFIG && segment.isDefault(),
          "describeConfigs topic: segment.bytes is a default", segment);
      check(failure(admin.incrementalAlterConfigs(Map.of(topicResource, List.of(
              new AlterConfigOp(new ConfigEntry("retention.ms", "7200000"), AlterConfigOp.OpType.SET),
              new AlterConfigOp(new ConfigEntry("cleanup.policy", "compact"), AlterConfigOp.OpType.APPEND)))).all()) == null,
          "incrementalAlterConfigs topic: SET retention.ms and APPEND cleanup.policy succeed", null);
      tc = configsOnceTrue(admin, topicResource,
          c -> "7200000".equals(c.get("retention.ms").value()) && "delete,compact".equals(c.get("cleanup.policy").value()));
      check("7200000".equals(tc.get("retention.ms").value()) && "delete,compact".equals(tc.get("cleanup.policy").value()),
          "incrementalAlterConfigs topic: describeConfigs shows retention.ms=7200000 and cleanup.policy=delete,compact",
          tc.get("retention.ms") + " " + tc.get("cleanup.policy"));
      check(failure(admin.incrementalAlterConfigs(Map.of(topicResource, List.of(
              new AlterConfigOp(new ConfigEntry("retention.ms", ""), AlterConfigOp.OpType.DELETE),
              new AlterConfigOp(new ConfigEntry("cleanup.policy", "compact"), AlterConfigOp.OpType.SUBTRACT)))).all()) == null,
          "incrementalAlterConfigs topic: DELETE retention.ms and SUBTRACT compact succeed", null);
      tc = configsOnceTrue(admin, topicResource,
          c -> c.get("retention.ms").source() != ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG && "delete".equals(c.get("cleanup.policy").value()));
      check(tc.get("retention.ms").source() != ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG && "delete".equals(tc.get("cleanup.policy").value()),
          "incrementalAlterConfigs topic: retention.ms is back to the default, cleanup.policy=delete",
          tc.get("retention.ms") + " " + tc.get("cleanup.policy"));
      expectFailure(admin.incrementalAlterConfigs(Map.of(topicResource, List.of(
              new AlterConfigOp(new ConfigEntry("retention.ms", "soon"), AlterConfigOp.OpType.SET)))).all(),
          InvalidConfigurationException.class, "incrementalAlterConfigs topic: an invalid value -> InvalidConfigurationException");
      expectFailure(admin.describeConfigs(List.of(new ConfigResource(ConfigResource.Type.TOPIC, prefix + "-missing"))).all(),
          UnknownTopicOrPartitionException.class, "describeConfigs: an unknown topic -> UnknownTopicOrPartitionException");

      // describeConfigs / incrementalAlterConfigs: broker
      ConfigResource brokerResource = new ConfigResource(ConfigResource.Type.BROKER, Integer.toString(node.id()));
      Config bc = get(admin.describeConfigs(List.of(brokerResource)).all()).get(brokerResource);
      check(bc.get("num.partitions") != null && bc.get("auto.create.topics.enable") != null && bc.get("log.retention.hours") != null,
          "describeConfigs broker: lists num.partitions, auto.create.topics.enable and log.retention.hours",
          bc.entries().size() + " entries");
      Throwable brokerAlter = failure(admin.incrementalAlterConfigs(Map.of(brokerResource, List.of(
          new AlterConfigOp(new ConfigEntry("log.cleaner.threads", "2"), AlterConfigOp.OpType.SET)))).all());
      if (sluice) {
        // Known difference: Sluice reads broker settings at start-up only (docs/skipped-features.md, Configuration).
        check(brokerAlter instanceof org.apache.kafka.common.errors.InvalidRequestException,
            "incrementalAlterConfigs broker: Sluice refuses dynamic broker configs with InvalidRequestException", describe(brokerAlter));
      } else {
        check(brokerAlter == null, "incrementalAlterConfigs broker: Kafka accepts a dynamic broker config", describe(brokerAlter));
      }

      // groups: one classic member consumes and commits, and stays in the group
      check(failure(admin.createTopics(List.of(new NewTopic(groupTopic, 2, (short) 1), new NewTopic(recordsTopic, 1, (short) 1))).all()) == null,
          "create the group and records topics", null);
      try (KafkaProducer<String, String> p = producer("none")) {
        long base = System.currentTimeMillis() - 60_000L;
        for (int i = 0; i < 10; i++) {
          p.send(new ProducerRecord<>(groupTopic, i % 2, key(i), value(i)));
          // Record 7 carries the largest timestamp, for listOffsets(maxTimestamp).
          p.send(new ProducerRecord<>(recordsTopic, 0, base + (i == 7 ? 30_000L : i * 1000L), key(i), value(i)));
        }
        p.flush();
      }
      KafkaConsumer<String, String> member = consumer(groupId);
      try {
        member.subscribe(List.of(groupTopic));
        int got = pollUntil(member, 10, 30000, 0).size();
        member.commitSync(Duration.ofSeconds(15));
        check(got == 10, "group: a classic member consumed 10 records and committed", got);

        Collection<GroupListing> groups = get(admin.listGroups(ListGroupsOptions.forConsumerGroups()).all());
        GroupListing listing = groups.stream().filter(g -> g.groupId().equals(groupId)).findFirst().orElse(null);
        check(listing != null && listing.type().orElse(null) == GroupType.CLASSIC && listing.groupState().orElse(null) == GroupState.STABLE
                && "consumer".equals(listing.protocol()),
            "listGroups(consumer groups): the group is listed as a classic, Stable consumer group", listing);
        @SuppressWarnings("removal")
        Collection<org.apache.kafka.clients.admin.ConsumerGroupListing> consumerGroups = get(admin.listConsumerGroups().all());
        check(consumerGroups.stream().anyMatch(g -> g.groupId().equals(groupId)), "listConsumerGroups: lists the group", consumerGroups);

        ConsumerGroupDescription desc = get(admin.describeConsumerGroups(List.of(groupId)).all()).get(groupId);
        Set<TopicPartition> assigned = desc.members().stream().flatMap(m -> m.assignment().topicPartitions().stream()).collect(Collectors.toSet());
        check(desc.groupState() == GroupState.STABLE && desc.type() == GroupType.CLASSIC && desc.members().size() == 1
                && assigned.equals(Set.of(tp(groupTopic, 0), tp(groupTopic, 1))) && "range".equals(desc.partitionAssignor())
                && desc.coordinator() != null && desc.coordinator().id() == node.id(),
            "describeConsumerGroups: Stable, classic, one member assigned both partitions by the range assignor", desc);
        var classic = get(admin.describeClassicGroups(List.of(groupId)).all()).get(groupId);
        check(classic.state() == org.apache.kafka.common.ClassicGroupState.STABLE && classic.members().size() == 1
                && "consumer".equals(classic.protocol()),
            "describeClassicGroups: Stable with one member, protocol type consumer", classic);

        Map<TopicPartition, OffsetAndMetadata> offsets = get(admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata());
        check(offsets.size() == 2 && offsets.get(tp(groupTopic, 0)).offset() == 5 && offsets.get(tp(groupTopic, 1)).offset() == 5,
            "listConsumerGroupOffsets: both partitions committed at 5", offsets);

        expectFailure(admin.deleteConsumerGroups(List.of(groupId)).all(), GroupNotEmptyException.class,
            "deleteConsumerGroups: a group with a member -> GroupNotEmptyException");
        expectFailure(admin.deleteConsumerGroupOffsets(groupId, Set.of(tp(groupTopic, 0))).all(), GroupSubscribedToTopicException.class,
            "deleteConsumerGroupOffsets: a topic the group subscribes to -> GroupSubscribedToTopicException");
        expectFailure(admin.alterConsumerGroupOffsets(groupId, Map.of(tp(groupTopic, 0), new OffsetAndMetadata(1))).all(),
            org.apache.kafka.common.errors.UnknownMemberIdException.class,
            "alterConsumerGroupOffsets: a group with a member -> UnknownMemberIdException");

        check(failure(admin.removeMembersFromConsumerGroup(groupId, new RemoveMembersFromConsumerGroupOptions()).all()) == null,
            "removeMembersFromConsumerGroup: removing every member succeeds", null);
        GroupState after = get(admin.describeConsumerGroups(List.of(groupId)).all()).get(groupId).groupState();
        check(after == GroupState.EMPTY, "removeMembersFromConsumerGroup: the group is then Empty", after);
      } finally {
        member.close();
      }

      check(failure(admin.alterConsumerGroupOffsets(groupId, Map.of(tp(groupTopic, 0), new OffsetAndMetadata(1, "moved"))).all()) == null,
          "alterConsumerGroupOffsets: moving an Empty group's offset succeeds", null);
      Map<TopicPartition, OffsetAndMetadata> moved = get(admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata());
      check(moved.get(tp(groupTopic, 0)).offset() == 1 && "moved".equals(moved.get(tp(groupTopic, 0)).metadata())
              && moved.get(tp(groupTopic, 1)).offset() == 5,
          "alterConsumerGroupOffsets: listConsumerGroupOffsets shows offset 1 with its metadata", moved);
      check(failure(admin.deleteConsumerGroupOffsets(groupId, Set.of(tp(groupTopic, 0))).all()) == null,
          "deleteConsumerGroupOffsets: deleting an Empty group's offset succeeds", null);
      Map<TopicPartition, OffsetAndMetadata> left = get(admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata());
      check(left.get(tp(groupTopic, 0)) == null && left.get(tp(groupTopic, 1)) != null,
          "deleteConsumerGroupOffsets: only the other partition's offset is left", left);
      check(failure(admin.deleteConsumerGroups(List.of(groupId)).all()) == null, "deleteConsumerGroups: deleting the Empty group succeeds", null);
      Collection<GroupListing> afterDelete = get(admin.listGroups().all());
      check(afterDelete.stream().noneMatch(g -> g.groupId().equals(groupId)), "deleteConsumerGroups: the group is no longer listed", afterDelete);
      expectFailure(admin.deleteConsumerGroups(List.of(groupId)).all(), GroupIdNotFoundException.class,
          "deleteConsumerGroups: an unknown group -> GroupIdNotFoundException");

      Set<String> internal = get(admin.listTopics(new ListTopicsOptions().listInternal(true)).names());
      Set<String> external = get(admin.listTopics().names());
      check(internal.contains("__consumer_offsets") && !external.contains("__consumer_offsets"),
          "listTopics: __consumer_offsets is listed only with listInternal", null);

      // deleteRecords and listOffsets
      TopicPartition rp = tp(recordsTopic, 0);
      KafkaFuture<org.apache.kafka.clients.admin.DeletedRecords> deleted =
          admin.deleteRecords(Map.of(rp, RecordsToDelete.beforeOffset(4))).lowWatermarks().get(rp);
      long lowWatermark = failure(deleted) == null ? get(deleted).lowWatermark() : -1;
      check(lowWatermark == 4, "deleteRecords: before offset 4 -> low watermark 4", lowWatermark);
      expectFailure(admin.deleteRecords(Map.of(rp, RecordsToDelete.beforeOffset(20))).all(), OffsetOutOfRangeException.class,
          "deleteRecords: beyond the high watermark -> OffsetOutOfRangeException");
      Map<TopicPartition, ListOffsetsResultInfo> earliest = get(admin.listOffsets(Map.of(rp, OffsetSpec.earliest())).all());
      Map<TopicPartition, ListOffsetsResultInfo> latest = get(admin.listOffsets(Map.of(rp, OffsetSpec.latest())).all());
      check(earliest.get(rp).offset() == 4 && latest.get(rp).offset() == 10,
          "listOffsets: earliest = 4 (after deleteRecords), latest = 10", earliest + " " + latest);
      ListOffsetsResultInfo max = get(admin.listOffsets(Map.of(rp, OffsetSpec.maxTimestamp())).all()).get(rp);
      ListOffsetsResultInfo at7 = get(admin.listOffsets(Map.of(rp, OffsetSpec.forTimestamp(1))).all()).get(rp);
      check(max.offset() == 7 && max.timestamp() > at7.timestamp() + 20_000L,
          "listOffsets: maxTimestamp -> the record with the largest timestamp (offset 7)", max);
      ListOffsetsResultInfo byTime = get(admin.listOffsets(Map.of(rp, OffsetSpec.forTimestamp(0))).all()).get(rp);
      check(byTime.offset() == 4, "listOffsets: forTimestamp(0) -> the first record left (offset 4)", byTime);
      ListOffsetsResultInfo earliestLocal = get(admin.listOffsets(Map.of(rp, OffsetSpec.earliestLocal())).all()).get(rp);
      check(earliestLocal.offset() == 4, "listOffsets: earliestLocal = earliest without tiered storage", earliestLocal);
      ListOffsetsResultInfo latestTiered = get(admin.listOffsets(Map.of(rp, OffsetSpec.latestTiered())).all()).get(rp);
      check(latestTiered.offset() == -1, "listOffsets: latestTiered = -1 without tiered storage", latestTiered);
      unserved("listOffsets earliestPendingUpload (ListOffsets v11)", admin.listOffsets(Map.of(rp, OffsetSpec.earliestPendingUpload())).all(), null);

      // describeProducers (DescribeProducers, KIP-664) is answered from the partition's producer state.
      Throwable producers = failure(admin.describeProducers(List.of(rp)).all());
      check(producers == null, "describeProducers: answered for a partition", describe(producers));

      // describeFeatures is answered from ApiVersions, which Sluice serves.
      check(failure(admin.describeFeatures().featureMetadata()) == null, "describeFeatures: answered (from ApiVersions)", null);

      // describeClientQuotas: no quota is set on either broker, so both answer an empty list.
      Map<?, ?> quotas = get(admin.describeClientQuotas(org.apache.kafka.common.quota.ClientQuotaFilter.all()).entities());
      check(quotas.isEmpty(), "describeClientQuotas: answered, no quota set", quotas);

      // describeUserScramCredentials: no SCRAM user exists on either broker.
      Map<?, ?> scramUsers = get(admin.describeUserScramCredentials().all());
      check(scramUsers.isEmpty(), "describeUserScramCredentials: answered, no user yet", scramUsers);

      // describeAcls: neither broker has an authorizer configured, so both refuse it the same way.
      expectFailure(admin.describeAcls(org.apache.kafka.common.acl.AclBindingFilter.ANY).values(),
          org.apache.kafka.common.errors.SecurityDisabledException.class,
          "describeAcls: SecurityDisabledException without an authorizer");

      // Calls Sluice does not serve: the client refuses them itself with UnsupportedVersionException, since the
      // API is missing from the broker's ApiVersions answer. Kafka answers them (or refuses for a stated reason).
      unserved("describeLogDirs (DescribeLogDirs)", admin.describeLogDirs(List.of(node.id())).allDescriptions(), null);
      unserved("listPartitionReassignments (ListPartitionReassignments)", admin.listPartitionReassignments().reassignments(), null);
      unserved("listTransactions (ListTransactions)", admin.listTransactions().all(), null);
      unserved("describeMetadataQuorum (DescribeQuorum)", admin.describeMetadataQuorum().quorumInfo(), null);
      unserved("listConfigResources (ListConfigResources)", admin.listConfigResources().all(), null);

      check(failure(admin.deleteTopics(List.of(topic, groupTopic, recordsTopic)).all()) == null, "deleteTopics: the admin topics are deleted", null);
    }
  }

  /**
   * An Admin call on an API Sluice does not serve: UnsupportedVersionException on Sluice; on Kafka success,
   * or `kafkaRefusal` when Kafka refuses it for a reason of its own (e.g. no authorizer configured).
   */
  private void unserved(String call, KafkaFuture<?> f, Class<? extends Throwable> kafkaRefusal) {
    Throwable t = failure(f);
    if (sluice) {
      check(t instanceof UnsupportedVersionException, call + ": not served by Sluice -> UnsupportedVersionException", describe(t));
    } else if (kafkaRefusal != null) {
      check(kafkaRefusal.isInstance(t), call + ": Kafka answers " + kafkaRefusal.getSimpleName(), describe(t));
    } else {
      check(t == null, call + ": Kafka answers", describe(t));
    }
  }

  /**
   * A resource's configs, described again until `done` holds (at most 10 s): Kafka applies a config change
   * through its metadata log, so a describe right after the change may still show the old value there.
   * Sluice's answer holds at once; the last answer is returned either way, for the check to judge.
   */
  private static Config configsOnceTrue(Admin admin, ConfigResource resource, java.util.function.Predicate<Config> done)
      throws Exception {
    long deadline = System.currentTimeMillis() + 10_000;
    while (true) {
      Config c = get(admin.describeConfigs(List.of(resource)).all()).get(resource);
      if (done.test(c) || System.currentTimeMillis() > deadline) return c;
      Thread.sleep(100);
    }
  }

  // ---- idempotence ----

  /** What one send of a default producer ends in: null when delivered, else the failure from send() or its future. */
  private static Throwable sendOutcome(KafkaProducer<String, String> producer, ProducerRecord<String, String> record) {
    try {
      return failure(producer.send(record));
    } catch (Exception e) {
      return e;
    }
  }

  private static String chain(Throwable t) {
    StringBuilder b = new StringBuilder(describe(t));
    for (Throwable c = t == null ? null : t.getCause(); c != null; c = c.getCause()) b.append(" <- ").append(describe(c));
    return b.toString();
  }

  /**
   * A producer with nothing but its bootstrap set: since kafka-clients 3.0 that means enable.idempotence=true,
   * so it asks for a producer id (InitProducerId) before its first batch. Before Sluice served InitProducerId
   * this producer failed fatally with UnsupportedVersionException "The node does not support
   * INIT_PRODUCER_ID"; now it must deliver on Sluice as it does on Kafka.
   */
  private void idempotence() throws Exception {
    String topic = prefix + "-idempotent";
    try (Admin admin = newAdmin()) {
      check(failure(admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all()) == null, "create topic", null);
    }
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "interop-java-default-producer");
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
      Throwable first = sendOutcome(producer, new ProducerRecord<>(topic, "k", "v"));
      Throwable second = sendOutcome(producer, new ProducerRecord<>(topic, "k", "v2"));
      check(first == null, "a default producer (idempotence on) delivers a record", chain(first));
      check(second == null, "a default producer delivers the next record too", chain(second));
    }
  }
}
