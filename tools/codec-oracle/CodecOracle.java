// The Java side of the codec oracle (test/conformance/codec-oracle.test.ts): Apache Kafka's own generated
// message classes (kafka-clients, org.apache.kafka.common.message.*Data) build random frames and read and
// write back frames that Sluice built, so Sluice's codecs are checked against Kafka's, not against our
// reading of the definitions.
//
// One process serves many cases, to pay the JVM start once. It reads one command per line on stdin and
// answers each with one line on stdout:
//   apis                                   one line per API: "key name lowest highest reqHeaders respHeaders",
//                                          the header versions comma-separated per version; then "end"
//   gen <key> <version> <request|response> <seed>
//                                          "ok <hex> <json>": a random frame (header and body, no size
//                                          prefix) and its body as Kafka's *DataJsonConverter writes it
//   echo <key> <version> <request|response> <hex>
//                                          "ok <hex>": the frame read by Kafka's classes and written again
// A case that fails is answered "err <reason>" on one line.
//
// Compile: javac -cp "<kafka>/libs/*" -d <out> CodecOracle.java; run: java -cp "<out>:<kafka>/libs/*" CodecOracle
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ApiMessageType;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.protocol.types.RawTaggedField;

public final class CodecOracle {
    private static final String[] TEXT = {"", "a", "topic-1", "Grüße", "日本語", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "😀 emoji"};
    private static final HexFormat HEX = HexFormat.of();

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false, StandardCharsets.UTF_8);
        String line;
        while ((line = in.readLine()) != null) {
            String[] words = line.trim().split(" ");
            try {
                switch (words[0]) {
                    case "apis":
                        for (ApiMessageType type : ApiMessageType.values()) out.println(describe(type));
                        out.println("end");
                        break;
                    case "gen":
                        out.println("ok " + generate(api(words[1]), Short.parseShort(words[2]), isRequest(words[3]),
                                Long.parseLong(words[4])));
                        break;
                    case "echo":
                        out.println("ok " + HEX.formatHex(echo(api(words[1]), Short.parseShort(words[2]),
                                isRequest(words[3]), HEX.parseHex(words.length > 4 ? words[4] : ""))));
                        break;
                    default:
                        out.println("err unknown command " + words[0]);
                }
            } catch (Throwable t) {
                // The answer stays one line: the reason without its line breaks.
                out.println("err " + String.valueOf(t).replace('\n', ' ').replace('\r', ' '));
            }
            // Flush only when no further command is waiting, so a batch of commands costs few writes.
            if (!in.ready()) out.flush();
        }
        out.flush();
    }

    private static ApiMessageType api(String key) {
        return ApiMessageType.fromApiKey(Short.parseShort(key));
    }

    private static boolean isRequest(String kind) {
        if (kind.equals("request")) return true;
        if (kind.equals("response")) return false;
        throw new IllegalArgumentException("kind must be request or response, not " + kind);
    }

    private static String describe(ApiMessageType type) {
        short lowest = type.lowestSupportedVersion();
        short highest = type.highestSupportedVersion(true);
        StringBuilder requestHeaders = new StringBuilder();
        StringBuilder responseHeaders = new StringBuilder();
        for (short v = lowest; v <= highest; v++) {
            if (v > lowest) {
                requestHeaders.append(',');
                responseHeaders.append(',');
            }
            requestHeaders.append(type.requestHeaderVersion(v));
            responseHeaders.append(type.responseHeaderVersion(v));
        }
        return type.apiKey() + " " + type.name + " " + lowest + " " + highest + " " + requestHeaders + " " + responseHeaders;
    }

    // ------------------------------------------------------------------------------------------------
    // Frames

    private static Message header(ApiMessageType type, short version, boolean request) {
        if (!request) return new ResponseHeaderData();
        return new RequestHeaderData().setRequestApiKey(type.apiKey()).setRequestApiVersion(version);
    }

    private static short headerVersion(ApiMessageType type, short version, boolean request) {
        return request ? type.requestHeaderVersion(version) : type.responseHeaderVersion(version);
    }

    /** A random frame in hex, a space, and the body in Kafka's JSON form. */
    private static String generate(ApiMessageType type, short version, boolean request, long seed) throws Exception {
        Random random = new Random(seed);
        Message header = header(type, version, request);
        short headerVersion = headerVersion(type, version, request);
        new Filler(header, headerVersion, random).fill(header, 0);
        if (request) {
            // The filler may have changed them; the frame must name the API and version it carries.
            ((RequestHeaderData) header).setRequestApiKey(type.apiKey()).setRequestApiVersion(version);
        }
        Message body = request ? type.newRequest() : type.newResponse();
        new Filler(body, version, random).fill(body, 0);
        byte[] frame = concat(write(header, headerVersion), write(body, version));
        return HEX.formatHex(frame) + " " + json(body, version);
    }

    /** The message as its generated JSON converter writes it (records as their size in bytes). */
    private static String json(Message message, short version) throws Exception {
        Class<?> converter = Class.forName(message.getClass().getName() + "JsonConverter");
        try {
            // Messages with records fields have a variant that writes their size instead of an empty string.
            return converter.getMethod("write", message.getClass(), short.class, boolean.class)
                    .invoke(null, message, version, false).toString();
        } catch (NoSuchMethodException e) {
            return converter.getMethod("write", message.getClass(), short.class).invoke(null, message, version).toString();
        }
    }

    private static byte[] echo(ApiMessageType type, short version, boolean request, byte[] frame) throws Exception {
        ByteBuffer buffer = ByteBuffer.wrap(frame);
        ByteBufferAccessor reader = new ByteBufferAccessor(buffer);
        short headerVersion = headerVersion(type, version, request);
        Message header = header(type, version, request);
        header.read(reader, headerVersion);
        Message body = request ? type.newRequest() : type.newResponse();
        body.read(reader, version);
        if (buffer.hasRemaining()) throw new IllegalStateException(buffer.remaining() + " bytes left after the body");
        return concat(write(header, headerVersion), write(body, version));
    }

    static byte[] write(Message message, short version) {
        ObjectSerializationCache cache = new ObjectSerializationCache();
        ByteBuffer buffer = ByteBuffer.allocate(message.size(cache, version));
        message.write(new ByteBufferAccessor(buffer), cache, version);
        if (buffer.hasRemaining()) throw new IllegalStateException("size() exceeded what write() wrote");
        return buffer.array();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    // ------------------------------------------------------------------------------------------------
    // Random messages

    /**
     * Sets random values on the fields of a generated message through its setters, one field at a time.
     * Which fields a version carries, and in which versions they may be null, is learnt from Kafka itself:
     * after each change the whole message is written, and a change that write refuses (a non-default
     * field the version lacks, a null it cannot carry) is undone.
     */
    private static final class Filler {
        private final Message root;
        private final short version;
        private final Random random;

        Filler(Message root, short version, Random random) {
            this.root = root;
            this.version = version;
            this.random = random;
        }

        private boolean writable() {
            try {
                write(root, version);
                return true;
            } catch (RuntimeException e) {
                return false;
            }
        }

        void fill(Object struct, int depth) throws Exception {
            for (Field field : messageFields(struct.getClass())) {
                Method setter = setterOf(struct.getClass(), field);
                if (setter == null) continue;
                field.setAccessible(true);
                Object before = field.get(struct);
                Object value = null;
                boolean set = false;
                for (int attempt = 0; attempt < 3 && !set; attempt++) {
                    boolean tryNull = attempt == 0 && random.nextInt(5) == 0;
                    value = tryNull ? null : randomValue(field, attempt, depth);
                    if (tryNull && field.getType().isPrimitive()) continue;
                    set = trySet(struct, setter, value) && writable();
                    if (!set) trySet(struct, setter, before);
                }
                if (!set) continue;
                if (value instanceof Message) fill(value, depth + 1);
                if (value instanceof Collection<?>) {
                    for (Object element : (Collection<?>) value) if (element instanceof Message) fill(element, depth + 1);
                }
            }
            if (struct instanceof Message && random.nextInt(4) == 0) {
                List<RawTaggedField> unknown = ((Message) struct).unknownTaggedFields();
                int tag = 1000;
                for (int i = random.nextInt(2); i >= 0; i--) {
                    tag += 1 + random.nextInt(50);
                    unknown.add(new RawTaggedField(tag, bytes(random.nextInt(6))));
                }
                if (!writable()) unknown.clear();
            }
        }

        private Object randomValue(Field field, int attempt, int depth) throws Exception {
            Class<?> type = field.getType();
            if (List.class.isAssignableFrom(type) || Collection.class.isAssignableFrom(type)) {
                Class<?> element = elementType(field);
                @SuppressWarnings("unchecked")
                Collection<Object> list = type.isInterface() ? new ArrayList<>() : (Collection<Object>) newInstance(type);
                int n = random.nextInt(depth >= 3 ? 2 : 4);
                for (int i = 0; i < n; i++) list.add(randomScalar(element, attempt));
                return list;
            }
            return randomScalar(type, attempt);
        }

        /** A random value of `type`; later attempts keep to small non-negative numbers (uint16, uint32). */
        private Object randomScalar(Class<?> type, int attempt) throws Exception {
            boolean small = attempt > 0 || random.nextInt(3) == 0;
            if (type == int.class || type == Integer.class) return small ? random.nextInt(1000) : random.nextInt();
            if (type == long.class || type == Long.class) return small ? (long) random.nextInt(100000) : random.nextLong();
            if (type == short.class || type == Short.class) return (short) (small ? random.nextInt(100) : random.nextInt());
            if (type == byte.class || type == Byte.class) return (byte) random.nextInt();
            if (type == boolean.class || type == Boolean.class) return random.nextBoolean();
            if (type == double.class || type == Double.class) return (random.nextDouble() - 0.5) * 1e6;
            if (type == String.class) return TEXT[random.nextInt(TEXT.length)];
            if (type == Uuid.class) return new Uuid(random.nextLong(), random.nextLong());
            if (type == byte[].class) return bytes(random.nextInt(13));
            if (type == ByteBuffer.class) return ByteBuffer.wrap(bytes(random.nextInt(13)));
            if (type.getSimpleName().equals("BaseRecords")) return records(type, bytes(random.nextInt(13)));
            if (Message.class.isAssignableFrom(type)) return newInstance(type);
            throw new IllegalStateException("no random value for " + type.getName());
        }

        private byte[] bytes(int n) {
            byte[] b = new byte[n];
            random.nextBytes(b);
            return b;
        }
    }

    private static Object records(Class<?> baseRecords, byte[] bytes) throws Exception {
        Class<?> memoryRecords = Class.forName(baseRecords.getPackageName() + ".MemoryRecords");
        return memoryRecords.getMethod("readableRecords", ByteBuffer.class).invoke(null, ByteBuffer.wrap(bytes));
    }

    private static boolean trySet(Object struct, Method setter, Object value) {
        try {
            setter.invoke(struct, value);
            return true;
        } catch (ReflectiveOperationException | IllegalArgumentException e) {
            return false;
        }
    }

    /** The fields that travel on the wire: generated classes keep them package-private, their helpers private. */
    private static List<Field> messageFields(Class<?> c) {
        List<Field> fields = new ArrayList<>();
        for (Field f : c.getDeclaredFields()) {
            int m = f.getModifiers();
            if (Modifier.isStatic(m) || Modifier.isPrivate(m) || f.getName().startsWith("_")) continue;
            fields.add(f);
        }
        return fields;
    }

    private static Method setterOf(Class<?> c, Field f) {
        String name = "set" + Character.toUpperCase(f.getName().charAt(0)) + f.getName().substring(1);
        for (Method m : c.getMethods()) {
            if (m.getName().equals(name) && m.getParameterCount() == 1 && m.getParameterTypes()[0].isAssignableFrom(f.getType())) {
                return m;
            }
        }
        return null;
    }

    /** The element class of a List<X> field or of a generated collection class extending a collection of X. */
    private static Class<?> elementType(Field f) {
        Type t = f.getGenericType();
        if (!(t instanceof ParameterizedType)) t = f.getType().getGenericSuperclass();
        if (t instanceof ParameterizedType) {
            Type arg = ((ParameterizedType) t).getActualTypeArguments()[0];
            if (arg instanceof Class<?>) return (Class<?>) arg;
        }
        throw new IllegalStateException("cannot tell the element type of " + f);
    }

    private static Object newInstance(Class<?> c) throws Exception {
        Constructor<?> constructor = c.getDeclaredConstructor();
        constructor.setAccessible(true);
        return constructor.newInstance();
    }
}
