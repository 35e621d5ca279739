// The poller's public surface, for the daemon wiring (main/), `run --local` and `status`.
export { Poller, PollBusyError, POLL_STRATEGIES } from './poller.js';
export type { PollerOptions, PollObserver, PollReport, PollStrategyName, ScopeReport } from './poller.js';
export { sdkCodeDeployFactory, BATCH_GET_MAX_IDS } from './codedeploy.js';
export type { ClientCredentials, CodeDeployApi, CodeDeployApiFactory, CodeDeployOperation, DeploymentPage, SdkCodeDeployOptions } from './codedeploy.js';
export { StsRoleCredentials, RoleAssumeError, lookupAccountId } from './credentials.js';
export type { RoleCredentials, RoleCredentialSource, StsRoleCredentialsOptions } from './credentials.js';
export { dueTransitions, isTerminal, TERMINAL_STATUSES } from './transitions.js';
export type { Transition } from './transitions.js';
export { toDeploymentEvent } from './event.js';
export { matchNotifications, watches, channelEvents } from './match.js';
export { groupByScope, scopeKey, accountFromRoleArn } from './scope.js';
export type { PollScope } from './scope.js';
export { listingWindow, DEFAULT_MAX_LOOKBACK_MS, DEFAULT_OVERLAP_MS } from './window.js';
