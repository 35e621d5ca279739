import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every Prometheus metric of the daemon, on its own registry (so tests and several instances in
 * one process do not collide). Label values are bounded sets (operation names, event and channel
 * types, outcomes); never a registration name, URL or anything secret.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly pollDuration = new Histogram({
    name: 'codedeploy_notify_poll_duration_seconds',
    help: 'Duration of one poll of one region/account scope.',
    labelNames: ['outcome'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly codedeployCalls = new Counter({
    name: 'codedeploy_notify_codedeploy_calls_total',
    help: 'CodeDeploy API calls made by the poller, by operation.',
    labelNames: ['operation'] as const,
    registers: [this.registry],
  });
  readonly lastSuccessfulPoll = new Gauge({
    name: 'codedeploy_notify_last_successful_poll_timestamp_seconds',
    help: 'When the last poll cycle in which every scope succeeded ended (Unix time).',
    registers: [this.registry],
  });
  readonly events = new Counter({
    name: 'codedeploy_notify_events_total',
    help: 'Deployment events detected, by event type.',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });
  readonly notifications = new Counter({
    name: 'codedeploy_notify_notifications_total',
    help: 'Send attempts by channel type and outcome (sent, retry, failed, released).',
    labelNames: ['channel_type', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly retries = new Counter({
    name: 'codedeploy_notify_retries_total',
    help: 'Notifications scheduled for another attempt, by channel type.',
    labelNames: ['channel_type'] as const,
    registers: [this.registry],
  });
  readonly deadLetters = new Counter({
    name: 'codedeploy_notify_dead_letters_total',
    help: 'Notifications that failed for good (permanent error or attempts exhausted), by channel type.',
    labelNames: ['channel_type'] as const,
    registers: [this.registry],
  });
  readonly sendDuration = new Histogram({
    name: 'codedeploy_notify_send_duration_seconds',
    help: 'Duration of one send attempt, by channel type.',
    labelNames: ['channel_type'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly reconcileChanges = new Counter({
    name: 'codedeploy_notify_reconcile_changes_total',
    help: 'Registrations created, updated or deleted in the table by the reconciler.',
    labelNames: ['action'] as const,
    registers: [this.registry],
  });
  readonly driftCorrections = new Counter({
    name: 'codedeploy_notify_drift_corrections_total',
    help: 'Live registrations found changed by hand and restored to the files by a resync.',
    registers: [this.registry],
  });
  readonly registrations = new Gauge({
    name: 'codedeploy_notify_registrations',
    help: 'Registrations in the files at the last reconcile, by validity (valid, invalid).',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: 'codedeploy_notify_reconcile_errors_total',
    help: 'Reconcile attempts that failed (store errors) or were refused (invalid files, safety limits).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'codedeploy_notify_leader',
    help: '1 while this replica is the leader (reconciles and polls), 0 otherwise.',
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'codedeploy_notify_' });
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
