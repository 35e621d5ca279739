import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** What the lease item says: who holds it, until when, and how many times it changed hands. */
export interface LeaseState {
  owner: string;
  /** Epoch milliseconds after which any replica may take the lease. */
  leaseUntil: number;
  /** Incremented each time the lease changes owner (a fencing number for logs and status). */
  epoch: number;
  acquiredAt: number;
}

/**
 * A named lease held in the `state` table (`pk: "lease"`, `sk: <name>`) with single-item
 * conditional writes only: `acquire` succeeds when the lease is free, expired or already ours;
 * `renew` only while we are still the owner; `release` hands it back at once on shutdown.
 * Times come from the caller's clock; replicas' clocks are assumed to agree within the margin
 * the caller leaves between renewing and expiry.
 */
export class DynamoLease {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly name: string,
  ) {}

  /**
   * Takes the lease when it is free or expired, or extends it when `owner` already holds it, until
   * `now + durationMs`. Resolves false when someone else holds it (or won a race for it). A standby
   * pays one consistent read per call; a write happens only when the lease can be had.
   */
  async acquire(owner: string, now: number, durationMs: number): Promise<boolean> {
    const current = await this.read();
    if (current?.owner === owner) return this.renew(owner, now, durationMs);
    if (current && current.leaseUntil >= now) return false;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: 'lease', sk: this.name },
          UpdateExpression: 'SET #owner = :me, leaseUntil = :until, acquiredAt = :now, renewedAt = :now ADD epoch :one',
          // the same state we read: nobody took it in between
          ConditionExpression: current ? '#owner = :previous AND leaseUntil = :previousUntil' : 'attribute_not_exists(pk)',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: {
            ':me': owner,
            ':until': now + durationMs,
            ':now': now,
            ':one': 1,
            ...(current ? { ':previous': current.owner, ':previousUntil': current.leaseUntil } : {}),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Extends the lease while `owner` still holds it. Resolves false when it was lost. */
  async renew(owner: string, now: number, durationMs: number): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: 'lease', sk: this.name },
          UpdateExpression: 'SET leaseUntil = :until, renewedAt = :now',
          ConditionExpression: '#owner = :me',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':me': owner, ':until': now + durationMs, ':now': now },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Gives the lease up so a standby can take it without waiting for expiry. No-op if not ours. */
  async release(owner: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: 'lease', sk: this.name },
          UpdateExpression: 'SET leaseUntil = :zero',
          ConditionExpression: '#owner = :me',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':me': owner, ':zero': 0 },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** The lease as stored, or undefined when nobody ever took it. */
  async read(): Promise<LeaseState | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: 'lease', sk: this.name }, ConsistentRead: true }));
    const item = out.Item;
    if (!item) return undefined;
    return { owner: String(item.owner), leaseUntil: Number(item.leaseUntil), epoch: Number(item.epoch ?? 0), acquiredAt: Number(item.acquiredAt ?? 0) };
  }
}
