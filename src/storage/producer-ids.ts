/**
 * Producer id allocation (Kafka's ProducerIdManager with ProducerIdsBlock): ids are handed out from
 * blocks of PRODUCER_ID_BLOCK_SIZE, and a block is reserved durably before its first id is used: the end
 * of the reserved range is written and fsynced to `<logDir>/producer-id-block` first. A restart continues
 * after the last reserved block, so an id is never handed out twice on one data dir, even after a crash
 * (the unused rest of a block is skipped, as in Kafka).
 *
 * Kafka's KRaft controller keeps the same fact as a ProducerIdsRecord in its metadata log.
 */
import { join } from 'node:path';
import type { FileCache } from './file-cache.js';
import { readWholeFile, writeFileAtomically } from './file-cache.js';
import { isNotFound } from './storage-fs.js';

export const PRODUCER_ID_BLOCK_FILE = 'producer-id-block';
/** Kafka's ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE. */
export const PRODUCER_ID_BLOCK_SIZE = 1000n;
const INT64_MAX = 0x7fffffffffffffffn;

export function formatProducerIdBlock(nextBlockStart: bigint): Buffer {
  return Buffer.from(`version: 0\nnext_block_start: ${nextBlockStart}\n`);
}

export function parseProducerIdBlock(text: string): bigint {
  const m = /^version: 0\nnext_block_start: (\d+)\n$/.exec(text);
  if (!m) throw new Error(`unreadable ${PRODUCER_ID_BLOCK_FILE}: ${JSON.stringify(text.slice(0, 80))}`);
  return BigInt(m[1]!);
}

export class ProducerIdManager {
  private next = 0n;
  /** The end (exclusive) of the block ids are handed out from; next === blockEnd means none left. */
  private blockEnd = 0n;
  private loaded = false;
  /** Reservations run one at a time; callers meanwhile wait for the same one. */
  private reserving: Promise<void> | null = null;

  constructor(
    private readonly cache: FileCache,
    private readonly logDir: string,
  ) {}

  private get path(): string {
    return join(this.logDir, PRODUCER_ID_BLOCK_FILE);
  }

  /** A producer id never handed out before on this data dir. */
  async generateProducerId(): Promise<bigint> {
    while (this.next >= this.blockEnd) {
      this.reserving ??= this.reserveBlock().finally(() => {
        this.reserving = null;
      });
      await this.reserving;
    }
    return this.next++;
  }

  private async reserveBlock(): Promise<void> {
    let start = this.blockEnd;
    if (!this.loaded) {
      try {
        start = parseProducerIdBlock((await readWholeFile(this.cache, this.path)).toString('utf8'));
      } catch (err) {
        // No file: no id was ever handed out here. Anything else must not be papered over: ids could repeat.
        if (!isNotFound(err)) throw err;
        start = 0n;
      }
    }
    const end = start + PRODUCER_ID_BLOCK_SIZE;
    if (end > INT64_MAX) throw new Error('producer ids are exhausted');
    await writeFileAtomically(this.cache, this.logDir, this.path, formatProducerIdBlock(end), { syncDir: true });
    this.loaded = true;
    this.next = start;
    this.blockEnd = end;
  }
}
