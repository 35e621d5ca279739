import { describe, expect, it } from 'vitest';
import { chunk, mapLimit, settleLimit } from '../../src/util/concurrency.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('bounded concurrency', () => {
  it('mapLimit keeps input order and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (n) => {
      running += 1;
      peak = Math.max(peak, running);
      for (let i = 0; i < n; i++) await tick();
      running -= 1;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0]);
    expect(peak).toBe(2);
  });

  it('mapLimit rejects with the first error', async () => {
    await expect(mapLimit([1, 2, 3], 3, async (n) => (n === 2 ? Promise.reject(new Error('two')) : n))).rejects.toThrow('two');
  });

  it('mapLimit of nothing is nothing', async () => {
    expect(await mapLimit([], 4, async () => 1)).toEqual([]);
  });

  it('settleLimit settles every item, in order', async () => {
    const out = await settleLimit([1, 2, 3], 1, async (n) => {
      if (n === 2) throw new Error('two');
      return n;
    });
    expect(out.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([1, 'two', 3]);
  });

  it('chunk splits into pieces of at most the size', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 25)).toEqual([]);
  });
});
