// The chaos run, shortened to run in `npm test`: two replicas of the built CLI's `run`, SIGKILLed
// and restarted while the fake CodeDeploy streams deployments through every event type. The full
// run (200 deployments, 20 applications, 20 kills) is `npm run test:chaos` (full.chaos.ts).
import { describe, expect, it } from 'vitest';
import { formatChaosReport, runChaos } from './chaos.js';

describe('chaos run (short)', () => {
  it('40 deployments over 5 applications, 4 SIGKILLs of 2 replicas: every owed delivery arrives, repeats only for sends in flight at a kill', async () => {
    const report = await runChaos({ deployments: 40, applications: 5, kills: 4, replicas: 2, seed: 20_261_123, streamMs: 24_000, budgetMs: 75_000 });
    const text = formatChaosReport(report);
    console.log(text);
    expect(report.problems, text).toEqual([]);
    // the run exercised what it claims to: kills happened, every event type was owed and delivered
    expect(report.kills.done).toBe(4);
    expect(report.kills.restarts).toBeGreaterThanOrEqual(4);
    for (const count of Object.values(report.expectedByEvent)) expect(count).toBeGreaterThan(0);
    expect(report.analysis.delivered).toBe(report.analysis.expected);
    expect(report.analysis.dedup.accepted).toBe(report.analysis.expected);
  }, 110_000);
});
