// The Apache Kafka Java client against a SASL_SSL listener: produces and consumes with SCRAM-SHA-512 over
// TLS (PEM trust store) across several session lifetimes, so it must re-authenticate (KIP-368), then tries a
// wrong password. Prints one JSON line with what happened. Run: java -cp '<kafka libs>/*' SecurityScenario.java
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.admin.UserScramCredentialsDescription;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class SecurityScenario {
  static Properties props(String bootstrap, String ca, String password) {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("security.protocol", "SASL_SSL");
    p.put("sasl.mechanism", "SCRAM-SHA-512");
    p.put("sasl.jaas.config",
        "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"alice\" password=\"" + password + "\";");
    p.put("ssl.truststore.type", "PEM");
    p.put("ssl.truststore.location", ca);
    return p;
  }

  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    String ca = args[1];
    String topic = "java-sasl";
    Properties pp = props(bootstrap, ca, "alice-secret");
    pp.put("key.serializer", StringSerializer.class.getName());
    pp.put("value.serializer", StringSerializer.class.getName());
    pp.put("acks", "all");
    // InitProducerId (idempotence) is another part of Sluice, not what this scenario is about.
    pp.put("enable.idempotence", "false");
    int produced = 0;
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp)) {
      for (int i = 0; i < 10; i++) {
        producer.send(new ProducerRecord<>(topic, "k" + i, "v" + i)).get();
        produced++;
        Thread.sleep(400);
      }
    }
    Properties cp = props(bootstrap, ca, "alice-secret");
    cp.put("key.deserializer", StringDeserializer.class.getName());
    cp.put("value.deserializer", StringDeserializer.class.getName());
    List<String> values = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp)) {
      TopicPartition tp = new TopicPartition(topic, 0);
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      long deadline = System.currentTimeMillis() + 30000;
      while (values.size() < 10 && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) values.add(r.value());
      }
    }
    // AdminClient's SCRAM credential APIs: alice creates bob (the client salts the password), who then logs in.
    String described;
    try (Admin admin = Admin.create(props(bootstrap, ca, "alice-secret"))) {
      admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(
          "bob", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), "bob-secret"))).all().get();
      Map<String, UserScramCredentialsDescription> users = admin.describeUserScramCredentials().all().get();
      described = users.get("bob").credentialInfos().toString();
    }
    Properties bob = props(bootstrap, ca, "bob-secret");
    bob.put("sasl.jaas.config",
        "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"bob\" password=\"bob-secret\";");
    String bobCluster;
    try (Admin admin = Admin.create(bob)) {
      bobCluster = admin.describeCluster().clusterId().get();
    }
    String wrongError = "none";
    Properties ap = props(bootstrap, ca, "wrong");
    try (Admin admin = Admin.create(ap)) {
      admin.describeCluster().clusterId().get();
    } catch (Exception e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      wrongError = cause.getClass().getSimpleName() + ": " + cause.getMessage();
    }
    System.out.println("{\"described\":\"" + described + "\",\"bobLoggedIn\":" + (bobCluster != null) + ",\"produced\":" + produced + ",\"consumed\":" + values.size() + ",\"last\":\""
        + (values.isEmpty() ? "" : values.get(values.size() - 1)) + "\",\"wrong\":\"" + wrongError.replace("\"", "'") + "\"}");
  }
}
