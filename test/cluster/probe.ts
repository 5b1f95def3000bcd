/**
 * A helper process the cluster tests run inside a host's network namespace (the test runner itself cannot
 * reach those addresses). It reads questions as JSON lines on stdin and answers each with one JSON line:
 *   {"id":1,"op":"describe","bootstrap":"10.213.5.2:9092"}  → what that broker answers to Metadata v12
 *                                                             and DescribeCluster v1
 *   {"id":2,"op":"etcd","endpoints":["10.213.5.1:2379"]}    → the cluster as etcd holds it
 */
import { createInterface } from 'node:readline';
import { readEtcdStatus } from '../../src/cli/cluster-status.js';
import { MetadataApi } from '../../src/protocol/generated/03-metadata.js';
import { DescribeClusterApi } from '../../src/protocol/generated/60-describe-cluster.js';
import { RawClient } from '../helpers/raw-client.js';

async function describe(bootstrap: string) {
  const [host, port] = bootstrap.split(':');
  const client = await RawClient.connect(Number(port), host);
  try {
    const metadata = await client.request(
      MetadataApi,
      12,
      { ...MetadataApi.defaultRequest(), topics: [], allowAutoTopicCreation: false },
      { timeoutMs: 3000 },
    );
    const cluster = await client.request(
      DescribeClusterApi,
      1,
      { ...DescribeClusterApi.defaultRequest(), endpointType: 1 },
      { timeoutMs: 3000 },
    );
    return {
      metadata: { clusterId: metadata.clusterId, controllerId: metadata.controllerId, brokers: metadata.brokers },
      describeCluster: { clusterId: cluster.clusterId, controllerId: cluster.controllerId, brokers: cluster.brokers },
    };
  } finally {
    client.close();
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const question = JSON.parse(line) as { id: number; op: string; bootstrap?: string; endpoints?: string[] };
  const answer =
    question.op === 'describe'
      ? describe(question.bootstrap as string)
      : readEtcdStatus(question.endpoints as string[], 2000);
  answer.then(
    (result) => process.stdout.write(`${JSON.stringify({ id: question.id, result })}\n`),
    (err: Error) => process.stdout.write(`${JSON.stringify({ id: question.id, error: err.message })}\n`),
  );
});
