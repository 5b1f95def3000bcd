import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryFs } from '../../../src/storage/memory-fs.js';

describe('memory file system', () => {
  it('keeps serving an open descriptor after its file is renamed or unlinked, like POSIX', async () => {
    const fs = new MemoryFs();
    await fs.mkdir('/d/e');
    const fd = await fs.open('/d/e/f.log', 'rw');
    await fs.writev(fd, [Buffer.from('hello '), Buffer.from('world')], 0);
    await fs.rename('/d/e/f.log', '/d/e/f.log.deleted');
    await fs.unlink('/d/e/f.log.deleted');
    const buf = Buffer.alloc(11);
    assert.equal(await fs.read(fd, buf, 0, 11, 0), 11);
    assert.equal(buf.toString(), 'hello world');
    await fs.close(fd);
    await assert.rejects(fs.stat('/d/e/f.log'), /ENOENT/);
  });

  it('extends files with zeros on ftruncate without storing them, and cuts them back', async () => {
    const fs = new MemoryFs();
    await fs.mkdir('/d');
    const fd = await fs.open('/d/i.index', 'rw');
    await fs.write(fd, Buffer.from([1, 2, 3, 4]), 0, 4, 0);
    await fs.ftruncate(fd, 1024 * 1024 * 1024);
    assert.equal((await fs.fstat(fd)).size, 1024 * 1024 * 1024);
    const tail = Buffer.alloc(8, 0xff);
    assert.equal(await fs.read(fd, tail, 0, 8, 1000), 8);
    assert.deepEqual([...tail], [0, 0, 0, 0, 0, 0, 0, 0]);
    await fs.ftruncate(fd, 2);
    await fs.ftruncate(fd, 4);
    const head = Buffer.alloc(4);
    await fs.read(fd, head, 0, 4, 0);
    assert.deepEqual([...head], [1, 2, 0, 0]);
    await fs.close(fd);
  });

  it('renames directories with everything in them and lists entries by name', async () => {
    const fs = new MemoryFs();
    await fs.mkdir('/logs/t-0');
    const fd = await fs.open('/logs/t-0/00000000000000000000.log', 'rw');
    await fs.close(fd);
    await fs.rename('/logs/t-0', '/logs/t-0.abc-delete');
    assert.deepEqual(await fs.readdir('/logs'), ['t-0.abc-delete']);
    assert.deepEqual(await fs.readdir('/logs/t-0.abc-delete'), ['00000000000000000000.log']);
    await assert.rejects(fs.open('/logs/t-0/x.log', 'rw'), /ENOENT/);
    await assert.rejects(fs.rmdir('/logs/t-0.abc-delete'), /ENOTEMPTY/);
  });
});
