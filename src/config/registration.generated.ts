// Generated from schema/registration.schema.json by `npm run generate`. Do not edit by hand.

/**
 * A deployment transition: Started (first seen in progress), Ready (blue/green waiting for traffic reroute), Succeeded, Failed or Stopped.
 *
 * This interface was referenced by `Registration`'s JSON-Schema
 * via the `definition` "event".
 */
export type EventType = 'Started' | 'Ready' | 'Succeeded' | 'Failed' | 'Stopped';
/**
 * Events to notify about. Default: [Succeeded, Failed, Stopped]. On a channel, replaces spec.events for that channel.
 *
 * @minItems 1
 * @maxItems 5
 *
 * This interface was referenced by `Registration`'s JSON-Schema
 * via the `definition` "eventList".
 */
export type EventList = EventType[];
/**
 * A notification channel; the type field selects which other fields apply.
 *
 * This interface was referenced by `Registration`'s JSON-Schema
 * via the `definition` "channel".
 */
export type Channel =
  SlackChannel | TeamsChannel | WebhookChannel | SnsChannel | EmailChannel | NewRelicChannel;
/**
 * Name of the channel, unique within the registration: lowercase letters, digits and hyphens, 1-63 characters.
 *
 * This interface was referenced by `Registration`'s JSON-Schema
 * via the `definition` "channelName".
 */
export type ChannelName = string;
/**
 * An http or https URL.
 *
 * This interface was referenced by `Registration`'s JSON-Schema
 * via the `definition` "httpUrl".
 */
export type HttpUrl = string;
/**
 * An email address.
 *
 * This interface was referenced by `Registration`'s JSON-Schema
 * via the `definition` "email".
 */
export type Email = string;

/**
 * One codedeploy-notify registration: which CodeDeploy application to watch and which channels hear about its deployments.
 */
export interface Registration {
  /**
   * Version of the registration format. Must be codedeploy-notify/v1.
   */
  apiVersion: 'codedeploy-notify/v1';
  /**
   * Kind of document. Must be Registration.
   */
  kind: 'Registration';
  metadata: RegistrationMetadata;
  spec: RegistrationSpec;
}
/**
 * Identity of the registration.
 *
 * This interface was referenced by `Registration`'s JSON-Schema
 * via the `definition` "metadata".
 */
export interface RegistrationMetadata {
  /**
   * Unique name of the registration across all files: lowercase letters, digits and hyphens, 1-63 characters, starting and ending with a letter or digit.
   */
  name: string;
  /**
   * Team or person that owns the registration; shown in messages.
   */
  owner?: string;
  /**
   * Free-form string labels (key to value); shown in messages and usable in templates as {{labels.key}}.
   */
  labels?: {
    /**
     * Label value (at most 256 characters).
     */
    [k: string]: string | undefined;
  };
}
/**
 * What to watch in CodeDeploy and where to send notifications.
 *
 * This interface was referenced by `Registration`'s JSON-Schema
 * via the `definition` "spec".
 */
export interface RegistrationSpec {
  /**
   * Exact name of the CodeDeploy application (1-100 characters).
   */
  application: string;
  /**
   * AWS region of the application, such as us-east-1. Default: the daemon's AWS region.
   */
  region?: string;
  /**
   * IAM role assumed with STS to read CodeDeploy in another account. Default: the daemon's own credentials.
   */
  roleArn?: string;
  /**
   * Deployment groups to watch. Default: every deployment group of the application.
   *
   * @minItems 1
   * @maxItems 100
   *
   * Items: Exact name of a CodeDeploy deployment group (1-100 characters).
   */
  deploymentGroups?: string[];
  events?: EventList;
  /**
   * Where notifications go: 1 to 20 channels, each with a unique name.
   *
   * @minItems 1
   * @maxItems 20
   */
  channels: Channel[];
}
/**
 * A Slack incoming webhook.
 *
 * This interface was referenced by `Registration`'s JSON-Schema
 * via the `definition` "slackChannel".
 */
export interface SlackChannel {
  name: ChannelName;
  /**
   * Channel type: slack (incoming webhook, Block Kit message).
   */
  type: 'slack';
  webhookUrl: SecretRef;
  events?: EventList;
  template?: MessageTemplate;
}
/**
 * Overrides the default message. Use {{variable}} placeholders from the documented set (see README: Templates).
 *
 * This interface was referenced by `Registration`'s JSON-Schema
 * via the `definition` "template".
 */
export interface MessageTemplate {
  /**
   * Message title or subject line; {{variable}} placeholders allowed.
   */
  title?: string;
  /**
   * Message body; {{variable}} placeholders allowed.
   */
  text?: string;
}
/**
 * A Microsoft Teams Workflows webhook (Adaptive Card payload).
 *
 * This interface was referenced by `Registration`'s JSON-Schema
 * via the `definition` "teamsChannel".
 */
export interface TeamsChannel {
  name: ChannelName;
  /**
   * Channel type: teams (Workflows webhook, Adaptive Card).
   */
  type: 'teams';
  webhookUrl: SecretRef;
  events?: EventList;
  template?: MessageTemplate;
}
/**
 * A generic HTTP webhook receiving a versioned JSON body.
 *
 * This interface was referenced by `Registration`'s JSON-Schema
 * via the `definition` "webhookChannel".
 */
export interface WebhookChannel {
  name: ChannelName;
  /**
   * Channel type: webhook (versioned JSON POST).
   */
  type: 'webhook';
  /**
   * Receiver URL: a plain http(s) URL, or a secret reference when the URL carries a token.
   */
  url: HttpUrl | SecretRef;
  secret?: SecretRef;
  /**
   * Extra HTTP headers; each value is a string or a secret reference.
   */
  headers?: {
    /**
     * Header value: a string, or a secret reference for credentials.
     */
    [k: string]: string | SecretRef | undefined;
  };
  events?: EventList;
  template?: MessageTemplate;
}
/**
 * A secret read from the daemon's environment at send time, never written in the file: { fromEnv: NAME }.
 *
 * This interface was referenced by `Registration`'s JSON-Schema
 * via the `definition` "secretRef".
 */
export interface SecretRef {
  /**
   * Name of the environment variable holding the secret: uppercase letters, digits and underscores, not starting with a digit.
   */
  fromEnv: string;
}
/**
 * An Amazon SNS topic; FIFO topics get message group and deduplication ids.
 *
 * This interface was referenced by `Registration`'s JSON-Schema
 * via the `definition` "snsChannel".
 */
export interface SnsChannel {
  name: ChannelName;
  /**
   * Channel type: sns (Amazon SNS Publish).
   */
  type: 'sns';
  /**
   * ARN of the SNS topic, such as arn:aws:sns:us-east-1:123456789012:deploys (FIFO topic names end in .fifo).
   */
  topicArn: string;
  events?: EventList;
  template?: MessageTemplate;
}
/**
 * An email sent with Amazon SES.
 *
 * This interface was referenced by `Registration`'s JSON-Schema
 * via the `definition` "emailChannel".
 */
export interface EmailChannel {
  name: ChannelName;
  /**
   * Channel type: email (Amazon SES).
   */
  type: 'email';
  /**
   * Sender address; must be a verified SES identity.
   */
  from: string;
  /**
   * Recipient addresses (1-50).
   *
   * @minItems 1
   * @maxItems 50
   */
  to: Email[];
  /**
   * Carbon-copy addresses (to and cc together at most 50).
   *
   * @maxItems 50
   */
  cc?: Email[];
  /**
   * SES configuration set for sending events and metrics.
   */
  configurationSet?: string;
  events?: EventList;
  template?: MessageTemplate;
}
/**
 * A New Relic change-tracking event (deployment marker) through NerdGraph.
 *
 * This interface was referenced by `Registration`'s JSON-Schema
 * via the `definition` "newrelicChannel".
 */
export interface NewRelicChannel {
  name: ChannelName;
  /**
   * Channel type: newrelic (NerdGraph change tracking).
   */
  type: 'newrelic';
  /**
   * GUID of the New Relic entity the deployment belongs to.
   */
  entityGuid: string;
  apiKey: SecretRef;
  /**
   * New Relic data center: US (default) or EU.
   */
  region?: 'US' | 'EU';
  /**
   * An http or https URL.
   */
  endpoint?: string;
  events?: EventList;
  template?: MessageTemplate;
}

/** Every channel type of the schema, derived from the Channel union. */
export type ChannelType = Channel['type'];
