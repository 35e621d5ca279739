// The full chaos run of GitHub issue 7, item 1 (`npm run test:chaos`; several minutes): the fake
// CodeDeploy streams 200 deployments across 20 applications through all five events while two
// replicas are SIGKILLed 20 times and restarted. Prints the report; CHAOS_SEED picks another seed.
import { describe, expect, it } from 'vitest';
import { formatChaosReport, runChaos } from './chaos.js';

const seed = Number(process.env.CHAOS_SEED ?? 20_261_123);

describe('chaos run (full)', () => {
  it('200 deployments over 20 applications, 20 SIGKILLs of 2 replicas: nothing lost, repeats only for sends in flight at a kill', async () => {
    const report = await runChaos({
      deployments: 200,
      applications: 20,
      kills: 20,
      replicas: 2,
      seed,
      streamMs: 150_000,
      budgetMs: 8 * 60_000,
      progress: (line) => console.log(`[chaos +${Math.round(process.uptime())}s] ${line}`),
    });
    const text = formatChaosReport(report);
    console.log(text);
    expect(report.problems, text).toEqual([]);
    expect(report.kills.done).toBe(20);
    expect(report.analysis.delivered).toBe(report.analysis.expected);
    expect(report.analysis.dedup.accepted).toBe(report.analysis.expected);
  });
});
