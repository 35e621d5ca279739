import { describe, expect, it } from 'vitest';
import { classifyAwsError, createAwsClients, regionFromTopicArn } from '../../src/channels/aws-clients.js';

describe('createAwsClients', () => {
  it('creates one client per service and region, and destroys them', async () => {
    const aws = createAwsClients();
    expect(aws.sns('eu-west-1')).toBe(aws.sns('eu-west-1'));
    expect(aws.sns('eu-west-1')).not.toBe(aws.sns('us-east-1'));
    expect(aws.ses('us-east-1')).toBe(aws.ses('us-east-1'));
    expect(await aws.sns('eu-west-1').config.region()).toBe('eu-west-1');
    expect(await aws.sns('eu-west-1').config.maxAttempts()).toBe(2);
    const before = aws.sns('eu-west-1');
    aws.destroy();
    expect(aws.sns('eu-west-1')).not.toBe(before);
    aws.destroy();
  });
});

describe('regionFromTopicArn', () => {
  it.each([
    ['arn:aws:sns:eu-west-1:123456789012:deploys', 'eu-west-1'],
    ['arn:aws-us-gov:sns:us-gov-west-1:123456789012:x.fifo', 'us-gov-west-1'],
    ['arn:aws:sns::123456789012:x', undefined],
  ])('%s → %s', (arn, region) => {
    expect(regionFromTopicArn(arn)).toBe(region);
  });
});

describe('classifyAwsError', () => {
  const describeIt = (name: string, message: string) => `${name}: ${message}`;
  const sdkError = (name: string, status?: number, fault: 'client' | 'server' = 'client') =>
    Object.assign(new Error(`${name} happened`), { name, $fault: fault, $metadata: status === undefined ? {} : { httpStatusCode: status } });

  it.each([
    [sdkError('ThrottledException', 400), 'retry'],
    [sdkError('Throttling', 400), 'retry'],
    [sdkError('TooManyRequestsException', 429), 'retry'],
    [sdkError('InternalErrorException', 500, 'server'), 'retry'],
    [sdkError('ServiceUnavailable', 503, 'server'), 'retry'],
    [sdkError('AbortError'), 'retry'],
    [sdkError('TimeoutError'), 'retry'],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', $metadata: { attempts: 1 } }), 'retry'],
    [sdkError('NotFoundException', 404), 'failed'],
    [sdkError('AuthorizationErrorException', 403), 'failed'],
    [sdkError('InvalidParameterException', 400), 'failed'],
    [sdkError('MessageRejected', 400), 'failed'],
  ])('%s → %s', (error, outcome) => {
    const result = classifyAwsError(error, describeIt);
    expect(result.outcome).toBe(outcome);
    expect((result as { reason: string }).reason).toContain(error.message);
  });

  it('names the system error code of a network failure', () => {
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', $metadata: {} });
    expect(classifyAwsError(error, describeIt)).toEqual({ outcome: 'retry', reason: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1' });
  });
});
