// The interop scenario with today's franz-go (kgo for producing and consuming, kadm for administration),
// run by test/interop/franz-go.test.ts against Sluice and against the Apache Kafka peer.
//
// usage: franzscenario BOOTSTRAP TOPIC_PREFIX [scenario|default-producer]
//
// Prints one line per check ("ok - name" or "not ok - name # why") and, last, a JSON summary line.
// "default-producer" produces one record with franz-go's defaults (idempotent writes on) and reports the
// outcome as JSON, so the test can show what a client with default settings meets.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

type result struct {
	Name string `json:"name"`
	OK   bool   `json:"ok"`
}

var results []result

func check(name string, ok bool, why ...any) bool {
	results = append(results, result{name, ok})
	if ok {
		fmt.Printf("ok - %s\n", name)
	} else {
		fmt.Printf("not ok - %s # %s\n", name, fmt.Sprint(why...))
	}
	return ok
}

func must(err error, what string) {
	if err != nil {
		panic(fmt.Sprintf("%s: %v", what, err))
	}
}

var bootstrap, prefix string

func client(opts ...kgo.Opt) *kgo.Client {
	base := []kgo.Opt{
		kgo.SeedBrokers(bootstrap),
		kgo.ClientID("sluice-interop-franz-go"),
		kgo.FetchMaxWait(200 * time.Millisecond),
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	must(err, "new client")
	return cl
}

func producer(opts ...kgo.Opt) *kgo.Client {
	// Idempotent writes (franz-go's default) need InitProducerId; the default-producer mode covers them.
	return client(append([]kgo.Opt{
		kgo.DisableIdempotentWrite(),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(5 * time.Millisecond),
	}, opts...)...)
}

func produce(cl *kgo.Client, recs []*kgo.Record) []*kgo.Record {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	must(cl.ProduceSync(ctx, recs...).FirstErr(), "produce")
	return recs
}

type consumed struct {
	partition int32
	offset    int64
	key       string
	value     string
}

// consumeGroup reads `want` records as a member of `group`, waits a moment for duplicates, commits and leaves.
func consumeGroup(group, topic string, want int) []consumed {
	cl := client(
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	var out []consumed
	deadline := time.Now().Add(60 * time.Second)
	var graceEnd time.Time
	for time.Now().Before(deadline) {
		if len(out) >= want && graceEnd.IsZero() {
			graceEnd = time.Now().Add(time.Second)
		}
		if !graceEnd.IsZero() && time.Now().After(graceEnd) {
			break
		}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		fetches := cl.PollFetches(ctx)
		cancel()
		fetches.EachRecord(func(r *kgo.Record) {
			out = append(out, consumed{r.Partition, r.Offset, string(r.Key), string(r.Value)})
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	must(cl.CommitUncommittedOffsets(ctx), "commit")
	cl.Close()
	return out
}

func readPartition(topic string, count int) []string {
	cl := client(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().At(0)}}))
	defer cl.Close()
	var values []string
	deadline := time.Now().Add(30 * time.Second)
	for len(values) < count && time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { values = append(values, string(r.Value)) })
		cancel()
	}
	return values
}

func waitForTopics(adm *kadm.Client, topics map[string]int) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		details, err := adm.ListTopics(context.Background())
		ready := err == nil
		for name, partitions := range topics {
			d, ok := details[name]
			if !ok || d.Err != nil || len(d.Partitions) != partitions {
				ready = false
				continue
			}
			for _, p := range d.Partitions {
				if p.Leader < 0 {
					ready = false
				}
			}
		}
		if ready {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	panic(fmt.Sprintf("topics not ready: %v", topics))
}

var codecs = map[string]kgo.CompressionCodec{
	"gzip":   kgo.GzipCompression(),
	"snappy": kgo.SnappyCompression(),
	"lz4":    kgo.Lz4Compression(),
	"zstd":   kgo.ZstdCompression(),
}

func scenario() {
	main, group, tsTopic := prefix+"-main", prefix+"-group", prefix+"-ts"
	admClient := client()
	defer admClient.Close()
	adm := kadm.NewClient(admClient)
	ctx := context.Background()

	meta, err := adm.BrokerMetadata(ctx)
	must(err, "broker metadata")
	var addrs []string
	for _, b := range meta.Brokers {
		addrs = append(addrs, fmt.Sprintf("%s:%d", b.Host, b.Port))
	}
	check("metadata lists the one broker at the bootstrap address", len(addrs) == 1 && addrs[0] == bootstrap, addrs)

	topics := map[string]int{main: 3, tsTopic: 1}
	for codec := range codecs {
		topics[prefix+"-c-"+codec] = 1
	}
	for name, partitions := range topics {
		resp, err := adm.CreateTopic(ctx, int32(partitions), 1, nil, name)
		must(errors.Join(err, resp.Err), "create topic "+name)
	}
	waitForTopics(adm, topics)
	details, err := adm.ListTopics(ctx, main)
	must(err, "list topics")
	check("CreateTopics made a 3-partition topic", len(details[main].Partitions) == 3)

	p := producer()
	var recs []*kgo.Record
	for i := 0; i < 1000; i++ {
		recs = append(recs, &kgo.Record{
			Topic:   main,
			Key:     []byte(fmt.Sprintf("key-%d", i%10)),
			Value:   []byte(fmt.Sprintf("value-%d", i)),
			Headers: []kgo.RecordHeader{{Key: "seq", Value: []byte(fmt.Sprint(i))}},
		})
	}
	produce(p, recs)
	check("1000 keyed acks=all records were acknowledged", true)
	byKey := map[string]map[int32]bool{}
	byPartition := map[int32][]int64{}
	for _, r := range recs {
		if byKey[string(r.Key)] == nil {
			byKey[string(r.Key)] = map[int32]bool{}
		}
		byKey[string(r.Key)][r.Partition] = true
		byPartition[r.Partition] = append(byPartition[r.Partition], r.Offset)
	}
	oneEach := true
	for _, ps := range byKey {
		oneEach = oneEach && len(ps) == 1
	}
	check("each key landed in one partition", oneEach, byKey)
	dense := true
	for _, offsets := range byPartition {
		sort.Slice(offsets, func(i, j int) bool { return offsets[i] < offsets[j] })
		for i, o := range offsets {
			dense = dense && o == int64(i)
		}
	}
	check("offsets run densely from 0 in each partition", dense)

	got := consumeGroup(group, main, 1000)
	seen := map[string]bool{}
	for _, c := range got {
		seen[c.value] = true
	}
	check("the group consumed every record exactly once", len(got) == 1000 && len(seen) == 1000, len(got))
	sort.Slice(got, func(i, j int) bool {
		return got[i].partition < got[j].partition || got[i].partition == got[j].partition && got[i].offset < got[j].offset
	})
	lastSeq := map[string]int{}
	ordered := true
	for _, c := range got {
		var seq int
		fmt.Sscanf(strings.TrimPrefix(c.value, "value-"), "%d", &seq)
		if last, ok := lastSeq[c.key]; ok && seq <= last {
			ordered = false
		}
		lastSeq[c.key] = seq
	}
	check("records of one key arrive in the order produced", ordered)

	var more []*kgo.Record
	var want []string
	for i := 0; i < 10; i++ {
		v := fmt.Sprintf("more-%d", i)
		more = append(more, &kgo.Record{Topic: main, Key: []byte(fmt.Sprintf("key-%d", i)), Value: []byte(v)})
		want = append(want, v)
	}
	produce(p, more)
	resumed := consumeGroup(group, main, 10)
	var values []string
	for _, c := range resumed {
		values = append(values, c.value)
	}
	sort.Strings(values)
	sort.Strings(want)
	check("the group resumes from its committed offsets: only the 10 new records",
		strings.Join(values, ",") == strings.Join(want, ","), values)
	offsets, err := adm.FetchOffsets(ctx, group)
	must(err, "fetch offsets")
	committed := int64(0)
	offsets.Each(func(o kadm.OffsetResponse) { committed += o.At })
	check("kadm.FetchOffsets: the committed offsets add up to 1010", committed == 1010, committed)
	p.Close()

	for name, codec := range codecs {
		topic := prefix + "-c-" + name
		cp := producer(kgo.ProducerBatchCompression(codec))
		var batch []*kgo.Record
		var sent []string
		for i := 0; i < 50; i++ {
			v := strings.Repeat(fmt.Sprintf("%s-%d-", name, i), 20)
			batch = append(batch, &kgo.Record{Topic: topic, Key: []byte("k"), Value: []byte(v)})
			sent = append(sent, v)
		}
		produce(cp, batch)
		cp.Close()
		back := readPartition(topic, 50)
		check(name+": 50 records round-trip", strings.Join(back, "|") == strings.Join(sent, "|"), len(back))
	}

	t0 := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	tp := producer()
	produce(tp, []*kgo.Record{
		{Topic: tsTopic, Value: []byte("a"), Timestamp: t0},
		{Topic: tsTopic, Value: []byte("b"), Timestamp: t0.Add(time.Second)},
		{Topic: tsTopic, Value: []byte("c"), Timestamp: t0.Add(2 * time.Second)},
	})
	tp.Close()
	var found []int64
	for _, at := range []time.Time{t0.Add(-time.Second), t0.Add(500 * time.Millisecond), t0.Add(2 * time.Second)} {
		listed, err := adm.ListOffsetsAfterMilli(ctx, at.UnixMilli(), tsTopic)
		must(err, "list offsets after milli")
		o, _ := listed.Lookup(tsTopic, 0)
		found = append(found, o.Offset)
	}
	check("ListOffsetsAfterMilli finds the first record at or after each timestamp",
		fmt.Sprint(found) == "[0 1 2]", found)
	start, err := adm.ListStartOffsets(ctx, tsTopic)
	must(err, "list start offsets")
	end, err := adm.ListEndOffsets(ctx, tsTopic)
	must(err, "list end offsets")
	s, _ := start.Lookup(tsTopic, 0)
	e, _ := end.Lookup(tsTopic, 0)
	check("start and end offsets are 0 and 3", s.Offset == 0 && e.Offset == 3, s.Offset, e.Offset)

	groups, err := adm.DescribeGroups(ctx, group)
	must(err, "describe groups")
	g := groups[group]
	check("kadm.DescribeGroups: the group is Empty with the consumer protocol type",
		g.Err == nil && g.State == "Empty" && g.ProtocolType == "consumer", g.State, g.ProtocolType, g.Err)

	var doomed []string
	for name := range topics {
		doomed = append(doomed, name)
	}
	deleted, err := adm.DeleteTopics(ctx, doomed...)
	must(errors.Join(err, deleted.Error()), "delete topics")
	gone := false
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && !gone; {
		left, err := adm.ListTopics(ctx)
		gone = err == nil
		for _, name := range doomed {
			if left.Has(name) {
				gone = false
			}
		}
		if !gone {
			time.Sleep(200 * time.Millisecond)
		}
	}
	check("DeleteTopics removed every topic", gone)
}

// defaultProducer produces one record with franz-go's default settings (idempotent writes on).
func defaultProducer() {
	cl := client(kgo.RecordRetries(2), kgo.AllowAutoTopicCreation())
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := cl.ProduceSync(ctx, &kgo.Record{Topic: prefix + "-idempotent", Value: []byte("x")}).FirstErr()
	out := map[string]any{"ok": err == nil}
	if err != nil {
		out["error"] = err.Error()
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}

func main() {
	bootstrap, prefix = os.Args[1], os.Args[2]
	mode := "scenario"
	if len(os.Args) > 3 {
		mode = os.Args[3]
	}
	if mode == "default-producer" {
		defaultProducer()
		return
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				check("scenario ran to the end", false, r)
			}
		}()
		scenario()
	}()
	passed, failed, failures := 0, 0, []string{}
	for _, r := range results {
		if r.OK {
			passed++
		} else {
			failed++
			failures = append(failures, r.Name)
		}
	}
	b, _ := json.Marshal(map[string]any{"passed": passed, "failed": failed, "failures": failures})
	fmt.Println(string(b))
}
