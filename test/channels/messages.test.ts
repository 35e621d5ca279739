import { describe, expect, it } from 'vitest';
import {
  TEST_NOTE,
  checkMessageTemplate,
  composeMessage,
  defaultTitleTemplate,
  formatPlainText,
  messageFacts,
  truncate,
} from '../../src/templates/messages.js';
import type { DeploymentEvent } from '../../src/core/events.js';
import { FAILED_EVENT, READY_EVENT, ROLLBACK_EVENT, STARTED_EVENT, STOPPED_EVENT, SUCCEEDED_EVENT, sampleNotification } from '../fixtures/events.js';

describe('default messages', () => {
  it.each([
    [STARTED_EVENT, '🚀 checkout-service deployment to production started', 'Deployment d-7HQ2KX4ZB of acme/checkout-service@9f3c2a1 started by user.\nRelease 2026.11.3: faster basket totals'],
    [READY_EVENT, '⏸️ payments-api deployment to payments-api-prod-bg is waiting for traffic to be rerouted', 'Deployment d-BG93LMQ2C of s3://acme-deploy-artifacts/payments-api/appspec-4.12.0.yaml (version 3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY) is ready: the replacement environment is up and waiting for traffic to be rerouted.'],
    [SUCCEEDED_EVENT, '✅ checkout-service deployment to production succeeded', 'Deployment d-4N8RT2VWX of s3://acme-deploy-artifacts/checkout-service/checkout-2026.11.3.zip succeeded in 3m 5s (6 targets updated).\nRelease 2026.11.3: faster basket totals'],
    [FAILED_EVENT, '❌ checkout-service deployment to production failed', 'Deployment d-9XK3P0QAB of acme/checkout-service@1a2b3c4 failed after 7m 42s with error HEALTH_CONSTRAINTS.\nRolled back by d-RB1Z8Y7X6.\nRelease 2026.11.4 <canary> & "hotfix" for *tax* rounding'],
    [STOPPED_EVENT, '⏹️ inventory-worker deployment to staging was stopped', 'Deployment d-ST0PP3D11 of acme/inventory-worker@c0ffee0 was stopped after 1m 5s with error DEPLOYMENT_STOPPED.'],
    [ROLLBACK_EVENT, '✅ checkout-service rollback to production succeeded', 'Deployment d-RB1Z8Y7X6 of acme/checkout-service@9f3c2a1 succeeded in 2m 15s (6 targets updated).\nAutomatic rollback of d-9XK3P0QAB.'],
  ])('%# %s', (event: DeploymentEvent, title: string, text: string) => {
    expect(composeMessage(sampleNotification(event), undefined)).toEqual({ title, text });
  });

  it('leaves no holes when optional values are missing', () => {
    const bare: DeploymentEvent = { ...FAILED_EVENT, revision: undefined, creator: undefined, description: undefined, durationSeconds: undefined, error: undefined, rollback: undefined };
    expect(composeMessage(sampleNotification(bare), undefined).text).toBe('Deployment d-9XK3P0QAB failed.');
    expect(defaultTitleTemplate(bare)).toBe('{{emoji}} {{application}} deployment to {{deploymentGroup}} failed');
  });
});

describe('composeMessage', () => {
  it('renders overrides with the closed variable set, escaping only the text', () => {
    const escape = (s: string) => s.replace(/</g, '&lt;');
    const message = composeMessage(sampleNotification(FAILED_EVENT), { title: '{{application}} <{{status}}>\non {{labels.tier}}', text: '{{description}} by {{owner}}' }, escape);
    expect(message).toEqual({ title: 'checkout-service <Failed> on critical', text: 'Release 2026.11.4 &lt;canary> & "hotfix" for *tax* rounding by team-checkout' });
  });

  it('labels test messages in the title and first line, also with overrides', () => {
    const message = composeMessage(sampleNotification(SUCCEEDED_EVENT, { test: true }), { text: 'custom' });
    expect(message.title).toBe('[TEST] ✅ checkout-service deployment to production succeeded');
    expect(message.text).toBe(`${TEST_NOTE}\ncustom`);
  });
});

describe('messageFacts', () => {
  it('lists facts in display order and skips empty ones', () => {
    expect(messageFacts(sampleNotification(FAILED_EVENT)).map((f) => f.label)).toEqual([
      'Application', 'Deployment group', 'Status', 'Deployment', 'Revision', 'Creator', 'Duration', 'Instances', 'Region', 'Owner', 'Error', 'Rollback',
    ]);
    expect(messageFacts(sampleNotification(STARTED_EVENT)).map((f) => f.label)).not.toContain('Duration');
    const facts = Object.fromEntries(messageFacts(sampleNotification(FAILED_EVENT)).map((f) => [f.label, f.value]));
    expect(facts.Instances).toBe('2 succeeded, 3 failed, 1 skipped');
    expect(facts.Region).toBe('us-east-1 (account 123456789012)');
    expect(facts.Error).toMatch(/^HEALTH_CONSTRAINTS: The overall deployment failed/);
  });
});

describe('checkMessageTemplate', () => {
  it('names the field and the problem', () => {
    expect(checkMessageTemplate(undefined)).toEqual([]);
    expect(checkMessageTemplate({ title: '{{application}}', text: '{{labels.team}}' })).toEqual([]);
    expect(checkMessageTemplate({ title: '{{aplication}}', text: 'x {{' })).toEqual([
      expect.stringMatching(/^template\.title: unknown template variable \{\{aplication\}\}; did you mean \{\{application\}\}/),
      'template.text: unclosed placeholder: "{{" without a matching "}}"',
    ]);
  });
});

describe('formatting helpers', () => {
  it('truncates by code points with an ellipsis', () => {
    expect(truncate('abcdef', 10)).toBe('abcdef');
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('✅✅✅✅', 3)).toBe('✅✅…');
    expect(truncate('abcdef', 5, '...')).toBe('ab...');
  });

  it('aligns facts in plain text', () => {
    expect(formatPlainText({ title: 'T', text: 'line' }, [{ label: 'A', value: '1' }, { label: 'Long', value: 'x\ny' }], [{ label: 'Link', value: 'u' }])).toBe(
      'T\n\nline\n\n  A:    1\n  Long: x y\n\n  → Link: u',
    );
  });
});
